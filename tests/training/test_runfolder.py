"""A run folder belongs to one config; auto-resume goes by step; SIGTERM is a failure.

Before: a used run folder given another λ resumed the other config's checkpoint and vouched for
the hybrid; auto-resume picked checkpoints by file time (an old, future-dated one won) and
skipped a damaged `last.ckpt` silently; a SIGTERMed `md.train` exited 0.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import pytest
from cli_run import _env, md_here, one_error_line

from md.training.checkpoints import resume_from

TINY = ["data.n_train=12", "data.n_test=2", "teacher.n=2", "train.epochs=null",
        "trainer.max_steps=1", "train.evaluate_after=false", "logger=none",
        "trainer.enable_progress_bar=false", "extract.progress=false", "loss=fixed"]


def test_a_used_run_folder_given_another_lambda_is_one_line_before_training(tmp_path):
    run = tmp_path / "run"
    first = md_here(tmp_path, *TINY, "loss.lambda=0.5", f"hydra.run.dir={run}")
    assert first.returncode == 0, first.stderr[-3000:]
    # what the first run left (Lightning at the floor writes no checkpoint for so short a run)
    made = {p.name: p.stat().st_mtime_ns for p in [*run.glob("checkpoints/*"), *run.glob("student/*")]}
    assert made
    line = one_error_line(md_here(tmp_path, *TINY, "loss.lambda=0.25", f"hydra.run.dir={run}"))
    assert f"the run folder {run} was used for another config" in line, line
    assert "loss.lambda: 0.25 here, 0.5 there" in line and "hydra.run.dir" in line
    assert {p.name: p.stat().st_mtime_ns
            for p in [*run.glob("checkpoints/*"), *run.glob("student/*")]} == made


def write_ckpt(path, intact=True):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", b"x" * 1000)
    if not intact:
        path.write_bytes(path.read_bytes()[:200])


def test_auto_resume_takes_the_newest_intact_checkpoint_by_step(tmp_path, capsys):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for name in ("step000100.ckpt", "step000200.ckpt"):
        write_ckpt(folder / name)
    write_ckpt(folder / "last.ckpt", intact=False)
    future = time.time() + 86_400
    os.utime(folder / "step000100.ckpt", (future, future))  # an old one, dated tomorrow
    assert resume_from("auto", folder) == folder / "step000200.ckpt"
    err = capsys.readouterr().err
    assert f"warning: {folder / 'last.ckpt'} is damaged" in err and "skipped it" in err


@pytest.mark.slow  # a real md.train process, killed with SIGTERM mid-training
def test_sigterm_saves_the_steps_done_and_exits_non_zero(tmp_path):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "md.train", *TINY, "loss.lambda=0.5", "trainer.max_steps=100000",
           "train.ckpt_every=1", f"hydra.run.dir={run}", f"paths.artifacts={tmp_path / 'art'}"]
    job = subprocess.Popen(cmd, cwd=tmp_path, env=_env(tmp_path, None), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not list((run / "checkpoints").glob("step*.ckpt")) and time.monotonic() < deadline:
        time.sleep(0.2)
    job.send_signal(signal.SIGTERM)
    _, err = job.communicate(timeout=120)
    assert job.returncode != 0, err[-2000:]
    assert "stopped by SIGTERM at step" in err and "Traceback" not in err, err[-2000:]
    assert (run / "checkpoints" / "last.ckpt").is_file()


def test_a_folder_recorded_by_an_older_md_is_named_as_such(tmp_path):
    from md.errors import MDError
    from md.training.runfolder import RUN_RECORD, claim

    settings = {"loss": {"mode": "fixed", "lambda": 0.5}}
    claim(tmp_path, "new-key", settings)
    record = json.loads((tmp_path / RUN_RECORD).read_text())
    assert record["keyed_by"] == "settings" and record["settings"]["loss.lambda"] == 0.5
    claim(tmp_path, "new-key", settings)  # the same key: this folder is its own
    (tmp_path / RUN_RECORD).write_text(json.dumps({"key": "0123456789abcdef",
                                                   "settings": {"loss.lambda": 0.5}}))
    with pytest.raises(MDError, match="recorded by an older md") as err:
        claim(tmp_path, "new-key", settings)
    assert "delete run.json and trained.json" in str(err.value)
