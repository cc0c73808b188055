"""Every `make bench` module runs at a tiny size and prints its side-by-side figures.

The figures themselves are not asserted (the machines are shared and noisy); what is asserted is
that each benchmark still imports, runs end to end and prints the rows it promises, so none can
rot silently between the runs that people read.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHES = [
    ("sandbox", ["--generated", "20", "--b-sample", "5"],
     ["(a) in-process exec", "(b) fresh python", "(c) md.sandbox.Sandbox", "c/b = "]),
    ("teacher", ["--seconds", "0.3", "--concurrency", "1", "4"], ["concurrency", "req/s"]),
    ("train", ["--steps", "6", "--warmup", "2", "--rounds", "1", "--workdir", "{tmp}"],
     ['"plain_tok_s"', '"lightning_tok_s"', '"lightning_overhead_pct"']),
    ("train", ["--student", "smollm2-135m", "--steps", "2", "--warmup", "1", "--batch-size", "2",
               "--workdir", "{tmp}"],
     ['"+labelled"', '"precision"', "new/fp32 = "]),
    ("generate", ["--questions", "2", "--paths", "2", "--new-tokens", "4", "--repeats", "1"],
     ["batched:", "one at a time:", "speed-up"]),
    ("generate", ["--stop-strings", "--train-steps", "3", "--questions", "2", "--paths", "2",
                  "--new-tokens", "8", "--repeats", "1"],
     ["stop strings during generation:", "cut afterwards:", "(same texts)"]),
    ("adaptive", ["--questions", "20", "--paths", "4"], ["unchangeable", "beta  0.95", "fixed N=4"]),
    ("adaptive_teacher", ["--problems", "40", "--n", "8", "--student-args", "trainer.max_steps=2",
                          "data.max_test=4", "inference.paths=2", "inference.curves.draws=2"],
     ["demo MD student", "trained on the full", "trained on the adaptive", "saved ",
      "types identical for", "mean |Δλ| = "]),
]


@pytest.mark.slow
@pytest.mark.xdist_group("vllm")  # one vLLM engine at a time (tests/inference/test_vllm_cpu.py)
def test_the_engines_benchmark_runs_at_a_tiny_size(tmp_path: Path):
    """HF and vLLM side by side on a SmolLM2 student; skips only where vllm is not installed
    (never in CI: MD_REQUIRE_VLLM=1)."""
    from tests.e2e.test_real_models import vllm_available

    if not vllm_available():
        pytest.skip("vllm is not installed")
    out = subprocess.run([sys.executable, "-m", "md.bench.generate", "--engines", "hf,vllm",
                          "--train-steps", "2", "--questions", "2", "--paths", "2",
                          "--new-tokens", "8"], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "WANDB_MODE": "offline"}, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    # the benchmark's last line; vLLM's engine may still log its shutdown after it, "(Process pid=...) ..."
    last = [ln for ln in out.stdout.strip().splitlines() if not ln.startswith("(")][-1]
    assert last.startswith("vllm/hf = ") and last.endswith("tokens/s)"), last
    assert '"engine": "hf"' in out.stdout and '"engine": "vllm"' in out.stdout


# benchmarks that need a CUDA GPU: on a CPU machine they refuse in one line (tested below)
GPU_BENCHES = ["gpu_check"]


@pytest.mark.slow  # each benchmark trains or samples a tiny student in a process of its own
@pytest.mark.parametrize(("module", "args", "needles"), BENCHES, ids=[b[0] for b in BENCHES])
def test_benchmark_runs_at_a_tiny_size(tmp_path: Path, module, args, needles):
    argv = [a.replace("{tmp}", str(tmp_path / "work")) for a in args]
    env = {**os.environ, "WANDB_MODE": "offline"}
    out = subprocess.run([sys.executable, "-m", f"md.bench.{module}", *argv], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    for needle in needles:
        assert needle in out.stdout, f"{module}: {needle!r} missing from\n{out.stdout[-2000:]}"


def test_make_bench_runs_every_benchmark_module():
    """The Makefile's bench target and this test name the same modules."""
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    bench_modules = {p.stem for p in (Path(__file__).resolve().parents[2] / "md" / "bench").glob("*.py")
                     if "def main" in p.read_text()}
    assert bench_modules == {b[0] for b in BENCHES} | set(GPU_BENCHES)
    assert all(f"md.bench.{m}" in makefile for m in bench_modules)


def test_the_gpu_check_refuses_a_machine_without_cuda_in_one_line(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is visible: make gpu-check runs for real there")
    out = subprocess.run([sys.executable, "-m", "md.bench.gpu_check"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip() == "gpu-check: no CUDA GPU visible; run it on a GPU machine"
