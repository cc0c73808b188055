"""Fully sharded data parallel (`trainer=fsdp`) for students too big for one GPU's memory.

Lightning's FSDPStrategy, configured for HF decoders: each decoder layer (the model's own
`_no_split_modules`, e.g. LlamaDecoderLayer) is its own FSDP unit, so a rank holds whole layers
only while it computes them; the student is saved from a full state dict gathered on rank 0
(every rank takes part in the gather), in the same format as any other student. Lightning runs
FSDP only on CUDA (torch's FSDP needs an accelerator device): on a CPU, TrainSettings refuses it
in one line, before any stage starts.

Three things differ from DDP, and each is handled here so that the rest of md does not care:
- parameter names: FSDP wraps modules in place, so the LightningModule's own parameter names
  gain `_fsdp_wrapped_module.` segments, while the full state dict Lightning checkpoints has the
  clean names (`clean_name`);
- gradient clipping: Lightning's FSDPPrecision refuses norm clipping (it has no handle on the
  root FSDP module), FSDP's own `clip_grad_norm_` computes the norm across shards (`clip`);
- the gather of the full weights runs at train end (`GatherFullWeights`), while the shards are
  still on their GPUs: Lightning's teardown moves the module to the CPU, where NCCL cannot go.
"""

from __future__ import annotations

from typing import Any

import lightning as L

from md.errors import MDError

# segments FSDP (and activation checkpointing, torch.compile) insert into parameter names
WRAPPER_SEGMENTS = ("_fsdp_wrapped_module.", "_checkpoint_wrapped_module.", "_orig_mod.")


def clean_name(name: str) -> str:
    """A parameter's name as the unwrapped model (and a full state dict) spells it."""
    for segment in WRAPPER_SEGMENTS:
        name = name.replace(segment, "")
    return name


def is_fsdp(trainer) -> bool:
    from lightning.pytorch.strategies import FSDPStrategy

    return trainer is not None and isinstance(trainer.strategy, FSDPStrategy)


def clip(trainer, max_norm: float) -> None:
    """Clip the gradients' global norm to max_norm across every rank's shards (FSDP's own
    clip_grad_norm_ on the root module, which Lightning's FSDPPrecision refuses to call)."""
    trainer.strategy.model.clip_grad_norm_(max_norm)


def decoder_layers(model) -> set[type]:
    """The classes of the model's decoder layers, the units FSDP wraps one by one."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    names = set(getattr(base, "_no_split_modules", None) or ())
    layers = {type(m) for m in base.modules() if type(m).__name__ in names}
    if not layers:
        raise MDError(f"trainer=fsdp: {type(base).__name__} names no decoder layer class to wrap "
                      "(_no_split_modules); use trainer=ddp")
    return layers


def strategy(name: Any, model) -> Any:
    """The Lightning strategy for `trainer.strategy`: FSDPStrategy per decoder layer for "fsdp"."""
    if name != "fsdp":
        return name
    from lightning.pytorch.strategies import FSDPStrategy

    return FSDPStrategy(auto_wrap_policy=decoder_layers(model), state_dict_type="full")


class GatherFullWeights(L.Callback):
    """The student's full weights, gathered onto rank 0 at train end (`state`: None on the other
    ranks and when not under FSDP). Every rank takes part; the shards are still on their GPUs."""

    def __init__(self):
        self.state: dict | None = None

    def on_train_end(self, trainer, module) -> None:
        self.state = full_state_dict(trainer)


def full_state_dict(trainer) -> dict | None:
    """The student's full weights, gathered onto rank 0 (None on the others; every rank must
    call this); keys as the unwrapped HF model names them. None when not under FSDP."""
    from lightning.pytorch.strategies import FSDPStrategy

    if not isinstance(trainer.strategy, FSDPStrategy):
        return None
    from torch.distributed.fsdp import FullStateDictConfig, StateDictType
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

    wrapped = trainer.strategy.model
    with FSDP.state_dict_type(wrapped, StateDictType.FULL_STATE_DICT,
                              FullStateDictConfig(offload_to_cpu=True, rank0_only=True)):
        state = wrapped.state_dict()
    if not trainer.is_global_zero:
        return None
    return {k.removeprefix("model."): v for k, v in state.items()}  # MDModule.model
