"""The evaluation end of the pipeline: a saved student (or an ensemble of two), or a teacher
prompted few-shot, sampled, judged in the sandbox and scored on the test problems.

    python -m md.evaluate student_dir=runs/x/student        # -> evaluate(setup, students, out_dir)
    python -m md.evaluate few_shot=true teacher=openai       # -> evaluate_few_shot(setup, ...)

Both log to one W&B/CSV run per job (`evaluation_run`: md.train hands over its training run,
md.evaluate gets a run of its own) and share the evaluate stage's `score`, so a few-shot row and
a student's row are the same kind of metrics.json. The entry point hands
over an `EvaluationSetup` (settings, and builders for the test problems and the logger); nothing
here reads a config or knows the upstream stages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from md.sandbox.preamble import Preamble, of_record, with_preamble
from md.settings import InferenceSettings, SandboxSettings
from md.types import Problem


@dataclass(frozen=True)
class EvaluationSetup:
    """What every evaluation needs (md.config.wiring.evaluation builds it from the config).

    logger_builder(save_dir, stage): the run's experiment logger (W&B, CSV) or None; dataset:
    the test data's name, which W&B summary keys carry (`eval/<dataset>/<method>`); axes: the
    job's ablation values (λ, seed, paths, ...), logged as `axis/<name>` in the accuracies'
    history row, so a W&B line plot draws accuracy against them across a sweep's runs."""

    inference: InferenceSettings
    sandbox: SandboxSettings
    test_problems: Callable[[], list[Problem]]
    logger_builder: Callable[[Path | str, str], Any]
    dataset: str = "test"
    axes: Mapping[str, float] = field(default_factory=dict)


@contextlib.contextmanager
def evaluation_run(setup: EvaluationSetup, log_dir: Path | str, logger: Any = None) -> Iterator[tuple]:
    """(W&B run or None, sandbox, a callback that logs the final metrics).

    logger: the job's open logger (md.train's training run), used and left open for its owner;
    None builds one for this evaluation and always finishes it, as failed when it raised."""
    from md.evaluation.outputs import summary_keys
    from md.sandbox import Sandbox
    from md.tracking.loggers import finish, wandb_run_of

    own = logger is None
    log, failed = setup.logger_builder(log_dir, "evaluate") if own else logger, True
    wb = wandb_run_of(log)

    def log_scalars(metrics: dict) -> None:
        scalars = summary_keys(metrics, setup.dataset)
        if wb is not None:
            wb.log({**scalars, **{f"axis/{k}": v for k, v in setup.axes.items()}})
        elif log is not None:
            log.log_metrics(scalars)  # CSV

    try:
        with Sandbox(**asdict(setup.sandbox)) as sb:
            yield wb, sb, log_scalars
        failed = False
    finally:
        if own:
            finish(log, failed)


