"""How every stage's `main()` is wrapped: Hydra config in, one clear line out on user error.

    @stage_main("extract")
    def main(cfg: DictConfig) -> None:
        run(...)

Before Hydra starts, the command line is parsed as Hydra parses it (`--cfg job`, `-m` and the
other flags included) and the config of every job it would run is composed once and checked
(`md.config.checks`). A bad override, a mistyped value or an unwritable folder is reported as one line,
for a single run, a `--cfg job` and each job of a `-m` sweep alike:

    error: student=codelama: no such option; did you mean codellama? (choose one of ...)
    error: train.max_steps is not a config key; did you mean trainer.max_steps?

`MDError` raised inside a stage gets the same courtesy: one `error: <message>` line and exit
status 2, no traceback. The wrapper also pins `version_base="1.3"` and the config folder:
md's own (conf/ at the top of the checkout, shipped inside the wheel as md/conf), with the
user's folder searched first when given (`--config-dir DIR`, or $MD_CONFIG_DIR), so a student, dataset or experiment of one's own is a
YAML file in that folder:

    MD_CONFIG_DIR=~/md-conf python -m md.train student=my-model    # ~/md-conf/student/my-model.yaml
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf, open_dict

import md
from md.errors import MDError

CONFIG_DIR = str(md.CONFIG_DIR)  # conf/ of the checkout, or md/conf inside the wheel
USER_CONFIG_ENV = "MD_CONFIG_DIR"  # a folder of the user's own configs, searched first


def report_errors(fn: Callable[..., object]) -> Callable[..., object]:
    """Turn an `MDError`, or a full disk anywhere, into one `error:` line on stderr and exit
    status 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except MDError as e:
            print(f"error: {e}", file=sys.stderr)
            raise SystemExit(2) from None
        except OSError as e:
            from md.fsio import is_out_of_space, out_of_space_message

            if not is_out_of_space(e):
                raise
            written = e.filename2 or e.filename  # a copy names its source first, its target second
            where = Path(written).parent if written else Path.cwd()
            print(f"error: {out_of_space_message(where, written or 'a file', errno_=e.errno)}",
                  file=sys.stderr)
            raise SystemExit(2) from None
        except Exception:
            _show_if_sweep_job()
            raise

    return wrapper


def _show_if_sweep_job() -> None:
    """Print a failed sweep job's traceback now: Hydra raises it only after the remaining jobs,
    so a later job that stops the sweep with one `error:` line would hide it for good."""
    import traceback

    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        job = HydraConfig.get().job
        print(f"error: sweep job #{job.num} ({' '.join(job.override_dirname.split(','))}) "
              "failed:", file=sys.stderr)
        traceback.print_exc()


def check_command_line(config_name: str, argv: list[str], user: str | None = None) -> None:
    """Compose and check the config of every job `argv` would run; MDError on the first problem.
    user: the user's config folder (else `--config-dir` in `argv`, else $MD_CONFIG_DIR)."""
    from hydra._internal.utils import get_args_parser

    args = get_args_parser().parse_args(argv)  # a bad flag: argparse's usage line and exit 2
    if args.help or args.hydra_help or args.shell_completion or args.info:
        return  # Hydra prints these itself, from whatever composes
    if sum(map(bool, (args.run, args.multirun, args.cfg, args.shell_completion))) > 1:
        raise MDError("only one of --run, -m/--multirun, --cfg and --shell-completion at a time; "
                      "to see a sweep job's config, run that job with --cfg job (no -m)")
    name, user = args.config_name or config_name, user or user_config_dir(args.config_dir)
    for job in jobs(name, list(args.overrides), args.multirun, user):
        check_job(name, job, args.multirun, user)


def user_config_dir(given: str | None) -> str | None:
    """The user's own config folder, searched before md's (`--config-dir DIR`, else
    $MD_CONFIG_DIR): students, data, experiments of their own, md left untouched."""
    folder = given or os.environ.get(USER_CONFIG_ENV) or None
    if folder is None:
        return None
    where = "--config-dir" if given else f"${USER_CONFIG_ENV}"
    if Path(folder).expanduser().exists() and not Path(folder).expanduser().is_dir():
        raise MDError(f"{where}={folder} is a file, not a folder; point it at your own config "
                      "folder (laid out like conf/: student/, data/, experiment/ ...)")
    if not Path(folder).expanduser().is_dir():
        raise MDError(f"{where}={folder}: no such folder; point it at your own config folder "
                      "(laid out like conf/: student/, data/, experiment/ ...)")
    return str(Path(folder).expanduser().resolve())


