"""Each config group, once, as its frozen settings dataclass (md.settings).

The one place that knows how a group's YAML keys map onto the settings (the names are the
same; nested groups such as `inference.curves` become nested settings), the trainer group is
checked against `lightning.Trainer`'s own signature, and an unknown key is one line with a
did-you-mean:

    error: trainer.max_step is not an argument of lightning.Trainer; did you mean max_steps?
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any

from omegaconf import DictConfig

from md.config.targets import to_plain
from md.errors import MDError
from md.settings import (
    AdaptiveSampling,
    CurveSettings,
    ExtractSettings,
    InferenceSettings,
    LossSettings,
    MixSettings,
    SandboxSettings,
    StopSettings,
    TrainSettings,
)

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
    enabled = adaptive.pop("enabled", False)
    paths = (cfg.get("mix") or {}).get("paths_per_question")
    # built (so checked) even when off: a bad value is refused before it is switched on
    rule = build(AdaptiveSampling, "extract.adaptive", {**adaptive, "paths_per_question": paths})
    return build(ExtractSettings, "extract", {**x, "adaptive": rule if enabled else None})


def sandbox(cfg: DictConfig) -> SandboxSettings:
    return build(SandboxSettings, "execute", to_plain(cfg.execute))


def mix(cfg: DictConfig) -> MixSettings:
    return build(MixSettings, "mix", to_plain(cfg.mix))


def inference(cfg: DictConfig) -> InferenceSettings:
    inf = to_plain(cfg.inference)
    curves = build(CurveSettings, "inference.curves", inf.pop("curves", None) or {})
    adaptive = build(StopSettings, "inference.adaptive", inf.pop("adaptive", None) or {})
    if inf.get("ensemble") is not None:
        inf["ensemble"] = tuple(str(s) for s in inf["ensemble"])
    return build(InferenceSettings, "inference", {**inf, "curves": curves, "adaptive": adaptive,
                                                  "seed": cfg.seed})


def train(cfg: DictConfig, trainer_signature: bool = True) -> TrainSettings:
    """The train group (less TRAIN_ENTRY_KEYS), the loss group and the trainer group; the values
    are checked first, then (trainer_signature) the trainer keys against lightning.Trainer (an
    import of seconds, spared a job that does not train)."""
    knobs = {k: v for k, v in to_plain(cfg.train).items() if k not in TRAIN_ENTRY_KEYS}
    loss = {("lambda_" if k == "lambda" else k): v for k, v in to_plain(cfg.loss).items()}
    settings = build(TrainSettings, "train", {**knobs, "trainer": to_plain(cfg.trainer),
                                              "seed": cfg.seed,
                                              "loss": build(LossSettings, "loss", loss)})
    if not trainer_signature:
        return settings
    from md.training.module import check_trainer_args  # imports lightning: only when training

    check_trainer_args(dict(settings.trainer))  # before any stage runs, not at Trainer build
    return settings


def of_job(cfg: DictConfig, trains: bool = True) -> list:
    """Every settings object of a job, built (so checked) from the groups its config has: the
    composition check (md.config.checks) calls this before Hydra starts the job. trains=False
    (md.extract, md.execute, md.mix): the trainer keys are not matched against Lightning."""
    makers = {"extract": extract, "execute": sandbox, "mix": mix, "inference": inference}
    built = [make(cfg) for key, make in makers.items() if key in cfg]
    if all(key in cfg for key in ("train", "loss", "trainer")):
        built.append(train(cfg, trainer_signature=trains))
    return built
