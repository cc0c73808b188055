"""QLoRA on CUDA: a 4-bit NF4 tiny LLaMA trains bf16-mixed steps through md.train (GPU only)."""

from __future__ import annotations

import math

import pytest
import torch
from train_settings import run

from md.mixing.examples import demo_examples
from md.models import build_student

pytestmark = pytest.mark.gpu

TINY = {"model_type": "llama", "hidden_size": 128, "intermediate_size": 256, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2}


def test_qlora_bf16_steps_on_cuda(tmp_path):
    import bitsandbytes as bnb

    examples = demo_examples(n_questions=16)
    texts = [e.input for e in examples] + [e.target for e in examples]
    student = build_student(name="tiny-llama", tiny=TINY, finetune="qlora", compute_dtype="bfloat16",
                            gradient_checkpointing=True, tokenizer_texts=texts,
                            workdir=str(tmp_path / "student"))
    layers = [m for m in student.model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert layers and all(m.weight.device.type == "cuda" for m in layers)
    assert layers[0].weight.quant_type == "nf4" and layers[0].compute_dtype == torch.bfloat16
    # on the CPU: Lightning's teardown moves the trained module there
    lora0 = {n: p.detach().cpu().clone() for n, p in student.model.named_parameters() if "lora_" in n}
    result = run(examples, student, out_dir=tmp_path, max_steps=3, batch_size=4, val_fraction=0.0,
                 accelerator="gpu", devices=1, precision="bf16-mixed", ckpt_every=3,
                 log_every_n_steps=1)
    lora1 = dict(student.model.named_parameters())
    assert all(not torch.equal(lora0[n], lora1[n].detach().cpu()) for n in lora0)
    assert math.isfinite(result.metrics["train/loss"])
    assert (result.student_dir / "adapter_model.safetensors").exists()