def jobs(config_name: str, overrides: list[str], multirun: bool,
         user: str | None = None) -> Iterator[list[str]]:
    """The override lists to check: one run, or for a sweep each value of each swept key once
    (the other keys at their first value), so a sweep of k values costs k compositions."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception as e:  # override syntax
        raise MDError(whole(e)) from None
    if not multirun:
        yield overrides
        return
    swept = [(o.input_line, o.get_key_element(), _values(o, user)) for o in parsed
             if o.is_sweep_override()]
    sweeps = [s for s in swept if s[2]]  # a glob(...) matching nothing runs no job
    fixed = [o.input_line for o in parsed if not o.is_sweep_override()]
    sweeps += _config_sweeps(config_name, fixed + [f"{k}={v[0]}" for _, k, v in sweeps],
                             {k for _, k, _ in sweeps} | {o.get_key_element() for o in parsed},
                             user)
    first = [f"{key}={values[0]}" for _, key, values in sweeps]
    yield fixed + first
    for i, (_, key, values) in enumerate(sweeps):
        for value in values[1:]:
            yield fixed + first[:i] + [f"{key}={value}"] + first[i + 1:]


def _values(override, user: str | None = None) -> list[str]:
    """A sweep's values as the sweeper will see them; glob(...) over the same config folders."""
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.types import Glob

    try:
        if not isinstance(override.value(), Glob):
            return list(override.sweep_string_iterator())
        with _search_path(user):  # glob(...) lists a group's options: it needs the config loader
            override.config_loader = GlobalHydra.instance().config_loader()
            return list(override.sweep_string_iterator())
    except Exception as e:  # a range(...) or glob(...) that cannot expand: Hydra's own words
        raise MDError(f"{override.input_line}: {whole(e)}") from None
    finally:
        GlobalHydra.instance().clear()


def _config_sweeps(config_name: str, overrides: list[str], given: set[str],
                   user: str | None) -> list:
    """Sweeps an experiment declares in `hydra.sweeper.params` (not overridden on the line)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    cfg = _compose(config_name, overrides, hydra_config=True, user=user)
    params = OmegaConf.select(cfg, "hydra.sweeper.params") or {}
    lines = [f"{k}={v}" for k, v in params.items() if k not in given]
    parsed = OverridesParser.create().parse_overrides(lines)
    return [(o.input_line, o.get_key_element(), _values(o, user) or [str(o.value())])
            for o in parsed]


def check_job(config_name: str, overrides: list[str], multirun: bool,
              user: str | None = None) -> DictConfig:
    """Compose one job's config and run every check of md.config.checks on it."""
    from hydra.core.hydra_config import HydraConfig

    from md.config import checks

    cfg = _compose(config_name, overrides, hydra_config=True, user=user)
    HydraConfig.instance().set_config(cfg)  # so ${hydra:...} values resolve, as in the job
    choices = dict(cfg.hydra.runtime.choices)
    node = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    try:
        run_dir = str(OmegaConf.select(cfg, node))
    except Exception:  # an interpolation only Hydra's job can resolve
        run_dir = None
    with open_dict(cfg):
        del cfg["hydra"]
    checks.check_config(cfg, choices, run_dir, trains=config_name not in checks.UPSTREAM_CONFIGS)
    return cfg


def _compose(config_name: str, overrides: list[str], hydra_config: bool = False,
             user: str | None = None) -> DictConfig:
    """The composed config, as Hydra's job will see it: the user's folder first, then md's."""
    from hydra import compose
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import MissingConfigException

    try:
        with _search_path(user):
            return compose(config_name, overrides=overrides, return_hydra_config=hydra_config)
    except MissingConfigException as e:
        raise MDError(_missing_option(e, overrides)) from None
    except Exception as e:  # ConfigCompositionException, OmegaConf errors, override syntax
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()] or [type(e).__name__]
        unknown = re.match(r"Could not override '([^']+)'", lines[0])
        if unknown and len(lines) > 1 and lines[1].startswith("To append"):
            raise MDError(_unknown_key(unknown.group(1), config_name, overrides, user)) from None
        raise MDError(whole(e)) from None
    finally:
        GlobalHydra.instance().clear()


@contextlib.contextmanager
def _search_path(user: str | None) -> Iterator[None]:
    """Hydra initialised with the search path Hydra's job gets (`search_path`)."""
    from hydra import version
    from hydra._internal.hydra import Hydra
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    version.setbase("1.3")
    Hydra.create_main_hydra2(task_name="md", config_search_path=search_path(user))
    yield


