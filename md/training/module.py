"""Lightning glue: the data module (length-grouped, resumable batches) and the MD LightningModule.

    dm = MDDataModule(train_items, val_items, batch_size=8, pad_id=0, seq2seq=False, accumulate=1)
    module = MDModule(student.model, seq2seq=False, lr=2e-4, warmup_steps=100, max_steps=8000)
    trainer = build_trainer(out_dir, max_steps=8000, ...)   # endless sampler, adapter checkpoints
    trainer.fit(module, datamodule=dm, ckpt_path=None)

Checkpoints hold only the trainable weights (the LoRA adapter; everything for full fine-tuning)
plus optimizer, scheduler and loop state, so `ckpt_path=` resumes at the same step. Resumed runs
match uninterrupted ones exactly: batch k of the sampler is a pure function of (seed, k), the
data module restarts it at `global_step * accumulate`, and every micro-batch reseeds torch from
(seed, step, micro-batch) so dropout masks do not depend on what ran before.
"""

from __future__ import annotations

import difflib
import inspect
import math
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader

from md.errors import MDError
from md.models import hardware
from md.settings import SCHEDULES
from md.training import fsdp
from md.training.batching import Encoded, LengthGroupedSampler, collate, eval_batches, lengths
from md.training.checkpoints import AtomicCheckpointIO
from md.training.loss import LossParts, combine, labelled_ce, per_example_ce, target_positions


class MDDataModule(L.LightningDataModule):
    """Train: endless seeded length-grouped batches; val: fixed length-sorted batches."""

    def __init__(self, train_items: list[Encoded], val_items: list[Encoded], batch_size: int,
                 *, pad_id: int, seq2seq: bool, seed: int = 0, accumulate: int = 1):
        super().__init__()
        self.train_items, self.val_items = train_items, val_items
        self.batch_size, self.seed, self.accumulate, self.seq2seq = batch_size, seed, accumulate, seq2seq
        self.collate = partial(collate, pad_id=pad_id, seq2seq=seq2seq)

    def train_dataloader(self) -> DataLoader:
        t = self.trainer  # by now a resumed trainer has restored global_step from the checkpoint
        start = t.global_step * self.accumulate if t is not None else 0
        rank, world = (t.global_rank, t.world_size) if t is not None else (0, 1)
        sampler = LengthGroupedSampler(lengths(self.train_items, self.seq2seq), self.batch_size,
                                       self.seed, start, rank, world)
        return DataLoader(self.train_items, batch_sampler=sampler, collate_fn=self.collate)

    def val_dataloader(self) -> DataLoader | list:
        if not self.val_items:
            return []
        t = self.trainer
        rank, world = (t.global_rank, t.world_size) if t is not None else (0, 1)
        batches = eval_batches(lengths(self.val_items, self.seq2seq), self.batch_size)
        # every rank must run as many validation steps as the others (val/loss is synced across
        # ranks): like torch's DistributedSampler, repeat batches up to a multiple of the ranks,
        # so a validation set smaller than the number of ranks still works
        batches += [batches[i % len(batches)] for i in range(-len(batches) % world)]
        return DataLoader(self.val_items, batch_sampler=batches[rank::world], collate_fn=self.collate)


@contextmanager
def projected_rows(head: torch.nn.Module, keep: torch.Tensor):
    """Within the block, `head` (the output embedding) projects only the hidden states at the
    True positions of keep (B, T), so the model returns logits (N, V) for N = keep.sum().

    A forward pre-hook, not a wrapper module: the state dict, weight tying and PEFT see the
    same model as always, for every decoder whose head is applied to the (B, T, H) states.
    """
    def select(module, args):
        hidden = args[0]
        if hidden.shape[:2] != keep.shape:
            raise MDError(f"the output head got states of shape {tuple(hidden.shape)}, expected "
                          f"(batch, tokens) = {tuple(keep.shape)}; set train.labelled_logits=false")
        return (hidden[keep], *args[1:])

    handle = head.register_forward_pre_hook(select)
    try:
        yield
    finally:
        handle.remove()


