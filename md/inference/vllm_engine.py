"""vLLM sampling (`inference.engine=vllm`, GPU): one engine per base model, one LoRA per student.

An ensemble evaluates two students of the same base. Two `LLM` engines would each reserve
`gpu_memory_utilization` of the GPU, so the second cannot start; instead every student on one
base shares one engine (`engine_for`) and is its own `LoRARequest` (distinct ids, so vLLM keeps
both adapters loaded, up to `max_loras`). The engine's settings come from `inference.vllm`:
gpu_memory_utilization, max_lora_rank, tensor_parallel_size, max_model_len.

A QLoRA student (trained on a 4-bit NF4 base) is served on vLLM's bitsandbytes 4-bit loading of
the same base, as with the HF engine, so its adapter sees the weights it was trained against;
`base_weights` records which base was used ("bitsandbytes 4-bit (as trained)" or the dtype).
vllm is imported only here, only when a generator is built (`pip install 'mixed-distillation[vllm]'`, CUDA only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from md.errors import MDError
from md.models.whitespace import unescape
from md.prompts import STOP, until_next_question

_ENGINES: dict[tuple, Any] = {}  # (base, settings) -> vllm.LLM, shared by its students
_ADAPTERS: dict[str, int] = {}  # adapter folder -> its LoRA id (vLLM wants distinct ints)


def engine_for(base_model: str, *, lora: bool, four_bit: bool, seed: int,
               gpu_memory_utilization: float = 0.85, max_lora_rank: int = 64,
               tensor_parallel_size: int = 1, max_model_len: int | None = None):
    """The one vLLM engine for this base and these settings, built on first use."""
    try:
        from vllm import LLM
    except ImportError:
        raise MDError("inference.engine=vllm needs vllm: pip install 'mixed-distillation[vllm]' "
                      "(CUDA only), or use inference.engine=hf") from None
    key = (base_model, lora, four_bit, seed, gpu_memory_utilization, max_lora_rank,
           tensor_parallel_size, max_model_len)
    if key not in _ENGINES:
        extra = {"quantization": "bitsandbytes"} if four_bit else {}
        if max_model_len:
            extra["max_model_len"] = max_model_len
        _ENGINES[key] = LLM(model=base_model, enable_lora=lora, max_lora_rank=max_lora_rank,
                            max_loras=2, seed=seed, tensor_parallel_size=tensor_parallel_size,
                            gpu_memory_utilization=gpu_memory_utilization, **extra)
    return _ENGINES[key]


def lora_request(adapter_dir: str):
    """This adapter's LoRARequest: the same id every time, a new id for a new adapter."""
    from vllm.lora.request import LoRARequest

    lora_id = _ADAPTERS.setdefault(adapter_dir, len(_ADAPTERS) + 1)
    return LoRARequest(f"student{lora_id}", lora_id, adapter_dir)


class VLLMGenerator:
    """A student on a (shared) vLLM engine: its base, with its LoRA adapter on every request."""

    def __init__(self, base_model: str, adapter_dir: str | None = None, max_new_tokens: int = 256,
                 *, seed: int = 0, escaped: bool = False, four_bit: bool = False,
                 **settings: Any):
        self.llm = engine_for(base_model, lora=adapter_dir is not None, four_bit=four_bit,
                              seed=seed, **settings)
        self.lora = lora_request(adapter_dir) if adapter_dir else None
        self.max_new_tokens = max_new_tokens
        self.escaped = escaped  # md_student.json: targets were whitespace-escaped
        self.base_weights = "bitsandbytes 4-bit (as trained)" if four_bit else "vllm (bf16)"

    def sample(self, prompts: Sequence[str], n: int, temperature: float) -> list[list[str]]:
        from vllm import SamplingParams

        params = SamplingParams(n=n, temperature=temperature, max_tokens=self.max_new_tokens,
                                stop=[STOP])
        outs = self.llm.generate(list(prompts), params, lora_request=self.lora)
        return [[until_next_question(unescape(c.text) if self.escaped else c.text) for c in o.outputs]
                for o in outs]

    def greedy(self, prompts: Sequence[str]) -> list[str]:
        return [row[0] for row in self.sample(prompts, 1, 0.0)]