def evaluate(setup: EvaluationSetup, students: tuple[str | Path, ...], out_dir: Path | str,
             log_dir: Path | str | None = None, logger: Any = None) -> dict:
    """Evaluate one student, or an ensemble (CoT student, PoT student), on the test problems.

    log_dir: where a W&B/CSV run of its own lands (default out_dir); logger: the job's open
    logger instead (md.train's, so training and evaluation are one W&B run), left open.
    """
    from md.evaluation import shards
    from md.inference import build_generator
    from md.models.saved import read_manifest
    from md.stages import evaluate as stage
    from md.tracking import lineage as ln

    inf = setup.inference
    if len(students) == 2 and inf.reuse_paths:
        return _ensemble_from_saved(setup, students, out_dir, log_dir)  # md.evaluate only
    problems = shards.select(setup.test_problems(), inf.shard, inf.shards)
    gens = [build_generator(engine=inf.engine, student_dir=str(s), batch_size=inf.batch_size,
                            max_new_tokens=inf.max_new_tokens, seed=inf.seed,
                            quantized_base=inf.quantized_base,
                            seed_per_question=inf.seed_per_question or inf.shards > 1,
                            vllm=dict(inf.vllm))
            for s in students]
    trained = read_manifest(students[0]).get("methods") or [] if len(students) == 1 else []
    preamble = student_preamble(students[-1])  # the PoT student's (the last of an ensemble)
    label = trained == ["label"]
    # a student distilled on one reasoning method is sampled in that one alone
    only = tuple(m for m in stage.BOTH if m in trained)
    who = stage.Students(gens[0], gens[-1], label, only if len(only) == 1 else stage.BOTH)
    try:
        with evaluation_run(setup, log_dir or out_dir, logger) as (wb, sb, log_scalars):
            metrics = stage.run(problems, who, with_preamble(sb, preamble), inf, out_dir, wb,
                                dataset=setup.dataset, journal_key=sampling_key(students, inf))
            if wb is not None:
                used = [ln.student_files(s, _finetune_of(s)) for s in students]
                ln.log_lineage(wb, used, [ln.evaluation_files(out_dir, wb.id)])
            log_scalars(metrics)
    finally:
        if any(g.engine == "vllm" for g in gens):  # the card is free for the next job
            from md.inference.vllm_engine import shutdown_engines

            shutdown_engines()  # while gens still hold them: the registry's refs are weak
    if inf.shards > 1:
        shards.mark(out_dir, inf.shard, inf.shards)
    return metrics


def finished(setup: EvaluationSetup, students: tuple[str | Path, ...], out_dir: Path | str) -> dict | None:
    """The metrics of a whole evaluation of `students` with these settings in `out_dir` (its
    journal marked finished, metrics.json there), else None: a relaunched job skips it."""
    import json

    from md.evaluation import shards
    from md.stages.evaluate import journal_for

    inf = setup.inference
    problems = shards.select(setup.test_problems(), inf.shard, inf.shards)
    if not journal_for(out_dir, sampling_key(students, inf), problems, inf).finished():
        return None
    try:
        return json.loads((Path(out_dir) / "metrics.json").read_text())
    except (OSError, ValueError):
        return None


# settings that change how recorded samples are scored or checkpointed, not what is sampled
NOT_IN_SAMPLES = ("curves", "adaptive", "vote_paths", "ensemble", "reuse_paths", "reuse_from",
                  "resume_every")


def sampling_key(students: tuple[str | Path, ...], inf: InferenceSettings) -> str:
    """The evaluation's key (md.pipeline.artifacts.stage_key, as every stage's): each student (its
    folder, saved manifest and weights files) and the sampling settings. A killed evaluation
    resumes, and a finished one is skipped, only when all of it is unchanged."""
    from md.models.saved import read_manifest
    from md.pipeline.artifacts import stage_key

    sampling = {k: v for k, v in asdict(inf).items() if k not in NOT_IN_SAMPLES}
    students_now = [[str(Path(s).resolve()), read_manifest(s), _weights_stamp(s)] for s in students]
    return stage_key("evaluate", students_now, sampling)


def _weights_stamp(student_dir: str | Path) -> list:
    """Size and modification time of every weights file: a student trained again (same folder,
    same manifest) is a new student, whose evaluation starts over."""
    files = sorted(p for p in Path(student_dir).rglob("*") if p.suffix in (".safetensors", ".bin"))
    return [[str(p.relative_to(student_dir)), p.stat().st_size, p.stat().st_mtime_ns] for p in files]


def merge_shards(setup: EvaluationSetup, dirs, out_dir: Path | str) -> dict:
    """One evaluation's metrics, curves and report from its K shard folders (md.evaluation.shards)."""
    from md.evaluation import shards

    problems = setup.test_problems()
    paths = shards.merge(dirs, problems, setup.inference.paths, setup.inference.temperature)
    return _score_saved(setup, problems, paths, out_dir, out_dir, "single",
                        {"pot_preamble": _shards_preamble(dirs),
                         "merged_shards": [str(d) for d in dirs]})


