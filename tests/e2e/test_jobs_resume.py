"""Jobs that come back through the real CLI: md.train killed (kill -9) during its closing
evaluation and rerun in the same run folder does not train again and resumes the evaluation,
whose result equals an uninterrupted evaluation of the same student byte for byte; a 3-job
sweep relaunched into its own sweep folder trains only the job that had not finished."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from cli_run import _env, md

# 6 test questions, 3 paths each, 3 sequences per generate call: one prompt per journal line
# while sampling, three while decoding greedily (1 + 6 + 6 + 2 + 2 = 17 lines)
SMOKE = ["experiment=smoke", "inference.resume_every=1", "inference.batch_size=3",
         "inference.max_new_tokens=48"]


@pytest.mark.slow
def test_md_train_killed_in_its_evaluation_reruns_without_training(tmp_path):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "md.train", *SMOKE, f"hydra.run.dir={run}",
           f"paths.artifacts={tmp_path / 'art'}"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=_env(tmp_path, None), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = run / "eval" / "sampling.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if journal.exists() and len(journal.read_bytes().splitlines()) >= 9:  # about half
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    assert proc.wait() == -signal.SIGKILL, "the evaluation ended before it could be killed"
    assert 9 <= len(journal.read_bytes().splitlines()) < 17  # killed mid-sampling
    assert not (run / "eval" / "metrics.json").exists()
    trained_at = (run / "trained.json").stat().st_mtime_ns
    again = subprocess.run(cmd, cwd=tmp_path, env=_env(tmp_path, None), capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "not training it again" in again.stderr and "resuming from" in again.stderr
    assert (run / "trained.json").stat().st_mtime_ns == trained_at
    whole = md(tmp_path, *SMOKE, f"student_dir={run / 'student'}", f"out_dir={tmp_path / 'whole'}",
               stage="evaluate")
    assert whole.returncode == 0, whole.stderr[-3000:]
    for name in ("predictions.jsonl", "curves.json"):
        assert (run / "eval" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()


@pytest.mark.slow
def test_a_relaunched_sweep_trains_only_the_unfinished_job(tmp_path):
    sweep = tmp_path / "sweep"
    args = ["-m", "experiment=smoke", "loss=fixed", "loss.lambda=0,0.5,1", "data.max_test=2",
            "inference.paths=1", "inference.max_new_tokens=8", f"hydra.sweep.dir={sweep}"]
    first = md(tmp_path, *args)
    assert first.returncode == 0, first.stderr[-3000:]
    for name in ("trained.json", "student/md_student.json"):
        (sweep / "2" / name).unlink()  # job 2 was killed before its first checkpoint
    shutil.rmtree(sweep / "2" / "checkpoints")
    finished = {job: (sweep / job / "trained.json").stat().st_mtime_ns for job in ("0", "1")}
    again = md(tmp_path, *args)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stderr.count("not training it again") == 2
    assert again.stderr.count("not sampling it again") == 2  # finished jobs are skipped whole
    assert {job: (sweep / job / "trained.json").stat().st_mtime_ns for job in ("0", "1")} == finished
    assert (sweep / "2" / "trained.json").exists() and (sweep / "2" / "student" / "md_student.json").exists()
