"""Vote, Type 1-4, λ, upsampling and target selection on hand-built judged thoughts."""

from __future__ import annotations

import pytest

from md.errors import MDError
from md.mixing import balance, targets
from md.mixing.vote import lam_of, summarize
from md.prompts import student_input
from md.types import JudgedThought, Problem

GOLD = 42.0


def problem(pid: str = "q1", answer=GOLD) -> Problem:
    return Problem(pid, "toy", "train", f"How much is {pid}?", answer)


def judged(pid: str, method: str, answers: list, gold=GOLD, texts: list | None = None):
    """One JudgedThought per answer; an answer None means no answer, "ERR" a failed program."""
    out = []
    for i, a in enumerate(answers):
        text = texts[i] if texts else f"{method} path {i} for {pid}: {a}"
        if a == "ERR":
            out.append(JudgedThought(pid, method, i, text, "error", None, False, "boom"))
        elif a is None:
            out.append(JudgedThought(pid, method, i, text, "no_answer", None, False, "none"))
        else:
            out.append(JudgedThought(pid, method, i, text, "ok", a, a == gold, None))
    return out


def question(cot: list, pot: list, pid: str = "q1", **kw):
    return summarize(problem(pid), judged(pid, "cot", cot, **kw) + judged(pid, "pot", pot, **kw))


# --- vote, type and λ ---------------------------------------------------------------------


def test_type_3_both_votes_right_and_lambda():
    q = question(cot=[42.0, 42.0, 41.0, None], pot=[42.0, 7.0, 42.0, 42.0])
    assert (q.qtype, q.vote_cot, q.vote_pot, q.n1, q.n2) == (3, 42.0, 42.0, 2, 3)
    assert q.lam == pytest.approx(3 / 5)  # the paper's n2 / (n1 + n2): 4 samples per method


def test_lambda_from_rates_when_one_method_has_fewer_samples():
    """Adaptive sampling stops CoT after 4 samples, all right, and PoT after 8, 6 right: the
    rates are 1 and 0.75, so λ = 0.75 / 1.75; counts would say 6 / 10 and favour PoT."""
    q = question(cot=[42.0] * 4, pot=[42.0] * 6 + [7.0, None])
    assert (q.n1, q.n2) == (4, 6)
    assert q.lam == pytest.approx(0.75 / 1.75)
    assert lam_of(10, 20, 5, 20) == pytest.approx(5 / 15)  # equal counts: the paper's formula
    assert lam_of(0, 4, 0, 0) is None


def test_type_1_only_pot_right_keeps_individually_correct_cot_samples():
    q = question(cot=[41.0, 41.0, 42.0], pot=[42.0, "ERR", 42.0])
    assert (q.qtype, q.vote_cot, q.n1, q.n2) == (1, 41.0, 1, 2)
    assert q.lam == pytest.approx(2 / 3)
    assert [t.sample_index for t in q.correct_cot] == [2]  # right sample, wrong vote


def test_type_2_only_cot_right():
    q = question(cot=[42.0, None], pot=["ERR", 5.0, None])
    assert (q.qtype, q.vote_pot, q.n1, q.n2, q.lam) == (2, 5.0, 1, 0, 0.0)


def test_type_4_neither_right_even_with_some_correct_samples():
    q = question(cot=[41.0, 41.0, 42.0], pot=[7.0, 7.0, 42.0])
    assert (q.qtype, q.n1, q.n2, q.lam) == (4, 1, 1, 0.5)


def test_no_valid_thought_is_type_4_with_no_lambda():
    q = question(cot=[None, None], pot=["ERR", None])
    assert (q.qtype, q.vote_cot, q.vote_pot, q.n1, q.n2, q.lam) == (4, None, None, 0, 0, None)
    assert summarize(problem(), []).qtype == 4  # a question with no thoughts at all


def test_vote_tie_goes_to_the_earliest_sample():
    assert question(cot=[41.0, 42.0], pot=[42.0]).qtype == 1  # tie, 41 came first
    assert question(cot=[42.0, 41.0], pot=[42.0]).qtype == 3  # tie, 42 came first
    assert question(cot=[42.0], pot=[7.0, 42.0, 42.0, 7.0]).qtype == 2  # 7 first among equals


def test_tie_order_is_sample_index_not_file_order():
    thoughts = judged("q1", "cot", [41.0, 42.0]) + judged("q1", "pot", [42.0])
    reversed_file = list(reversed(thoughts))  # sample 1 (42) now comes before sample 0 (41)
    assert summarize(problem(), reversed_file).qtype == 1


def test_text_answers_and_bools_vote_and_type():
    p = Problem("s", "toy", "train", "Which day?", "neither day")
    cot = [JudgedThought("s", "cot", 0, "a", "ok", "neither day", True)]
    pot = [JudgedThought("s", "pot", 0, "b", "ok", "monday", False)]
    assert summarize(p, cot + pot).qtype == 2


# --- upsampling ---------------------------------------------------------------------------


def test_auto_upsampling_turns_the_papers_split_into_25_25_50():
    f = balance.factors({1: 10, 2: 10, 3: 60, 4: 20}, "auto")
    assert f == {1: 3, 2: 3, 3: 1}
    kept = {t: n * f[t] for t, n in {1: 10, 2: 10, 3: 60}.items()}
    assert kept[1] / sum(kept.values()) == pytest.approx(0.25)


