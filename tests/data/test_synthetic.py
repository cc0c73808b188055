"""The synthetic generator: deterministic, disjoint splits, full coverage, steps that give the gold."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from md import data
from md.answers import normalize
from md.data import synthetic
from md.data.synthetic import TAGS, TEMPLATES, solution
from md.errors import MDError
from md.types import Problem, Solution, Step, from_dict, to_dict

SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def run_as_program(sol: Solution):
    """An independent reading of the documented step semantics: write the steps as a Python
    program (as a PoT teacher would) and execute it with float arithmetic."""
    lines = [f"{name} = {value!r}" for name, value in sol.values.items()]
    for step in sol.steps:
        a, b = step.args
        if step.op == "cmp":
            lines.append(f"{step.out} = {sol.labels.get(a)!r} if {a} > {b} else "
                         f"{sol.labels.get(b)!r} if {b} > {a} else {sol.labels['neither']!r}")
        else:
            lines.append(f"{step.out} = {a} {SYMBOL[step.op]} {b}")
    scope: dict = {}
    exec("\n".join(lines), {}, scope)
    return scope[sol.steps[-1].out]


@pytest.fixture(scope="module")
def many():
    """3,000 problems over three seeds (train and test)."""
    return [p for seed in (0, 1, 2) for split in ("train", "test")
            for p in synthetic.load(split, n_train=800, n_test=200, seed=seed)]


def test_every_solution_runs_to_its_gold(many):
    assert len(many) == 3000
    for p in many:
        result = normalize(run_as_program(p.solution))
        assert result == p.answer, (p.id, p.question, result, p.answer)  # exact, no tolerance
        assert solution.evaluate(p.solution) == p.answer


def test_values_are_stated_in_the_question_and_answers_are_exact(many):
    for p in many:
        for name, value in p.solution.values.items():
            shown = {str(int(value))} if float(value).is_integer() else {f"{value:.2f}", f"{value:g}"}
            shown.add(f"{value:.2f}")
            assert any(s in p.question for s in shown), (p.id, name, value, p.question)
        if isinstance(p.answer, float) and "fraction" not in p.solution.tags:
            assert p.answer.is_integer() and p.answer > 0, (p.id, p.answer)


def test_coverage_of_templates_tags_and_text_answers():
    train, test = synthetic.load("train"), synthetic.load("test")
    assert (len(train), len(test)) == (600, 200)
    assert len(TEMPLATES) >= 20
    for split in (train, test):
        assert {p.meta["template"] for p in split} == {t.name for t in TEMPLATES}
        assert {tag for p in split for tag in p.solution.tags} == set(TAGS)
    assert {"large_numbers", "multi_step", "more_fewer", "inverse", "compare", "fraction"} <= set(TAGS)
    answers = Counter(p.answer for p in train)
    assert answers["neither day"] > 0 and answers["first day"] > 0  # cmp text answers, both kinds
    assert any(isinstance(a, float) and not a.is_integer() for a in answers)  # fraction answers
    cmp_steps = [s for p in train for s in p.solution.steps if s.op == "cmp"]
    assert cmp_steps and all(s.op in solution.OP_NAMES for p in train for s in p.solution.steps)


def test_deterministic_and_disjoint():
    a_train, a_test = synthetic.load("train", seed=7), synthetic.load("test", seed=7)
    assert a_train == synthetic.load("train", seed=7) and a_test == synthetic.load("test", seed=7)
    assert synthetic.load("test", seed=8) != a_test
    questions = [p.question for p in a_train + a_test]
    assert len(set(questions)) == len(questions), "no question twice, within or across splits"
    # the test split does not depend on n_train
    assert synthetic.load("test", n_train=50, seed=7) == a_test
    assert len({p.id for p in a_train + a_test}) == 800


def test_records_round_trip_through_json():
    for p in synthetic.load("test", n_test=40):
        assert from_dict(Problem, json.loads(json.dumps(to_dict(p)))) == p


def test_malformed_solutions_raise():
    values = {"a": 1, "b": 0}
    with pytest.raises(ValueError, match="division by zero"):
        solution.evaluate(Solution(values, (Step("div", ("a", "b"), "x"),)))
    with pytest.raises(ValueError, match="unknown quantity 'c'"):
        solution.evaluate(Solution(values, (Step("add", ("a", "c"), "x"),)))
    with pytest.raises(ValueError, match="no label"):
        solution.evaluate(Solution(values, (Step("cmp", ("a", "b"), "x"),)))
    assert solution.evaluate(Solution({"a": 2, "b": 2}, (Step("cmp", ("a", "b"), "x"),),
                                      labels={"neither": "Neither day"})) == "neither day"


def test_user_errors():
    with pytest.raises(MDError, match="data.path=null"):
        synthetic.load("train", path="/some/folder")
    with pytest.raises(MDError, match=">= 0"):
        synthetic.load("test", n_test=-1)


def test_select_is_nested_deterministic_and_ordered():
    train = synthetic.load("train")
    s20, s40 = data.select(train, 0.2), data.select(train, 0.4)
    assert (len(s20), len(s40)) == (120, 240)
    ids20, ids40 = [p.id for p in s20], [p.id for p in s40]
    assert set(ids20) <= set(ids40) and s20 == data.select(train, 0.2)
    index = {p.id: i for i, p in enumerate(train)}
    assert [index[i] for i in ids40] == sorted(index[i] for i in ids40)  # original order kept
    assert len(data.select(train, 0.5, limit=10)) == 10 and data.select(train, 1.0) == train
    with pytest.raises(MDError, match="train_fraction"):
        data.select(train, 0.0)
    split = data.load_split("synthetic", "train", train_fraction=0.2, max_train=100, n_train=600)
    assert len(split) == 100 and {p.id for p in split} <= set(ids20)
    assert len(data.load_split("synthetic", "test", max_test=30)) == 30
