"""The student end of the pipeline: the mixed training set -> a trained student -> its evaluation.

    data ─▶ extract ─▶ execute ─▶ mix ─▶ train ─▶ evaluate
    └──────── md.pipeline ───────────┘   └── here ───────┘

    outcome = evaluated(job)    # the student trained (or found trained), then evaluated

`python -m md.train` and `python -m md.evaluate` are this one call; md.evaluate's job names its
students and trains nothing. As upstream, a stage is done when its key is on record, and every
key is md.pipeline.artifacts.stage_key over settings (never over the config): the student's,
`key(job)`, in the run folder's `trained.json`; the evaluation's in its finished journal
(md.pipeline.evaluation). A job killed anywhere and rerun pays only for what is not on record.

A run folder belongs to one key (md.training.runfolder: `run.json`, and one job at a time).
Rank 0 alone evaluates, logs the training set's statistics and the teacher's bill and writes
provenance; the other ranks of a DDP job return None once the student is saved.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from md import jsonl, pipeline
from md.pipeline.artifacts import stage_key
from md.pipeline.evaluation import EvaluationSetup
from md.settings import TrainSettings
from md.types import MixedExample


@dataclass(frozen=True)
class Job:
    """One job's student end, as settings and builders (md.config.wiring.job builds it).

    training_set: the pipeline that makes the mix; None when `examples` (a MixedExample JSONL,
    train.examples) is given. student: the student group's options as plain values (part of the
    key); student_builder(tokenizer_texts=, workdir=) loads it. evaluation: None trains only
    (train.evaluate_after=false). students: given saved students (md.evaluate): nothing trains,
    and the evaluation lands in run_dir itself rather than run_dir/eval.
    """

    run_dir: Path
    logger_builder: Callable[[Path | str, str], Any]
    evaluation: EvaluationSetup | None = None
    train: TrainSettings | None = None
    student: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    student_builder: Callable[..., Any] | None = None
    training_set: pipeline.Plan | None = None
    examples: Path | None = None
    ckpt_path: str | None = None
    students: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What rank 0 ends with: the trained student (None: given) and its metrics (None: not evaluated)."""

    student: Any
    metrics: dict | None


def key(job: Job) -> str:
    """The trained student's key: the mix artifact's key (or the given examples' digest), the
    student and the training settings (train, loss and trainer groups, seed)."""
    if job.training_set is not None:
        upstream, inputs = pipeline.mix_artifact(job.training_set).key, None
    else:
        upstream, inputs = None, _examples_digest(job)
    return stage_key("train", plain(job.student), plain(job.train), upstream=upstream,
                     inputs=inputs)


def record(job: Job) -> dict[str, Any]:
    """The settings behind `key(job)` by group and option, as the config names them: the run
    folder records them, and names what differs when another config asks for that folder."""
    train = plain(job.train)
    loss = {("lambda" if k == "lambda_" else k): v for k, v in train.pop("loss").items()}
    groups: dict[str, Any] = {"student": plain(job.student), "loss": loss,
                              "trainer": train.pop("trainer"), "train": train}
    plan = job.training_set
    if plan is None:
        return {**groups, "train": {**train, "examples": str(job.examples)},
                "inputs": _examples_digest(job)}
    return {**groups, "seed": plan.seed, "mix": plain(plan.mix),
            # what the extract and execute artifacts are keyed on (md.pipeline)
            "extract": {"max_problems": plan.extract.max_problems,
                        "adaptive": plain(plan.extract.adaptive)},
            "execute": {"timeout_s": plan.sandbox.timeout_s, "memory_mb": plan.sandbox.memory_mb},
            "data": {k: v for k, v in plan.data.items() if k not in pipeline.TEST_ONLY},
            "teacher": {k: v for k, v in plan.teacher.items()
                        if k not in pipeline.TEACHER_TRANSPORT},
            "inputs": pipeline.input_files(plan)}


def _examples_digest(job: Job) -> dict[str, str]:
    from md.pipeline.inputs import digests

    return digests({"train": {"examples": str(job.examples)}})


