"""A program's execution environment travels with it (md.sandbox.preamble), on real data.

Faithful-CoT's programs assume its solver preamble (sympy, math, `solve_it`) and leave their
answer in `answer`: judged bare, many fail with NameError, and one that keeps an intermediate in
`result` is read by it. The environment enters the execute artifact's key (not the extract
key), a student trained on such programs records it in md_student.json and its evaluation runs
its PoT paths in it (metrics.json says so); a student trained on preamble-free programs gets none.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_run import md_here
from hydra import compose, initialize_config_dir

from md import data, pipeline
from md.config import wiring
from md.errors import MDError
from md.sandbox.preamble import Preamble, of_record, read, with_preamble
from md.stages import execute
from md.teacher.faithful_cot import build_faithful_cot_teacher

REPO = Path(__file__).resolve().parents[2]


def faithful(shared_data: Path) -> Path:
    return shared_data / "teacher_outputs" / "faithful_cot"


def panel_env(shared_data: Path) -> Preamble:
    return read(faithful(shared_data) / "solver_prefix.txt", "answer")


def test_the_panels_programs_are_judged_in_their_environment(shared_data, sandbox):
    problems = data.load("svamp", "train", str(shared_data / "svamp"))
    teacher = build_faithful_cot_teacher(str(faithful(shared_data)), "svamp", ["code-davinci-002"],
                                         str(shared_data / "svamp"))
    thoughts = [t for t in teacher.thoughts_for(problems) if t.method == "pot"]
    by_id = {p.id: p for p in problems}
    bare = execute.judge(by_id, thoughts, sandbox, progress=False)
    env = execute.judge(by_id, thoughts, sandbox, progress=False, preamble=panel_env(shared_data))
    names = sum("NameError" in (j.error or "") for j in bare)
    print(f"\ncode-davinci-002 on 700 SVAMP: {names} NameErrors bare, right "
          f"{sum(j.correct for j in bare)} bare / {sum(j.correct for j in env)} in the environment")
    assert names >= 10 and not any("NameError: name 'solve_it'" in (j.error or "") for j in env)
    assert sum(j.correct for j in env) > sum(j.correct for j in bare)
    assert [j.text for j in env] == [t.text for t in thoughts]  # the recorded program is as written


def test_the_answer_variable_is_read_before_mds_own_conventions(sandbox):
    program = "result = 19\nnum = (result - 5) - 3\nanswer = num"  # ASDiv, gpt-3.5-turbo, id 1463
    assert sandbox.run([program])[0].answer == 19.0  # md's own order: ans, result, answer
    env = Preamble("", "answer")
    assert with_preamble(sandbox, env).run([program])[0].answer == 11.0
    assert with_preamble(sandbox, env).run(["ans = 4"])[0].answer == 4.0  # no `answer`: as before
    assert with_preamble(sandbox, Preamble()) is sandbox and not Preamble()


def test_bad_preamble_settings_are_one_line(tmp_path):
    with pytest.raises(MDError, match=r"teacher.preamble=.*nope.py: cannot read it"):
        read(tmp_path / "nope.py")
    with pytest.raises(MDError, match=r"teacher.answer_variable='the answer' is not a Python"):
        read(None, "the answer")
    with pytest.raises(MDError, match=r"a recorded preamble must be"):
        of_record("from math import *")
    assert of_record(None) == Preamble() and of_record(Preamble("x = 1", "a").record()).answer == "a"


def keys(tmp_path: Path, shared_data: Path, *overrides: str) -> tuple[str, str]:
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=["data=svamp", f"data.path={shared_data / 'svamp'}",
                                          "teacher=faithful_cot", f"paths.artifacts={tmp_path}",
                                          f"teacher.path={faithful(shared_data)}", *overrides])
    plan = wiring.plan(cfg)
    return pipeline.extract_artifact(plan).key, pipeline.execute_artifact(plan).key


def test_the_environment_keys_the_judging_not_the_thoughts(tmp_path, shared_data):
    base = keys(tmp_path, shared_data)
    bare = keys(tmp_path, shared_data, "teacher.preamble=null")
    other = tmp_path / "prefix.py"
    other.write_text(panel_env(shared_data).text + "\nx = 1\n")
    edited = keys(tmp_path, shared_data, f"teacher.preamble={other}")
    no_answer = keys(tmp_path, shared_data, "teacher.answer_variable=null")
    assert base[0] == bare[0] == edited[0] == no_answer[0]  # the same thoughts
    assert len({base[1], bare[1], edited[1], no_answer[1]}) == 4  # judged four ways


def train_tiny(tmp_path: Path, shared_data: Path, name: str, *teacher: str):
    out = md_here(tmp_path / name, "data=svamp", f"data.path={shared_data / 'svamp'}", *teacher,
                  "mix=pot", "student=tiny-llama", "data.max_train=12", "data.max_test=2",
                  "train.epochs=null", "trainer.max_steps=1", "inference.paths=1",
                  "inference.max_new_tokens=8", "inference.curves.draws=1", "logger=none",
                  "trainer.enable_progress_bar=false", f"hydra.run.dir={tmp_path / name / 'run'}")
    assert out.returncode == 0, out.stderr[-3000:]
    run = tmp_path / name / "run"
    return (json.loads((run / "student" / "md_student.json").read_text()),
            json.loads((run / "eval" / "metrics.json").read_text()))


@pytest.mark.slow  # two tiny students trained and evaluated through md.train
def test_a_student_of_the_panels_programs_is_evaluated_in_their_environment(tmp_path, shared_data):
    (tmp_path / "panel").mkdir()
    (tmp_path / "bare").mkdir()
    manifest, metrics = train_tiny(tmp_path, shared_data, "panel", "teacher=faithful_cot",
                                   f"teacher.path={faithful(shared_data)}")
    assert manifest["preamble"] == panel_env(shared_data).record()
    assert "def solve_it" in manifest["preamble"]["text"]
    assert metrics["pot_preamble"] == manifest["preamble"]  # its PoT paths ran in it
    manifest, metrics = train_tiny(tmp_path, shared_data, "bare", "teacher=published",
                                   f"teacher.path={shared_data / 'teacher_outputs'}")
    assert manifest["preamble"] is None and metrics["pot_preamble"] is None
