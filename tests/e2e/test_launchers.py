"""The launcher presets: `hydra/launcher=slurm` composes into a submitit job array with one task
per GPU, and `hydra/launcher=parallel` really runs a sweep's jobs as parallel processes.

Both need the `sweep` extra (hydra-submitit-launcher, hydra-joblib-launcher), which `make
install` includes; an environment without it (the floor-version run) skips them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

REPO = Path(__file__).resolve().parents[2]


def test_slurm_preset_is_a_job_array_with_one_task_per_gpu():
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=["hydra/launcher=slurm", "hydra.launcher.gpus_per_node=4",
                                          "trainer=ddp", "trainer.devices=4"],
                      return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert launcher.tasks_per_node == 4 and launcher.nodes == 1 and launcher.array_parallelism == 16
    assert launcher.partition == os.environ.get("MD_SLURM_PARTITION", "gpu")
    assert cfg.trainer.num_nodes == 1 and cfg.trainer.strategy == "ddp"


@pytest.mark.slow
def test_parallel_preset_runs_two_trainings_at_once(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
    env = {**os.environ, "WANDB_MODE": "offline", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    common = ["experiment=smoke", f"paths.artifacts={tmp_path / 'art'}"]
    # the teacher once, before the jobs (as the README says for SLURM): they find its artifacts
    subprocess.run([sys.executable, "-m", "md.mix", *common], cwd=tmp_path, env=env, check=True,
                   capture_output=True, timeout=600)
    out = subprocess.run(
        [sys.executable, "-m", "md.train", "-m", *common, "hydra/launcher=parallel",
         "loss=fixed", "loss.lambda=0,1", f"paths.runs={tmp_path / 'runs'}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    assert "Joblib.Parallel(n_jobs=2" in out.stdout  # Hydra logs the launcher it used
    evaluations = sorted((tmp_path / "runs").glob("**/eval/metrics.json"))
    assert len(evaluations) == 2
    assert all(json.loads(p.read_text())["questions"] == 6 for p in evaluations)


def test_the_slurm_preset_requeues_a_timed_out_job_that_resumes():
    """A job past its time limit is requeued (submitit's max_num_timeout) and reruns the same
    job in the same run folder, where train.ckpt_path=auto resumes from its newest checkpoint
    (tests/e2e/test_training_resume.py runs that resume)."""
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")  # the `sweep` extra
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=["hydra/launcher=slurm"], return_hydra_config=True)
    assert cfg.hydra.launcher.max_num_timeout >= 1 and cfg.hydra.launcher.timeout_min == 1440
    assert cfg.train.ckpt_path == "auto"
    base = OmegaConf.load(REPO / "conf" / "base.yaml")
    sweep = OmegaConf.to_container(base.hydra.sweep, resolve=False)
    assert sweep["subdir"] == "${hydra:job.num}"  # a job's folder is the same on requeue
