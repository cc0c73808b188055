"""Data-parallel training through `python -m md.train`, two real processes on CPU (gloo).

The command a user types for DDP, on the smoke experiment: Lightning starts the second rank as a
subprocess and both join one gloo process group. What must hold: no rank fails, rank 0 alone
saves the student (the other waits at a barrier instead of reading a half-written folder),
evaluation runs once, and the two ranks' trained weights are identical before saving.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_two_cpu_processes_train_save_once_and_evaluate_once(tmp_path: Path):
    env = {**os.environ, "WANDB_MODE": "offline", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "md.train", "experiment=smoke", "trainer=ddp",
           "trainer.accelerator=cpu", "trainer.devices=2", "trainer.precision=32-true",
           "trainer.enable_progress_bar=false", "train.val_fraction=0.1",  # fewer val batches than ranks
           f"hydra.run.dir={run}", f"paths.artifacts={tmp_path / 'art'}"]
    out = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    assert "Traceback" not in log and "Connection closed" not in log, log[-4000:]

    # the weight check gathers through the strategy at train end, before teardown moves the
    # module to the CPU: the same code path NCCL takes on GPUs (md.training.replicas)
    assert "replicas: trainable weights identical on 2 ranks (gathered on cpu by the strategy " \
           "at train end)" in log, log[-4000:]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["weights_equal_across_ranks"] == 1.0
    assert metrics["step"] == 6 and "val/loss" in metrics
    assert [p.name for p in run.glob("**/md_student.json")] == ["md_student.json"]  # one student
    assert (run / "student" / "adapter_model.safetensors").exists()
    evaluations = sorted(p.parent for p in run.glob("**/metrics.json") if p.parent != run)
    assert evaluations == [run / "eval"]  # evaluated once, by rank 0
    assert json.loads((run / "eval" / "metrics.json").read_text())["questions"] == 6
    assert log.count("student saved to") == 1
