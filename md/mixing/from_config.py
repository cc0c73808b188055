"""What a stage's `main()` builds from the config: required I/O paths and a W&B run.

Kept apart from the stages so `run(...)` takes plain arguments and only `main()` reads the
config; the training problems come from `md.pipeline.train_problems`. `wandb_run` opens a
W&B run when `logger=wandb` (none for the other loggers: the statistics are in stats.json).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from md.errors import MDError


def required(cfg: Any, key: str, what: str) -> str:
    """A path the stage cannot run without when called on its own (the pipeline fills it)."""
    value = cfg.get(key)
    if value is None:
        raise MDError(f"no {key}= given: pass {key}=PATH ({what}), or run the pipeline")
    return str(value)


@contextmanager
def wandb_run(cfg: Any, save_dir: str, name: str) -> Iterator[Any]:
    """The W&B run of `logger=wandb` (None otherwise), always finished on the way out."""
    if not str(cfg.logger.get("_target_", "")).endswith("wandb_logger"):
        yield None
        return
    from md.config import call
    from md.loggers import finish

    logger = call(cfg.logger, save_dir=save_dir, name=name, group=cfg.get("experiment_name"),
                  job_type="mix")
    failed = True
    try:
        yield logger.experiment
        failed = False
    finally:
        finish(logger, failed=failed)
