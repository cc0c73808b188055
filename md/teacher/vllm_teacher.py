"""An open-weights teacher in this process, on vLLM's offline engine (`teacher=vllm`).

The engine answers `batch_size` requests per call: every prompt of the call is decoded together,
and each request's samples come from one prompt with vLLM's native `n`. Prompts are rendered as
the HF teacher renders them (md.teacher.hf.render_ids: the chat template once, else plain text)
and given as token ids. On a GPU each request is seeded from (seed, prompt, its first sample
index), so a later request for samples 10..19 does not repeat samples 0..9; on a CPU the engine's
seed is used (vLLM's CPU build cannot run seeded requests through a chunked prefill). The engine itself is built on the first request, never for a dry run or a
fully cached extraction, and shared with a student's sampling engine of the same base
(md.inference.vllm_engine.engine_for).

    python -m md.extract data=gsm8k teacher=vllm teacher.model=/models/llama-3.1-70b teacher.n=20
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from md.errors import MDError
from md.models import hardware
from md.teacher.base import Completion, Request, TeacherFields, cut_at_stop
from md.teacher.hf import render_ids


@dataclass(eq=False, kw_only=True)
class VLLMTeacher(TeacherFields):
    """Concurrency 1 (one engine call at a time; the engine batches inside it) and native n
    (max_n_per_request: all of a prompt's samples in one request), the shared defaults."""

    tokenizer: Any = field(repr=False)
    engine_settings: dict[str, Any]
    batch_size: int = 256  # requests per engine call
    calls: int = 0  # engine calls made
    llm: Any = field(default=None, repr=False)  # the engine, built on the first request

    def check_ready(self) -> None:
        if not hardware.vllm_installed():
            from md.inference.vllm_engine import INSTALL_HINT

            raise MDError(f"teacher=vllm needs vllm: {INSTALL_HINT}; or use teacher=hf")

    async def aclose(self) -> None:
        """The extraction is done: stop the engine, so the training that follows gets the card."""
        if self.llm is not None:
            from md.inference.vllm_engine import shutdown_engines

            shutdown_engines()  # while self.llm still holds it: the registry's refs are weak
            self.llm = None

    async def complete(self, reqs: list[Request]) -> list[Completion]:
        # run on the event loop's own thread: vLLM starts its engine process from the thread that
        # builds it, and with concurrency 1 nothing else is waiting on the loop
        return self.generate(reqs)

    def generate(self, reqs: list[Request]) -> list[Completion]:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        from md.inference.vllm_engine import engine_for

        if self.llm is None:
            self.check_ready()
            self.llm = engine_for(self.model, lora=False,
                                  seed=int(self.params["seed"]), **self.engine_settings)
        ids = [render_ids(self.tokenizer, r.messages) for r in reqs]
        p = self.params
        params = [SamplingParams(n=len(r.indices), temperature=p["temperature"], top_p=p["top_p"],
                                 max_tokens=p["max_tokens"], stop=p.get("stop") or None,
                                 seed=request_seed(p["seed"], r)) for r in reqs]
        outs = self.llm.generate([TokensPrompt(prompt_token_ids=x) for x in ids], params, use_tqdm=False)
        self.calls += 1
        return [Completion(tuple(cut_at_stop(c.text, p.get("stop")).strip() for c in out.outputs),
                           {"prompt_tokens": len(x),
                            "completion_tokens": sum(len(c.token_ids) for c in out.outputs)})
                for out, x in zip(outs, ids, strict=True)]


def request_seed(seed: int, req: Request) -> int | None:
    """A request's own seed on a GPU; None on a CPU, where vLLM 0.32 cannot run seeded requests
    through a chunked prefill (md.inference.vllm_engine.prompt_seed) and the engine's seed rules."""
    if not hardware.cuda_available():
        return None
    return zlib.crc32(f"{seed}\0{req.prompt_key}\0{req.indices[0]}".encode()) & 0x7FFFFFFF


def build_vllm_teacher(model: str, *, temperature: float = 0.7, top_p: float = 1.0,
                       max_tokens: int = 512, stop: list[str] | None = None, n: int = 20,
                       batch_size: int = 256, dtype: str | None = None,
                       gpu_memory_utilization: float = 0.85, tensor_parallel_size: int = 1,
                       max_model_len: int | None = None, seed: int = 0,
                       budget_usd: float | None = None, mode: str = "online") -> VLLMTeacher:
    """Builder for conf/teacher/vllm.yaml: the tokenizer now, the engine on first use."""
    from transformers import AutoTokenizer

    if mode != "online":
        raise MDError("teacher=vllm has no batch mode; drop teacher.mode=batch")
    if str(model).startswith(("/", ".", "~")) and not Path(model).expanduser().is_dir():
        raise MDError(f"teacher=vllm: cannot load {model!r} (no such folder); set teacher.model "
                      "to a local model folder")
    try:
        tok = AutoTokenizer.from_pretrained(model)
    except (OSError, ValueError) as e:
        raise MDError(f"teacher=vllm: cannot load {model!r} ({str(e).splitlines()[0]}); set "
                      "teacher.model to a local model folder") from None
    params = {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens,
              "stop": list(stop) if stop else None, "seed": seed}
    engine = {"dtype": dtype, "gpu_memory_utilization": gpu_memory_utilization,
              "tensor_parallel_size": tensor_parallel_size, "max_model_len": max_model_len}
    return VLLMTeacher(tokenizer=tok, model=str(model), params=params, engine_settings=engine,
                       n=n, batch_size=batch_size, budget_usd=budget_usd)
