"""The stage order up to the training set, and where each stage's output lives.

    data ─▶ extract ─▶ execute ─▶ mix ─▶ train ─▶ evaluate
    └──────────── here ──────────────┘   └ md.pipeline.job ┘

Each function returns its stage's artifact and produces it, with everything upstream, only when
it is not on disk yet. Artifacts sit in `<paths.artifacts>/<stage>/<hash>/`, the hash taken over
exactly the settings that determine the output plus the upstream artifact's key, so

    python -m md.train -m loss=fixed loss.lambda=0,0.5,1

extracts, executes and mixes once and trains three students. The pipeline reads no config: the
entry point hands it a `Plan` (settings, and builders for the teacher and the problems, called
only when a stage must run), and it calls the stages (md.stages.*) with plain arguments. The
student and its evaluation are md.pipeline.job (`evaluated(job)`, what md.train calls), which
asks `mixed(plan)` for its training set; the evaluation itself (students or a few-shot teacher on
the test problems) is md.pipeline.evaluation. Every key is md.pipeline.artifacts.stage_key.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from md.pipeline.artifacts import Artifact
from md.sandbox.preamble import Preamble
from md.sandbox.preamble import read as read_preamble
from md.settings import ExtractSettings, MixSettings, SandboxSettings
from md.stages.mix import MIXED
from md.types import Problem

# Teacher settings that change how requests are sent, not what comes back: excluded from the
# extract artifact's key so that raising a budget or the concurrency reuses the same thoughts.
TEACHER_TRANSPORT = ("budget_usd", "concurrency", "max_retries", "backoff_s", "max_backoff_s",
                     "timeout_s", "mode", "http_backend", "recover_in_flight", "prices",
                     "api_key_env", "require_key", "batch_discount", "batch_size",
                     "gpu_memory_utilization")
# Teacher settings of how its programs run (md.sandbox.preamble): keyed by the execute artifact,
# by content, not by the thoughts (the same thoughts are judged again, not extracted again).
TEACHER_EXECUTION = ("preamble", "answer_variable")
# Data settings that only select test problems: training artifacts do not depend on them.
TEST_ONLY = ("max_test",)
THOUGHTS, JUDGED = "thoughts.jsonl", "judged.jsonl"
SPEND = "spend.json"  # beside the thoughts: what the teacher's answers cost when they were made


@dataclass(frozen=True)
class Plan:
    """What the pipeline needs to find, or make, the training set of one run (md.config.wiring.plan).

    data and teacher: the groups' options as plain values (their artifact keys are taken from
    them); train_problems and teacher_builder are called only when a stage has to run.
    """

    artifacts: Path
    data: Mapping[str, Any]
    teacher: Mapping[str, Any]
    extract: ExtractSettings
    sandbox: SandboxSettings
    mix: MixSettings
    seed: int
    train_problems: Callable[[], list[Problem]]
    teacher_builder: Callable[[], Any]


def input_files(plan: Plan, *, thoughts_only: bool = False) -> dict[str, str]:
    """The digests of the files the stages read: the data group's files (problems, golds) and
    the teacher's (a replay or published outputs). Every stage reads the problems, so every
    stage's key holds them (md.pipeline.inputs; each file is hashed once per process).
    thoughts_only: without the files that only judge the thoughts (the programs' preamble), which
    key the execute stage, not the extraction."""
    from md.pipeline.inputs import digests

    teacher = {k: v for k, v in plan.teacher.items()
               if not (thoughts_only and k in TEACHER_EXECUTION)}
    return digests({"data": plan.data, "teacher": teacher})


def extract_artifact(plan: Plan) -> Artifact:
    data = {k: v for k, v in plan.data.items() if k not in TEST_ONLY}
    teacher = {k: v for k, v in plan.teacher.items()
               if k not in TEACHER_TRANSPORT + TEACHER_EXECUTION}
    rule = plan.extract.adaptive
    return Artifact.of(plan.artifacts, "extract", data, teacher,
                       {"max_problems": plan.extract.max_problems,
                        # only when on: artifacts of the paper's setting keep their keys
                        **({"adaptive": asdict(rule)} if rule else {})},
                       inputs=input_files(plan, thoughts_only=True))


def execute_artifact(plan: Plan) -> Artifact:
    limits = {"timeout_s": plan.sandbox.timeout_s, "memory_mb": plan.sandbox.memory_mb}
    # the programs' preamble judges them too; only when there is one: other keys stay as they were
    env = preamble(plan)
    env = [{"preamble": env.digest()}] if env else []
    return Artifact.of(plan.artifacts, "execute", limits, *env, upstream=extract_artifact(plan),
                       inputs=input_files(plan))


def preamble(plan: Plan) -> Preamble:
    """The environment the teacher's programs assume (`teacher.preamble`, the Python run before
    each; `teacher.answer_variable`; md.sandbox.preamble): they are judged in it, and a student
    trained on them records it; empty for a teacher that names neither."""
    return read_preamble(plan.teacher.get("preamble"), plan.teacher.get("answer_variable"))


def mix_artifact(plan: Plan) -> Artifact:
    # "weights": the format of MixedExample weights, so a mix written before per-path shares
    # existed is never reused as if it had them
    return Artifact.of(plan.artifacts, "mix", asdict(plan.mix), plan.seed,
                       {"weights": "per-question-method-share"},
                       upstream=execute_artifact(plan), inputs=input_files(plan))


def thoughts(plan: Plan, dry_run: bool = False) -> Path:
    """Teacher thoughts (Thought JSONL) for the training problems.

    With dry_run, prints what extraction would send and cost, and sends nothing.
    """
    art = extract_artifact(plan)
    out = art.file(THOUGHTS)
    if dry_run:
        _extract(plan, art, dry_run=True)
        return out
    with art.lock():  # a second job wanting these thoughts waits, then reuses them
        if not _trusted(art, THOUGHTS, "extracting it again (the teacher cache answers "
                                       "what it holds, so nothing cached is paid twice)"):
            art.prepare()
            _extract(plan, art, dry_run=False)
    return out


def _extract(plan: Plan, art: Artifact, dry_run: bool) -> None:
    from md.stages import extract

    out = art.file(THOUGHTS)
    teacher = plan.teacher_builder()
    if teacher.model == "simulated":
        print("note: teacher=simulated is a SIMULATION: thoughts are rendered from synthetic "
              "gold solutions with a seeded error model; no language model is asked")
    problems = plan.train_problems()
    with _round_judge(plan, problems, dry_run) as judge:
        summary = extract.run(problems, teacher, out, replace(plan.extract, dry_run=dry_run),
                              judge=judge)
    if summary.complete:
        _write_spend(art.file(SPEND), summary, teacher.model)
        art.seal(THOUGHTS, SPEND)
        print(f"extract: {summary.thoughts} thoughts ({summary.requests_sent} requests sent, "
              f"${summary.spent_usd:.4f} spent) -> {out}")


def _trusted(art: Artifact, name: str, remedy: str) -> bool:
    """Whether the stage output `name` can be used as it is; an existing file that its manifest
    does not vouch for is named in one line, with what happens next."""
    if art.has(name):
        return True
    if art.file(name).exists():
        print(f"warning: {art.problem(name)}; not trusted: {remedy}", file=sys.stderr)
    elif (why := art.changed_inputs()) is not None:
        print(f"note: {why}: making the {art.stage} artifact again ({art.dir})", file=sys.stderr)
    return False


def _write_spend(path: Path, summary, model: str) -> None:
    """The bill of the extraction that wrote the thoughts: requests sent (paid) and answered
    from the teacher cache (paid by an earlier, interrupted or shared run), tokens, dollars."""
    import json

    from md.fsio import write_text

    write_text(path, json.dumps({
        "model": model, "requests": summary.requests_planned,
        "requests_paid": summary.requests_sent,
        "requests_cached": summary.requests_planned - summary.requests_sent,
        "prompt_tokens": summary.prompt_tokens, "completion_tokens": summary.completion_tokens,
        "usd": summary.spent_usd}, indent=1))


def teacher_spend(plan: Plan) -> dict | None:
    """What the run's teacher thoughts cost when they were extracted (`spend.json`), or None
    (not extracted yet, or extracted before the bill was recorded)."""
    import json

    try:
        return json.loads(extract_artifact(plan).file(SPEND).read_text())
    except (OSError, ValueError):
        return None


def mix_stats(plan: Plan) -> tuple[dict, Path] | None:
    """The run's mix statistics (md.mixing.stats: type shares, λ, examples) and its chart, or None."""
    import json

    from md.stages.mix import STATS_JSON, STATS_PNG

    art = mix_artifact(plan)
    try:
        return json.loads(art.file(STATS_JSON).read_text()), art.file(STATS_PNG)
    except (OSError, ValueError):
        return None


