"""One frozen settings dataclass per config group, each checking its own values when built.

The entry points compose the Hydra config, and md.config.groups turns each group into one of
these, once, at composition time (md.config.checks), before Hydra starts a job: a bad
`mix.*`, `inference.*`, `loss.*`, `train.*`, `trainer.*`, `execute.*` or `extract.*` value is
one line and nothing has run. From there on every function takes these objects or plain
values, so no code below an entry point reads a config object. Field names are the YAML keys
(`inference.curves.draws` is `InferenceSettings.curves.draws`; `loss.lambda` is
`LossSettings.lambda_`, `lambda` being a Python keyword). The defaults are the YAML ones (except
where a comment says otherwise), so a test or a script builds a stage's settings in one line:

    MixSettings(variant="cot")           SandboxSettings(workers=1)
    TrainSettings(trainer={"max_steps": 3, "accelerator": "cpu"}, batch_size=2)
    MixSettings(paths_per_question="abc")
    # MDError: mix.paths_per_question='abc': must be an integer in [1, 1,000] (correct ...)

The choice lists of the knobs live here, once; the libraries that act on them import them.
This module is a leaf: it imports md.errors and the standard library only, so every layer may
import it and it imports none of them (the values live here, their behaviour beside the code
that acts on them: AdaptiveSampling's rule in md.teacher.adaptive, `precision: auto` in
md.models.hardware.resolved).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from md.errors import MDError

MIX_VARIANTS = ("md", "cot", "pot", "label")
LOSS_MODES = ("adaptive", "fixed", "equal")
SCHEDULES = ("cosine", "linear", "constant")
# the LoRA ranks vLLM serves (vllm.config.lora.MaxLoRARanks; a test checks them against it)
VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
ENGINES = ("auto", "hf", "vllm")  # md.inference.choose_engine says what auto becomes
STOP_RULES = ("fixed", "unchangeable", "beta")   # inference.adaptive.rule (replayed or live)
ADAPTIVE_RULES = ("unchangeable", "beta")         # extract.adaptive.rule (md.teacher.adaptive)


# Every integer knob has a ceiling, stated in its error line: a value past it is a typo or an
# attack that would exhaust memory, disk, time or money (a dry run of 10^9 samples per question).
# Knobs whose cost grows faster have lower ones (SAMPLES, WORKERS, TOKENS, ...).
INT_CEILING = 1_000_000_000
SAMPLES = 1_000          # samples or paths per question and method: the paper uses 20
WORKERS = 256            # processes or requests in flight
TOKENS = 1_000_000       # tokens per sample or example
SEED_MAX = 2**32 - 1     # numpy's and torch's seedable range
HOUR, WEEK = 3600.0, 7 * 86400.0


@dataclass(frozen=True)
class Knob:
    """A typed config value: its kind, an allowed range or choice, and what it means.

    A number is refused when it is not finite (NaN compares false with every bound, so it would
    pass any range check and then switch the check's purpose off: a NaN budget caps nothing), and
    an integer above its ceiling (`high`, else INT_CEILING)."""

    kind: type
    meaning: str
    low: float | None = None
    high: float | None = None
    above: bool = False  # low is exclusive: the value must be > low
    choices: tuple[str, ...] = ()
    optional: bool = False  # null is allowed
    also: tuple[str, ...] = ()  # words allowed besides the kind (mix.upsample: auto)

    def problem(self, value: Any) -> str | None:
        """Why `value` is not allowed, or None."""
        if value is None:
            return None if self.optional else f"must be set ({self.meaning})"
        if self.choices:
            return None if value in self.choices else \
                f"must be one of {', '.join(map(str, self.choices))}"
        if isinstance(value, str) and value.strip().lower() in self.also:
            return None
        wrong = f"must be {_describe(self.kind)}{self._range()}" + \
            "".join(f" or {w}" for w in self.also) + f" ({self.meaning})"
        if not _is_kind(value, self.kind):
            return wrong
        if isinstance(value, float) and not math.isfinite(value):
            return f"{wrong}; nan and inf are not allowed"
        if self.kind is int and self.high is None and value > INT_CEILING:
            return f"must be an integer at most {INT_CEILING:,} ({self.meaning})"
        if self.low is not None and (value <= self.low if self.above else value < self.low):
            return wrong
        if self.high is not None and value > self.high:
            return wrong
        return None

    def _range(self) -> str:
        if self.low is not None and self.high is not None:
            return f" in {'(' if self.above else '['}{_num(self.low)}, {_num(self.high)}]"
        if self.high is not None:
            return f" <= {_num(self.high)}"
        if self.low is not None:
            return f" {'>' if self.above else '>='} {_num(self.low)}"
        return ""


def _num(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else str(x)


def _is_kind(value: Any, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)


def _describe(kind: type) -> str:
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(
        kind, kind.__name__)


def count(meaning: str, high: int | None = None) -> Knob:
    return Knob(int, meaning, low=1, high=high)


def machine_memory_mb() -> int:
    """This machine's memory in MB (the ceiling of a per-program memory cap)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError, AttributeError):  # not POSIX: a generous fixed ceiling
        return 2**20


def seed_knob() -> Knob:
    return Knob(int, "the run's seed", low=0, high=SEED_MAX)


def flag(meaning: str) -> Knob:
    return Knob(bool, meaning)


def knob(default: Any, rule: Knob, key: str | None = None):
    """A dataclass field with its rule (and its YAML key where the field name differs)."""
    return field(default=default, metadata={"knob": rule, "key": key})


def check(settings: Any, group: str) -> None:
    """MDError, in one line naming `<group>.<key>`, for the first field its rule refuses."""
    for f in fields(settings):
        rule: Knob | None = f.metadata.get("knob")
        value = getattr(settings, f.name)
        problem = rule.problem(value) if rule else None
        if problem:
            key = f"{group}.{f.metadata.get('key') or f.name}"
            raise MDError(f"{key}={value!r}: {problem}" if isinstance(value, str)
                          else f"{key}={value}: {problem}")


@dataclass(frozen=True)
class AdaptiveSampling:
    """`extract.adaptive`: when a prompt has been sampled enough (md.teacher.adaptive says how
    these values decide it)."""

    rule: str = knob("beta", Knob(str, "stop rule", choices=ADAPTIVE_RULES))
    threshold: float = knob(0.95, Knob(float, "stop once P(leader wins) >= this", low=0, high=1,
                                       above=True))
    round_size: int = knob(4, count("samples per prompt per round"))
    paths_per_question: int | None = 4  # mix.paths_per_question (MixSettings checks it)
    patience: int = knob(5, count("samples without a new distinct correct path"))

    def __post_init__(self):
        check(self, "extract.adaptive")


@dataclass(frozen=True)
class ExtractSettings:
    """The `extract:` knobs (base.yaml): how the teacher is asked, not what it is."""

    max_problems: int | None = knob(None, Knob(int, "training problems sent to the teacher",
                                               low=1, optional=True))
    cache_path: str | None = None     # the shared SQLite cache; None keeps it in memory
    batch_poll_s: float = knob(30.0, Knob(float, "seconds between Batch API checks", low=0,
                                          high=HOUR, above=True))
    batch_wait_s: float | None = knob(None, Knob(float, "seconds to wait for a batch", low=0,
                                                 high=WEEK, optional=True))
    progress: bool = knob(True, flag("show a progress bar"))
    dry_run: bool = knob(False, flag("print the cost and stop"))
    # None: the paper's n samples for every prompt (AdaptiveSampling checks its own values)
    adaptive: AdaptiveSampling | None = None

    def __post_init__(self):
        check(self, "extract")


@dataclass(frozen=True)
class SandboxSettings:
    """The `execute:` knobs: the sandbox every program runs in (extraction, judging, evaluation)."""

    workers: int = knob(2, count("sandbox worker processes", WORKERS))
    timeout_s: float = knob(5.0, Knob(float, "seconds of wall clock per program", low=0,
                                      high=HOUR, above=True))
    # at most this machine's memory: a larger cap is no cap
    memory_mb: int = knob(512, Knob(int, "MB of address space per program", low=16,
                                    high=machine_memory_mb()))
    require_isolation: bool = knob(False, flag("refuse to run programs with a protection off"))

    def __post_init__(self):
        check(self, "execute")


@dataclass(frozen=True)
class MixSettings:
    """The `mix` group: the data-mix variant and how it keeps and balances paths (md.stages.mix)."""

    variant: str = knob("md", Knob(str, "the data mix", choices=MIX_VARIANTS))
    paths_per_question: int | None = knob(4, Knob(
        int, "correct paths kept per question and method; null keeps all", low=1, high=SAMPLES, optional=True))
    upsample: int | str = knob("auto", Knob(int, "repeat factor of type 1 and 2 questions",
                                            low=1, high=SAMPLES, also=("auto",)))
    target_share: float = knob(0.25, Knob(float, "share each rare type is upsampled towards",
                                          low=0, high=1, above=True))
    max_factor: int = knob(10, count("the most auto repeats a question", SAMPLES))

    def __post_init__(self):
        check(self, "mix")


@dataclass(frozen=True)
class LossSettings:
    """The `loss` group: how each example's loss is weighted (md.training.loss)."""

    mode: str = knob("adaptive", Knob(str, "how examples are weighted", choices=LOSS_MODES))
    lambda_: float | None = knob(None, Knob(float, "the PoT weight of type-3 questions", low=0,
                                            high=1, optional=True), key="lambda")

    def __post_init__(self):
        check(self, "loss")
        if self.mode == "fixed" and self.lambda_ is None:
            raise MDError("loss=fixed needs loss.lambda in [0, 1] (the PoT weight of type-3 "
                          "questions), e.g. loss=fixed loss.lambda=0.5")


# What a TrainSettings without a `trainer` mapping trains with (conf/trainer/cpu.yaml's values,
# no bar); the `trainer` group's keys win over these.
TRAINER_DEFAULTS = MappingProxyType({
    "accelerator": "cpu", "devices": 1, "precision": "32-true", "max_steps": 300,
    "gradient_clip_val": 1.0, "log_every_n_steps": 10, "enable_progress_bar": False})

FINETUNES = ("full", "lora", "qlora")  # how a student is fine-tuned (md.models.builder)

# lightning.Trainer's precision values (checked at composition, not after the upstream stages)
PRECISIONS = ("auto", "transformer-engine", "transformer-engine-float16", "16-true", "16-mixed",
              "bf16-true", "bf16-mixed", "32-true", "64-true", "64", "32", "16", "bf16")

# The trainer keys md itself relies on (the rest are checked against lightning.Trainer's signature
# by md.training.module.check_trainer_args).
TRAINER_KNOBS = MappingProxyType({
    "max_steps": count("optimizer steps to train", 100_000_000),
    "accumulate_grad_batches": count("micro-batches per optimizer step", 65_536),
    "gradient_clip_val": Knob(float, "gradient norm clip", low=0, optional=True),
    "log_every_n_steps": count("steps between logged values"),
    "enable_progress_bar": flag("show a progress bar"),
})


@dataclass(frozen=True)
class TrainSettings:
    """The `train:` knobs, the `loss` group and the `trainer` group (lightning.Trainer arguments).

    `trainer` is passed to `lightning.Trainer` as it is (md.stages.train adds the step-driven
    loop, checkpoints and the logger); md.config.groups checks its keys against Trainer's
    signature.
    """

    trainer: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    loss: LossSettings = field(default_factory=LossSettings)
    batch_size: int = knob(8, count("examples per micro-batch", 65_536))
    # None: the student's own recommended learning rate
    lr: float | None = knob(None, Knob(float, "peak learning rate", low=0, above=True,
                                       optional=True))
    weight_decay: float = knob(0.0, Knob(float, "AdamW weight decay", low=0))
    # train.yaml: 30 (a few-step test run has no warmup)
    warmup_steps: int = knob(0, Knob(int, "linear warmup steps", low=0))
    schedule: str = knob("cosine", Knob(str, "LR schedule", choices=SCHEDULES))
    max_length: int = knob(512, count("tokens per example", TOKENS))
    val_fraction: float = knob(0.0, Knob(float, "share of questions held out", low=0, high=1))
    val_every: int = knob(100, count("optimizer steps between validations"))
    ckpt_every: int = knob(100, count("optimizer steps between checkpoints"))
    keep_checkpoints: int = knob(2, Knob(int, "-1 keeps all, k keeps the newest k", low=-1))
    labelled_logits: bool = knob(True, flag("project only label-predicting positions"))
    # None: train trainer.max_steps; else this many passes over the training mix (`for_epochs`)
    epochs: float | None = knob(None, Knob(float, "passes over the training mix", low=0,
                                           high=10_000, above=True, optional=True))
    seed: int = knob(0, seed_knob())

    def __post_init__(self):
        check(self, "train")
        if self.keep_checkpoints == 0:
            raise MDError("train.keep_checkpoints=0: must be -1 (keep all) or k >= 1 (keep the "
                          "newest k); a run that keeps none could not resume")
        args = self.trainer_args()
        if args.get("strategy") == "fsdp" and args.get("accelerator") == "cpu":
            raise MDError("trainer=fsdp runs only on CUDA GPUs (Lightning's FSDP strategy); on a "
                          "CPU use trainer=ddp trainer.accelerator=cpu trainer.precision=32-true")
        for key, rule in TRAINER_KNOBS.items():
            if key in self.trainer and (problem := rule.problem(self.trainer[key])):
                value = self.trainer[key]
                raise MDError(f"trainer.{key}={value!r}: {problem}")
        precision = self.trainer.get("precision")
        if precision is not None and str(precision) not in PRECISIONS:
            raise MDError(f"trainer.precision={precision!r}: must be one of "
                          f"auto, {', '.join(PRECISIONS[3:9])} (or 16, 32, 64, bf16)")

    def trainer_args(self) -> dict[str, Any]:
        """The lightning.Trainer arguments: TRAINER_DEFAULTS, then the `trainer` group's.
        `precision: auto` is kept as it is: what it becomes depends on the machine, which the
        caller asks (md.models.hardware.resolved)."""
        return {**TRAINER_DEFAULTS, **self.trainer}

    @property
    def max_steps(self) -> int:
        return int(self.trainer_args()["max_steps"])

    def for_epochs(self, n_examples: int, world: int = 1) -> TrainSettings:
        """These settings with trainer.max_steps set to `epochs` passes over n_examples: one
        pass is ceil(n / batch_size) micro-batches over all `world` processes (devices x nodes,
        md.models.hardware.world_size), so mixes of different sizes train the same epochs."""
        batches = math.ceil(n_examples / self.batch_size)
        steps = max(1, math.ceil(self.epochs * batches / (self.accumulate_grad_batches * world)))
        return replace(self, trainer={**self.trainer, "max_steps": steps}, epochs=None)

    @property
    def accumulate_grad_batches(self) -> int:
        return int(self.trainer_args().get("accumulate_grad_batches", 1))


@dataclass(frozen=True)
class CurveSettings:
    """`inference.curves`: the accuracy-vs-N curves (md.evaluation.curves)."""

    draws: int = knob(50, count("random path subsets per N"))
    ci: float = knob(0.95, Knob(float, "confidence level", low=0, high=1, above=True))

    def __post_init__(self):
        check(self, "inference.curves")


@dataclass(frozen=True)
class StopSettings:
    """`inference.adaptive`: adaptive consistency, replayed on the recorded paths or live."""

    rule: str = knob("beta", Knob(str, "stop rule", choices=STOP_RULES))
    threshold: float = knob(0.95, Knob(float, "stop once P(leader wins) >= this", low=0,
                                       high=1, above=True))
    round_size: int = knob(1, count("paths per method per round", SAMPLES))
    live: bool = knob(False, flag("also sample adaptive consistency in live rounds"))

    def __post_init__(self):
        check(self, "inference.adaptive")


# inference.vllm: the engine settings md knows (any other key goes to vllm.LLM as it is)
VLLM_KNOBS = MappingProxyType({
    "gpu_memory_utilization": Knob(float, "share of GPU memory vLLM reserves", low=0, high=1,
                                   above=True),
    "max_lora_rank": Knob(int, "largest LoRA rank vLLM serves", choices=VLLM_LORA_RANKS),
    "tensor_parallel_size": count("GPUs one vLLM engine spans"),
    "max_model_len": Knob(int, "vLLM context length", low=1, optional=True),
})


@dataclass(frozen=True)
class InferenceSettings:
    """The `inference` group: how a student is sampled and scored (md.stages.evaluate)."""

    paths: int = knob(20, count("sampled paths per method", SAMPLES))
    vote_paths: int | None = knob(10, Knob(int, "paths per method in the mixed vote; null: all",
                                           low=1, high=SAMPLES, optional=True))
    temperature: float = knob(0.7, Knob(float, "sampling temperature", low=0))
    max_new_tokens: int = knob(256, count("new tokens per path", TOKENS))
    batch_size: int = knob(32, count("sequences per generate call", 65_536))
    engine: str = knob("auto", Knob(str, "sampling engine", choices=ENGINES))
    quantized_base: bool = knob(True, flag("evaluate a QLoRA student on its 4-bit base (HF engine)"))
    greedy: bool = knob(True, flag("also decode one greedy path per method"))
    ensemble: tuple[str, ...] | None = None
    reuse_paths: bool = knob(False, flag("vote the ensemble from its students' saved paths"))
    reuse_from: str = "eval"  # the evaluation folder beside each student's student/ to reuse
    shards: int = knob(1, count("shards the test set is split into"))
    shard: int = knob(0, Knob(int, "which shard this job evaluates, 0..shards-1", low=0))
    seed_per_question: bool = knob(False, flag("seed each question's paths on their own"))
    resume_every: int = knob(64, count("prompts sampled between resume points"))
    vllm: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    curves: CurveSettings = field(default_factory=CurveSettings)
    adaptive: StopSettings = field(default_factory=StopSettings)
    seed: int = knob(0, seed_knob())  # the run's seed (top-level `seed`): sampling, curve draws

    def __post_init__(self):
        check(self, "inference")
        if self.shard >= self.shards:
            raise MDError(f"inference.shard={self.shard}: must be in 0..{self.shards - 1} "
                          f"(inference.shards={self.shards})")
        if self.ensemble is not None and len(self.ensemble) != 2:
            raise MDError("inference.ensemble takes two student folders: "
                          "[COT_STUDENT, POT_STUDENT]")
        for key, rule in VLLM_KNOBS.items():
            if key in self.vllm and (problem := rule.problem(self.vllm[key])):
                raise MDError(f"inference.vllm.{key}={self.vllm[key]!r}: {problem}")
