"""Checks on a composed config, run before Hydra starts a job: nothing has been spent yet.

`md.cli` composes the command line's config (every job of a `-m` sweep, and under `--cfg job`)
and calls `check_config`, which raises `MDError` with one line on the first problem:

    error: inference.paths=-1: must be an integer >= 1 (sampled paths per method)
    error: student.lora_r='abc': expected an integer (an option of md.models.builder.build_student)
    error: teacher.path is not set: teacher=replay needs teacher.path=<...>; see conf/teacher/replay.yaml
    error: teacher=simulated renders thoughts only for data=synthetic ...
    error: paths.artifacts /x/file: /x/file is a file, not a folder; point paths.artifacts at ...

What it checks, in order: values that must be set (`???`), builder keys and their types
(`md.config.check_targets`), the typed knobs of the groups without a builder (`KNOBS`), the
teacher against the data, W&B's mode (WANDB_MODE included), and that the artifact and run
folders can be written. What needs the world
(files, keys, servers, weights) is `md.preflight`, run once the job starts.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from md.config import check_targets
from md.errors import MDError


@dataclass(frozen=True)
class Knob:
    """A typed config value: its kind, an allowed range or choice, and what it means."""

    kind: type
    meaning: str
    low: float | None = None
    high: float | None = None
    above: bool = False  # low is exclusive: the value must be > low
    choices: tuple[str, ...] = ()
    optional: bool = False  # null is allowed

    def problem(self, value: Any) -> str | None:
        """Why `value` is not allowed, or None."""
        if value is None:
            return None if self.optional else f"must be set ({self.meaning})"
        if self.choices:
            return None if value in self.choices else f"must be one of {', '.join(self.choices)}"
        if not _is_kind(value, self.kind):
            return f"must be {_describe(self.kind)}{self._range()} ({self.meaning})"
        if self.low is not None and (value <= self.low if self.above else value < self.low):
            return f"must be {_describe(self.kind)}{self._range()} ({self.meaning})"
        if self.high is not None and value > self.high:
            return f"must be {_describe(self.kind)}{self._range()} ({self.meaning})"
        return None

    def _range(self) -> str:
        if self.low is not None and self.high is not None:
            return f" in {'(' if self.above else '['}{_num(self.low)}, {_num(self.high)}]"
        if self.low is not None:
            return f" {'>' if self.above else '>='} {_num(self.low)}"
        return ""


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


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


def _count(meaning: str) -> Knob:
    return Knob(int, meaning, low=1)


# The knobs of the groups that have no builder signature to check against (train, trainer,
# inference, execute, extract, loss), plus ranges the builders' types cannot say.
KNOBS: dict[str, Knob] = {
    "seed": Knob(int, "the run's seed"),
    "train.batch_size": _count("examples per micro-batch"),
    "train.lr": Knob(float, "peak learning rate", low=0, above=True, optional=True),
    "train.weight_decay": Knob(float, "AdamW weight decay", low=0),
    "train.warmup_steps": Knob(int, "linear warmup steps", low=0),
    "train.schedule": Knob(str, "LR schedule", choices=("cosine", "linear", "constant")),
    "train.max_length": _count("tokens per example"),
    "train.val_fraction": Knob(float, "share of questions held out", low=0, high=1),
    "train.val_every": _count("optimizer steps between validations"),
    "train.ckpt_every": _count("optimizer steps between checkpoints"),
    "train.keep_checkpoints": Knob(int, "-1 keeps all, k keeps the newest k", low=-1),
    "train.evaluate_after": Knob(bool, "evaluate the saved student"),
    "trainer.max_steps": _count("optimizer steps to train"),
    "trainer.accumulate_grad_batches": _count("micro-batches per optimizer step"),
    "trainer.gradient_clip_val": Knob(float, "gradient norm clip", low=0, optional=True),
    "trainer.log_every_n_steps": _count("steps between logged values"),
    "trainer.enable_progress_bar": Knob(bool, "show a progress bar"),
    "inference.paths": _count("sampled paths per method"),
    "inference.temperature": Knob(float, "sampling temperature", low=0),
    "inference.max_new_tokens": _count("new tokens per path"),
    "inference.batch_size": _count("sequences per generate call"),
    "inference.engine": Knob(str, "sampling engine", choices=("hf", "vllm")),
    "inference.vllm.gpu_memory_utilization": Knob(float, "share of GPU memory vLLM reserves",
                                                  low=0, high=1, above=True),
    "inference.vllm.max_lora_rank": _count("largest LoRA rank vLLM serves"),
    "inference.vllm.tensor_parallel_size": _count("GPUs one vLLM engine spans"),
    "inference.vllm.max_model_len": Knob(int, "vLLM context length", low=1, optional=True),
    "inference.greedy": Knob(bool, "also decode one greedy path per method"),
    "inference.reuse_paths": Knob(bool, "vote the ensemble from its students' saved paths"),
    "inference.shards": _count("shards the test set is split into"),
    "inference.shard": Knob(int, "which shard this job evaluates, 0..shards-1", low=0),
    "inference.seed_per_question": Knob(bool, "seed each question's paths on their own"),
    "inference.curves.draws": _count("random path subsets per N"),
    "inference.curves.ci": Knob(float, "confidence level", low=0, high=1, above=True),
    "inference.adaptive.rule": Knob(str, "stop rule", choices=("fixed", "unchangeable", "beta")),
    "inference.adaptive.threshold": Knob(float, "stop once P(leader wins) >= this", low=0,
                                         high=1, above=True),
    "inference.adaptive.round_size": _count("paths per method per round"),
    "inference.adaptive.live": Knob(bool, "also sample adaptive consistency in live rounds"),
    "execute.workers": _count("sandbox worker processes"),
    "execute.timeout_s": Knob(float, "seconds of wall clock per program", low=0, above=True),
    "execute.memory_mb": Knob(int, "MB of address space per program", low=16),
    "execute.require_isolation": Knob(bool, "refuse to run programs with a protection off"),
    "extract.dry_run": Knob(bool, "print the cost and stop"),
    "extract.max_problems": Knob(int, "training problems sent to the teacher", low=1,
                                 optional=True),
    "extract.batch_poll_s": Knob(float, "seconds between Batch API checks", low=0, above=True),
    "extract.batch_wait_s": Knob(float, "seconds to wait for a batch", low=0, optional=True),
    "extract.progress": Knob(bool, "show a progress bar"),
    "extract.adaptive.enabled": Knob(bool, "sample the teacher in rounds, stop when settled"),
    "extract.adaptive.rule": Knob(str, "stop rule", choices=("unchangeable", "beta")),
    "extract.adaptive.threshold": Knob(float, "stop once P(leader wins) >= this", low=0,
                                       high=1, above=True),
    "extract.adaptive.round_size": _count("samples per prompt per round"),
    "extract.adaptive.patience": _count("samples without a new distinct correct path"),
    "loss.mode": Knob(str, "how examples are weighted", choices=("adaptive", "fixed", "equal")),
    "logger.mode": Knob(str, "W&B mode; null: $WANDB_MODE", choices=("offline", "online", "disabled"),
                        optional=True),
    "loss.lambda": Knob(float, "the PoT weight of type-3 questions", low=0, high=1),
    "teacher.n": _count("samples per method per question"),
    "teacher.temperature": Knob(float, "sampling temperature", low=0),
    "teacher.max_tokens": _count("new tokens per sample"),
    "teacher.concurrency": _count("requests in flight"),
    "teacher.budget_usd": Knob(float, "dollar cap", low=0, optional=True),
    "student.lora_r": _count("LoRA rank"),
    "student.lora_alpha": Knob(float, "LoRA scaling", low=0, above=True),
    "student.lora_dropout": Knob(float, "LoRA dropout", low=0, high=1),
    "data.train_fraction": Knob(float, "share of the training split", low=0, high=1, above=True),
    "data.max_train": Knob(int, "cap on training problems", low=1, optional=True),
    "data.max_test": Knob(int, "cap on test problems", low=1, optional=True),
}

REAL_DATA_TEACHERS = ("teacher=openai (needs OPENAI_API_KEY), openai_compatible, hf, replay or "
                      "published")


def check_config(cfg: DictConfig, choices: dict[str, Any], run_dir: str | None) -> None:
    """Every check of the module docstring, in order; MDError on the first problem."""
    check_missing(cfg, choices)
    check_targets(cfg)
    check_knobs(cfg)
    check_teacher_for_data(cfg)
    if str(OmegaConf.select(cfg, "logger._target_", default="")).endswith("wandb_logger"):
        from md.loggers import resolve_mode

        resolve_mode(cfg.logger.get("mode"))  # a bad WANDB_MODE fails now, not after training
    if OmegaConf.select(cfg, "paths.artifacts") is not None:
        check_writable(cfg.paths.artifacts, "paths.artifacts",
                       "point paths.artifacts at a writable folder")
    if run_dir is not None:
        check_writable(run_dir, "the run folder", "set paths.runs (or hydra.run.dir) to a writable folder")


def check_knobs(cfg: DictConfig, knobs: dict[str, Knob] = KNOBS) -> None:
    for key, knob in knobs.items():
        if OmegaConf.select(cfg, key, default="<absent>") == "<absent>":
            continue  # e.g. loss.lambda outside loss=fixed
        value = OmegaConf.select(cfg, key)
        problem = knob.problem(value)
        if problem:
            raise MDError(f"{key}={value!r}: {problem}" if isinstance(value, str)
                          else f"{key}={value}: {problem}")


def check_missing(cfg: DictConfig, choices: dict[str, Any]) -> None:
    """A `???` value left unset: name the key and the option file that asks for it."""
    for key in sorted(OmegaConf.missing_keys(cfg)):
        group = key.split(".")[0]
        choice = choices.get(group)
        where = f"; see conf/{group}/{choice}.yaml" if choice else ""
        needs = f"{group}={choice} needs it" if choice else "it has no default"
        raise MDError(f"{key} is not set: {needs} ({key}=...){where}")


def check_teacher_for_data(cfg: DictConfig) -> None:
    """The simulated teacher renders thoughts from synthetic gold steps: nothing else has them."""
    target = str(OmegaConf.select(cfg, "teacher._target_", default=""))
    dataset = OmegaConf.select(cfg, "data.name", default="synthetic")
    if target.endswith("build_simulated_teacher") and dataset != "synthetic":
        raise MDError(f"teacher=simulated renders thoughts only for data=synthetic (from their "
                      f"gold steps); on data={dataset} use {REAL_DATA_TEACHERS}")


def check_writable(path: str | os.PathLike, name: str, fix: str) -> None:
    """`path` (a folder, made later if absent) can be created and written; MDError names it."""
    folder = Path(path).expanduser()
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise MDError(f"{name} {path}: {existing} is a file, not a folder; {fix}")
    try:
        fd, probe = tempfile.mkstemp(prefix=".md-write-check.", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise MDError(f"{name} {path}: cannot write in {existing} ({e.strerror}); {fix}") from None
