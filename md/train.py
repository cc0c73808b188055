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
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from md.cli import stage_main
from md.errors import MDError
from md.fsio import write_text
from md.types import MixedExample

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """Where the trained student is, and the final metrics (train/*, val/*, step)."""

    student_dir: Path
    checkpoint_dir: Path
    metrics: dict[str, float]
    rank: int = 0  # this process's global rank: only rank 0 saves, evaluates and logs


def split(examples: Sequence[MixedExample], val_fraction: float):
    """(train, val) by a hash of problem_id, so a question's CoT and PoT stay on one side."""
    def is_val(e: MixedExample) -> bool:
        return zlib.crc32(e.problem_id.encode()) % 10_000 < val_fraction * 10_000

    val = [e for e in examples if is_val(e)]
    return [e for e in examples if not is_val(e)], val


def _encode(examples, student, loss_mode, loss_lambda, max_length, what):
    from md.batching import encode
    from md.loss import example_weight

    weights = [example_weight(e.method, e.qtype, e.weight, loss_mode, loss_lambda) * e.share
               for e in examples]  # share: mean over a question's paths of a method (md.mix)
    items, stats = encode(examples, weights, student.tokenizer, student.seq2seq, max_length,
                          chat=student.chat_template)
    if stats["dropped"] or stats["truncated"]:
        log.warning("%s: %d examples truncated and %d dropped at train.max_length=%d",
                    what, stats["truncated"], stats["dropped"], max_length)
    return items


def run(examples: Sequence[MixedExample], student, *, out_dir: str | Path,
        loss_mode: str = "adaptive", loss_lambda: float | None = None,
        val_examples: Sequence[MixedExample] | None = None, val_fraction: float = 0.0,
        max_steps: int = 100, batch_size: int = 8, accumulate_grad_batches: int = 1,
        lr: float | None = None, weight_decay: float = 0.0, warmup_steps: int = 0,
        schedule: str = "cosine", max_length: int = 512, val_every: int = 100,
        ckpt_every: int = 100, keep_checkpoints: int = -1, accelerator: str = "cpu",
        devices: Any = 1, strategy: str = "auto", num_nodes: int = 1, precision: str = "32-true",
        gradient_clip_val: float | None = 1.0, log_every_n_steps: int = 10,
        progress_bar: bool = False, seed: int = 0, logger: Any = None,
        ckpt_path: str | None = None, callbacks: Sequence = (),
        lineage: Sequence = ()) -> TrainResult:
    """Fine-tune `student` (from md.models.build_student) on `examples`; see the module docstring.

    val_examples: held-out examples; None takes `val_fraction` of the questions from `examples`
    (default 0, as in the paper: every training question is trained on, no validation loss).
    lr: peak learning rate; None uses the student's recommended one. Always closes `logger`.
    lineage: md.lineage.ArtifactFiles the student was made from (thoughts, mix); with a W&B
    logger they and the saved student are logged as artifacts.
    """
    settings = dict(locals())  # every argument, passed on to _fit
    settings.pop("lineage")
    from md.loggers import finish
    from md.loss import check_settings

    try:
        check_settings(loss_mode, loss_lambda)
        result = _fit(**settings)
        _log_lineage(logger, lineage, result.student_dir, student)
    except BaseException:
        finish(logger, failed=True)
        raise
    finish(logger)
    return result


def _log_lineage(logger, used, student_dir: Path, student) -> None:
    from md.lineage import log_lineage, student_files
    from md.loggers import wandb_run_of

    wb = wandb_run_of(logger)
    if wb is not None and student_dir.exists():  # rank 0 saved it
        log_lineage(wb, used, [student_files(student_dir, student.finetune)])


