"""A local transformers model as the teacher, sampling with batched `generate`.

Prompts are rendered with the tokenizer's chat template when it has one (and tokenised without
adding special tokens again: the template already wrote BOS), else as plain text (system line,
blank line, few-shot prompt). All samples of a group of requests are flattened to (prompt,
sample) rows and generated `gen_batch` rows at a time with left padding; generation stops each
row at its first stop string, and each text is cut there. Thoughts are cached like an API teacher's (generation is the
expensive part here too).

    python -m md.extract data=gsm8k teacher=hf teacher.model=/models/llama-2-70b-chat
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from md.errors import MDError
from md.models.prompting import chat_ids, padded, prompt_ids
from md.teacher.base import Completion, Request, TeacherFields, cut_at_stop


def render_ids(tokenizer, messages) -> list[int]:
    """A request's prompt as token ids: through the chat template when the tokenizer has one
    (its special tokens written once, md.models.prompting), else the messages as plain text.
    The in-process teachers (this one and md.teacher.vllm_teacher) render alike."""
    messages = list(messages)
    if getattr(tokenizer, "chat_template", None):
        return chat_ids(tokenizer, [messages])[0]
    return prompt_ids(tokenizer, ["\n\n".join(m["content"] for m in messages)])[0]


@dataclass(eq=False, kw_only=True)
class HFTeacher(TeacherFields):
    model_obj: Any = field(repr=False)
    tokenizer: Any = field(repr=False)
    gen_batch: int = 16
    # concurrency 1: one generate at a time; batching gives the parallelism
    batch_size: int = 4  # requests per engine call

    async def complete(self, reqs: list[Request]) -> list[Completion]:
        return await asyncio.to_thread(self.generate, reqs)

    def render(self, req: Request) -> list[int]:
        return render_ids(self.tokenizer, req.messages)

    def generate(self, reqs: list[Request]) -> list[Completion]:
        rows = [(k, self.render(r)) for k, r in enumerate(reqs) for _ in r.indices]
        texts: list[list[str]] = [[] for _ in reqs]
        usage = [{"prompt_tokens": 0, "completion_tokens": 0} for _ in reqs]
        for start in range(0, len(rows), self.gen_batch):
            chunk = rows[start:start + self.gen_batch]
            outs, n_prompt, n_new = self._generate([p for _, p in chunk])
            for (k, _), text, p, c in zip(chunk, outs, n_prompt, n_new, strict=True):
                texts[k].append(cut_at_stop(text, self.params.get("stop")).strip())
                usage[k]["prompt_tokens"] += p
                usage[k]["completion_tokens"] += c
        return [Completion(tuple(t), u) for t, u in zip(texts, usage, strict=True)]

    def _generate(self, prompts: list[list[int]]) -> tuple[list[str], list[int], list[int]]:
        import torch

        tok = self.tokenizer
        enc = padded(tok, prompts, self.model_obj.device)
        p = self.params
        stops = [s for s in p.get("stop") or () if s]
        with torch.no_grad():
            out = self.model_obj.generate(  # (B, T_prompt + T_new)
                **enc, do_sample=p["temperature"] > 0, temperature=p["temperature"] or None,
                top_p=p["top_p"], max_new_tokens=p["max_tokens"], pad_token_id=tok.pad_token_id,
                # a row that reached a stop string stops now, not at max_new_tokens
                **({"stop_strings": stops, "tokenizer": tok} if stops else {}))
        new = out[:, enc["input_ids"].shape[1]:]  # (B, T_new)
        n_prompt = enc["attention_mask"].sum(dim=1).tolist()
        n_new = (new != tok.pad_token_id).sum(dim=1).tolist()
        return tok.batch_decode(new, skip_special_tokens=True), n_prompt, n_new


def build_hf_teacher(model: str, *, temperature: float = 0.7, top_p: float = 1.0,
                     max_tokens: int = 512, stop: list[str] | None = None, n: int = 20,
                     gen_batch: int = 16, device: str = "auto", dtype: str = "auto",
                     seed: int = 0, budget_usd: float | None = None,
                     mode: str = "online") -> HFTeacher:
    """Builder for conf/teacher/hf.yaml: loads `model` (a local folder or hub id) and its tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if mode != "online":
        raise MDError("teacher=hf has no batch mode; drop teacher.mode=batch")
    if str(model).startswith(("/", ".", "~")) and not Path(model).expanduser().is_dir():
        raise MDError(f"teacher=hf: cannot load {model!r} (no such folder); set teacher.model "
                      "to a local model folder")
    try:
        tok = AutoTokenizer.from_pretrained(model)
        net = AutoModelForCausalLM.from_pretrained(model, dtype=dtype)
    except (OSError, ValueError) as e:  # ValueError: huggingface_hub's HFValidationError
        raise MDError(f"teacher=hf: cannot load {model!r} ({str(e).splitlines()[0]}); set "
                      "teacher.model to a local model folder") from None
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    net.to(device).eval()
    tok.padding_side = "left"  # generate continues from the right edge of every row
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    torch.manual_seed(seed)
    params = {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens,
              "stop": list(stop) if stop else None, "seed": seed}
    return HFTeacher(model_obj=net, tokenizer=tok, model=model, params=params, n=n,
                     gen_batch=gen_batch, budget_usd=budget_usd)
