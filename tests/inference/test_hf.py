"""Sampling backends: batched HF generate on a tiny student, loading saved students, vLLM gating."""

import json

import pytest
import torch

from md.errors import MDError
from md.inference import build_generator
from md.inference.hf import HFGenerator, load_hf
from md.models.saved import resolve_student
from md.models.tiny_student import tiny_student


@pytest.fixture(scope="module")
def gen():
    model, tok = tiny_student(hidden=32, layers=1, seed=0)
    return HFGenerator(model, tok, batch_size=6, max_new_tokens=6)


def test_sample_shapes_and_chunking(gen):
    prompts = [f"Question: {i} apples?\nAnswer:" for i in range(5)]
    torch.manual_seed(0)
    out = gen.sample(prompts, n=3, temperature=0.7)  # 2 prompts x 3 per generate call
    assert [len(row) for row in out] == [3] * 5
    assert all(isinstance(t, str) for row in out for t in row)


def test_batched_equals_one_at_a_time_when_greedy(gen):
    prompts = ["Question: Tom has 3 apples.\nAnswer:", "x", "Question: 12 pens?\nAnswer: 1 2 3"]
    batched = gen.greedy(prompts)  # left padding must not change what a row generates
    single = [gen.greedy([p])[0] for p in prompts]
    assert batched == single


def test_sampling_is_seeded_and_varies(gen):
    torch.manual_seed(1)
    a = gen.sample(["Question: 1\nAnswer:"], n=4, temperature=1.0)
    torch.manual_seed(1)
    assert gen.sample(["Question: 1\nAnswer:"], n=4, temperature=1.0) == a
    assert len(set(a[0])) > 1  # four samples of a random model are not all the same


def test_cut_at_next_question():
    from md.prompts import until_next_question as _cut

    assert _cut("ans = 3\nQuestion: what next?") == "ans = 3"
    assert _cut("") == ""


def test_saved_lora_student_round_trip(tmp_path):
    from md.models import build_student, save_student

    tiny = {"model_type": "llama", "hidden_size": 32, "intermediate_size": 64,
            "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 4}
    student = build_student("tiny", tiny=tiny, tokenizer_texts=["Question: 1 2 3", "ans = 3"],
                            vocab_size=300, workdir=str(tmp_path / "w"), lora_r=4, lora_alpha=8)
    folder = save_student(student, tmp_path / "student")
    base, adapter = resolve_student(folder)
    assert base == str(folder / "base") and adapter == str(folder)
    model, tok, _ = load_hf(folder)
    assert type(model).__name__ == "PeftModelForCausalLM"
    gen = build_generator("hf", str(folder), batch_size=4, max_new_tokens=4, device="cpu")
    assert len(gen.sample(["Question: 1\nAnswer:"], 2, 0.7)[0]) == 2


def test_bad_student_folders(tmp_path):
    with pytest.raises(MDError, match="does not exist"):
        resolve_student(tmp_path / "nope")
    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 4}))
    with pytest.raises(MDError, match="names no base model"):
        resolve_student(tmp_path)
    with pytest.raises(MDError, match="unknown inference.engine"):
        build_generator("tgi", str(tmp_path))


def test_vllm_is_imported_only_when_selected(tmp_path):
    import subprocess
    import sys

    # a fresh interpreter: other tests in this worker may have imported vllm on purpose
    probe = "import sys, md.inference, md.inference.hf; print('vllm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr[-2000:]
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(MDError, match="needs vllm"):
            build_generator("vllm", str(tmp_path))
