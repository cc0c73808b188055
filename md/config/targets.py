"""Config helpers: check `_target_` nodes against their builders, build them, flatten configs.

Every node that builds something names a builder function with flat arguments (`_target_`), so
the builder's signature *is* the schema. `check_targets` walks a composed config and turns a
misspelled key into one clear line before anything expensive starts:

    error: student.lora_rank is not an option of md.models.builder.build_student; did you mean lora_r?

Hydra's struct mode already rejects an unknown key given on the command line.
"""

from __future__ import annotations

import difflib
import inspect
import math
import types
import typing
from typing import Any

from hydra.utils import get_object
from omegaconf import DictConfig, ListConfig, OmegaConf

from md.errors import MDError


def to_plain(node: Any) -> Any:
    """A config node as plain Python containers, interpolations resolved."""
    if isinstance(node, (DictConfig, ListConfig)):
        return OmegaConf.to_container(node, resolve=True)
    return node


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """`{"a": {"b": 1}}` -> `{"a.b": 1}`, for loggers that want a flat config."""
    plain = to_plain(node)
    if not isinstance(plain, dict):
        return {prefix: plain} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in plain.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat


# Keys that sit beside a builder's own options but are read by the pipeline, not the builder:
# a display name, and the data group's subset selection (md.data.load_split).
PIPELINE_KEYS = ("name", "train_fraction", "max_train", "max_test")
# Modules that moved into role packages (md 0.2): a user's own config that still names the old
# module is told the new spelling in one line.
MOVED = {"md.loggers": "md.tracking.loggers", "md.lineage": "md.tracking.lineage",
         "md.loss": "md.training.loss", "md.lightning_glue": "md.training.module",
         "md.infer": "md.inference", "md.infer_vllm": "md.inference.vllm_engine",
         "md.config.settings": "md.settings", "md.preflight": "md.config.preflight"}


def check_targets(cfg: DictConfig, ignore: tuple[str, ...] = PIPELINE_KEYS) -> None:
    """Raise MDError if a `_target_` node has a key its builder does not accept."""
    for path, node in _target_nodes(cfg, ""):
        target = node["_target_"]
        try:
            fn = get_object(target)
        except Exception as e:  # ImportError, AttributeError, ...
            module, _, name = str(target).rpartition(".")
            if module in MOVED:
                raise MDError(f"{path}._target_: {module} moved to {MOVED[module]}; write "
                              f"_target_: {MOVED[module]}.{name}") from None
            raise MDError(f"{path}._target_: cannot import {target} ({e})") from None
        params = inspect.signature(fn).parameters
        hints = _type_hints(fn)
        open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        for key in node:
            if key.startswith("_") or key in ignore:
                continue
            if key in params:
                _check_type(f"{path}.{key}", node, key, hints.get(key), target)
            elif not open_ended:
                hint = difflib.get_close_matches(key, list(params), n=1)
                tip = f"; did you mean {hint[0]}?" if hint else f"; its options are {', '.join(params)}"
                raise MDError(f"{path}.{key} is not an option of {target}{tip}")


def _type_hints(fn) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # an annotation that does not evaluate: check names only
        return {}


_SCALARS = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def _check_type(where: str, node: DictConfig, key: str, hint: Any, target: str) -> None:
    """A builder argument annotated as a scalar (or Optional scalar) gets a value of that type."""
    kinds = [hint] if hint in _SCALARS else []
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        optional = type(None) in args
        kinds = [a for a in args if a is not type(None)]
        if not all(a in _SCALARS for a in kinds):
            return  # a list, dict or other union: the builder checks it
    if not kinds:
        return
    try:
        value = node[key]
    except Exception:  # an interpolation that cannot resolve yet: the builder will say
        return
    if value is None and optional:
        return
    if any(_fits(value, k) for k in kinds):
        return
    want = " or ".join(_SCALARS[k] for k in kinds) + (" or null" if optional else "")
    if isinstance(value, float) and not math.isfinite(value):
        want = f"a finite number (not {value})"
    raise MDError(f"{where}={value!r}: expected {want} (an option of {target})")


def _fits(value: Any, kind: type) -> bool:
    if kind is bool or isinstance(value, bool):
        return kind is bool and isinstance(value, bool)
    if kind is float:  # NaN passes every comparison: a NaN timeout or price checks nothing
        return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
    return isinstance(value, kind)


def _target_nodes(node: Any, path: str):
    if isinstance(node, DictConfig):
        if "_target_" in node:
            yield path or "<root>", node
        for key in node:
            if OmegaConf.is_missing(node, key):
                continue
            yield from _target_nodes(node[key], f"{path}.{key}" if path else str(key))
    elif isinstance(node, ListConfig):
        for i, item in enumerate(node):
            yield from _target_nodes(item, f"{path}[{i}]")


def call(node: DictConfig, *, drop: tuple[str, ...] = (), **extra: Any) -> Any:
    """Call a `_target_` node's builder with its keys (minus `drop`) and `extra` arguments."""
    plain = to_plain(node)
    for key in drop:
        plain.pop(key, None)
    target = get_object(plain.pop("_target_"))
    return target(**plain, **extra)
