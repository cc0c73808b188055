"""The vLLM engine on tiny saved students with LoRA adapters (GPU only; skipped otherwise).

Run on a CUDA box with vllm installed: pytest tests/inference/test_vllm_engine.py -m gpu
"""

import importlib.util

import pytest

# find_spec, not importorskip: importing vllm at collection would put it in sys.modules of every
# test that follows (tests/inference/test_hf.py checks that md imports it only when selected)
pytestmark = pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vllm is not installed")

# vLLM needs head_dim in its supported set (64 here) and a vocab it can shard.
TINY = {"model_type": "llama", "hidden_size": 256, "intermediate_size": 512,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4,
        "max_position_embeddings": 512}
SETTINGS = {"gpu_memory_utilization": 0.3, "max_lora_rank": 8, "tensor_parallel_size": 1,
            "max_model_len": 512}


def save_tiny(tmp_path, name: str, **knobs):
    from md.models import build_student, save_student

    student = build_student("tiny", tiny=TINY, tokenizer_texts=["Question: 1 2 3", "ans = 3"],
                            vocab_size=512, workdir=str(tmp_path / f"w{name}"), lora_r=8,
                            lora_alpha=16, target_modules=["q_proj", "v_proj"], **knobs)
    return save_student(student, tmp_path / name)


@pytest.mark.gpu
def test_vllm_samples_with_the_lora_adapter(tmp_path):
    from md.inference import build_generator
    from md.inference.vllm_engine import VLLMGenerator

    gen = build_generator("vllm", str(save_tiny(tmp_path, "student")), max_new_tokens=8,
                          vllm=SETTINGS)
    assert isinstance(gen, VLLMGenerator) and gen.lora is not None
    out = gen.sample(["Question: 1 + 2?\nAnswer:", "Question: 3?\nAnswer:"], n=3, temperature=0.7)
    assert [len(row) for row in out] == [3, 3]
    assert all(isinstance(t, str) for row in out for t in row)
    assert len(gen.greedy(["Question: 1?\nAnswer:"])) == 1


@pytest.mark.gpu
def test_an_ensemble_shares_one_engine_with_two_adapters(tmp_path):
    """Two students of one base: one LLM (a second would not fit in memory), two LoRA ids."""
    import json
    import shutil

    from md.inference import build_generator

    cot, pot = save_tiny(tmp_path, "cot"), save_tiny(tmp_path, "pot")
    shutil.rmtree(pot / "base")  # the PoT adapter names the CoT student's base, as two 7B
    config = json.loads((pot / "adapter_config.json").read_text())  # students name one hub id
    config["base_model_name_or_path"] = str(cot / "base")
    (pot / "adapter_config.json").write_text(json.dumps(config))
    a, b = (build_generator("vllm", str(s), max_new_tokens=8, vllm=SETTINGS) for s in (cot, pot))
    assert a.llm is b.llm
    assert a.lora.lora_int_id != b.lora.lora_int_id
    assert [len(r) for r in a.sample(["Question: 1?\nAnswer:"], 2, 0.7)] == [2]
    assert [len(r) for r in b.sample(["Question: 1?\nAnswer:"], 2, 0.7)] == [2]


@pytest.mark.gpu
def test_a_qlora_student_is_served_as_a_lora_adapter_on_the_bf16_base(tmp_path):
    """The paper's students are QLoRA: vLLM has no bitsandbytes 4-bit, so the adapter is served
    on the bf16 base, and metrics.json's student_base says so."""
    from md.inference import build_generator
    from md.inference.vllm_engine import shutdown_engines

    student = save_tiny(tmp_path, "qlora", finetune="qlora", compute_dtype="bfloat16")
    gen = build_generator("vllm", str(student), max_new_tokens=8,
                          vllm={**SETTINGS, "max_lora_rank": 1})  # raised to the adapter's 8
    assert gen.lora is not None
    assert gen.base_weights == ("vllm: bfloat16 base + LoRA adapter, adapter trained on the "
                                "4-bit NF4 base")
    assert [len(r) for r in gen.sample(["Question: 1?\nAnswer:"], 2, 0.7)] == [2]
    shutdown_engines()
