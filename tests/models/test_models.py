"""Students (md/models): tokenizer trained in code, tiny LoRA / full / 4-bit QLoRA training, saving."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from train_settings import run

from md.errors import MDError
from md.mixing.examples import demo_examples
from md.models import build_student
from md.models.tokenizer import train_tokenizer

REPO_CONF = Path(__file__).resolve().parents[2] / "conf" / "student"
EXAMPLES = demo_examples(n_questions=12, seed=0)
TEXTS = [e.input for e in EXAMPLES] + [e.target for e in EXAMPLES]


def tiny(student_id: str, tmp_path, **overrides):
    """Build a tiny student from its conf/student YAML, as `python -m md.train` would."""
    cfg = yaml.safe_load((REPO_CONF / f"{student_id}.yaml").read_text())
    cfg = dict(cfg.get("student", cfg))  # tiny-llama also sets its schedule: its student block
    cfg.pop("_target_")
    cfg.update(seed=0, **overrides)
    return build_student(**cfg, tokenizer_texts=TEXTS, workdir=str(tmp_path / "student"))


def train_steps(student, tmp_path, steps=3):
    return run(EXAMPLES, student, out_dir=tmp_path, max_steps=steps, batch_size=4, val_fraction=0.0,
               ckpt_every=steps, log_every_n_steps=1, lr=1e-2)


def test_tokenizer_splits_digits_and_round_trips():
    tok = train_tokenizer(TEXTS, vocab_size=512)
    text = "ans = 244 * 146\nprint(ans)  # 35624"
    ids = tok(text, add_special_tokens=False).input_ids
    assert tok.decode(ids) == text
    digits = [tok.convert_ids_to_tokens(i) for i in tok("35624", add_special_tokens=False).input_ids]
    assert digits == list("35624")
    assert tok("hi").input_ids[0] == tok.bos_token_id  # decoder inputs start with <s>
    t5_tok = train_tokenizer(TEXTS, vocab_size=512, seq2seq=True)
    assert t5_tok("hi").input_ids[-1] == t5_tok.eos_token_id and t5_tok.pad_token_id == 0


def _snapshot(model):
    lora = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" in n}
    base = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" not in n}
    return lora, base


@pytest.mark.parametrize("student_id", ["tiny-llama", "tiny-t5"])
def test_lora_trains_adapter_and_freezes_base(student_id, tmp_path):
    student = tiny(student_id, tmp_path, finetune="lora")
    assert student.seq2seq == (student_id == "tiny-t5")
    lora0, base0 = _snapshot(student.model)
    assert lora0 and base0
    result = train_steps(student, tmp_path)
    lora1, base1 = _snapshot(student.model)
    assert all(torch.equal(base0[n], base1[n]) for n in base0), "a frozen base weight moved"
    changed = [n for n in lora0 if not torch.equal(lora0[n], lora1[n])]
    assert len(changed) == len(lora0), f"LoRA weights that did not change: {set(lora0) - set(changed)}"
    assert (result.student_dir / "adapter_config.json").exists()
    assert (result.student_dir / "base" / "config.json").exists()  # evaluation loads the base here
    assert json.loads((result.student_dir / "md_student.json").read_text())["finetune"] == "lora"


def test_saved_student_reloads_with_the_same_outputs(tmp_path):
    from md.inference.hf import load_hf

    student = tiny("tiny-gpt2", tmp_path)
    result = train_steps(student, tmp_path, steps=2)
    model, tok, _ = load_hf(result.student_dir)
    ids = tok(EXAMPLES[0].input, return_tensors="pt").input_ids
    student.model.eval()
    with torch.no_grad():
        assert torch.allclose(model(ids).logits, student.model(input_ids=ids).logits, atol=1e-5)


def test_full_finetuning_trains_every_weight(tmp_path):
    student = tiny("tiny-gpt2", tmp_path, finetune="full")
    before = {n: p.detach().clone() for n, p in student.model.named_parameters()}
    result = train_steps(student, tmp_path, steps=2)
    after = dict(student.model.named_parameters())
    assert all(not torch.equal(before[n], after[n]) for n in before)
    assert (result.student_dir / "model.safetensors").exists()


def test_qlora_4bit_tiny_llama_trains_on_cpu(tmp_path):
    import bitsandbytes as bnb

    student = tiny("tiny-llama", tmp_path, finetune="qlora", compute_dtype="bfloat16",
                   gradient_checkpointing=True)
    layers = [m for m in student.model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert layers and layers[0].weight.quant_type == "nf4"
    assert any(getattr(m, "gradient_checkpointing", False) is True for m in student.model.modules())
    lora0, _ = _snapshot(student.model)
    result = train_steps(student, tmp_path, steps=2)
    lora1, _ = _snapshot(student.model)
    assert any(not torch.equal(lora0[n], lora1[n]) for n in lora0)
    assert torch.isfinite(torch.tensor(result.metrics["train/loss"]))


def test_bad_student_settings_are_one_clear_error(tmp_path):
    with pytest.raises(MDError, match="finetune"):
        tiny("tiny-llama", tmp_path, finetune="prefix")
    with pytest.raises(MDError, match="exactly one"):
        build_student(name="x", pretrained="a", tiny={"model_type": "llama"})
    with pytest.raises(MDError, match="is not a folder"):
        build_student(name="nope", pretrained=str(tmp_path / "no-such-model"))
    with pytest.raises(MDError, match="cannot load student 'nope' from 'no-such-org/no-such-model'"):
        build_student(name="nope", pretrained="no-such-org/no-such-model")  # offline in tests
    with pytest.raises(MDError, match="LoRA setup failed"):
        tiny("tiny-llama", tmp_path, finetune="lora", target_modules=["no_such_proj"])
