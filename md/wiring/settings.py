"""Each config group, once, as its frozen settings dataclass (md.settings).

The one place that knows how a group's YAML keys map onto the settings: nested keys are
flattened (`inference.curves.draws` -> `curve_draws`), the trainer group is checked against
`lightning.Trainer`'s own signature, and an unknown key is one line with a did-you-mean:

    error: trainer.max_step is not an argument of lightning.Trainer; did you mean max_steps?
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any

from omegaconf import DictConfig

from md.config import to_plain
from md.errors import MDError
from md.settings import (
    ExtractSettings,
    InferenceSettings,
    MixSettings,
    SandboxSettings,
    TrainSettings,
)
from md.teacher.adaptive import AdaptiveSampling

# train: keys the entry point reads itself (where the examples come from, what follows training)
TRAIN_ENTRY_KEYS = ("examples", "evaluate_after", "ckpt_path")


def build(cls: type, group: str, values: dict[str, Any]):
    """`cls(**values)`, or one MDError line naming the key `cls` does not have."""
    fields = [f.name for f in dataclasses.fields(cls)]
    for key in values:
        if key not in fields:
            hint = difflib.get_close_matches(key, fields, n=1)
            raise MDError(f"{group}.{key} is not an option" + (f"; did you mean {hint[0]}?" if hint
                                                                else f" (options: {', '.join(fields)})"))
    return cls(**values)


def extract(cfg: DictConfig) -> ExtractSettings:
    x = to_plain(cfg.extract)
    adaptive = x.pop("adaptive", None) or {}
    rule = None
    if adaptive.pop("enabled", False):
        rule = AdaptiveSampling(**adaptive, paths_per_question=cfg.mix.get("paths_per_question"))
    return build(ExtractSettings, "extract", {**x, "adaptive": rule})


def sandbox(cfg: DictConfig) -> SandboxSettings:
    return build(SandboxSettings, "execute", to_plain(cfg.execute))


def mix(cfg: DictConfig) -> MixSettings:
    return build(MixSettings, "mix", to_plain(cfg.mix))


def inference(cfg: DictConfig) -> InferenceSettings:
    inf = to_plain(cfg.inference)
    curves, adaptive = inf.pop("curves", {}), inf.pop("adaptive", {})
    flat = {**inf, "curve_draws": curves.get("draws", 50), "curve_ci": curves.get("ci", 0.95),
            "stop_rule": adaptive.get("rule", "beta"),
            "stop_threshold": adaptive.get("threshold", 0.95),
            "round_size": adaptive.get("round_size", 1),
            "live_adaptive": adaptive.get("live", False)}
    if flat.get("ensemble") is not None:
        flat["ensemble"] = tuple(str(s) for s in flat["ensemble"])
    return build(InferenceSettings, "inference", flat)


def train(cfg: DictConfig) -> TrainSettings:
    """The train group (less TRAIN_ENTRY_KEYS), the loss group and the trainer group."""
    knobs = {k: v for k, v in to_plain(cfg.train).items() if k not in TRAIN_ENTRY_KEYS}
    from md.lightning_glue import check_trainer_args  # imports lightning: only when training

    trainer = to_plain(cfg.trainer)
    check_trainer_args(trainer)  # before any stage runs, not when the Trainer is built
    return build(TrainSettings, "train", {**knobs, "trainer": trainer, "seed": cfg.seed,
                                          "loss_mode": cfg.loss.mode,
                                          "loss_lambda": cfg.loss.get("lambda")})
