"""Data parallel keeps every rank's copy of the student identical: this callback checks that it did.

A checksum per trainable tensor is gathered from every rank at the end of training, through the
strategy's own `all_gather`, while the module is still on its root device: the same code on gloo
(CPU ranks) and on NCCL (one GPU per rank). After `trainer.fit` returns, Lightning's teardown has
moved the module to the CPU, and NCCL has no CPU backend, so a gather there would crash a GPU run
after its last step, before the student is saved.

    check = ReplicaCheck(); trainer = L.Trainer(..., callbacks=[check]); trainer.fit(...)
    check.same   # True / False after a run on >= 2 ranks; None on one rank or under FSDP
"""

from __future__ import annotations

import sys

import lightning as L
import torch


class ReplicaCheck(L.Callback):
    """After the last step, whether every data-parallel rank holds the same trainable weights."""

    def __init__(self):
        self.same: bool | None = None
        self.device: str | None = None  # where the gather ran (the strategy's root device)

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        from lightning.pytorch.strategies import DDPStrategy

        if trainer.world_size < 2 or not isinstance(trainer.strategy, DDPStrategy):
            return  # one copy, or FSDP's shards (not copies)
        device = trainer.strategy.root_device
        sums = torch.stack([p.detach().to(device, torch.float64).sum()
                            for p in module.parameters() if p.requires_grad])  # (n_tensors,)
        gathered = trainer.strategy.all_gather(sums)  # (world, n_tensors)
        self.same, self.device = bool((gathered == gathered[0]).all()), str(device)
        if trainer.is_global_zero:
            state = "identical" if self.same else "DIFFERENT (rank 0's are saved)"
            print(f"replicas: trainable weights {state} on {trainer.world_size} ranks "
                  f"(gathered on {device} by the strategy at train end)", file=sys.stderr)
