"""Training throughput: tokens per second over every rank, from the batches the loop really ran.

Non-pad tokens (the attention mask) are summed on the device as the batches go by, without a
host sync per step, and read once at train end; the rate is over every rank (the sum of all
ranks' tokens over the wall time of the fit), so it compares a DDP run with a one-GPU run.
`make gpu-check` turns it into model FLOPs utilisation; it is also in metrics.json and W&B.

    rate = Throughput(); trainer = L.Trainer(..., callbacks=[rate]); trainer.fit(...)
    rate.tokens_per_s   # e.g. 5120.0
"""

from __future__ import annotations

import time

import lightning as L
import torch


class Throughput(L.Callback):
    """Non-pad tokens trained on per second, summed over ranks (`tokens_per_s`, after fit)."""

    def __init__(self):
        self.tokens_per_s: float | None = None
        self._tokens: torch.Tensor | None = None
        self._start = 0.0

    def on_train_start(self, trainer, module) -> None:
        self._tokens, self._start = None, time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        n = batch["attention_mask"].sum()
        self._tokens = n if self._tokens is None else self._tokens + n

    def on_train_end(self, trainer, module) -> None:
        seconds = time.perf_counter() - self._start
        if self._tokens is None or seconds <= 0:
            return
        total = trainer.strategy.reduce(self._tokens.double(), reduce_op="sum")  # every rank's
        self.tokens_per_s = float(total) / seconds
