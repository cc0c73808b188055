"""How every stage's `main()` is wrapped: Hydra config in, one clear line out on user error.

    @stage_main("extract")
    def main(cfg: DictConfig) -> None:
        run(...)

Hydra already reports a bad override (an unknown key, a missing group option) without a
traceback. This wrapper adds the same courtesy for `MDError` raised inside a stage: it prints
`error: <message>` and exits with status 2. It also pins `version_base="1.3"` and the config
folder, so no stage repeats them.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path

import hydra
from omegaconf import DictConfig

from md.errors import MDError

CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "conf")


def report_errors(fn: Callable[..., object]) -> Callable[..., object]:
    """Turn an `MDError` into one `error:` line on stderr and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except MDError as e:
            print(f"error: {e}", file=sys.stderr)
            raise SystemExit(2) from None

    return wrapper


def stage_main(config_name: str) -> Callable[[Callable[[DictConfig], object]], Callable[[], object]]:
    """Decorate a stage's `main(cfg)` as its Hydra entry point with user-error reporting."""

    def decorate(fn: Callable[[DictConfig], object]) -> Callable[[], object]:
        return hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name=config_name)(
            report_errors(fn)
        )

    return decorate
