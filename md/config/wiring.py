"""From a composed config to what the pipeline and the stages take: the entry points' one helper.

    plan = wiring.plan(cfg)              # md.pipeline.Plan: settings + builders, no config
    setup = wiring.evaluation(cfg)       # md.pipeline.evaluation.EvaluationSetup

Only the entry points (`python -m md.<stage>`) import this package, and only it (with md.config.cli,
md.config.checks and md.config.targets) reads a DictConfig; an import-graph test holds the rest to that.
"""

from __future__ import annotations

from functools import cache, partial
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from md.config import builders, groups
from md.config.targets import to_plain
from md.pipeline import TEACHER_TRANSPORT, Plan
from md.pipeline.evaluation import EvaluationSetup


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


# What does not change the trained student: sampling and scoring, logging, where things are
# written, and the entry point's own switches.
NOT_TRAINING = ("inference", "logger", "paths", "hydra", "eval_data", "experiment_name",
                "out_dir", "student_dir", "few_shot", "merge_shards")
NOT_TRAINING_KEYS = {"train": ("evaluate_after", "ckpt_path"), "data": ("max_test",),
                     "extract": ("progress", "dry_run"), "teacher": TEACHER_TRANSPORT}


def training_key(cfg: DictConfig) -> str:
    """A hash of every setting that determines the trained student: a rerun in the same run
    folder with the same key finds its student trained and does not train it again."""
    from md.pipeline.artifacts import content_hash

    return content_hash(training_settings(cfg), length=16)


def training_settings(cfg: DictConfig) -> dict[str, Any]:
    """The settings behind `training_key`, by group (what a run folder records)."""
    from omegaconf import OmegaConf

    parts: dict[str, Any] = {}
    for name in cfg:
        if name in NOT_TRAINING:
            continue
        value = OmegaConf.to_container(cfg[name], resolve=True) if OmegaConf.is_config(cfg[name]) \
            else cfg[name]
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in NOT_TRAINING_KEYS.get(name, ())}
        parts[str(name)] = value
    return parts