def search_path(user: str | None):
    """The user's folder (when given) as the primary config folder, md's right after it: the
    order `stage_main` gives Hydra's job (Hydra's own --config-dir would put it after md's)."""
    from hydra._internal.utils import create_config_search_path
    from hydra.core.config_search_path import SearchPathQuery

    path = create_config_search_path(user or CONFIG_DIR)
    if user is not None:
        path.prepend(provider="command-line", path=f"file://{CONFIG_DIR}",
                     anchor=SearchPathQuery(provider="schema"))
    return path


def whole(e: Exception, limit: int = 600) -> str:
    """A Hydra error on one line, hint included: its lines joined (Hydra puts the fix, e.g. the
    available options or the grammar's page, on the lines after the first), cut at `limit`."""
    body = str(e).split("Config search path:")[0]  # Hydra's folder listing: not a hint
    lines = [ln.strip().rstrip(":") for ln in body.splitlines() if ln.strip()] or [type(e).__name__]
    text = "; ".join(lines)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _unknown_key(key: str, config_name: str, overrides: list[str], user: str | None) -> str:
    """`train.max_stepz is not a config key; did you mean train.max_steps?` (any group)."""
    rest = [o for o in overrides if o.split("=")[0] != key]
    try:
        known = _leaf_keys(_compose(config_name, rest, user=user))
    except MDError:
        known = []
    leaf, group = key.split(".")[-1], key.split(".")[0]
    same_leaf = [k for k in known if k.split(".")[-1] == leaf]
    own = [k.split(".", 1)[1] for k in known if k.startswith(f"{group}.") and "_target_" not in k]
    other = same_leaf[0].split(".")[0] if same_leaf else group
    if own and other != group and not difflib.get_close_matches(group, [other], cutoff=0.7):
        # teacher.temperature is not inference.temperature (the student's): list what there is
        shown = ", ".join(own[:10]) + (", ..." if len(own) > 10 else "")
        return (f"{key} is not a config key: the chosen {group} has no {leaf} (its keys: "
                f"{shown})")
    close = same_leaf or difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    if close:
        return f"{key} is not a config key; did you mean {close[0]}?"
    return (f"{key} is not a config key (check the spelling with --cfg job; to add a new key "
            f"write +{key}=...)")


def _leaf_keys(node: Any, prefix: str = "") -> list[str]:
    keys = []
    for key in node:
        path = f"{prefix}.{key}" if prefix else str(key)
        value = node._get_node(key)
        if isinstance(value, DictConfig) and not value._is_missing():
            keys += _leaf_keys(value, path)
        else:
            keys.append(path)
    return keys


def _missing_option(e: Exception, overrides: list[str]) -> str:
    group = next((o.split("=")[0] for o in overrides if "=" in o and o.split("=")[0].lstrip("+")
                  in str(e)), None)
    options = getattr(e, "options", None)
    if group and options:
        value = next(o.split("=", 1)[1] for o in overrides if o.split("=")[0] == group)
        close = difflib.get_close_matches(value, options, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]}? (choose one of " if close else "choose one of "
        return (f"{group}={value}: no such option; {hint}{', '.join(sorted(options))}"
                + (")" if close else ""))
    return whole(e)


def stage_main(config_name: str) -> Callable[[Callable[[DictConfig], object]], Callable[[], object]]:
    """Decorate a stage's `main(cfg)` as its Hydra entry point with user-error reporting."""

    def decorate(fn: Callable[[DictConfig], object]) -> Callable[[], object]:
        @functools.wraps(fn)
        def main() -> object:
            argv, given = _pop_config_dir(sys.argv[1:])
            user = report_errors(user_config_dir)(given)
            sys.argv[1:] = ([f"--config-dir={CONFIG_DIR}"] if user else []) + argv
            report_errors(check_command_line)(config_name, argv, user)
            return hydra.main(version_base="1.3", config_path=user or CONFIG_DIR,
                              config_name=config_name)(report_errors(fn))()

        return main

    return decorate


def _pop_config_dir(argv: list[str]) -> tuple[list[str], str | None]:
    """`argv` without its `--config-dir DIR` / `--config-dir=DIR` / `-cd DIR`, and DIR."""
    rest, given, args = [], None, iter(argv)
    for arg in args:
        if arg in ("--config-dir", "-cd"):
            given = next(args, "")
        elif arg.startswith("--config-dir="):
            given = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return rest, given