@contextmanager
def _round_judge(plan: Plan, problems: list[Problem], dry_run: bool):
    """Adaptive extraction's judge of each round (the execute stage's, with a sandbox), else None."""
    if plan.extract.adaptive is None or dry_run:
        yield None
        return
    from md.sandbox import Sandbox
    from md.stages import execute

    by_id = {p.id: p for p in problems}
    with Sandbox(**asdict(plan.sandbox)) as sandbox:
        env = preamble(plan)
        yield lambda thoughts: execute.judge(by_id, thoughts, sandbox, progress=False,
                                             preamble=env)


def judged(plan: Plan) -> Path:
    """Judged thoughts (JudgedThought JSONL): PoT executed, CoT parsed, each marked right or wrong."""
    from md.stages import execute

    art = execute_artifact(plan)
    out = art.file(JUDGED)
    with art.lock():
        if not _trusted(art, JUDGED, "judging the thoughts again"):
            source = thoughts(plan)  # upstream runs only when this stage must
            art.prepare()
            execute.print_summary(execute.run(source, out, plan.train_problems(), plan.sandbox,
                                              preamble=preamble(plan)))
            art.seal(JUDGED)
    return out


def mixed(plan: Plan, wandb_run: Any = None) -> Path:
    """The mixed training set (MixedExample JSONL) of the `mix` variant, with its statistics."""
    from md.mixing import stats
    from md.stages import mix
    from md.stages.mix import STATS_JSON

    art = mix_artifact(plan)
    out = art.file(MIXED)
    with art.lock():
        if not _trusted(art, MIXED, "mixing again"):
            source = judged(plan)  # upstream runs only when this stage must
            art.prepare()
            asked = teacher_of(plan) or {}
            result = mix.run(source, art.dir, plan.train_problems(), plan.mix, seed=plan.seed,
                             wandb_run=wandb_run, teacher=", ".join(asked.get("asked") or ()) or None)
            art.seal(MIXED, STATS_JSON)
            print(stats.table(result))
    return out


def first_missing_stage(plan: Plan) -> str | None:
    """The first stage (extract, execute, mix) whose output the mixed training set still needs."""
    if mix_artifact(plan).has(MIXED):
        return None
    if execute_artifact(plan).has(JUDGED):
        return "mix"
    return "execute" if extract_artifact(plan).has(THOUGHTS) else "extract"


def teacher_of(plan: Plan) -> dict | None:
    """The model asked and the dated models that answered, read off the thoughts the run's
    training set was made from (md.tracking.provenance.served_by); None before extraction."""
    from md.tracking.provenance import served_by

    art = extract_artifact(plan)
    return served_by(art.file(THOUGHTS)) if art.has(THOUGHTS) else None


def lineage(plan: Plan) -> list:
    """The W&B artifacts a student trained on the pipeline's mix was made from."""
    from md.tracking import lineage as ln

    thoughts_art, mix_art = extract_artifact(plan), mix_artifact(plan)
    used = []
    if thoughts_art.has(THOUGHTS):
        used.append(ln.thoughts_files(thoughts_art.file(THOUGHTS), thoughts_art.key))
    if mix_art.has(MIXED):
        used.append(ln.mix_files(mix_art.dir, mix_art.key, thoughts_art.key))
    return used