def test_auto_upsampling_per_type_and_capped():
    f = balance.factors({1: 5, 2: 40, 3: 100, 4: 0}, "auto", target_share=0.25, max_factor=4)
    assert f == {1: 4, 2: 2, 3: 1}  # type 1 wants 10x (capped at 4); type 2, rarer than type 3: x2
    assert balance.factors({1: 0, 2: 3, 3: 0, 4: 5}, "auto") == {1: 1, 2: 1, 3: 1}
    assert balance.factors({1: 70, 2: 10, 3: 60}, "auto")[1] == 1  # not rarer than type 3


def test_auto_upsampling_repeats_both_rare_types_on_gsm8k_like_shares():
    """The paper upsamples types 1 and 2; aiming at 25% alone left GSM8K's type 1 (32%) at x1."""
    f = balance.factors({1: 32, 2: 6, 3: 55, 4: 7}, "auto")
    assert f[1] >= 2 and f[2] >= 2 and f[3] == 1


def test_fixed_upsampling_and_bad_values():
    assert balance.factors({1: 1, 2: 1, 3: 1}, 2) == {1: 2, 2: 2, 3: 1}
    assert balance.factors({1: 1, 2: 1, 3: 1}, 1) == {1: 1, 2: 1, 3: 1}
    for bad in (0, -1, "twice", 2.5):
        with pytest.raises(MDError, match="mix.upsample"):
            balance.factors({1: 1}, bad)
    with pytest.raises(MDError, match="target_share"):
        balance.factors({1: 1}, "auto", target_share=0.5)


# --- targets and weights ------------------------------------------------------------------


def test_md_weights_type_3_use_lambda():
    q = question(cot=[42.0, 42.0, 41.0, None], pot=[42.0, 7.0, 42.0, 42.0])
    recs = list(targets.examples(q, "md", k=10, seed=0))
    cot = [r for r in recs if r.method == "cot"]
    pot = [r for r in recs if r.method == "pot"]
    assert len(cot) == 2 and len(pot) == 3
    assert [r.weight for r in cot] == pytest.approx([1 - 3 / 5] * 2)
    assert [r.weight for r in pot] == pytest.approx([3 / 5] * 3)
    assert all(r.qtype == 3 and r.lam == pytest.approx(0.6) for r in recs)
    assert cot[0].input == student_input(problem().question, "cot")
    assert pot[0].input == student_input(problem().question, "pot")


def test_md_types_1_and_2_weight_one_and_type_4_dropped():
    t1 = question(cot=[41.0, 41.0, 42.0], pot=[42.0, 42.0])
    recs = list(targets.examples(t1, "md", k=10, seed=0))
    assert sorted(r.method for r in recs) == ["cot", "pot", "pot"]  # the one right CoT sample
    assert all(r.weight == 1.0 and r.qtype == 1 for r in recs)
    only_pot = question(cot=[41.0, 41.0], pot=[42.0])
    assert [r.method for r in targets.examples(only_pot, "md", 4, 0)] == ["pot"]
    t4 = question(cot=[41.0, 41.0, 42.0], pot=[7.0, 7.0, 42.0])
    assert list(targets.examples(t4, "md", k=10, seed=0)) == []


def test_targets_are_correct_deduplicated_and_at_most_k():
    texts = ["x = 1\nans = 42", "x = 1\n  ans  =  42", "ans = 6 * 7", "ans = 41", "ans = 40 + 2"]
    q = question(cot=[42.0], pot=[42.0, 42.0, 42.0, 41.0, 42.0], texts=texts)
    chosen = targets.pick_paths(q.correct_pot, k=10, seed=0, problem_id="q1", method="pot")
    assert [t.text for t in chosen] == [texts[0], texts[2], texts[4]]  # whitespace twin dropped
    two = targets.pick_paths(q.correct_pot, k=2, seed=0, problem_id="q1", method="pot")
    assert len(two) == 2 and all(t in chosen for t in two)
    assert [t.sample_index for t in two] == sorted(t.sample_index for t in two)
    assert targets.pick_paths(q.correct_pot, None, 0, "q1", "pot") == chosen  # None: all


def test_path_choice_is_deterministic_per_seed_and_varies_across_seeds():
    q = question(cot=[42.0] * 12, pot=[42.0])
    picks = {
        seed: [t.sample_index for t in targets.pick_paths(q.correct_cot, 3, seed, "q1", "cot")]
        for seed in range(8)
    }
    again = [t.sample_index for t in targets.pick_paths(q.correct_cot, 3, 0, "q1", "cot")]
    assert again == picks[0]
    assert len({tuple(p) for p in picks.values()}) > 1


def test_cot_pot_and_label_variants():
    q = question(cot=[41.0, 42.0], pot=[42.0, 42.0])
    cot = list(targets.examples(q, "cot", k=4, seed=0))
    pot = list(targets.examples(q, "pot", k=4, seed=0))
    assert [r.method for r in cot] == ["cot"] and [r.method for r in pot] == ["pot", "pot"]
    assert all(r.weight == 1.0 and r.qtype == 0 and r.lam is None for r in cot + pot)
    (label,) = targets.examples(q, "label", k=4, seed=0)
    assert (label.method, label.target, label.weight) == ("label", " 42", 1.0)
    assert label.input == student_input(problem().question, "label")
    with pytest.raises(ValueError, match="unknown mix variant"):
        list(targets.examples(q, "both", k=4, seed=0))


@pytest.mark.parametrize(
    "answer,text", [(42.0, "42"), (2.5, "2.5"), (-0.125, "-0.125"), (1 / 3, "0.333333"),
                    (1234567.0, "1234567"), (True, "yes"), (False, "no"), ("neither day", "neither day")]
)
def test_label_format(answer, text):
    assert targets.format_answer(answer) == text
