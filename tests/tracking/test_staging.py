"""W&B's staging folder on a real full disk (a 16 KB tmpfs as WANDB_DATA_DIR): the lineage
artifacts and the tables are not logged, one warning each names that folder and WANDB_DATA_DIR,
and the job trains, evaluates and finishes its W&B run with every scalar in it. Before, the job
stopped with "no space left in <the student's folder>": a copy's error names its source first."""

from __future__ import annotations

import json
import shutil

import pytest
from cli_run import md
from mounts import tmpfs
from wandb_records import read_finished_run

from md.config.cli import report_errors

SMOKE = ["experiment=smoke", "logger=wandb", "trainer.max_steps=2", "data.max_test=2",
         "inference.paths=1", "inference.max_new_tokens=8"]


@pytest.mark.slow  # a whole md.train job through the CLI, with W&B
def test_a_full_staging_folder_costs_the_w_and_b_files_not_the_job(tmp_path):
    with tmpfs(tmp_path / "wandb-data", size="16k") as full:
        out = md(tmp_path, *SMOKE, env={"WANDB_DATA_DIR": str(full)})
    assert out.returncode == 0, out.stderr[-3000:]
    warnings = [ln for ln in out.stderr.splitlines() if ln.startswith("warning:")]
    staged = {w.split("W&B staging ")[1].split(" in ")[0] for w in warnings if "W&B staging" in w}
    assert {"the run's lineage artifacts", "the mix's table and chart",
            "the evaluation's tables"} <= staged, warnings
    for line in (w for w in warnings if "W&B staging" in w):
        assert f"in {full / 'artifacts' / 'staging'}:" in line and "WANDB_DATA_DIR" in line, line
        assert str(tmp_path / "runs") not in line and str(tmp_path / "art") not in line, line
    (job,) = [p.parent for p in (tmp_path / "runs").rglob("trained.json")]
    assert json.loads((job / "eval" / "metrics.json").read_text())["accuracy"]
    (run_file,) = job.glob("wandb/offline-run-*/run-*.wandb")
    summary = {u.key or "/".join(u.nested_key) for r in read_finished_run(run_file)
               if r.WhichOneof("record_type") == "summary" for u in r.summary.update}
    assert {"mix/questions", "eval/synthetic/cot_w_pot", "teacher/requests"} <= summary


def test_a_failed_copy_is_blamed_on_the_folder_it_was_writing(tmp_path, capsys):
    """shutil's copy error names the source file first and the target second; the one-line
    error names the target's folder, the full one."""
    source = tmp_path / "student" / "adapter.safetensors"
    source.parent.mkdir()
    source.write_bytes(b"\0" * 200_000)
    with tmpfs(tmp_path / "disk", size="16k") as full:
        code = _exit_code(report_errors(lambda: shutil.copyfile(source, full / "copy")))
    (line,) = capsys.readouterr().err.splitlines()
    assert code == 2 and line.startswith(f"error: no space left in {full} while writing"), line
    assert str(source.parent) not in line


def _exit_code(call) -> int:
    try:
        call()
    except SystemExit as e:
        return e.code
    return 0
