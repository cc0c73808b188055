"""trainer=fsdp: decoder layers as the wrapping units; a CPU refused in one line (tests/test_train.py);
checkpoint hooks that keep every trainable weight under FSDP's parameter names and survive
Lightning's FSDP load order (on CPU, with the module wrapped in place the way FSDP wraps it);
full fine-tuning of a tiny LLaMA under FSDP on CUDA, clipped, checkpointed, resumed and saved from
gathered full weights (GPU only: torch's FSDP needs an accelerator device)."""

from __future__ import annotations

import pytest
import torch

from md.errors import MDError
from md.mixing.examples import demo_examples
from md.models import build_student
from md.settings import TrainSettings
from md.training.fsdp import clean_name, decoder_layers
from md.training.module import MDModule

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


class Wrapped(torch.nn.Module):
    """What FSDP's auto-wrap puts in a module's place: the original under `_fsdp_wrapped_module`,
    so every parameter name below it gains that segment (the full state dict's names do not)."""

    def __init__(self, inner: torch.nn.Module):
        super().__init__()
        self._fsdp_wrapped_module = inner

    def forward(self, *args, **kwargs):
        return self._fsdp_wrapped_module(*args, **kwargs)


@pytest.mark.parametrize("finetune", ["lora", "full"])
def test_checkpoints_keep_every_trainable_weight_under_fsdp_names(tmp_path, finetune):
    student = tiny(tmp_path, finetune)
    module = MDModule(student.model, False, lr=1e-3, max_steps=1)
    full_state = dict(module.state_dict())  # clean names, as FSDP's full state dict spells them
    trainable = {n for n, p in module.named_parameters() if p.requires_grad}
    layers = (student.model.get_base_model() if finetune == "lora" else student.model).model.layers
    for i, layer in enumerate(layers):
        layers[i] = Wrapped(layer)
    assert any("_fsdp_wrapped_module" in n for n, _ in module.named_parameters())
    assert clean_name("model._fsdp_wrapped_module.layers.0._fsdp_wrapped_module.q.weight") == \
        "model.layers.0.q.weight"

    checkpoint = {"state_dict": full_state}
    module.on_save_checkpoint(checkpoint)
    assert set(checkpoint["state_dict"]) == trainable  # the decoder blocks' weights included
    assert any(".layers.1." in name for name in checkpoint["state_dict"])
    module.on_load_checkpoint(checkpoint)  # fits the same student
    module.on_load_checkpoint({"global_step": 3})  # FSDPStrategy popped state_dict already


@pytest.mark.gpu
def test_full_fine_tuning_under_fsdp_saves_the_gathered_weights(tmp_path):
    from train_settings import run

    from md.inference.hf import load_hf

    student = tiny(tmp_path)
    before = {k: v.detach().clone() for k, v in student.model.state_dict().items()}
    knobs = dict(batch_size=4, lr=1e-3, accelerator="gpu", devices=1, strategy="fsdp",
                 precision="bf16-mixed", gradient_clip_val=1.0, ckpt_every=2)  # clipped by norm
    run(EXAMPLES, student, out_dir=tmp_path / "run", max_steps=2, **knobs)
    student = tiny(tmp_path)  # a requeued job: a fresh process resumes from the checkpoint
    result = run(EXAMPLES, student, out_dir=tmp_path / "run", max_steps=4, ckpt_path="auto",
                 **knobs)
    assert result.metrics["step"] == 4
    saved, _, _ = load_hf(result.student_dir, "cpu")
    after = saved.state_dict()
    assert set(after) == set(before)  # full names, no FSDP prefixes, nothing missing
    assert any(not torch.allclose(after[k].float(), before[k].float()) for k in before)
