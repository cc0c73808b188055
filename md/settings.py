"""One frozen settings dataclass per config group, the only form in which settings travel.

The entry points (`python -m md.<stage>`) compose the Hydra config, and md.wiring turns each
group into one of these, once; from there on every function takes plain values by keyword, so
no code below an entry point reads a config object, and a misspelled or mistyped knob fails at
the entry point, not deep inside a stage. The defaults are the YAML ones (except where a
comment says otherwise), so a test or a script can build a stage's settings in one line:

    MixSettings(variant="cot")           SandboxSettings(workers=1)
    TrainSettings(trainer={"max_steps": 3, "accelerator": "cpu"}, batch_size=2)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from md.teacher.adaptive import AdaptiveSampling


@dataclass(frozen=True)
class ExtractSettings:
    """The `extract:` knobs (base.yaml): how the teacher is asked, not what it is."""

    max_problems: int | None = None
    cache_path: str | None = None     # the shared SQLite cache; None keeps it in memory
    batch_poll_s: float = 30.0
    batch_wait_s: float | None = None
    progress: bool = True
    dry_run: bool = False
    adaptive: AdaptiveSampling | None = None  # None: the paper's n samples for every prompt


@dataclass(frozen=True)
class SandboxSettings:
    """The `execute:` knobs: the sandbox every program runs in (extraction, judging, evaluation)."""

    workers: int = 2
    timeout_s: float = 5.0
    memory_mb: int = 512
    require_isolation: bool = False


@dataclass(frozen=True)
class MixSettings:
    """The `mix` group: the data-mix variant and how it keeps and balances paths (md.stages.mix)."""

    variant: str = "md"
    paths_per_question: int | None = 4
    upsample: int | str = "auto"
    target_share: float = 0.25
    max_factor: int = 10


# What a TrainSettings without a `trainer` mapping trains with (the CPU group's values, no bar);
# the `trainer` group's keys win over these.
TRAINER_DEFAULTS = MappingProxyType({
    "accelerator": "cpu", "devices": 1, "precision": "32-true", "max_steps": 100,
    "gradient_clip_val": 1.0, "log_every_n_steps": 10, "enable_progress_bar": False})


@dataclass(frozen=True)
class TrainSettings:
    """The `train:` knobs, the `loss` group and the `trainer` group (lightning.Trainer arguments).

    `trainer` is passed to `lightning.Trainer` as it is (md.stages.train adds the step-driven
    loop, checkpoints and the logger); md.wiring checks its keys against Trainer's signature.
    """

    trainer: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    loss_mode: str = "adaptive"
    loss_lambda: float | None = None
    batch_size: int = 8
    lr: float | None = None           # None: the student's own recommended learning rate
    weight_decay: float = 0.0
    warmup_steps: int = 0             # train.yaml: 30 (a few-step test run has no warmup)
    schedule: str = "cosine"
    max_length: int = 512
    val_fraction: float = 0.0
    val_every: int = 100
    ckpt_every: int = 100
    keep_checkpoints: int = -1
    seed: int = 0

    def trainer_args(self) -> dict[str, Any]:
        """The lightning.Trainer arguments: TRAINER_DEFAULTS, then the `trainer` group's."""
        return {**TRAINER_DEFAULTS, **self.trainer}

    @property
    def max_steps(self) -> int:
        return int(self.trainer_args()["max_steps"])

    @property
    def accumulate_grad_batches(self) -> int:
        return int(self.trainer_args().get("accumulate_grad_batches", 1))


@dataclass(frozen=True)
class InferenceSettings:
    """The `inference` group: how a student is sampled and scored (md.stages.evaluate)."""

    paths: int = 20
    vote_paths: int | None = 10
    temperature: float = 0.7
    max_new_tokens: int = 256
    batch_size: int = 32
    engine: str = "hf"
    quantized_base: bool = True
    greedy: bool = True
    ensemble: tuple[str, ...] | None = None
    reuse_paths: bool = False
    shards: int = 1
    shard: int = 0
    seed_per_question: bool = False
    vllm: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    curve_draws: int = 50
    curve_ci: float = 0.95
    stop_rule: str = "beta"
    stop_threshold: float = 0.95
    round_size: int = 1
    live_adaptive: bool = False
