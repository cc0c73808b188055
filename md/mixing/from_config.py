"""What a stage's `main()` builds from the config: training problems, I/O paths, a W&B run.

`train_problems` runs `md.data.load_split(data.name, "train", **the other data keys)`. Kept
apart from the stages so `run(...)` takes plain Problem lists (the pipeline and tests pass their
own) and only `main()` reads the config. `wandb_run` opens a W&B run when `logger=wandb` (and
nothing for the other loggers: the mix statistics are already in stats.json).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from md.config import to_plain
from md.errors import MDError
from md.types import Problem


def required(cfg: Any, key: str, what: str) -> str:
    """A path the stage cannot run without when called on its own (the pipeline fills it)."""
    value = cfg.get(key)
    if value is None:
        raise MDError(f"no {key}= given: pass {key}=PATH ({what}), or run the pipeline")
    return str(value)


def train_problems(cfg: Any) -> list[Problem]:
    """The training split named by the composed config's `data` node (its generic keys applied)."""
    from md.data import load_split  # lazy: loaders pull in their own dependencies

    opts = to_plain(cfg.data)
    name = opts.pop("name")
    opts.pop("_target_", None)  # the loader itself; load_split dispatches on the name
    return load_split(name, "train", **opts)


@contextmanager
def wandb_run(cfg: Any, save_dir: str, name: str) -> Iterator[Any]:
    """The W&B run of `logger=wandb` (None otherwise), always finished on the way out."""
    if not str(cfg.logger.get("_target_", "")).endswith("wandb_logger"):
        yield None
        return
    from md.config import call
    from md.loggers import finish

    logger = call(cfg.logger, save_dir=save_dir, name=name, group=cfg.get("experiment_name"))
    failed = True
    try:
        yield logger.experiment
        failed = False
    finally:
        finish(logger, failed=failed)
