"""Per question: majority vote per method, the paper's Type 1-4, and λ (§3.1-3.2).

Only judged thoughts with status "ok" vote (the paper first drops PoT that does not execute and
CoT that gives no answer). Then, with P = "PoT's vote is right" and C = "CoT's vote is right":

    type 1  P∧~C     only PoT's vote is right
    type 2  ~P∧C     only CoT's vote is right
    type 3  P∧C      both
    type 4  ~(P∨C)   neither (also: no valid thought at all); dropped from the MD mix

n1 / n2 count the individually correct CoT / PoT samples. The paper's λ = n2 / (n1 + n2) assumes
the same n samples per method; md computes it from the rates of correct samples among those taken
(`lam_of`), which is exactly the paper's λ when both methods have n samples, and stays an unbiased
estimate of it when they do not (adaptive sampling stops one method early; a published file may hold
fewer samples of one method). None when no sample is correct. A tie in a vote goes to the answer
that occurred first (md.answers.majority_vote).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from md.answers import is_correct, majority_vote
from md.types import Answer, JudgedThought, Problem

# The paper's Fig. 1 notation for each type, P = PoT right, C = CoT right.
TYPE_NAMES = {1: "P∧~C", 2: "~P∧C", 3: "P∧C", 4: "~(P∨C)"}


@dataclass(frozen=True)
class Question:
    """One training question after voting: what it is and which thoughts can become targets."""

    problem: Problem
    qtype: int
    vote_cot: Answer | None
    vote_pot: Answer | None
    n1: int  # correct CoT samples
    n2: int  # correct PoT samples
    lam: float | None  # r2 / (r1 + r2), r = correct / taken; n2 / (n1 + n2) at equal counts
    correct_cot: tuple[JudgedThought, ...]  # the individually correct samples, in sample order
    correct_pot: tuple[JudgedThought, ...]

    def correct(self, method: str) -> tuple[JudgedThought, ...]:
        return self.correct_cot if method == "cot" else self.correct_pot


def lam_of(n1: int, cot_taken: int, n2: int, pot_taken: int) -> float | None:
    """λ = r2 / (r1 + r2) with r = correct / taken. With the paper's n samples per method this is
    exactly n2 / (n1 + n2); with fewer of one it does not favour the method sampled more (counting
    4 of 4 CoT against 8 of 20 PoT as 8 / 12 would give PoT the larger weight)."""
    r1 = n1 / cot_taken if cot_taken else 0.0
    r2 = n2 / pot_taken if pot_taken else 0.0
    return r2 / (r1 + r2) if r1 + r2 else None


def qtype(pot_right: bool, cot_right: bool) -> int:
    """The paper's type from whether each method's vote is right."""
    if pot_right and cot_right:
        return 3
    if pot_right:
        return 1
    if cot_right:
        return 2
    return 4


def _vote(thoughts: Sequence[JudgedThought], gold: Answer) -> tuple[Answer | None, bool]:
    answers = [t.answer for t in thoughts if t.status == "ok" and t.answer is not None]
    if not answers:
        return None, False
    winner = majority_vote(answers)
    return winner, winner is not None and bool(is_correct(winner, gold))


def _order(t: JudgedThought) -> tuple[str, float]:
    """Sample order; a malformed sample_index sorts last instead of crashing the sort."""
    idx = t.sample_index
    return str(t.method), idx if isinstance(idx, (int, float)) else float("inf")


def summarize(problem: Problem, judged: Iterable[JudgedThought]) -> Question:
    """Vote, type and weigh one question from all its judged thoughts."""
    ordered = sorted(judged, key=_order)
    cot = [t for t in ordered if t.method == "cot"]
    pot = [t for t in ordered if t.method == "pot"]
    vote_cot, cot_right = _vote(cot, problem.answer)
    vote_pot, pot_right = _vote(pot, problem.answer)
    good_cot = tuple(t for t in cot if t.status == "ok" and t.correct)
    good_pot = tuple(t for t in pot if t.status == "ok" and t.correct)
    n1, n2 = len(good_cot), len(good_pot)
    lam = lam_of(n1, len(cot), n2, len(pot))
    return Question(
        problem=problem,
        qtype=qtype(pot_right, cot_right),
        vote_cot=vote_cot,
        vote_pot=vote_pot,
        n1=n1,
        n2=n2,
        lam=lam,
        correct_cot=good_cot,
        correct_pot=good_pot,
    )