def _fit(examples, student, out_dir, loss_mode, loss_lambda, val_examples, val_fraction, max_steps,
         batch_size, accumulate_grad_batches, lr, weight_decay, warmup_steps, schedule, max_length,
         val_every, ckpt_every, keep_checkpoints, seed, ckpt_path, logger, callbacks,
         **trainer_settings) -> TrainResult:
    import lightning as L
    from lightning.pytorch.strategies import DDPStrategy

    from md import fsdp
    from md.checkpoints import intact_checkpoint
    from md.lit import MDDataModule, MDModule, build_trainer
    from md.models import save_student

    L.seed_everything(seed, verbose=False)
    out_dir = Path(out_dir)
    if ckpt_path:
        ckpt_path = str(intact_checkpoint(ckpt_path))
    if val_examples is None:
        examples, val_examples = split(examples, val_fraction)
    items = _encode(examples, student, loss_mode, loss_lambda, max_length, "train")
    val_items = _encode(val_examples, student, loss_mode, loss_lambda, max_length, "val")
    if not items:
        raise MDError("no training examples left to train on (is the mixed data empty?)")
    pad = student.tokenizer.pad_token_id
    dm = MDDataModule(items, val_items, batch_size, pad, student.seq2seq, seed, accumulate_grad_batches)
    module = MDModule(student.model, student.seq2seq, lr or student.learning_rate, max_steps,
                      warmup_steps, schedule, weight_decay, seed)
    trainer_settings["strategy"] = fsdp.strategy(trainer_settings["strategy"], student.model)
    trainer = build_trainer(out_dir, max_steps=max_steps, has_val=bool(val_items),
                            accumulate_grad_batches=accumulate_grad_batches, val_every=val_every,
                            ckpt_every=ckpt_every, keep_checkpoints=keep_checkpoints, logger=logger,
                            callbacks=callbacks, **trainer_settings)
    trainer.fit(module, datamodule=dm, ckpt_path=ckpt_path)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    metrics["step"] = float(trainer.global_step)
    if trainer.world_size > 1 and isinstance(trainer.strategy, DDPStrategy):  # FSDP shards them
        metrics.update(world_size=float(trainer.world_size),
                       weights_equal_across_ranks=float(_same_weights_on_every_rank(module)))
    student_dir = out_dir / "student"
    full = fsdp.full_state_dict(trainer)  # FSDP: every rank gathers, rank 0 gets the weights
    if trainer.is_global_zero:
        save_student(student, student_dir, methods={e.method for e in examples}, state_dict=full)
        write_text(out_dir / "metrics.json", json.dumps(metrics, indent=1, sort_keys=True))
    trainer.strategy.barrier("student saved")  # no rank reads student/ before rank 0 wrote it
    return TrainResult(student_dir, out_dir / "checkpoints", metrics, trainer.global_rank)


def _same_weights_on_every_rank(module) -> bool:
    """Data parallel keeps every rank's copy identical; a checksum per trainable tensor, gathered
    from every rank, says whether it did (a rank that drifted would save a different student)."""
    import torch

    sums = torch.stack([p.detach().double().sum() for p in module.parameters() if p.requires_grad])
    gathered = module.all_gather(sums)  # (world, n_tensors)
    same = bool((gathered == gathered[0]).all())
    if not same:
        log.warning("the ranks' trainable weights differ after training; rank 0's are saved")
    return same


def _build_student(cfg, examples: Sequence[MixedExample], run_dir: Path):
    from md.config import call

    texts = [e.input for e in examples] + [e.target for e in examples]
    return call(cfg.student, tokenizer_texts=texts, workdir=str(run_dir / "student"))


def _check_knobs(knobs: dict, group: str) -> None:
    """An added key that md.train.run does not take -> one MDError line, not a TypeError."""
    import difflib
    import inspect

    params = list(inspect.signature(run).parameters)
    for key in knobs:
        if key not in params:
            hint = difflib.get_close_matches(key, params, n=1)
            raise MDError(f"{group}.{key} is not a training option" + (f"; did you mean {hint[0]}?" if hint else ""))


def _main(cfg) -> TrainResult:
    from hydra.core.hydra_config import HydraConfig

    from md import fsdp, jsonl, pipeline, pipeline_evaluate
    from md.config import check_targets, to_plain
    from md.loss import check_settings

    check_targets(cfg)  # a misspelled builder key fails here, before any stage starts
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    knobs = to_plain(cfg.train)
    path = knobs.pop("examples")
    evaluate_after = knobs.pop("evaluate_after")
    lam = cfg.loss.get("lambda")
    check_settings(cfg.loss.mode, lam)
    trainer_knobs = to_plain(cfg.trainer)
    _check_knobs(knobs, "train")
    _check_knobs(trainer_knobs, "trainer")
    fsdp.check(trainer_knobs.get("strategy"), trainer_knobs.get("accelerator"))
    pipeline.preflight(cfg, upstream=path is None, student=True, test=evaluate_after)
    examples = jsonl.read_all(path or pipeline.mixed(cfg), MixedExample)
    lineage = pipeline.lineage(cfg) if path is None else ()
    student = _build_student(cfg, examples, run_dir)
    result = run(examples, student, out_dir=run_dir, loss_mode=cfg.loss.mode, loss_lambda=lam,
                 seed=cfg.seed, logger=pipeline.logger(cfg, run_dir, "train"), lineage=lineage, **knobs,
                 **trainer_knobs)
    if evaluate_after and result.rank == 0:  # once, not on every data-parallel rank
        from md.evaluate import print_metrics

        metrics = pipeline_evaluate.evaluate(cfg, (result.student_dir,), run_dir / "eval", log_dir=run_dir)
        print_metrics(metrics, run_dir / "eval")
    return result


@stage_main("train")
def main(cfg) -> None:
    result = _main(cfg)
    if result.rank != 0:
        return
    shown = {k: round(v, 4) for k, v in sorted(result.metrics.items())}
    print(f"student saved to {result.student_dir}\ntraining metrics: {shown}")


if __name__ == "__main__":
    main()
