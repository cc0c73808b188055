"""Checks of a loaded split that no single record shows: copies, leaks and contradictions.

A split file that lists one index five times makes each of its prompts paid five times and
trained on five times; one question filed with two different gold answers makes one of them
judged wrong whatever the teacher says; a test question that is also a training question
inflates every accuracy. Each is one line: an error where nobody can mean it (copies,
contradictions), a warning where a user may (a test split that overlaps training, on purpose
for a smoke run).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from md.errors import MDError
from md.types import Problem

log = logging.getLogger(__name__)
_WS = re.compile(r"\s+")


def question_key(text: str) -> str:
    """Question text compared loosely: whitespace runs and case do not matter."""
    return _WS.sub(" ", text).strip().lower()


def check_indices(file: object, split: str, indices: Iterable[object]) -> None:
    """A split file's list of record indices names each record once."""
    seen: dict[object, int] = {}
    for position, index in enumerate(indices):
        if index in seen:
            raise MDError(f"{file}: the {split} list names index {index!r} twice (positions "
                          f"{seen[index]} and {position}); each copy would be paid for and "
                          "trained on again: remove the duplicates")
        seen[index] = position


def check_problems(problems: list[Problem], name: str, split: str) -> None:
    """Refuse one id twice in a split, or one question with two different gold answers."""
    ids: set[str] = set()
    golds: dict[str, Problem] = {}
    for p in problems:
        if p.id in ids:
            raise MDError(f"data={name}: problem {p.id} appears twice in the {split} split; each "
                          "copy would be paid for and trained on again: remove the duplicate")
        ids.add(p.id)
        first = golds.setdefault(question_key(p.question), p)
        if first.answer != p.answer:
            raise MDError(f"data={name}: problems {first.id} and {p.id} ask the same question with "
                          f"different gold answers ({first.answer!r} vs {p.answer!r}); one of them "
                          "is wrong: fix the data file")


def warn_overlap(train: list[Problem], test: list[Problem], name: str) -> int:
    """Warn (once, one line) when test questions are also training questions; returns how many."""
    seen = {question_key(p.question) for p in train} | {p.id for p in train}
    leaked = [p for p in test if p.id in seen or question_key(p.question) in seen]
    if leaked:
        log.warning("data=%s: %d of the %d test problems are also in the train split (e.g. %s); "
                    "their accuracy measures recall, not reasoning: fix the split unless meant",
                    name, len(leaked), len(test), leaked[0].id)
    return len(leaked)
