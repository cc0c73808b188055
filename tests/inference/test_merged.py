"""md.inference.merged: a LoRA student folded once into a plain model for vLLM's CPU build."""

from __future__ import annotations

import os

import torch
from tiny_lora import save_tiny_lora


def test_a_lora_student_is_merged_once_into_a_plain_model_with_the_same_outputs(tmp_path, monkeypatch):
    """vLLM's CPU build gets the adapter folded into a copy of the base: the same logits as base +
    adapter, cached by the adapter's bytes (a second call merges nothing)."""
    from transformers import AutoModelForCausalLM

    from md.inference.hf import load_hf
    from md.inference.merged import DONE, merged_student
    from md.models.saved import resolve_student

    monkeypatch.setenv("MD_MODEL_CACHE", str(tmp_path / "cache"))
    student_dir = save_tiny_lora(tmp_path)
    base, adapter = resolve_student(student_dir)
    folder = merged_student(base, adapter)
    assert (folder / DONE).is_file() and not (folder / "adapter_config.json").exists()
    merged = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    peft_model, tok, _ = load_hf(student_dir, "cpu")
    ids = torch.tensor([tok("Question: 1 2 3").input_ids])
    with torch.no_grad():
        torch.testing.assert_close(merged(ids).logits, peft_model(ids).logits, atol=1e-4, rtol=1e-4)
    stamp = os.stat(folder / "model.safetensors").st_mtime_ns
    assert merged_student(base, adapter) == folder
    assert os.stat(folder / "model.safetensors").st_mtime_ns == stamp  # reused, not merged again
