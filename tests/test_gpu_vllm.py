"""The vLLM engine on a tiny saved student with its LoRA adapter (GPU only; skipped otherwise).

Run on a CUDA box with vllm installed: pytest tests/test_gpu_vllm.py -m gpu
"""

import pytest

pytest.importorskip("vllm")


@pytest.mark.gpu
def test_vllm_samples_with_the_lora_adapter(tmp_path):
    from md.infer import VLLMGenerator, build_generator
    from md.models.builder import build_student, save_student

    # vLLM needs head_dim in its supported set (64 here) and a vocab it can shard.
    tiny = {"model_type": "llama", "hidden_size": 256, "intermediate_size": 512,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4,
            "max_position_embeddings": 512}
    student = build_student("tiny", tiny=tiny, tokenizer_texts=["Question: 1 2 3", "ans = 3"],
                            vocab_size=512, workdir=str(tmp_path / "w"), lora_r=8, lora_alpha=16,
                            target_modules=["q_proj", "v_proj"])
    folder = save_student(student, tmp_path / "student")
    gen = build_generator("vllm", str(folder), max_new_tokens=8, vllm_gpu_memory_utilization=0.3,
                          vllm_max_lora_rank=8)
    assert isinstance(gen, VLLMGenerator) and gen.lora is not None
    out = gen.sample(["Question: 1 + 2?\nAnswer:", "Question: 3?\nAnswer:"], n=3, temperature=0.7)
    assert [len(row) for row in out] == [3, 3]
    assert all(isinstance(t, str) for row in out for t in row)
    assert len(gen.greedy(["Question: 1?\nAnswer:"])) == 1
