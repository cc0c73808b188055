"""Adaptive consistency: the stopping rules and the round loop on recorded paths."""

import pytest

from md.errors import MDError
from md.evaluation import adaptive
from md.evaluation.adaptive import StopRule, beta_confidence, should_stop
from md.types import ReasoningPath


def q(cot_answers, pot_answers):
    return [ReasoningPath("cot", "", "ok", a) for a in cot_answers] + [
        ReasoningPath("pot", "", "ok", a) for a in pot_answers]


def test_beta_confidence_matches_closed_forms():
    assert beta_confidence(0, 0) == 0.5  # uniform prior: a coin flip
    assert beta_confidence(3, 0) == 1 - 1 / 16  # P(p > 1/2), p ~ Beta(4, 1) = 1 - 0.5**4
    assert beta_confidence(4, 0) == 1 - 1 / 32
    assert beta_confidence(2, 2) == pytest.approx(0.5)
    assert beta_confidence(7, 1) > beta_confidence(6, 1) > beta_confidence(6, 2)


def test_unchangeable_stops_exactly_when_the_winner_is_fixed():
    rule = StopRule("unchangeable")
    assert should_stop([1.0, 1.0, 1.0], remaining=2, rule=rule)  # 3 vs at most 0 + 2
    assert not should_stop([1.0, 1.0, 1.0], remaining=3, rule=rule)  # 3 new could tie (and win)
    assert not should_stop([1.0, 1.0, 2.0], remaining=1, rule=rule)  # 2 vs 1 + 1: a tie
    assert should_stop([1.0, 1.0, 2.0, None], remaining=0, rule=rule)
    assert not should_stop([None, None], remaining=1, rule=rule)


def test_beta_rule_and_fixed():
    beta = StopRule("beta", threshold=0.95)
    assert not should_stop([2.0] * 3, remaining=30, rule=beta)  # 0.9375 < 0.95
    assert should_stop([2.0] * 4, remaining=30, rule=beta)  # 0.969
    assert not should_stop([2.0] * 4 + [3.0] * 2, remaining=30, rule=beta)
    assert not should_stop([None] * 9, remaining=30, rule=beta)
    assert not should_stop([2.0] * 9, remaining=1, rule=StopRule("fixed"))
    with pytest.raises(MDError, match="unknown adaptive rule"):
        StopRule("sometimes")


def test_rounds_stop_each_question_on_its_own():
    easy = q([7.0] * 10, [7.0] * 10)  # unanimous: stops after 2 rounds = 4 paths
    hard = q([1.0, 2.0] * 5, [2.0, 1.0] * 5)  # never confident: uses all 20
    out = adaptive.evaluate([easy, hard], [7.0, 1.0], StopRule("beta", 0.95), n_max=10)
    assert out["mean_paths"] == (4 + 20) / 2 and out["fixed_paths"] == 20
    assert out["accuracy"] == out["fixed_accuracy"] == 1.0  # hard: 10-10 tie, CoT's 1 first
    assert out["saving"] == pytest.approx(1 - 12 / 20)


def test_unchangeable_replay_equals_fixed_accuracy():
    lists = [q([1.0, 1.0, 2.0, 1.0, 3.0, 1.0], [1.0, 2.0, 2.0, 2.0, 2.0, 1.0]),
             q([4.0] * 6, [5.0, 4.0, 4.0, 5.0, 4.0, 4.0]),
             q([None] * 6, [6.0, None, 6.0, 7.0, 7.0, 7.0])]
    golds = [1.0, 4.0, 7.0]
    # Question 2 is settled after 5 rounds of 1 (8 vs 2 with 2 paths left), never mid-round of 2.
    for size, mean in ((1, (12 + 10 + 12) / 3), (2, 12)):
        out = adaptive.evaluate(lists, golds, StopRule("unchangeable"), 6, round_size=size)
        assert out["accuracy"] == out["fixed_accuracy"]
        assert out["mean_paths"] == pytest.approx(mean)
    fixed = adaptive.evaluate(lists, golds, StopRule("fixed"), 6)
    assert fixed["mean_paths"] == fixed["fixed_paths"] == 12 and fixed["saving"] == 0


def test_single_method_rounds():
    lists = [q([3.0] * 8, [9.0] * 8)]
    out = adaptive.evaluate(lists, [3.0], StopRule("beta"), n_max=8, method="cot")
    assert out["accuracy"] == 1.0 and out["mean_paths"] == 4 and out["fixed_paths"] == 8
