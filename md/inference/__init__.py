"""Sampling reasoning paths from a saved student: batched HF `generate`, or vLLM.

A generator turns prompts into texts; it knows nothing about CoT, PoT or answers:

    gen = build_generator(engine="hf", student_dir="runs/x/student", batch_size=32)
    texts = gen.sample(prompts, n=20, temperature=0.7)   # list (per prompt) of 20 strings
    best = gen.greedy(prompts)                            # one string per prompt

`md.inference.hf` holds HFGenerator; `md.inference.vllm_engine` holds VLLMGenerator
(`inference.engine=vllm`), which imports vllm only when built and serves LoRA adapters through
`LoRARequest`; vllm is not a default dependency (`pip install 'mixed-distillation[vllm]'`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from md.errors import MDError
from md.models.saved import read_manifest, resolve_student


class Generator(Protocol):
    """What evaluation needs from a student: sampled and greedy completions of prompts."""

    def sample(self, prompts: Sequence[str], n: int, temperature: float) -> list[list[str]]: ...

    def greedy(self, prompts: Sequence[str]) -> list[str]: ...



def build_generator(engine: str, student_dir: str, *, batch_size: int = 32, max_new_tokens: int = 256,
                    device: str = "auto", seed: int = 0, quantized_base: bool = True,
                    seed_per_question: bool = False, vllm: dict | None = None) -> Generator:
    """The configured sampling engine for a saved student (`inference.engine`: hf | vllm).
    seed_per_question: each question's paths seeded on their own (HFGenerator.seed_per_prompt),
    so a question's paths are the same whichever shard of the test set it is evaluated in.
    vllm: the engine settings (`inference.vllm`: gpu_memory_utilization, max_lora_rank,
    tensor_parallel_size, max_model_len); students on one base share one engine (md.inference.vllm_engine)."""
    if engine == "hf":
        import torch

        from md.inference.hf import HFGenerator, load_hf

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        model, tok, loaded = load_hf(student_dir, device, quantized_base)
        gen = HFGenerator(model, tok, batch_size=batch_size, max_new_tokens=max_new_tokens,
                          chat=bool(read_manifest(student_dir).get("chat_template")),
                          seed_per_prompt=seed if seed_per_question else None)
        gen.base_weights = loaded
        return gen
    if engine == "vllm":
        from md.inference.vllm_engine import VLLMGenerator

        if seed_per_question:
            raise MDError("inference.seed_per_question (and sharded evaluation) needs "
                          "inference.engine=hf; vLLM batches every question together")
        manifest = read_manifest(student_dir)
        if manifest.get("chat_template"):
            raise MDError("inference.engine=vllm does not render the chat template this student "
                          "was trained with; use inference.engine=hf")
        base, adapter = resolve_student(student_dir)
        quant = manifest.get("quantization") if quantized_base else None
        return VLLMGenerator(base, adapter, max_new_tokens, seed=seed,
                             escaped=bool(manifest.get("whitespace_escape")),
                             four_bit=bool(quant), **(vllm or {}))
    raise MDError(f"unknown inference.engine {engine!r}; expected hf or vllm")
