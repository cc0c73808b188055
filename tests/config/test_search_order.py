"""Config search order as documented: a user's folder first, in Hydra's job and md's pre-check.

Before, Hydra's job put the packaged configs first, so a user's student/tiny-llama.yaml shadowing the packaged
one was silently ignored while the pre-check composed with the user's folder first; a glob(...)
sweep skipped the pre-check; a sweep job's traceback was swallowed when a later job stopped the
sweep with a one-line error.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from cli_run import md, md_here

REPO = Path(__file__).resolve().parents[2]


def user_student(folder: Path, name: str, old: str, new: str) -> None:
    (folder / "student").mkdir(parents=True, exist_ok=True)
    packaged = (REPO / "conf" / "student" / "tiny-llama.yaml").read_text()
    assert old in packaged
    (folder / "student" / f"{name}.yaml").write_text(packaged.replace(old, new))


def test_a_users_config_shadows_the_packaged_one_in_the_job(tmp_path):
    mine = tmp_path / "my-conf"
    user_student(mine, "tiny-llama", "name: tiny-llama", "name: mine")
    for how in ({"env": {"MD_CONFIG_DIR": str(mine)}}, {"args": ("--config-dir", str(mine))}):
        out = md_here(tmp_path, *how.get("args", ()), "--cfg", "job", "student=tiny-llama",
                      env=how.get("env"))
        assert out.returncode == 0, out.stderr[-2000:]
        assert yaml.safe_load(out.stdout)["student"]["name"] == "mine"


def test_a_glob_sweep_goes_through_the_pre_check(tmp_path):
    mine = tmp_path / "my-conf"
    user_student(mine, "tiny-broken", "finetune: full", "finetune: bogus")
    out = md_here(tmp_path, "-m", "student=glob(tiny-b*)", env={"MD_CONFIG_DIR": str(mine)})
    assert out.returncode == 2
    assert out.stderr.strip() == "error: student.finetune='bogus': must be one of full, lora, qlora"
    assert not (tmp_path / "runs").exists()


def test_a_failed_sweep_job_is_shown_when_a_later_job_stops_the_sweep(tmp_path):
    mine = tmp_path / "my-conf" / "data"
    mine.mkdir(parents=True)
    (tmp_path / "my_loaders.py").write_text(
        "from md.errors import MDError\n"
        "def boom(split, path=None):\n    raise ZeroDivisionError('the first job broke')\n"
        "def stop(split, path=None):\n    raise MDError('the second job stops the sweep')\n")
    for name in ("boom", "stop"):
        (mine / f"{name}.yaml").write_text(f"_target_: my_loaders.{name}\nname: {name}\n")
    path = os.pathsep.join([str(tmp_path), str(REPO), os.environ.get("PYTHONPATH", "")])
    (tmp_path / "thoughts.jsonl").write_text("")
    out = md(tmp_path, "-m", "data=boom,stop", "teacher=replay",
             f"teacher.path={tmp_path / 'thoughts.jsonl'}", stage="data", timeout=120,
             env={"MD_CONFIG_DIR": str(tmp_path / "my-conf"), "PYTHONPATH": path})
    assert out.returncode == 2, out.stderr[-2000:]
    assert "ZeroDivisionError: the first job broke" in out.stderr
    assert out.stderr.strip().endswith("error: the second job stops the sweep")
