"""How every stage's `main()` is wrapped: Hydra config in, one clear line out on user error.

    @stage_main("extract")
    def main(cfg: DictConfig) -> None:
        run(...)

A bad override (an unknown key, a group option that does not exist) is caught before Hydra
starts, by composing the config once, and reported as one line:

    error: student=codelama-7b: no such option; choose one of codellama-7b, llama2-7b, ...

`MDError` raised inside a stage gets the same courtesy: one `error: <message>` line and exit
status 2, no traceback. The wrapper also pins `version_base="1.3"` and the config folder.
"""

from __future__ import annotations

import functools
import re
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


def check_overrides(config_name: str, args: list[str]) -> None:
    """Compose the config with the command line's overrides; raise MDError on a bad one.

    Sweeps (`-m`) and Hydra's own flags are left to Hydra, which reports them itself.
    """
    if any(a.startswith("-") for a in args):
        return
    overrides = [a for a in args if not a.lstrip("+~").startswith("hydra")]
    from hydra import compose, initialize_config_dir
    from hydra.errors import MissingConfigException

    try:
        with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
            compose(config_name, overrides=overrides)
    except MissingConfigException as e:
        raise MDError(_missing_option(e, overrides)) from None
    except Exception as e:  # ConfigCompositionException, OmegaConf errors, override syntax
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()] or [type(e).__name__]
        unknown = re.match(r"Could not override '([^']+)'", lines[0])
        if unknown and len(lines) > 1 and lines[1].startswith("To append"):
            key = unknown.group(1)
            raise MDError(f"{key} is not a config key (check the spelling with --cfg job; "
                          f"to add a new key write +{key}=...)") from None
        raise MDError("; ".join(lines[:2])) from None


def _missing_option(e: Exception, overrides: list[str]) -> str:
    group = next((o.split("=")[0] for o in overrides if "=" in o and o.split("=")[0].lstrip("+")
                  in str(e)), None)
    options = getattr(e, "options", None)
    if group and options:
        value = next(o.split("=", 1)[1] for o in overrides if o.split("=")[0] == group)
        return f"{group}={value}: no such option; choose one of {', '.join(sorted(options))}"
    return str(e).splitlines()[0]


def stage_main(config_name: str) -> Callable[[Callable[[DictConfig], object]], Callable[[], object]]:
    """Decorate a stage's `main(cfg)` as its Hydra entry point with user-error reporting."""

    def decorate(fn: Callable[[DictConfig], object]) -> Callable[[], object]:
        hydra_main = hydra.main(version_base="1.3", config_path=CONFIG_DIR,
                                config_name=config_name)(report_errors(fn))

        @functools.wraps(fn)
        def main() -> object:
            report_errors(check_overrides)(config_name, sys.argv[1:])
            return hydra_main()

        return main

    return decorate
