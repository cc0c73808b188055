"""Sampling reasoning paths from a saved student: batched HF `generate`, or vLLM.

A generator turns prompts into texts; it knows nothing about CoT, PoT or answers:

    gen = build_generator(engine="hf", student_dir="runs/x/student", batch_size=32)
    texts = gen.sample(prompts, n=20, temperature=0.7)   # list (per prompt) of 20 strings
    best = gen.greedy(prompts)                            # one string per prompt

`md.inference.hf` holds HFGenerator; `md.inference.vllm_engine` holds VLLMGenerator
(`inference.engine=vllm`), which imports vllm only when built. `inference.engine=auto` (the
default) is vLLM where it is installed and can sample this student, HF otherwise (`choose_engine`):
`make install` brings vLLM's CPU build on a CPU machine; `pip install 'mixed-distillation[vllm]'`
the CUDA one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from md.errors import MDError
from md.models import hardware
from md.models.saved import read_manifest, resolve_student
from md.settings import ENGINES


class Generator(Protocol):
    """What evaluation needs from a student: sampled and greedy completions of prompts."""

    def sample(self, prompts: Sequence[str], n: int, temperature: float) -> list[list[str]]: ...

    def greedy(self, prompts: Sequence[str]) -> list[str]: ...


# Below this many parameters (the tiny students built in code) HF generate samples a whole test
# set in less time than vLLM takes to start (~40 s on a CPU), so `auto` keeps them on HF.
VLLM_MIN_PARAMS = 20_000_000


def choose_engine(engine: str, *, seq2seq: bool, params: int | None = None) -> tuple[str, str]:
    """(engine, why) for `inference.engine`: `auto` is vLLM where it is installed and can sample
    this student (a decoder: vLLM has no encoder-decoder models) and the student is big enough
    for vLLM's start-up to pay off (`params`, None: unknown, assumed big), HF otherwise; `why`
    says what auto saw ("" for an explicit choice)."""
    if engine != "auto":
        return engine, ""
    if not hardware.vllm_installed():
        return "hf", "auto: vllm not installed"
    if seq2seq:
        return "hf", "auto: vllm has no encoder-decoder models"
    if params is not None and params < VLLM_MIN_PARAMS:
        return "hf", "auto: a tiny model samples faster on hf than vllm starts"
    return "vllm", "auto"


def approx_params(config) -> int:
    """About how many parameters a transformers config describes (embeddings + layers)."""
    hidden = int(getattr(config, "hidden_size", 0) or getattr(config, "d_model", 0) or 0)
    layers = int(getattr(config, "num_hidden_layers", 0) or getattr(config, "num_layers", 0) or 0)
    inter = int(getattr(config, "intermediate_size", 0) or 4 * hidden)
    return int(getattr(config, "vocab_size", 0) or 0) * hidden + layers * (4 * hidden * hidden
                                                                          + 3 * hidden * inter)


def engine_for_student(engine: str, student_dir: str) -> tuple[str, str]:
    """choose_engine for a saved student, read from its config (no weights loaded)."""
    if engine != "auto":
        return engine, ""
    config = _config(student_dir)
    return choose_engine(engine, seq2seq=bool(getattr(config, "is_encoder_decoder", False)),
                         params=approx_params(config))


def build_generator(engine: str, student_dir: str, *, batch_size: int = 32, max_new_tokens: int = 256,
                    device: str = "auto", seed: int = 0, quantized_base: bool = True,
                    seed_per_question: bool = False, vllm: dict | None = None) -> Generator:
    """The configured sampling engine for a saved student (`inference.engine`: auto | hf | vllm).
    seed_per_question: each question's paths seeded on their own (HFGenerator.seed_per_prompt),
    so a question's paths are the same whichever shard of the test set it is evaluated in.
    vllm: the engine settings (`inference.vllm`: gpu_memory_utilization, max_lora_rank,
    tensor_parallel_size, max_model_len, any other vllm.LLM argument); students on one base
    share one engine (md.inference.vllm_engine). On a GPU vLLM seeds each prompt's paths on their
    own, so seed_per_question holds there by construction; on a CPU it cannot, and auto takes HF."""
    manifest = read_manifest(student_dir)
    asked = engine
    engine, _ = engine_for_student(engine, student_dir)
    if engine == "vllm" and seed_per_question and not hardware.cuda_available():
        if asked == "vllm":  # vLLM's CPU build cannot seed single requests (vllm_engine.prompt_seed)
            raise MDError("inference.seed_per_question (and sharded evaluation) needs each "
                          "question seeded on its own, which vLLM's CPU build cannot do; use "
                          "inference.engine=hf (or auto)")
        engine = "hf"
    if engine == "hf":
        import torch

        from md.inference.hf import HFGenerator, load_hf

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        model, tok, loaded = load_hf(student_dir, device, quantized_base)
        gen = HFGenerator(model, tok, batch_size=batch_size, max_new_tokens=max_new_tokens,
                          chat=bool(manifest.get("chat_template")),
                          seed_per_prompt=seed if seed_per_question else None)
        gen.base_weights = loaded
        return gen
    if engine == "vllm":
        from transformers import AutoTokenizer

        from md.inference.vllm_engine import INSTALL_HINT, VLLMGenerator

        if not hardware.vllm_installed():
            raise MDError(f"inference.engine=vllm needs vllm: {INSTALL_HINT}; or use "
                          "inference.engine=hf")
        if getattr(_config(student_dir), "is_encoder_decoder", False):
            raise MDError(f"inference.engine=vllm cannot sample {student_dir}: vLLM has no "
                          "encoder-decoder (T5) models; use inference.engine=hf (or auto)")
        base, adapter = resolve_student(student_dir)
        return VLLMGenerator(base, adapter, max_new_tokens, seed=seed,
                             tokenizer=AutoTokenizer.from_pretrained(adapter or base),
                             chat=bool(manifest.get("chat_template")),
                             escaped=bool(manifest.get("whitespace_escape")),
                             four_bit=bool(manifest.get("quantization")), **(vllm or {}))
    raise MDError(f"unknown inference.engine {engine!r}; expected one of {', '.join(ENGINES)}")


def _config(student_dir: str):
    """The saved student's model config (read from its base, no weights loaded)."""
    from transformers import AutoConfig

    base, _ = resolve_student(student_dir)
    return AutoConfig.from_pretrained(base)