def plain(value: Any) -> Any:
    """Settings (dataclasses, read-only mappings, tuples) as JSON-like values, for keys and records."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def evaluated(job: Job) -> Outcome | None:
    """The job's student, trained here unless its key is on record, then its evaluation (unless
    finished under its own key); None on ranks other than 0."""
    from md.tracking import provenance

    if job.students:  # md.evaluate: a given student, its journal resumes a killed evaluation
        provenance.write(job.run_dir)
        return Outcome(None, _evaluation(job.evaluation, job.students, job.run_dir))
    from md.training import runfolder

    with runfolder.hold(job.run_dir):  # one job per run folder; a second waits, then finds it done
        student_key = key(job)
        runfolder.claim(job.run_dir, student_key, record(job))
        return _train_then_evaluate(job, student_key)


def _train_then_evaluate(job: Job, student_key: str) -> Outcome | None:
    from md.tracking.loggers import finish

    plan = job.training_set
    pays_teacher = plan is not None and pipeline.first_missing_stage(plan) == "extract"
    done = _trained_before(job, student_key)
    examples = student = None
    if done is None:
        examples = jsonl.read_all(job.examples or pipeline.mixed(plan), MixedExample)
        texts = [e.input for e in examples] + [e.target for e in examples]
        student = job.student_builder(tokenizer_texts=texts, workdir=str(job.run_dir / "student"))
    log, failed = job.logger_builder(job.run_dir, "train"), True  # the job's one W&B run
    try:
        outcome = None
        result = done or _train(job, examples, student, log, student_key)
        if result.rank == 0:  # only rank 0 evaluates and reports, once
            outcome = _report(job, result, log, pays_teacher)
        failed = False
    finally:
        finish(log, failed=failed)
    return outcome


def _trained_before(job: Job, student_key: str):
    from md.stages import train

    done = train.finished(job.run_dir, student_key)
    if done is not None:
        print(f"train: {done.student_dir} was trained to step {int(done.metrics.get('step', 0))} "
              "with these settings; not training it again (evaluating it: a finished evaluation "
              "samples nothing again)", file=sys.stderr)
    return done


def _train(job: Job, examples, student, log, student_key: str):
    from md.stages import train

    plan = job.training_set
    result = train.run(examples, student, job.train, out_dir=job.run_dir, logger=log,
                       ckpt_path=job.ckpt_path, close_logger=False,
                       lineage=pipeline.lineage(plan) if plan else (),
                       preamble=pipeline.preamble(plan) if plan else None)
    if result.rank == 0:
        train.mark_finished(result, student_key)
    return result


def _report(job: Job, result, log, pays_teacher: bool) -> Outcome:
    """Rank 0, after training: what the job's data cost and held, provenance, the evaluation."""
    from md.tracking import provenance
    from md.tracking.inputs import log_inputs
    from md.tracking.loggers import wandb_run_of

    plan = job.training_set
    if plan is not None:
        log_inputs(wandb_run_of(log), mix=pipeline.mix_stats(plan),
                   spend=pipeline.teacher_spend(plan), paid_here=pays_teacher)
    provenance.write(job.run_dir, teacher=pipeline.teacher_of(plan) if plan else None)
    metrics = None
    if job.evaluation is not None:
        metrics = _evaluation(job.evaluation, (result.student_dir,), job.run_dir / "eval", log,
                              trained_here=True)
    shown = {k: round(v, 4) for k, v in sorted(result.metrics.items())}
    print(f"student saved to {result.student_dir}\ntraining metrics: {shown}")
    return Outcome(result, metrics)


def _evaluation(setup: EvaluationSetup, students: tuple, out_dir: Path, log: Any = None, *,
                trained_here: bool = False) -> dict:
    """Evaluate `students` into `out_dir`. trained_here (md.train, logging into its open `log`):
    skipped when finished under its key, its results put in the run's summary again; a given
    student's evaluation (md.evaluate) resumes from its journal into a run of its own."""
    from md.pipeline import evaluation
    from md.stages.evaluate import print_metrics

    metrics = evaluation.finished(setup, students, out_dir) if trained_here else None
    if metrics is None:
        metrics = evaluation.evaluate(setup, students, out_dir, logger=log)
    else:
        from md.evaluation.outputs import summary_keys
        from md.tracking.inputs import log_summary
        from md.tracking.loggers import wandb_run_of

        print(f"evaluate: {out_dir} is finished for this student and these settings; not "
              "sampling it again", file=sys.stderr)
        log_summary(wandb_run_of(log), summary_keys(metrics, setup.dataset))
    print_metrics(metrics, out_dir)
    return metrics
