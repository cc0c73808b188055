"""Experiment loggers for training: W&B (offline unless asked), CSV, or none.

Every builder takes the same flat arguments, so `md/conf/logger/*.yaml` only picks one:

    logger = wandb_logger(save_dir="runs/x", group="table2", tags=["student=tiny-llama"],
                          config={"loss.lambda": 0.5}, mode="offline")
    try: ... trainer.fit(...) ...
    finally: finish(logger, failed=...)   # always: a failed sweep job leaks no wandb process

W&B is offline by default (an API key without network hangs wandb for ~100 s); WANDB_MODE=online
or `logger.mode=online` streams, and every run of a job (training and evaluation) lands in
`<run dir>/wandb/offline-run-*` for a later `wandb sync`. The group is the experiment name, the
tags are the ablation axes and the name is the job's overrides, so the W&B UI lines up a
table's runs and says what differs between them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from md.errors import MDError

MODES = ("offline", "online", "disabled")


def wandb_logger(save_dir: str, *, project: str | None = None, entity: str | None = None,
                 mode: str | None = None, name: str | None = None, group: str | None = None,
                 job_type: str | None = None, tags: Sequence[str] = (),
                 config: dict[str, Any] | None = None):
    """A Lightning WandbLogger writing under `save_dir/wandb`, with the flat config logged.

    group (the experiment) and job_type (the stage) let a W&B dashboard line up ablations.
    project, entity and mode left None come from WANDB_PROJECT, WANDB_ENTITY and WANDB_MODE,
    as wandb users expect, and else default to project "md", your default entity, offline.
    """
    project = project or os.environ.get("WANDB_PROJECT") or "md"
    entity = entity or os.environ.get("WANDB_ENTITY") or None
    mode = resolve_mode(mode)
    from lightning.pytorch.loggers import WandbLogger

    Path(save_dir).mkdir(parents=True, exist_ok=True)
    logger = WandbLogger(project=project, entity=entity, name=name, save_dir=str(save_dir),
                         offline=mode == "offline", mode=mode, group=group,
                         job_type=job_type, tags=[t[:64] for t in tags], log_model=False)  # W&B caps tags at 64 chars
    if config:
        logger.log_hyperparams(config)
    return logger


def resolve_mode(mode: str | None) -> str:
    """logger.mode if set, else WANDB_MODE, else offline ("dryrun" is wandb's old offline)."""
    chosen = mode or os.environ.get("WANDB_MODE") or "offline"
    chosen = "offline" if chosen == "dryrun" else chosen
    if chosen not in MODES:
        source = "logger.mode" if mode else "WANDB_MODE"
        raise MDError(f"{source}={chosen!r}; expected one of {', '.join(MODES)}")
    return chosen


def run_name(overrides: Sequence[str], swept: Sequence[str], stage: str) -> str:
    """A W&B run name that says what differs: the stage, then the job's overrides with the swept
    keys first (`train: loss.lambda=0.25,student=codellama`), paths and Hydra's keys left out.
    W&B shows 128 characters; the full list is in the run's config (`overrides`)."""
    shown = [o for o in overrides if not o.lstrip("+~").startswith(("hydra", "paths."))]
    key = [o.split("=", 1)[0].lstrip("+~") for o in shown]
    first = [o for o, k in zip(shown, key, strict=True) if k in swept]
    rest = [o for o, k in zip(shown, key, strict=True) if k not in swept]
    return f"{stage}: {','.join(first + rest) or 'defaults'}"[:128]


def csv_logger(save_dir: str, name: str = "csv", group: str | None = None,
               job_type: str | None = None, tags: Sequence[str] = (),
               config: dict[str, Any] | None = None):
    """A Lightning CSVLogger: `save_dir/<name>/version_N/metrics.csv` and `hparams.yaml`."""
    from lightning.pytorch.loggers import CSVLogger

    logger = CSVLogger(save_dir=str(save_dir), name=name)
    if config:
        logger.log_hyperparams({**config, "group": group, "job_type": job_type, "tags": list(tags)})
    return logger


def no_logger(save_dir: str | None = None, group: str | None = None,
              job_type: str | None = None, tags: Sequence[str] = (),
              config: dict[str, Any] | None = None) -> None:
    """No experiment logging (metrics still come back from `md.stages.train.run`)."""
    return None


def ablation_tags(choices: dict[str, Any], lam: float | None) -> list[str]:
    """Tags for the ablation axes: student, data, mix, loss and λ (when the loss fixes one)."""
    tags = [f"{axis}={choices[axis]}" for axis in ("student", "data", "mix", "loss") if choices.get(axis)]
    if lam is not None:
        tags.append(f"lambda={lam}")
    return tags


def wandb_run_of(logger: Any) -> Any:
    """The W&B run behind a WandbLogger (for tables and images), else None."""
    if type(logger).__name__ != "WandbLogger":
        return None
    return logger.experiment


def finish(logger: Any, failed: bool = False) -> None:
    """Close the logger; end any W&B run (exit code 1 on failure) so nothing is left running."""
    if logger is not None:
        logger.finalize("failed" if failed else "success")
    wandb = sys.modules.get("wandb")  # never import wandb just to close it
    if wandb is not None and wandb.run is not None:
        wandb.finish(exit_code=1 if failed else 0)
