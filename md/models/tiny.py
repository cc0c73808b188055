"""Materialise a tiny student (random weights from a config, tokenizer trained in code) as a folder.

A tiny student is written to disk exactly like a hub checkpoint (config, safetensors, tokenizer),
so the builder loads it through the same `from_pretrained` path as LLaMA-7B, 4-bit QLoRA
included, and evaluation finds the base beside the adapter. A folder whose spec matches is
reused, which keeps a resumed run (`ckpt_path=`) on bit-identical base weights.

    base = make_tiny_base("runs/x/student/base", {"model_type": "llama", "hidden_size": 64, ...},
                          texts, vocab_size=1024, seed=0)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM

from md.errors import MDError
from md.fsio import write_text
from md.models.tokenizer import train_tokenizer

SPEC_FILE = "md_tiny.json"
ENCODER_DECODER = {"t5", "mt5", "bart"}


def tiny_spec(config: dict[str, Any], texts: Sequence[str], vocab_size: int, seed: int) -> dict:
    """What determines a tiny base: its config, vocabulary size, seed and tokenizer texts."""
    digest = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
    return {"config": dict(config), "vocab_size": vocab_size, "seed": seed, "texts_sha": digest}


def make_tiny_base(
    folder: str | Path, config: dict[str, Any], texts: Sequence[str], vocab_size: int, seed: int
) -> Path:
    """Write (or reuse) a tiny base model + tokenizer in `folder`; returns the folder."""
    folder = Path(folder)
    config = dict(config)
    model_type = config.pop("model_type", None)
    if model_type is None:
        raise MDError("student.tiny needs a model_type (llama, gpt2, t5, ...)")
    if not texts:
        raise MDError("a tiny student trains its tokenizer on the training texts, but none were given")
    spec = tiny_spec({"model_type": model_type, **config}, texts, vocab_size, seed)
    spec_path = folder / SPEC_FILE
    if spec_path.exists() and json.loads(spec_path.read_text()) == spec:
        return folder
    seq2seq = model_type in ENCODER_DECODER
    tok = train_tokenizer(texts, vocab_size=vocab_size, seq2seq=seq2seq)
    ids = {"pad_token_id": tok.pad_token_id, "eos_token_id": tok.eos_token_id}
    if seq2seq:
        ids["decoder_start_token_id"] = tok.pad_token_id  # T5 convention
    else:
        ids["bos_token_id"] = tok.bos_token_id
    try:
        cfg = AutoConfig.for_model(model_type, vocab_size=len(tok), **ids, **config)
    except (ValueError, TypeError) as e:
        raise MDError(f"student.tiny: cannot build a {model_type!r} config ({e})") from None
    torch.manual_seed(seed)  # the base weights are a pure function of the spec
    auto = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
    model = auto.from_config(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    write_text(spec_path, json.dumps(spec, indent=1))  # written last: marks the folder complete
    return folder
