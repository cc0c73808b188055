"""Accuracy-vs-N curves from one run: exact values on constructed paths, table and plot."""

import pytest

from md.evaluation import curves
from md.types import ReasoningPath


def q(cot_answers, pot_answers):
    return [ReasoningPath("cot", "", "ok", a) for a in cot_answers] + [
        ReasoningPath("pot", "", "ok" if a is not None else "error", a) for a in pot_answers]


def test_curve_values_match_hand_computation():
    # Question A: 1 of 2 CoT right, both PoT right. Question B: nothing right.
    lists = [q([1.0, 2.0], [1.0, 1.0]), q([3.0, 3.0], [None, 4.0])]
    c = curves.accuracy_curves(lists, [1.0, 9.0], draws=400, seed=0)
    m = c["methods"]
    assert c["n"] == [1, 2]
    # n=1: CoT right half the time on A -> (0.5 + 0) / 2; n=2: a 1-1 tie goes to the first,
    # still right half the time over random orders.
    assert m["cot"]["accuracy"] == pytest.approx([0.25, 0.25], abs=0.04)
    assert m["pot"]["accuracy"] == [0.5, 0.5]
    assert m["cot_w_pot"]["total_paths"] == [2, 4]
    # n=1 concat on A: [c, p] with p right: right unless c=2 comes first and wins the tie.
    assert m["cot_w_pot"]["accuracy"] == pytest.approx([0.25, 0.5], abs=0.04)
    assert m["cascade"]["accuracy"] == [0.5]  # A: PoT always runs and is right
    # A always stops after its PoT (1 path); B needs the CoT whenever its None program is drawn.
    assert m["cascade"]["total_paths"] == [pytest.approx(1.25, abs=0.05)]
    lo, hi = m["pot"]["ci_low"][0], m["pot"]["ci_high"][0]
    assert lo < 0.5 < hi  # two questions, one right: a wide interval


def test_all_right_has_a_degenerate_interval_and_curves_are_seeded():
    lists = [q([5.0] * 4, [5.0] * 4)] * 3
    c = curves.accuracy_curves(lists, [5.0] * 3, draws=3)
    assert c["methods"]["cot_w_pot"]["accuracy"] == [1.0] * 4
    assert c["methods"]["cot"]["ci_low"] == [1.0] * 4
    noisy = [q([1.0, 2.0, 1.0], [2.0, 1.0, 3.0])] * 4
    assert curves.accuracy_curves(noisy, [1.0] * 4, seed=3) == curves.accuracy_curves(
        noisy, [1.0] * 4, seed=3)


def test_table_and_plot(tmp_path):
    lists = [q([1.0, 2.0, 1.0], [1.0, None, 1.0]), q([2.0, 2.0, 2.0], [3.0, 3.0, 2.0])]
    c = curves.accuracy_curves(lists, [1.0, 2.0], draws=5)
    text = curves.table(c, columns=(1, 2, 3, 6))
    lines = text.splitlines()
    assert lines[0] == "| method | N=1 | N=2 | N=3 | N=6 |"
    assert lines[2].startswith("| cot | ") and lines[-1].startswith("| cascade |  | ")
    assert lines[4].split("|")[2].strip() == ""  # cot_w_pot has no N=1 (one path per method)
    curves.plot(c, tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_no_questions():
    assert curves.accuracy_curves([], [])["methods"] == {}


def test_fast_winner_agrees_with_majority_vote():
    import random

    from md.answers import answer_key, majority_vote

    rng = random.Random(0)
    pool = [1.0, 2.0, 2.0000000001, "neither day", True, None, 3.0]
    for _ in range(300):
        answers = [rng.choice(pool) for _ in range(rng.randint(0, 7))]
        assert curves._winner([answer_key(a) for a in answers]) == answer_key(majority_vote(answers))
