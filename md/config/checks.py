"""Checks on a composed config, run before Hydra starts a job: nothing has been spent yet.

`md.config.cli` composes the command line's config (every job of a `-m` sweep, and under `--cfg job`)
and calls `check_config`, which raises `MDError` with one line on the first problem:

    error: inference.paths=-1: must be an integer >= 1 (sampled paths per method)
    error: student.lora_r='abc': expected an integer (an option of md.models.builder.build_student)
    error: teacher.path is not set: teacher=replay needs teacher.path=<...>; see conf/teacher/replay.yaml
    error: teacher=simulated renders thoughts only for data=synthetic ...
    error: paths.artifacts /x/file: /x/file is a file, not a folder; point paths.artifacts at ...

What it checks, in order: values that must be set (`???`), builder keys and their types
(`md.config.targets.check_targets`), the few typed knobs no settings class holds (`KNOBS`),
every settings object of the job (md.config.groups.of_job: each md.settings class checks
its own values), the teacher against the data, W&B's mode (WANDB_MODE included), and that the
artifact and run folders can be written. What needs the world (files, keys, servers, weights)
is `md.config.preflight`, run once the job starts.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from md.config import groups
from md.config.targets import check_targets
from md.errors import MDError
from md.settings import (
    FINETUNES,
    HOUR,
    SAMPLES,
    TOKENS,
    WORKERS,
    Knob,
    count,
    flag,
    seed_knob,
)
from md.teacher.base import TEACHER_MODES
from md.tracking.loggers import MODES as WANDB_MODES

# The typed knobs no settings class holds (md.settings checks the rest when
# md.config.groups builds them): the run's seed, what follows training, the extract.adaptive
# switch, and the groups whose builder signature types them but cannot say their ranges.
KNOBS: dict[str, Knob] = {
    "seed": seed_knob(),
    "train.evaluate_after": flag("evaluate the saved student"),
    "extract.adaptive.enabled": flag("sample the teacher in rounds, stop when settled"),
    "logger.mode": Knob(str, "W&B mode; null: $WANDB_MODE", choices=WANDB_MODES, optional=True),
    "teacher.n": count("samples per method per question", SAMPLES),
    "teacher.mode": Knob(str, "one request per prompt, or the Batch API", choices=TEACHER_MODES),
    "teacher.temperature": Knob(float, "sampling temperature", low=0),
    "teacher.max_tokens": count("new tokens per sample", TOKENS),
    "teacher.concurrency": count("requests in flight", WORKERS),
    "teacher.budget_usd": Knob(float, "dollar cap", low=0, high=1_000_000, optional=True),
    "teacher.max_retries": Knob(int, "retries per request", low=0, high=100),
    "teacher.timeout_s": Knob(float, "seconds per request", low=0, high=HOUR, above=True),
    "teacher.backoff_s": Knob(float, "first backoff", low=0, high=HOUR),
    "teacher.max_backoff_s": Knob(float, "longest backoff", low=0, high=HOUR),
    "teacher.top_p": Knob(float, "nucleus sampling mass", low=0, high=1),
    # the simulated teacher's error model: probabilities and shares
    **{f"teacher.{k}": Knob(float, what, low=0, high=1) for k, what in (
        ("cot_slip", "CoT slip chance per step"), ("pot_confusable", "share of confusable problems"),
        ("pot_misread", "misread chance on a confusable problem"),
        ("hard_rate", "share of hard problems"), ("malformed", "chance of a malformed sample"))},
    "student.finetune": Knob(str, "how the student is fine-tuned", choices=FINETUNES),
    "student.lora_r": count("LoRA rank", 65_536),
    "student.lora_alpha": Knob(float, "LoRA scaling", low=0, above=True),
    "student.lora_dropout": Knob(float, "LoRA dropout", low=0, high=1),
    "data.train_fraction": Knob(float, "share of the training split", low=0, high=1, above=True),
    "data.max_train": Knob(int, "cap on training problems", low=1, optional=True),
    "data.max_test": Knob(int, "cap on test problems", low=1, optional=True),
}

REAL_DATA_TEACHERS = ("teacher=openai (needs OPENAI_API_KEY), openai_compatible, hf, replay, "
                      "published or faithful_cot")


# the primary configs whose jobs never train (no Lightning import to check trainer keys)
UPSTREAM_CONFIGS = ("extract", "execute", "mix")


def check_config(cfg: DictConfig, choices: dict[str, Any], run_dir: str | None,
                 trains: bool = True) -> None:
    """Every check of the module docstring, in order; MDError on the first problem."""
    check_missing(cfg, choices)
    check_knobs(cfg)  # first: `seed=abc` is the seed's fault, not student.seed's (${seed})
    check_targets(cfg)
    groups.of_job(cfg, trains)  # every settings object of the job, built: each checks its own values
    check_teacher_for_data(cfg)
    if str(OmegaConf.select(cfg, "logger._target_", default="")).endswith("wandb_logger"):
        from md.tracking.loggers import resolve_mode

        # decided now, once: a bad WANDB_MODE fails, and a key without network says so in one
        # line, before any work (not ~100 s of wandb retries after training)
        resolve_mode(cfg.logger.get("mode"), run_dir or OmegaConf.select(cfg, "paths.runs", default="runs"))
    check_ckpt_path(OmegaConf.select(cfg, "train.ckpt_path", default=None))
    for key in ("paths.artifacts", "paths.runs"):
        value = OmegaConf.select(cfg, key, default=None)
        if value is not None and not str(value).strip():
            raise MDError(f"{key} is empty: set {key}=FOLDER (conf/paths/default.yaml has the "
                          "defaults), or leave it out")
    if OmegaConf.select(cfg, "paths.artifacts") is not None:
        check_writable(cfg.paths.artifacts, "paths.artifacts",
                       "point paths.artifacts at a writable folder")
    cache = OmegaConf.select(cfg, "extract.cache_path", default=None)
    if cache and not OmegaConf.select(cfg, "extract.dry_run", default=False):
        # the teacher's answers are committed there as they arrive: unwritable, they are lost
        check_writable(Path(str(cache)).expanduser().parent, f"extract.cache_path={cache}: its folder",
                       "point extract.cache_path at a file in a writable folder")
    if run_dir is not None:
        check_writable(run_dir, "the run folder", "set paths.runs (or hydra.run.dir) to a writable folder")
    if trains:
        check_model_cache(cfg)


def check_model_cache(cfg: DictConfig) -> None:
    """The model cache (MD_MODEL_CACHE) must take writes only where md will write there: a
    student shipped as GGUF not converted yet, or an adapter vLLM will sample on a CPU (merged
    into a copy of its base). A shared, pre-filled read-only cache is fine otherwise."""
    from md.models import hardware
    from md.models.packaged import DONE, cache_root, converted_folder

    student = OmegaConf.select(cfg, "student", default=None) or {}
    fix = "set MD_MODEL_CACHE to a writable folder"
    gguf = student.get("gguf")
    if gguf and not student.get("pretrained") and \
            not (converted_folder(gguf.package, gguf.file) / DONE).is_file():
        check_writable(cache_root(), "the model cache (MD_MODEL_CACHE, where the GGUF student "
                       "is converted once)", fix)
    engine = str(OmegaConf.select(cfg, "inference.engine", default="auto"))
    merges = student.get("finetune") in ("lora", "qlora") and not student.get("tiny") and \
        (engine == "vllm" or (engine == "auto" and hardware.vllm_installed()))
    if merges and not hardware.cuda_available():
        check_writable(cache_root(), "the model cache (MD_MODEL_CACHE, where vLLM on a CPU "
                       "samples the adapter merged into a copy of its base)", fix)


def check_ckpt_path(ckpt: str | None) -> None:
    """train.ckpt_path names a checkpoint (a torch.save zip), or one with an intact zip beside
    it to fall back to (md.training.checkpoints, at resume); "auto" and null always pass."""
    import zipfile

    if ckpt in (None, "auto"):
        return
    path = Path(str(ckpt)).expanduser()
    fix = "point it at a .ckpt of an earlier run, or use train.ckpt_path=auto"
    if not path.is_file():
        raise MDError(f"train.ckpt_path={ckpt}: no such checkpoint file; {fix}")
    if not zipfile.is_zipfile(path) and not any(zipfile.is_zipfile(p)
                                                for p in path.parent.glob("*.ckpt") if p != path):
        raise MDError(f"train.ckpt_path={ckpt} is not a checkpoint (a torch.save zip) and no "
                      f"checkpoint is beside it; {fix}")


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
