"""Adaptive consistency: sample in rounds, stop a question once more paths would not pay.

Each round draws `round_size` more paths per method (CoT and PoT for +CoT w/PoT) for the
questions still open. A question stops when

- "unchangeable": the paths left in the budget can no longer change the vote's winner
  (exact: the answer is the one fixed-N voting would give), or
- "beta" (Aggarwal et al. 2023, Adaptive-Consistency): that, or the posterior probability
  that the leading answer truly beats the runner-up, P(p > 1/2) with p ~ Beta(v1 + 1, v2 + 1),
  reaches `threshold`;
- "fixed" never stops early (the fixed-N baseline).

`rounds(sample_round, ...)` is the loop; it drives a live sampler (md.evaluate with
`inference.adaptive.live=true`) or, via `replay_source`, paths recorded from a full run
(samples are independent, so replaying them in order is the same experiment as sampling them
in rounds).

    result = evaluate(path_lists, golds, StopRule("beta", 0.95), n_max=20)
    result["accuracy"], result["mean_paths"], result["fixed_accuracy"], result["saving"]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from md.answers import answer_key, is_correct, majority_vote
from md.errors import MDError
from md.evaluation.methods import answers, sampled
from md.settings import STOP_RULES
from md.types import Answer, ReasoningPath


@dataclass(frozen=True)
class StopRule:
    """When to stop sampling a question (see module docstring)."""

    rule: str = "beta"
    threshold: float = 0.95
    min_paths: int = 2  # never stop on fewer answers than this

    def __post_init__(self):
        if self.rule not in STOP_RULES:
            raise MDError(f"inference.adaptive.rule={self.rule}: unknown adaptive rule; "
                          f"choose one of {', '.join(STOP_RULES)}")


def beta_confidence(v1: int, v2: int) -> float:
    """P(p > 1/2) for p ~ Beta(v1 + 1, v2 + 1), exactly: P(Binomial(v1 + v2 + 1, 1/2) <= v1)."""
    m = v1 + v2 + 1
    return sum(math.comb(m, j) for j in range(v1 + 1)) / 2**m


def should_stop(seen: Sequence[Answer | None], remaining: int, rule: StopRule) -> bool:
    """Whether a question with answers `seen` and `remaining` unsampled paths can stop."""
    if rule.rule == "fixed" or remaining <= 0:
        return remaining <= 0
    counts = sorted(Counter(k for k in map(answer_key, seen) if k is not None).values(),
                    reverse=True)
    v1 = counts[0] if counts else 0
    v2 = counts[1] if len(counts) > 1 else 0
    # Conservative on ties (new CoT answers enter Eq. 5's concat before the PoT ones).
    if v1 - v2 > remaining:
        return True
    return rule.rule == "beta" and len(seen) >= rule.min_paths and (
        beta_confidence(v1, v2) >= rule.threshold
    )


Round = Callable[[list[int], int, int], list[list[ReasoningPath]]]  # (open questions, start, k) -> paths


def rounds(sample_round: Round, n_questions: int, rule: StopRule, n_max: int,
           method: str = "cot_w_pot", round_size: int = 1) -> list[list[ReasoningPath]]:
    """Run the adaptive loop; returns each question's paths (their count is what it used)."""
    per_path = 2 if method == "cot_w_pot" else 1  # paths drawn per unit of n
    paths: list[list[ReasoningPath]] = [[] for _ in range(n_questions)]
    open_, n = list(range(n_questions)), 0
    while open_ and n < n_max:
        k = min(round_size, n_max - n)
        for i, new in zip(open_, sample_round(open_, n, k), strict=True):
            paths[i] += new
        n += k
        open_ = [i for i in open_
                 if not should_stop(answers(paths[i], method), (n_max - n) * per_path, rule)]
    return paths


def replay_source(path_lists: Sequence[Sequence[ReasoningPath]], method: str) -> Round:
    """A `Round` that hands out recorded paths in sampling order instead of sampling."""
    methods = ("cot", "pot") if method == "cot_w_pot" else (method,)

    def sample_round(open_: list[int], start: int, k: int) -> list[list[ReasoningPath]]:
        return [[p for m in methods for p in sampled(path_lists[i], m)[start : start + k]]
                for i in open_]

    return sample_round


def evaluate(path_lists: Sequence[Sequence[ReasoningPath]], golds: Sequence[Answer], rule: StopRule,
             n_max: int, method: str = "cot_w_pot", round_size: int = 1) -> dict:
    """Accuracy and mean paths of the adaptive rule against fixed n_max, on recorded paths."""
    used = rounds(replay_source(path_lists, method), len(path_lists), rule, n_max, method,
                  round_size)
    return compare(used, path_lists, golds, rule, n_max, method)


def compare(used: Sequence[Sequence[ReasoningPath]], path_lists: Sequence[Sequence[ReasoningPath]],
            golds: Sequence[Answer], rule: StopRule, n_max: int,
            method: str = "cot_w_pot") -> dict:
    """Score the paths an adaptive loop `used` against fixed-n_max voting over `path_lists`
    (the same paths when replayed, an independent sampling run when live)."""
    q = max(len(path_lists), 1)

    def right(lists: Sequence[Sequence[ReasoningPath]]) -> list[bool]:
        votes = [majority_vote(answers(p, method, n_max)) for p in lists]
        return [v is not None and is_correct(v, g) for v, g in zip(votes, golds, strict=True)]

    fixed_paths = sum(len(answers(p, method, n_max)) for p in path_lists) / q
    mean_paths = sum(len(answers(p, method)) for p in used) / q
    adapt, fixed = right(used), right(path_lists)
    return {
        "method": method, "rule": rule.rule, "threshold": rule.threshold, "n_max": n_max,
        "accuracy": sum(adapt) / q, "mean_paths": mean_paths,
        "fixed_accuracy": sum(fixed) / q, "fixed_paths": fixed_paths,
        "gained": sum(a and not f for a, f in zip(adapt, fixed, strict=True)),  # questions right only adaptive
        "lost": sum(f and not a for a, f in zip(adapt, fixed, strict=True)),  # ... right only with fixed N
        "saving": 1 - mean_paths / fixed_paths if fixed_paths else 0.0,
    }
