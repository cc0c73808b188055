"""The evaluate stage end to end on tiny random students, with the real sandbox: every method,
the table and the plot, provenance in predictions.jsonl, garbage and hostile programs survived."""

import json

import pytest

from md import jsonl
from md.inference.hf import HFGenerator
from md.models.tiny_student import tiny_student
from md.settings import CurveSettings, InferenceSettings, StopSettings
from md.stages.evaluate import Students, run
from md.types import Prediction, Problem


class Scripted:
    """A student whose completions are fixed strings: hostile and malformed model output."""

    def __init__(self, cot, pot):
        self.texts = {"Let's think step by step.": cot, "Let's break down the code": pot}

    def _pick(self, prompt):
        return next(v for k, v in self.texts.items() if k in prompt)

    def sample(self, prompts, n, temperature):
        return [[self._pick(p)[i % len(self._pick(p))] for i in range(n)] for p in prompts]

    def greedy(self, prompts):
        return [self._pick(p)[0] for p in prompts]


PROBLEMS = [Problem(f"q{i}", "synthetic", "test", f"Tom has {i} apples and buys 2 more. How many?",
                    float(i + 2)) for i in range(3)]


def test_tiny_student_every_method_table_and_plot(tmp_path, sandbox):
    model, tok = tiny_student(hidden=32, layers=1, seed=0)
    gen = HFGenerator(model, tok, batch_size=16, max_new_tokens=8)
    metrics = run(PROBLEMS, Students.one(gen), sandbox,
                  InferenceSettings(paths=3, curves=CurveSettings(draws=4)), tmp_path)
    assert set(metrics["accuracy"]) == {"cot", "pot", "cot_w_pot", "cascade", "greedy_cot",
                                        "greedy_pot", "cot_flexible", "cot_w_pot_flexible"}
    preds = jsonl.read_all(tmp_path / "predictions.jsonl", Prediction)
    assert [p.problem_id for p in preds] == ["q0", "q1", "q2"]
    assert all(len(p.paths) == 3 + 3 + 2 for p in preds)  # sampled CoT, PoT, 2 greedy
    assert json.loads((tmp_path / "metrics.json").read_text())["questions"] == 3
    table = (tmp_path / "curves.md").read_text()
    assert all(f"| {m} |" in table for m in ("cot", "pot", "cot_w_pot", "cascade"))
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert metrics["adaptive"]["n_max"] == 3


def test_garbage_and_hostile_programs_and_ensemble(tmp_path, sandbox):
    cot = Scripted(["", "\x00\ufffd garbage", "So 3 + 2 = 5. The answer is 5."], [""])
    pot = Scripted([""], ["while True: pass", "import os; os.system('touch /tmp/x'); ans = 1",
                          "ans = 2 + ", "x = [1] * 10**10", "ans = 4"])
    metrics = run(PROBLEMS, Students(cot, pot), sandbox,
                  InferenceSettings(paths=5, curves=CurveSettings(draws=3)), tmp_path)
    assert metrics["accuracy"]["ensemble"] == metrics["accuracy"]["cot_w_pot"]
    pred = jsonl.read_all(tmp_path / "predictions.jsonl", Prediction)[1]  # gold 3.0
    pot_status = [p.status for p in pred.paths if p.method == "pot" and not p.greedy]
    assert pot_status[0] == "timeout" and pot_status[2] == "error" and pot_status[4] == "ok"
    assert pred.votes["cot"] == 5.0 and pred.correct["cot"] is False
    assert pred.votes["cascade"] is None  # PoT 0 timed out, so CoT 0 ("") decides: no answer
    assert pred.votes["greedy_pot"] is None


class Recording(Scripted):
    """Question q0 never settles (CoT says 1, PoT says 2); the others agree on 3 at once.
    Records (prompts, paths per prompt) of every sampling call."""

    def __init__(self):
        super().__init__(["The answer is 3."], ["ans = 3"])
        self.calls = []

    def sample(self, prompts, n, temperature):
        self.calls.append((len(prompts), n))
        split = {"Let's think step by step.": "The answer is 1.",
                 "Let's break down the code": "ans = 2"}
        return [[next(v for k, v in split.items() if k in p)] * n if "Tom has 0 " in p
                else super(Recording, self).sample([p], n, temperature)[0] for p in prompts]


def test_live_adaptive_samples_in_rounds_and_only_for_open_questions(tmp_path, sandbox):
    student = Recording()
    inference = InferenceSettings(paths=6, greedy=False, curves=CurveSettings(draws=2),
                                  adaptive=StopSettings(live=True))
    metrics = run(PROBLEMS, Students.one(student), sandbox, inference, tmp_path)
    live = metrics["adaptive_live"]
    assert student.calls[:2] == [(3, 6), (3, 6)]  # the fixed-N run: CoT, then PoT
    # Live: q1 and q2 are unanimous, so the beta rule stops them after 2 rounds (4 paths);
    # q0 stays a 1-vs-1 tie and is the only question sampled in rounds 3-6.
    assert student.calls[2:] == [(3, 1)] * 4 + [(1, 1)] * 8
    assert live["mean_paths"] == pytest.approx((12 + 4 + 4) / 3) and live["fixed_paths"] == 12
    assert live["accuracy"] == live["fixed_accuracy"] == pytest.approx(1 / 3)  # q1: gold 3
    assert live["seconds"] > 0 and live["fixed_seconds"] > 0
    assert json.loads((tmp_path / "metrics.json").read_text())["adaptive_live"] == live


def test_evaluate_config_composes_and_rejects_unknown_keys():
    from hydra import compose, initialize_config_dir
    from hydra.errors import ConfigCompositionException

    from md.config.cli import CONFIG_DIR

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("evaluate", overrides=["inference.paths=4", "student_dir=x"])
        assert cfg.inference.paths == 4 and cfg.inference.engine == "auto"
        assert cfg.inference.ensemble is None and cfg.inference.adaptive.rule == "beta"
        with pytest.raises(ConfigCompositionException):
            compose("evaluate", overrides=["inference.pathz=4"])


def test_a_single_method_student_is_sampled_and_scored_in_its_method_only(tmp_path, sandbox):
    """A CoT-distilled student is not asked for programs: no PoT path, no PoT-based number."""
    cot = Scripted(["5 + 2 = 7. The answer is 7."], ["ans = 1"])
    metrics = run(PROBLEMS, Students.one(cot, methods=("cot",)), sandbox,
                  InferenceSettings(paths=2, curves=CurveSettings(draws=2)), tmp_path / "cot")
    assert set(metrics["accuracy"]) == {"cot", "cot_flexible", "greedy_cot"}
    assert metrics["sampled_methods"] == ["cot"] and metrics["pot_status"] == {}
    pot = Scripted(["The answer is 1."], ["ans = 7"])
    metrics = run(PROBLEMS, Students.one(pot, methods=("pot",)), sandbox,
                  InferenceSettings(paths=2, curves=CurveSettings(draws=2)), tmp_path / "pot")
    assert set(metrics["accuracy"]) == {"pot", "greedy_pot"}
    assert metrics["pot_status"] == {"ok": 6}  # 3 questions x 2 sampled paths, all programs run
    lines = (tmp_path / "pot" / "predictions.jsonl").read_text().splitlines()
    assert all(p["method"] == "pot" for line in lines for p in json.loads(line)["paths"])
