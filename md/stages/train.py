"""Stage `train`: fine-tune a student on mixed CoT + PoT data with the MD multi-task loss.

    python -m md.train                                        # tiny student, CPU, offline
    python -m md.train student=codellama-7b trainer=gpu logger=wandb
    python -m md.train -m loss=fixed loss.lambda=0.25,0.5,0.75
    python -m md.train train.ckpt_path=runs/.../checkpoints/last.ckpt   # resume after a kill

Reads top to bottom: seed -> weights (loss group) -> split -> tokenise -> data module -> module
-> trainer -> fit -> save. The adapter (PEFT format) or full weights, the tokenizer and
`md_student.json` land in `<run dir>/student/`, where evaluation looks; adapter checkpoints in
`<run dir>/checkpoints/` (`last.ckpt` is the newest).
"""

from __future__ import annotations

import json
import logging
import sys
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from md.errors import MDError
from md.fsio import write_text
from md.sandbox.preamble import Preamble
from md.settings import TrainSettings
from md.types import MixedExample

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """Where the trained student is, and the final metrics (train/*, val/*, step)."""

    student_dir: Path
    checkpoint_dir: Path
    metrics: dict[str, float]
    rank: int = 0  # this process's global rank: only rank 0 saves, evaluates and logs


TRAINED = "trained.json"  # in the run folder: the settings the saved student was trained with


def finished(out_dir: str | Path, key: str) -> TrainResult | None:
    """The run folder's student, when it was trained to the end with the settings `key` names
    and saved whole (md.models.saved: renamed into place with its md_student.json); else None."""
    out = Path(out_dir)
    try:
        record = json.loads((out / TRAINED).read_text())
    except (OSError, ValueError):
        return None
    if record.get("key") != key or not (out / "student" / "md_student.json").is_file():
        return None
    return TrainResult(out / "student", out / "checkpoints", dict(record.get("metrics") or {}))


def mark_finished(result: TrainResult, key: str) -> None:
    """Record that `result.student_dir` holds the finished student of the settings `key`."""
    write_text(result.student_dir.parent / TRAINED,
               json.dumps({"key": key, "metrics": result.metrics}, indent=1, sort_keys=True))


def split(examples: Sequence[MixedExample], val_fraction: float):
    """(train, val) by a hash of problem_id, so a question's CoT and PoT stay on one side."""
    def is_val(e: MixedExample) -> bool:
        return zlib.crc32(e.problem_id.encode()) % 10_000 < val_fraction * 10_000

    val = [e for e in examples if is_val(e)]
    return [e for e in examples if not is_val(e)], val


def loss_weights(examples: Sequence[MixedExample], s: TrainSettings) -> list[float]:
    """Each example's weight in the loss: its method's weight under the `loss` mode (md.training
    .loss.example_weight) times its `share`, which makes a question's loss of a method the mean
    over its kept paths, in every mode (md.stages.mix.build)."""
    from md.training.loss import example_weight

    return [example_weight(e.method, e.qtype, e.weight, s.loss.mode, s.loss.lambda_) * e.share
            for e in examples]


def _encode(examples, student, s: TrainSettings, what: str):
    from md.training.batching import encode

    weights = loss_weights(examples, s)
    items, stats = encode(examples, weights, student.tokenizer, student.seq2seq, s.max_length,
                          chat=student.chat_template)
    if stats["dropped"] or stats["truncated"]:
        log.warning("%s: %d examples truncated and %d dropped at train.max_length=%d",
                    what, stats["truncated"], stats["dropped"], s.max_length)
    return items


def checkpoint_volume(module, keep: int, max_steps: int, every: int) -> str:
    """One line: how much disk this run's checkpoints will hold at most. A checkpoint holds the
    trainable weights in fp32 and their two AdamW moments: 12 bytes a weight."""
    weights = sum(p.numel() for p in module.parameters() if p.requires_grad)
    written = max_steps // max(1, every) + 1  # every `every` steps, and last.ckpt
    kept = written if keep < 0 else min(written, keep + 1)
    each = 12 * weights / 1e9
    return (f"train: checkpoints hold {weights / 1e6:.1f}M trainable weights + AdamW state = "
            f"{each:.2f} GB each; {kept} kept (train.keep_checkpoints={keep}) = "
            f"{kept * each:.1f} GB at most")


def run(examples: Sequence[MixedExample], student, settings: TrainSettings = TrainSettings(), *,
        out_dir: str | Path, logger: Any = None,
        val_examples: Sequence[MixedExample] | None = None, ckpt_path: str | None = None,
        callbacks: Sequence = (), lineage: Sequence = (), close_logger: bool = True,
        preamble: Preamble | None = None) -> TrainResult:
    """Fine-tune `student` (from md.models.build_student) on `examples`; see the module docstring.

    val_examples: held-out examples; None takes `settings.val_fraction` of the questions from
    `examples` (default 0, as in the paper: every training question is trained on, no
    validation loss). ckpt_path: resume from this checkpoint; "auto" from the newest intact one in
    `out_dir`/checkpoints, if any (md.training.checkpoints.resume_from). Closes `logger` (as
    failed when training raised) unless close_logger=False: md.train keeps its one W&B run open
    for the evaluation that follows and closes it itself.
    lineage: md.tracking.lineage.ArtifactFiles the student was made from (thoughts, mix); with a W&B
    logger they and the saved student are logged as artifacts. preamble: the environment the
    training programs assume (md.sandbox.preamble), saved with the student so that its own
    programs run in it at evaluation; None for preamble-free data.
    """
    from md.tracking.loggers import finish

    try:
        result = _fit(examples, student, settings, Path(out_dir), logger, val_examples,
                      ckpt_path, callbacks, preamble=preamble)
        _log_lineage(logger, lineage, result.student_dir, student)
    except BaseException:
        if close_logger:
            finish(logger, failed=True)
        raise
    if close_logger:
        finish(logger)
    return result


