"""trainer=fsdp: decoder layers as the wrapping units; a CPU refused in one line (test_train_cli);
full fine-tuning of a tiny LLaMA under FSDP on CUDA, saved from gathered full weights (GPU only:
Lightning's FSDP strategy does not run on CPU)."""

from __future__ import annotations

import pytest
import torch

from md.bench.examples import demo_examples
from md.config.settings import TrainSettings
from md.errors import MDError
from md.models import build_student
from md.training.fsdp import decoder_layers

TINY = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2}
EXAMPLES = demo_examples(n_questions=16)
TEXTS = [e.input for e in EXAMPLES] + [e.target for e in EXAMPLES]


def tiny(tmp_path, finetune="full"):
    return build_student(name="tiny-llama", tiny=TINY, finetune=finetune, tokenizer_texts=TEXTS,
                         workdir=str(tmp_path / "w"))


def test_each_decoder_layer_is_a_wrapping_unit(tmp_path):
    from transformers.models.llama.modeling_llama import LlamaDecoderLayer

    assert decoder_layers(tiny(tmp_path).model) == {LlamaDecoderLayer}
    assert decoder_layers(tiny(tmp_path, "lora").model) == {LlamaDecoderLayer}  # under PEFT too
    with pytest.raises(MDError, match="runs only on CUDA GPUs"):
        TrainSettings(trainer={"strategy": "fsdp", "accelerator": "cpu"})
    TrainSettings(trainer={"strategy": "ddp", "accelerator": "cpu"})


@pytest.mark.gpu
def test_full_fine_tuning_under_fsdp_saves_the_gathered_weights(tmp_path):
    from train_settings import run

    from md.inference.hf import load_hf

    student = tiny(tmp_path)
    before = {k: v.detach().clone() for k, v in student.model.state_dict().items()}
    result = run(EXAMPLES, student, out_dir=tmp_path / "run", max_steps=4, batch_size=4,
                 lr=1e-3, accelerator="gpu", devices=1, strategy="fsdp", precision="bf16-mixed")
    saved, _, _ = load_hf(result.student_dir, "cpu")
    after = saved.state_dict()
    assert set(after) == set(before)  # full names, no FSDP prefixes, nothing missing
    assert any(not torch.allclose(after[k].float(), before[k].float()) for k in before)
