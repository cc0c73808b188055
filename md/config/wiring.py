"""From a composed config to what the pipeline and the stages take: the entry points' one helper.

    plan = wiring.plan(cfg)              # md.pipeline.Plan: settings + builders, no config
    setup = wiring.evaluation(cfg)       # md.pipeline.evaluation.EvaluationSetup
    job = wiring.job(cfg, run_dir)       # md.pipeline.job.Job: the two above, and the student

Only the entry points (`python -m md.<stage>`) import this package, and only it (with md.config.cli,
md.config.checks and md.config.targets) reads a DictConfig; an import-graph test holds the rest to that.
"""

from __future__ import annotations

from functools import cache, partial
from pathlib import Path

from omegaconf import DictConfig

from md.config import builders, groups
from md.config.targets import call, to_plain
from md.pipeline import Plan
from md.pipeline.evaluation import EvaluationSetup
from md.pipeline.job import Job


def plan(cfg: DictConfig) -> Plan:
    """The training side of one run: what the pipeline keys its artifacts on and builds them with."""
    return Plan(artifacts=Path(cfg.paths.artifacts), data=to_plain(cfg.data),
                teacher=to_plain(cfg.teacher), extract=groups.extract(cfg),
                sandbox=groups.sandbox(cfg), mix=groups.mix(cfg), seed=int(cfg.seed),
                train_problems=cache(partial(builders.train_problems, cfg)),  # loaded once
                teacher_builder=partial(builders.teacher, cfg))


def evaluation(cfg: DictConfig, trained_here: bool = False) -> EvaluationSetup:
    """The evaluation side of one run: inference settings, the sandbox, test problems, logger.

    trained_here: md.train evaluating the student it trained, so the training axes (λ, training
    fraction) are this job's too; md.evaluate knows only its own (paths, seed)."""
    inference = groups.inference(cfg)
    axes = {"paths": inference.paths, "seed": int(cfg.seed)}
    if trained_here:
        if cfg.loss.get("mode") == "fixed":
            axes["lambda"] = float(cfg.loss["lambda"])
        axes["train_fraction"] = float(cfg.data.get("train_fraction") or 1.0)
    return EvaluationSetup(inference=inference, sandbox=groups.sandbox(cfg),
                           test_problems=cache(partial(builders.test_problems, cfg)),
                           logger_builder=partial(builders.logger, cfg),
                           dataset=str((cfg.get("eval_data") or cfg.data).get("name") or "test"),
                           axes=axes)


def job(cfg: DictConfig, run_dir: Path) -> Job:
    """md.train's job: the training set's plan (or the given train.examples), the student and
    its training settings, and the evaluation that follows (train.evaluate_after)."""
    given = cfg.train.examples
    return Job(run_dir=run_dir, logger_builder=partial(builders.logger, cfg),
               evaluation=evaluation(cfg, trained_here=True) if cfg.train.evaluate_after else None,
               train=groups.train(cfg), student=to_plain(cfg.student),
               student_builder=partial(call, cfg.student),
               training_set=None if given else plan(cfg), examples=Path(given) if given else None,
               ckpt_path=cfg.train.ckpt_path)


def evaluation_job(cfg: DictConfig, students: tuple[str, ...]) -> Job:
    """md.evaluate's job: the given students, evaluated into out_dir; nothing trains."""
    return Job(run_dir=Path(cfg.out_dir), logger_builder=partial(builders.logger, cfg),
               evaluation=evaluation(cfg), students=students)
