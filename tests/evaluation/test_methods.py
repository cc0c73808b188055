"""Inference methods on constructed paths with known answers: Eq. 5 concat vote, ties, cascade."""

from md.evaluation import methods
from md.evaluation.judge import cot_path, pot_path
from md.types import ReasoningPath


def cot(answer, status="ok", text=""):
    return ReasoningPath("cot", text, status, answer)


def pot(answer, status="ok"):
    return ReasoningPath("pot", "", status, answer)


def test_concat_vote_can_disagree_with_both_single_votes():
    # CoT: 5 and 6 tie (5 first); PoT: 7 and 6 tie (7 first); concat: 6 has 4 of 10.
    paths = [cot(5.0), cot(5.0), cot(6.0), cot(6.0), cot(8.0),
             pot(7.0), pot(7.0), pot(6.0), pot(6.0), pot(9.0)]
    assert methods.vote(paths, "cot") == 5.0
    assert methods.vote(paths, "pot") == 7.0
    assert methods.vote(paths, "cot_w_pot") == 6.0
    paths = [cot(1.0), cot(2.0), cot(2.0), pot(1.0), pot(1.0), pot(3.0)]
    assert methods.vote(paths, "cot") == 2.0 and methods.vote(paths, "pot") == 1.0
    assert methods.vote(paths, "cot_w_pot") == 1.0  # 3 of 6


def test_ties_go_to_earliest_and_cot_comes_first_in_the_concat():
    paths = [cot(4.0), cot(9.0), pot(9.0), pot(4.0)]
    assert methods.vote(paths, "cot_w_pot") == 4.0  # 2-2 tie, CoT's 4 is first in concat
    paths = [pot(9.0), cot(4.0)]  # order in the list does not matter, method does
    assert methods.vote(paths, "cot_w_pot") == 4.0
    assert methods.vote([cot(3.0), cot(8.0)], "cot") == 3.0


def test_failed_programs_and_missing_answers_do_not_vote():
    paths = [cot(None, "no_answer"), pot(None, "timeout"), pot(None, "error"), pot(2.0)]
    assert methods.vote(paths, "pot") == 2.0
    assert methods.vote(paths, "cot") is None
    assert methods.vote(paths, "cot_w_pot") == 2.0


def test_first_n_paths():
    paths = [cot(1.0), cot(2.0), cot(2.0), pot(1.0), pot(2.0)]
    assert methods.vote(paths, "cot", n=1) == 1.0
    assert methods.vote(paths, "cot_w_pot", n=1) == 1.0  # [1 (cot), 1 (pot)]
    assert methods.answers(paths, "cot_w_pot", n=2) == [1.0, 2.0, 1.0, 2.0]


def test_cascade_uses_pot_then_falls_back_to_cot():
    assert methods.cascade([cot(1.0), pot(2.0), cot(3.0)]) == (2.0, 1)
    assert methods.cascade([cot(1.0), pot(None, "error"), pot(2.0)]) == (1.0, 2)
    assert methods.cascade([cot(1.0), pot(None, "timeout")]) == (1.0, 2)
    assert methods.cascade([cot(1.0), pot(None, "no_answer")]) == (1.0, 2)
    assert methods.cascade([cot(None, "no_answer"), pot(None, "error")]) == (None, 2)
    assert methods.cascade([pot(None, "error")]) == (None, 1)


def test_greedy_paths_are_separate_from_sampled_ones():
    paths = [cot(1.0), pot(1.0), ReasoningPath("cot", "", "ok", 5.0, greedy=True)]
    v = methods.votes(paths)
    assert v["greedy_cot"] == 5.0 and "greedy_pot" not in v
    assert v["cot"] == 1.0  # the greedy path does not vote
    assert methods.score(v, 5.0) == {k: k == "greedy_cot" for k in v}


def test_flexible_rereads_cot_text():
    paths = [cot_path("so she has 12 apples left"), cot_path("The answer is 3.")]
    assert methods.vote(paths, "cot") == 3.0
    assert methods.answers(paths, "cot", mode="flexible") == [12.0, 3.0]


def test_judging_is_total_on_garbage():
    class Result:
        def __init__(self, status, answer=None):
            self.status, self.answer = status, answer

    assert cot_path("").status == "no_answer"
    assert cot_path("\x00\ufffd" * 50).answer is None
    assert pot_path("", Result("ok", None)).status == "no_answer"
    assert pot_path("x", Result("ok", [1, 2])).status == "no_answer"  # a list is not an answer
    assert pot_path("x", Result("timeout", 4)).answer is None
    assert pot_path("x", object()).status == "error"
    assert pot_path("x", Result("ok", "12")).answer == 12.0
