"""The ensemble row voted from the paths the two students' own evaluations already sampled.

Two evaluations are written the way md.train writes them (`<run>/eval/`, real sandbox) from
students whose answers are scripted; the reused ensemble must score exactly what sampling the
same paths again scores, load no model, and refuse a saved evaluation that does not match.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from md.config import wiring
from md.config.builders import test_problems as load_test_problems
from md.errors import MDError
from md.pipeline.evaluation import evaluate as evaluate_students
from md.settings import CurveSettings, InferenceSettings
from md.stages.evaluate import Students
from md.stages.evaluate import run as evaluate

REPO = Path(__file__).resolve().parents[2]


class Scripted:
    """A student right on one method only; its wrong answers differ from path to path."""

    def __init__(self, right: str, golds: dict[str, float]):
        self.right, self.golds = right, golds

    def _text(self, prompt: str, i: int) -> str:
        method = "pot" if "Let's break down the code" in prompt else "cot"
        gold = next(g for q, g in self.golds.items() if q in prompt)
        answer = f"{gold:g}" if method == self.right else str(1000 + i)
        return f"ans = {answer}" if method == "pot" else f"The answer is {answer}."

    def sample(self, prompts, n, temperature):
        return [[self._text(p, i) for i in range(n)] for p in prompts]

    def greedy(self, prompts):
        return [self._text(p, 99) for p in prompts]


def compose_eval(*overrides: str):
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return compose("evaluate", overrides=["data=synthetic", "data.max_test=4",
                                              "inference.paths=2", "inference.curves.draws=2",
                                              "logger=none", "out_dir=see-the-call", *overrides])


@pytest.fixture(scope="module")
def runs(tmp_path_factory, sandbox):
    """<cot run>/eval and <pot run>/eval, as md.train leaves them, and the students used."""
    root = tmp_path_factory.mktemp("sweep")
    problems = load_test_problems(compose_eval())
    golds = {p.question: p.answer for p in problems}
    students = {"cot": Scripted("cot", golds), "pot": Scripted("pot", golds)}
    for mix, student in students.items():
        evaluate(problems, Students.one(student), sandbox,
                 InferenceSettings(paths=3, curves=CurveSettings(draws=2)), root / mix / "eval")
    return root, problems, students


def test_reused_ensemble_scores_what_sampling_again_scores(runs, sandbox, tmp_path):
    root, problems, students = runs
    cfg = compose_eval("inference.reuse_paths=true")
    reused = evaluate_students(wiring.evaluation(cfg), (root / "cot" / "student", root / "pot" / "student"),
                               tmp_path / "reused")  # the student folders need not even exist
    anew = evaluate(problems, Students(students["cot"], students["pot"]), sandbox,
                    InferenceSettings(paths=2, curves=CurveSettings(draws=2)), tmp_path / "anew")
    assert reused["accuracy"] == anew["accuracy"]
    assert reused["accuracy"]["ensemble"] == reused["accuracy"]["cot"] == 1.0
    assert reused["accuracy"]["pot"] == reused["accuracy"]["greedy_pot"] == 1.0
    assert reused["students"] == "ensemble" and reused["paths_per_method"] == 2
    assert reused["reused_paths_from"] == [str(root / m / "eval") for m in ("cot", "pot")]


def test_reuse_from_names_another_evaluation_of_the_same_students(runs, tmp_path):
    """inference.reuse_from=eval_ood votes the paths of <run>/eval_ood (the same students tested
    on another dataset, written by md.evaluate), not md.train's <run>/eval."""
    root, _, _ = runs
    for mix in ("cot", "pot"):  # the same evaluations under another folder name
        (root / mix / "eval_ood").mkdir(exist_ok=True)
        for f in (root / mix / "eval").iterdir():
            if f.is_file():
                (root / mix / "eval_ood" / f.name).write_bytes(f.read_bytes())
    students = (root / "cot" / "student", root / "pot" / "student")
    cfg = compose_eval("inference.reuse_paths=true", "inference.reuse_from=eval_ood")
    out = evaluate_students(wiring.evaluation(cfg), students, tmp_path / "ood")
    assert out["reused_paths_from"] == [str(root / m / "eval_ood") for m in ("cot", "pot")]
    assert out["accuracy"]["ensemble"] == 1.0
    cfg = compose_eval("inference.reuse_paths=true", "inference.reuse_from=eval_missing")
    with pytest.raises(MDError, match="eval_missing: no finished evaluation"):
        evaluate_students(wiring.evaluation(cfg), students, tmp_path / "missing")


@pytest.mark.parametrize("override, says", [
    ("inference.paths=5", "sampled 3 paths per method, fewer than inference.paths=5"),
    ("inference.temperature=1.0", "not inference.temperature=1.0"),
    ("data.max_test=3", "other test questions"),
])
def test_a_saved_evaluation_that_does_not_match_is_refused(runs, tmp_path, override, says):
    root, _, _ = runs
    cfg = compose_eval("inference.reuse_paths=true", override)
    with pytest.raises(MDError, match=re.escape(says)) as err:
        evaluate_students(wiring.evaluation(cfg), (root / "cot" / "student", root / "pot" / "student"), tmp_path)
    assert "inference.reuse_paths=false" in str(err.value)
    assert not (tmp_path / "metrics.json").exists()


def test_an_unfinished_evaluation_is_never_trusted(runs, tmp_path):
    root, _, _ = runs
    (tmp_path / "cot" / "eval").mkdir(parents=True)
    (tmp_path / "cot" / "eval" / "predictions.jsonl").write_text("")  # killed before metrics
    cfg = compose_eval("inference.reuse_paths=true")
    with pytest.raises(MDError, match="no finished evaluation to reuse"):
        evaluate_students(wiring.evaluation(cfg), (tmp_path / "cot" / "student", root / "pot" / "student"), tmp_path)


def test_ensemble_script_reuses_paths_only_where_both_evaluations_finished(tmp_path):
    for mix in ("cot", "pot"):
        run = tmp_path / "sweep" / mix
        (run / "student").mkdir(parents=True)
        (run / ".hydra").mkdir()
        cfg = compose_eval(f"mix={mix}")
        OmegaConf.save(cfg, run / ".hydra" / "config.yaml")
    script = [sys.executable, str(REPO / "experiments" / "ensemble.py"), str(tmp_path / "sweep"),
              "--dry-run"]
    before = subprocess.run(script, capture_output=True, text=True, check=True).stdout
    for mix in ("cot", "pot"):
        (tmp_path / "sweep" / mix / "eval").mkdir()
        (tmp_path / "sweep" / mix / "eval" / "metrics.json").write_text("{}")
    after = subprocess.run(script, capture_output=True, text=True, check=True).stdout
    resampled = subprocess.run([*script, "--resample"], capture_output=True, text=True,
                               check=True).stdout
    assert "reuse_paths" not in before and "inference.reuse_paths=true" in after
    assert "reuse_paths" not in resampled and "inference.ensemble=" in resampled
