"""Majority voting over sampled answers (self-consistency), deterministic tie-breaking.

    >>> majority_vote([None, 3.0, "neither day", 2.9999999, "neither day"])
    3.0
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence

from md.answers.canonical import answer_key, normalize
from md.types import Answer


def vote_counts(answers: Sequence[object]) -> Counter[Hashable]:
    """How many answers fall under each `answer_key`; None (no answer) is not counted."""
    keys = (answer_key(answer) for answer in answers)
    return Counter(key for key in keys if key is not None)


def majority_vote(answers: Sequence[object]) -> Answer | None:
    """The most frequent answer, or None when no answer is given.

    Answers are grouped by `answer_key` (so 3.0 and 2.9999999 count together) and None is
    skipped. Ties go to the group whose first member comes EARLIEST in `answers`: the rule is
    deterministic but order-dependent, as in self-consistency implementations that take the
    first of the most common. The returned value is that group's first member, normalised.
    """
    counts: Counter[Hashable] = Counter()
    first: dict[Hashable, tuple[int, Answer]] = {}
    for index, answer in enumerate(answers):
        value = normalize(answer)
        key = answer_key(value)
        if key is None:
            continue
        counts[key] += 1
        first.setdefault(key, (index, value))  # type: ignore[arg-type]
    if not counts:
        return None
    best = min(counts, key=lambda key: (-counts[key], first[key][0]))
    return first[best][1]