def _shards_preamble(dirs) -> dict | None:
    """The environment the shards' PoT paths ran in (each shard's metrics.json): one for all."""
    import json

    from md.errors import MDError

    seen = []
    for d in dirs:
        try:
            seen.append(json.loads((Path(d) / "metrics.json").read_text()).get("pot_preamble"))
        except (OSError, ValueError):
            seen.append(None)
    if any(p != seen[0] for p in seen):
        raise MDError(f"the shards {', '.join(map(str, dirs))} ran their programs with different "
                      "preambles (pot_preamble in their metrics.json); they are not one evaluation")
    return seen[0] if seen else None


def _ensemble_from_saved(setup: EvaluationSetup, students: tuple[str | Path, ...], out_dir: Path | str,
                         log_dir: Path | str | None) -> dict:
    """The ensemble row voted from the paths each student's own evaluation sampled
    (md.evaluation.reuse): nothing is loaded or generated."""
    from md.evaluation import reuse

    inf, problems = setup.inference, setup.test_problems()
    saved = [reuse.eval_dir_of(s, inf.reuse_from) for s in students]
    cot, pot = (reuse.saved_paths(d, problems, inf.paths, inf.temperature) for d in saved)
    paths = reuse.ensemble_paths(cot, pot, inf.paths, inf.greedy)
    return _score_saved(setup, problems, paths, out_dir, log_dir or out_dir, "ensemble",
                        {"pot_preamble": student_preamble(students[-1]).record(),
                         "reused_paths_from": [str(d) for d in saved]})


def _score_saved(setup: EvaluationSetup, problems, paths, out_dir: Path | str,
                 log_dir: Path | str, students: str, info: dict) -> dict:
    """Score judged paths read back from disk (merged shards, a reused ensemble), logged as
    any evaluation is."""
    from md.stages import evaluate as stage

    inf = setup.inference
    with evaluation_run(setup, log_dir) as (wb, _, log_scalars):
        metrics = stage.score(problems, paths, inf, out_dir, stage.Source(students, info=info),
                              wb, dataset=setup.dataset)
        log_scalars(metrics)
    return metrics


def evaluate_few_shot(setup: EvaluationSetup, teacher, out_dir: Path | str, *,
                      cache_path: str | None = None, budget_usd: float | None = None,
                      progress: bool = True, preamble: Preamble | None = None) -> dict:
    """Evaluate `teacher` few-shot on the test problems: the teacher and base-model rows.

    Its completions go through the shared teacher cache (`cache_path`), so a rerun (or a larger
    inference.paths) pays only for samples not asked before. preamble: the environment its
    programs assume (teacher.preamble, teacher.answer_variable), each run in it.
    """
    from md.evaluation.few_shot import teacher_paths
    from md.stages import evaluate as stage

    inf = setup.inference
    problems = setup.test_problems()
    with evaluation_run(setup, out_dir) as (wb, sb, log_scalars):
        paths = teacher_paths(problems, teacher, n=inf.paths, sandbox=with_preamble(sb, preamble),
                              cache_path=cache_path, budget_usd=budget_usd, progress=progress)
        as_sampled = replace(inf, temperature=float(teacher.params.get("temperature", 0)))
        metrics = stage.score(problems, paths, as_sampled, out_dir,
                              stage.Source("few-shot", info={"few_shot_model": teacher.model,
                                                             "pot_preamble": preamble.record() if preamble else None}), wb,
                              dataset=setup.dataset)
        log_scalars(metrics)
    return metrics


def student_preamble(student_dir: str | Path) -> Preamble:
    """The environment a saved student's programs assume (its md_student.json); empty when none."""
    from md.models.saved import read_manifest

    return of_record(read_manifest(student_dir).get("preamble"))


def _finetune_of(student_dir: str | Path) -> str:
    from md.models.saved import read_manifest

    default = "lora" if (Path(student_dir) / "adapter_config.json").exists() else "full"
    return str(read_manifest(student_dir).get("finetune", default))