def _log_lineage(logger, used, student_dir: Path, student) -> None:
    from md.tracking.lineage import log_lineage, student_files
    from md.tracking.loggers import wandb_run_of

    wb = wandb_run_of(logger)
    if wb is not None and student_dir.exists():  # rank 0 saved it
        log_lineage(wb, used, [student_files(student_dir, student.finetune)])


def _fit(examples, student, settings: TrainSettings, out_dir: Path, logger, val_examples,
         ckpt_path, callbacks, *, preamble: Preamble | None = None) -> TrainResult:
    import lightning as L

    from md.models import hardware, save_student
    from md.training import fsdp
    from md.training.checkpoints import resume_from
    from md.training.module import MDDataModule, MDModule, build_trainer
    from md.training.replicas import ReplicaCheck
    from md.training.throughput import Throughput

    s = settings
    L.seed_everything(s.seed, verbose=False)
    resumed = resume_from(ckpt_path, out_dir / "checkpoints")  # "auto": this run's newest
    ckpt_path = str(resumed) if resumed else None
    if val_examples is None:
        examples, val_examples = split(examples, s.val_fraction)
    items = _encode(examples, student, s, "train")
    val_items = _encode(val_examples, student, s, "val")
    if not items:
        raise MDError("no training examples left to train on (is the mixed data empty?)")
    if s.epochs is not None:
        args = s.trainer_args()
        world = hardware.world_size(args.get("devices", 1), args.get("num_nodes", 1),
                                    str(args.get("accelerator", "auto")))
        epochs, s = s.epochs, s.for_epochs(len(items), world)
        print(f"train: {epochs:g} epochs of {len(items)} examples at batch {s.batch_size} over "
              f"{world} process{'es' if world > 1 else ''} = "
              f"{s.max_steps} optimizer steps", file=sys.stderr)
    dm = MDDataModule(items, val_items, s.batch_size, pad_id=student.tokenizer.pad_token_id,
                      seq2seq=student.seq2seq, seed=s.seed, accumulate=s.accumulate_grad_batches)
    module = MDModule(student.model, student.seq2seq, lr=s.lr or student.learning_rate,
                      max_steps=s.max_steps, warmup_steps=s.warmup_steps, schedule=s.schedule,
                      weight_decay=s.weight_decay, seed=s.seed, labelled_logits=s.labelled_logits)
    print(checkpoint_volume(module, s.keep_checkpoints, s.max_steps, s.ckpt_every),
          file=sys.stderr)
    trainer_args = s.trainer_args()
    trainer_args["strategy"] = fsdp.strategy(trainer_args.get("strategy", "auto"), student.model)
    # both gather across ranks at train end, before Lightning's teardown moves the module to the CPU
    replicas, gathered, rate = ReplicaCheck(), fsdp.GatherFullWeights(), Throughput()
    trainer = build_trainer(out_dir, trainer_args, has_val=bool(val_items), val_every=s.val_every,
                            ckpt_every=s.ckpt_every, keep_checkpoints=s.keep_checkpoints,
                            logger=logger, callbacks=[*callbacks, replicas, gathered, rate])
    _fit_or_stop(trainer, module, dm, ckpt_path, out_dir)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    metrics["step"] = float(trainer.global_step)
    if rate.tokens_per_s is not None:
        metrics["train/tokens_per_s"] = rate.tokens_per_s
    if replicas.same is not None:
        metrics.update(world_size=float(trainer.world_size),
                       weights_equal_across_ranks=float(replicas.same))
    student_dir = out_dir / "student"
    full = gathered.state  # FSDP: rank 0's full weights; None otherwise
    if trainer.is_global_zero:
        save_student(student, student_dir, methods={e.method for e in examples}, state_dict=full,
                     preamble=preamble if any(e.method == "pot" for e in examples) else None)
        write_text(out_dir / "metrics.json", json.dumps(metrics, indent=1, sort_keys=True))
    trainer.strategy.barrier("student saved")  # no rank reads student/ before rank 0 wrote it
    return TrainResult(student_dir, out_dir / "checkpoints", metrics, trainer.global_rank)


def _fit_or_stop(trainer, module, dm, ckpt_path, out_dir: Path) -> None:
    """trainer.fit; on SIGTERM (a scheduler's preemption) the steps done are saved to
    checkpoints/last.ckpt and the job fails in one line. Lightning ends a SIGTERMed fit with a
    bare SystemExit, which is exit status 0: a scheduler would have seen success."""
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    try:
        trainer.fit(module, datamodule=dm, ckpt_path=ckpt_path)
    except SIGTERMException:
        last = out_dir / "checkpoints" / "last.ckpt"
        trainer.save_checkpoint(last)
        raise MDError(f"stopped by SIGTERM at step {trainer.global_step}; the steps done are "
                      f"saved in {last}: rerun the same command (train.ckpt_path=auto) to "
                      "resume") from None

