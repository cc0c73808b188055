"""What the entry points build from the config: problems, the teacher, loggers, required paths.

The side-effecting things live here, built only when asked for, so the pipeline and the stages
take them ready-made. The data group's `_target_` is the loader that runs (a loader of your own
plugs in by naming it); its generic keys (train_fraction, max_train, max_test) are applied after
loading (md.data.load_split). Every experiment logger, for training, evaluation and a standalone
mix, is built by `logger`: group = experiment name, job_type = stage, tags = the ablation axes.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hydra.utils import get_object
from omegaconf import DictConfig

from md.config.targets import call, flatten, to_plain
from md.errors import MDError
from md.types import Problem

OPTION_KEYS = ("_target_", "name")


def load_problems(node: DictConfig, split: str) -> list[Problem]:
    """One split of the dataset a data group (`data` or `eval_data`) describes."""
    from md.data import load_split

    opts = {k: v for k, v in to_plain(node).items() if k not in OPTION_KEYS}
    loader = get_object(node._target_) if node.get("_target_") else node.name
    return load_split(loader, split, name=node.get("name"), **opts)


def train_problems(cfg: DictConfig) -> list[Problem]:
    problems = load_problems(cfg.data, "train")
    limit = cfg.extract.get("max_problems")
    return problems[:limit] if limit else problems


def test_problems(cfg: DictConfig) -> list[Problem]:
    """The test split of `eval_data` when set (out-of-distribution, Table 2), else of `data`."""
    return load_problems(cfg.get("eval_data") or cfg.data, "test")


def teacher(cfg: DictConfig):
    return call(cfg.teacher)


def required(cfg: Any, key: str, what: str) -> str:
    """A path the stage cannot run without when called on its own (the pipeline fills it)."""
    value = cfg.get(key)
    if value is None:
        raise MDError(f"no {key}= given: pass {key}=PATH ({what}), or run the pipeline")
    return str(value)


def choice(cfg: DictConfig, group: str) -> str:
    """The option chosen for a config group (`teacher=openai` -> "openai")."""
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        return str(HydraConfig.get().runtime.choices.get(group))
    return str(cfg[group].get("name") or cfg[group].get("model") or group)


def logger(cfg: DictConfig, save_dir: Path | str, stage: str, name: str | None = None):
    """The configured experiment logger (W&B, CSV or None) of one job.

    W&B group = experiment name, job_type = stage, tags = the ablation axes (the student as its
    family and size), config = flat with `student.family` and `student.size` added, name = what
    the job overrides (or `name`).
    """
    from hydra.core.hydra_config import HydraConfig

    from md.tracking.loggers import ablation_tags, job_run_id, model_family, run_name
    from md.tracking.provenance import collect

    hydra = HydraConfig.get() if HydraConfig.initialized() else None
    choices = dict(hydra.runtime.choices) if hydra else {}
    task = list(hydra.overrides.task) if hydra else []
    extra = {}
    if str(cfg.logger.get("_target_", "")).endswith("wandb_logger"):
        swept = swept_keys(sys.argv[1:], dict(hydra.sweeper.get("params") or {}) if hydra else {})
        extra["name"] = name or run_name(task, swept, stage)
        if stage == "train":  # the run folder is the job's own: a rerun resumes its W&B run
            extra["run_id"] = job_run_id(save_dir)
    trains = stage == "train"  # the student, mix, loss and λ are axes of a training job only
    student = cfg.student.get("name") if trains and cfg.get("student") else None
    family, size = model_family(str(student)) if student else (None, None)
    config = {**flatten(cfg), "student.family": family, "student.size": size,
              "overrides": " ".join(task), **flatten({"provenance": collect()})}
    axes = {"data": choices.get("data"), "mix": choices.get("mix") if stage in ("train", "mix") else None,
            "loss": choices.get("loss") if trains else None}
    tags = ablation_tags(axes, cfg.loss.get("lambda") if trains and cfg.get("loss") else None,
                         student=student, seed=cfg.get("seed") if stage != "extract" else None)
    return call(cfg.logger, save_dir=str(save_dir), group=cfg.experiment_name, job_type=stage,
                tags=tags, config=config, **extra)


@contextmanager
def wandb_run(cfg: DictConfig, save_dir: Path | str, stage: str, name: str | None) -> Iterator[Any]:
    """The W&B run of `logger=wandb` (None for the other loggers), always finished on the way out."""
    if not str(cfg.logger.get("_target_", "")).endswith("wandb_logger"):
        yield None
        return
    from md.tracking.loggers import finish

    built, failed = logger(cfg, save_dir, stage, name=name), True
    try:
        yield built.experiment
        failed = False
    finally:
        finish(built, failed=failed)


def swept_keys(argv: Sequence[str], sweeper_params: dict | None) -> list[str]:
    """The keys a sweep varies: `a=1,2` / `range(...)` on the command line, and an experiment's
    `hydra.sweeper.params`."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    keys = list(sweeper_params or {})
    try:
        parsed = OverridesParser.create().parse_overrides([a for a in argv if "=" in a])
    except Exception:  # not Hydra overrides (a launcher's own argv): no order to give
        return keys
    return keys + [o.get_key_element() for o in parsed if o.is_sweep_override()]
