"""Batched sampling with HF `generate` (decoder-only or encoder-decoder students).

HFGenerator decodes many sequences per `generate` call (prompts x `num_return_sequences`,
KV cache on). Generation stops at the next "\nQuestion:" (a stop string checked during
generation, so a batch costs its longest real path, not max_new_tokens) and the text is cut
there, because small students often run on into a new made-up question, whose numbers would
pollute answer extraction.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import torch

from md.errors import MDError
from md.models.prompting import padded, prompt_ids
from md.models.saved import check_folder, read_manifest, resolve_student
from md.models.whitespace import needs_escape, unescape
from md.prompts import STOP, until_next_question


class HFGenerator:
    """Batched sampling with `model.generate` (decoder-only or encoder-decoder students)."""

    engine = "hf"

    def __init__(self, model, tokenizer, *, batch_size: int = 32, max_new_tokens: int = 256,
                 chat: bool = False, stop_early: bool = True, progress: bool = True,
                 seed_per_prompt: int | None = None):
        if batch_size < 1 or max_new_tokens < 1:
            raise MDError("inference.batch_size and inference.max_new_tokens must be >= 1")
        self.model = model.eval()
        self.tok = tokenizer
        self.batch_size = batch_size  # sequences (prompts x samples) per generate call
        self.max_new_tokens = max_new_tokens
        self.seq2seq = bool(getattr(model.config, "is_encoder_decoder", False))
        if self.tok.pad_token is None:
            self.tok.pad_token = self.tok.eos_token
        if not self.seq2seq:
            self.tok.padding_side = "left"  # new tokens go on the right of every row
        self.escaped = needs_escape(self.tok)  # trained on escaped targets (md.models.whitespace)
        self.chat = chat  # prompts go through the chat template, as in training
        # once: it scans the whole vocabulary. stop_early=False (benchmarks only): every row
        # runs to max_new_tokens and is cut at STOP afterwards
        self.stop = STOP  # read when built, like the stop-string criteria below
        self.stop_kwargs = self._stops() if stop_early else {}
        self.progress = progress  # a bar with paths/s and ETA (a 7B evaluation takes hours)
        # an int: each prompt's paths come from their own generate calls, seeded from (this
        # seed, the prompt), so they do not depend on which other prompts are evaluated with
        # it (sharded evaluation); None: prompts share batches and one random stream (faster)
        self.seed_per_prompt = seed_per_prompt
        self.base_weights = "?"  # how the base was loaded; load_hf says

    @torch.no_grad()
    def _generate(self, prompts: Sequence[str], n: int, temperature: float) -> list[str]:
        # only ids and mask: some tokenizers add token_type_ids, which decoders refuse
        enc = padded(self.tok, prompt_ids(self.tok, prompts, self.chat), self.model.device)
        sampling = temperature > 0
        out = self.model.generate(
            **enc,
            do_sample=sampling,
            temperature=temperature if sampling else None,
            top_p=1.0 if sampling else None,
            top_k=0 if sampling else None,  # plain temperature sampling, as in the paper
            num_return_sequences=n,
            max_new_tokens=self.max_new_tokens,
            pad_token_id=self.tok.pad_token_id,
            use_cache=True,
            **self.stop_kwargs,
        )  # (B * n, T_in + T_new) decoder-only, (B * n, T_new) encoder-decoder
        new = out if self.seq2seq else out[:, enc["input_ids"].shape[1] :]
        texts = self.tok.batch_decode(new, skip_special_tokens=True)
        return [until_next_question(unescape(t) if self.escaped else t, self.stop) for t in texts]

    def _stops(self) -> dict:
        """generate's stop-string arguments: a finished row stops at STOP, not max_new_tokens.
        Some transformers releases cannot map a stop string onto some tokenizers (ValueError);
        then generation runs on and the text is still cut at STOP afterwards."""
        from transformers import StopStringCriteria

        try:
            StopStringCriteria(self.tok, [self.stop])
        except ValueError:
            return {}
        return {"stop_strings": [self.stop], "tokenizer": self.tok}

    def sample(self, prompts: Sequence[str], n: int, temperature: float) -> list[list[str]]:
        """`n` completions per prompt, at most `batch_size` sequences per generate call."""
        from tqdm import tqdm

        bar = tqdm(total=len(prompts) * n, unit="path", mininterval=2.0,
                   desc="greedy" if temperature == 0 else f"sampling {n} per question",
                   disable=not self.progress or not prompts)
        with bar:
            if n > self.batch_size or self.seed_per_prompt is not None:  # calls per prompt
                return [self._split(p, n, temperature, bar) for p in prompts]
            per_call = self.batch_size // n
            result: list[list[str]] = []
            for start in range(0, len(prompts), per_call):
                chunk = prompts[start : start + per_call]
                flat = self._generate(chunk, n, temperature)  # prompt-major: p0 s0..s(n-1), ...
                result += [flat[i * n : (i + 1) * n] for i in range(len(chunk))]
                bar.update(len(flat))
            return result

    def _split(self, prompt: str, n: int, temperature: float, bar) -> list[str]:
        if self.seed_per_prompt is not None:
            torch.manual_seed(zlib.crc32(f"{self.seed_per_prompt}\0{prompt}".encode()))
        texts: list[str] = []
        while len(texts) < n:
            more = self._generate([prompt], min(self.batch_size, n - len(texts)), temperature)
            texts += more
            bar.update(len(more))
        return texts

    def greedy(self, prompts: Sequence[str]) -> list[str]:
        return [row[0] for row in self.sample(prompts, 1, 0.0)]


def load_hf(student_dir: str | Path, device: str = "cpu", quantized_base: bool = True):
    """(model, tokenizer, how the base was loaded) of a saved student, its LoRA adapter applied.

    A QLoRA student (md_student.json has its quantisation) gets the same 4-bit base it was
    trained on, unless quantized_base=False (then bf16 on GPU, fp32 on CPU)."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer


    base, adapter = resolve_student(student_dir)
    for folder in {base, adapter} - {None}:
        if Path(folder).is_dir():
            check_folder(folder)  # a truncated file: one line naming it, before loading
    config = AutoConfig.from_pretrained(base)
    auto = AutoModelForSeq2SeqLM if config.is_encoder_decoder else AutoModelForCausalLM
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32  # 7B fits a GPU in bf16
    quant = read_manifest(student_dir).get("quantization") if quantized_base else None
    if quant:
        from transformers import BitsAndBytesConfig

        bnb = BitsAndBytesConfig.from_dict(dict(quant))
        model = auto.from_pretrained(base, quantization_config=bnb, dtype=dtype,
                                     device_map={"": device})
        loaded = f"{bnb.bnb_4bit_quant_type} 4-bit (as trained)"
    else:
        model = auto.from_pretrained(base, dtype=dtype).to(device)
        loaded = str(dtype).removeprefix("torch.")
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter)
    has_tok = adapter and (Path(adapter) / "tokenizer_config.json").exists()
    return model.eval(), AutoTokenizer.from_pretrained(adapter if has_tok else base), loaded
