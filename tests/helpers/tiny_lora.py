"""A tiny LLaMA student with a non-zero LoRA adapter, saved: the inference and vLLM-teacher
tests' shared student."""

from __future__ import annotations

import torch


def save_tiny_lora(tmp_path):
    from md.models import build_student, save_student

    tiny = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2}
    student = build_student("tiny", tiny=tiny, tokenizer_texts=["Question: 1 2 3", "ans = 3"],
                            vocab_size=300, workdir=str(tmp_path / "w"), lora_r=4, lora_alpha=8,
                            target_modules=["q_proj", "v_proj"])
    with torch.no_grad():  # a non-zero adapter, so merging changes the weights
        for name, p in student.model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    return save_student(student, tmp_path / "student")