def lr_factor(step: int, warmup: int, total: int, schedule: str) -> float:
    """Multiplier of the peak LR at optimizer step `step`: linear warmup, then decay to 0."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    if schedule == "linear":
        return 1.0 - progress
    return 1.0


class MDModule(L.LightningModule):
    """Forward a (PEFT) HF model, apply the MD loss, log train/* and val/* metrics."""

    def __init__(self, model, seq2seq: bool, *, lr: float, max_steps: int, warmup_steps: int = 0,
                 schedule: str = "cosine", weight_decay: float = 0.0, seed: int = 0,
                 labelled_logits: bool = True):
        super().__init__()
        if schedule not in SCHEDULES:
            raise MDError(f"train.schedule={schedule!r}; expected one of {', '.join(SCHEDULES)}")
        self.model, self.seq2seq = model, seq2seq
        self.lr, self.max_steps, self.warmup, self.schedule = lr, max_steps, warmup_steps, schedule
        self.weight_decay, self.seed = weight_decay, seed
        # decoders: project to the vocabulary only the positions that predict a label; False
        # projects every position (the same loss, slower; md.bench.train's baseline)
        self.labelled_logits = labelled_logits
        self.strict_loading = False  # checkpoints hold only the trainable weights
        self._micro = (-1, 0)  # (global step, micro-batch index within it)

    def forward(self, batch: dict) -> torch.Tensor:
        """Logits (B, T, V) for decoder models, (B, T_target, V) for encoder-decoder models."""
        kwargs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
        if self.seq2seq:  # teacher forcing: the decoder reads the labels shifted right
            base = self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model
            kwargs["decoder_input_ids"] = base.prepare_decoder_input_ids_from_labels(batch["labels"])
        return self.model(**kwargs, use_cache=False).logits

    def _loss(self, batch: dict, paths: bool = True) -> LossParts:
        labels = batch["labels"]
        if self.seq2seq or not self.labelled_logits:
            per = per_example_ce(self(batch), labels, shift=not self.seq2seq)
        else:  # the vocabulary projection only where a label is predicted (md.training.loss)
            keep = target_positions(labels)
            with projected_rows(self.model.get_output_embeddings(), keep):
                per = labelled_ce(self(batch), labels, keep)
        return combine(per, batch["weights"], batch["methods"], paths)

    def _logging_step(self) -> bool:
        """Whether this step's train/* values reach the logger (every n steps, and the last).

        Lightning only writes on-step values every `log_every_n_steps`; skipping `self.log`
        in between saves its per-call bookkeeping (measured: ~5% of a tiny model's step).
        """
        t, step = self.trainer, self.global_step + 1
        return step % t.log_every_n_steps == 0 or step >= (t.max_steps or 0) or t.max_steps < 0

    def on_train_batch_start(self, batch, batch_idx: int) -> None:
        step, micro = self._micro
        micro = micro + 1 if step == self.global_step else 0
        self._micro = (self.global_step, micro)
        rank = self.trainer.global_rank if self._trainer is not None else 0
        torch.manual_seed(((self.seed * 1_000_003 + self.global_step) * 1009 + micro) * 131 + rank)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        log = self._logging_step()
        parts, n = self._loss(batch, paths=log), batch["input_ids"].shape[0]
        if not log:
            return parts.loss
        self.log("train/loss", parts.loss, prog_bar=True, batch_size=n)
        self._log_paths("train", parts, batch, on_step=True)
        self.log("train/pad_waste", batch["pad_waste"], batch_size=n)
        self.log("train/lr", self.lr_schedulers().get_last_lr()[0], batch_size=n)
        return parts.loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        parts = self._loss(batch)
        self.log("val/loss", parts.loss, batch_size=batch["input_ids"].shape[0], sync_dist=True)
        self._log_paths("val", parts, batch, on_step=False)

    def _log_paths(self, stage: str, parts: LossParts, batch: dict, on_step: bool) -> None:
        for name, value, code in (("loss_cot", parts.loss_cot, 0), ("loss_pot", parts.loss_pot, 1)):
            if value is not None:
                n = int((batch["methods"] == code).sum())
                self.log(f"{stage}/{name}", value, batch_size=n, on_step=on_step,
                         on_epoch=not on_step, sync_dist=not on_step)

    def configure_optimizers(self):
        params = [p for p in self.model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay)
        factor = partial(lr_factor, warmup=self.warmup, total=self.max_steps, schedule=self.schedule)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None,
                                    gradient_clip_algorithm=None) -> None:
        if gradient_clip_val and fsdp.is_fsdp(self._trainer) and gradient_clip_algorithm != "value":
            fsdp.clip(self.trainer, float(gradient_clip_val))  # FSDPPrecision refuses "norm"
            return
        self.clip_gradients(optimizer, gradient_clip_val, gradient_clip_algorithm)

    def _trainable(self) -> set[str]:
        """Trainable weights, named as a full state dict names them (no FSDP wrapper segments)."""
        return {fsdp.clean_name(n) for n, p in self.named_parameters() if p.requires_grad}

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        keep = self._trainable()  # adapter checkpoints: frozen base weights are rebuilt, not saved
        checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if k in keep}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        if "state_dict" not in checkpoint:
            return  # FSDP: the strategy has loaded the weights into the shards and popped them
        missing = self._trainable() - set(checkpoint["state_dict"])
        if missing:
            raise MDError(f"checkpoint does not fit this student: {len(missing)} trainable weights "
                          f"missing (e.g. {sorted(missing)[0]}); resume with the same student config")


# Trainer arguments md sets itself, because the training loop depends on them: the sampler is
# endless and shards by rank, checkpoints go through the atomic IO, the logger is md's.
RESERVED = ("max_epochs", "use_distributed_sampler", "logger", "callbacks", "plugins",
            "default_root_dir")


def check_trainer_args(trainer_args: Mapping[str, Any]) -> None:
    """Every key is a lightning.Trainer argument md does not set itself; else one MDError line
    (with a did-you-mean). md.config.wiring calls it when the config is read, before any stage runs."""
    params = [p for p in inspect.signature(L.Trainer.__init__).parameters if p != "self"]
    for key in trainer_args:
        if key in RESERVED:
            raise MDError(f"trainer.{key} is set by md.train itself (the step-driven loop); "
                          "remove it from the trainer group")
        if key not in params:
            hint = difflib.get_close_matches(key, params, n=1)
            raise MDError(f"trainer.{key} is not an argument of lightning.Trainer"
                          + (f"; did you mean {hint[0]}?" if hint else ""))


def build_trainer(out_dir: Path, trainer_args: dict[str, Any], *, has_val: bool, val_every: int,
                  ckpt_every: int, keep_checkpoints: int, logger: Any, callbacks: Sequence):
    """A Lightning Trainer driven by steps (the sampler is endless), saving adapter checkpoints.

    trainer_args: any lightning.Trainer arguments (the `trainer` group) but RESERVED; they win
    over the defaults below (a user may set limit_val_batches, profiler, fast_dev_run, ...);
    `precision: auto` becomes this machine's (md.models.hardware.resolved).
    """
    from lightning.pytorch.callbacks import ModelCheckpoint

    check_trainer_args(trainer_args)
    trainer_args = hardware.resolved(trainer_args)
    accumulate = int(trainer_args.get("accumulate_grad_batches", 1))
    # Lightning ranks checkpoints by a monitored value when it keeps k >= 2 of them (it refuses
    # monitor=None there); ranking by the step keeps the newest k.
    ckpt = ModelCheckpoint(dirpath=out_dir / "checkpoints", filename="step{step:06d}",
                           auto_insert_metric_name=False, every_n_train_steps=ckpt_every,
                           save_top_k=keep_checkpoints, save_last=True,
                           monitor="step" if keep_checkpoints > 1 else None, mode="max")
    defaults = dict(
        # val_check_interval counts micro-batches; one epoch never ends, so count steps instead
        val_check_interval=val_every * accumulate if has_val else None,
        check_val_every_n_epoch=None, limit_val_batches=1.0 if has_val else 0,
        num_sanity_val_steps=0, enable_model_summary=False)
    return L.Trainer(
        **{**defaults, **trainer_args}, max_epochs=-1,
        use_distributed_sampler=False,  # the sampler shards by rank itself
        logger=logger if logger is not None else False, callbacks=[ckpt, *callbacks],
        default_root_dir=str(out_dir),
        plugins=[AtomicCheckpointIO()])  # a kill mid-save leaves the previous checkpoint whole
