"""Whether a teacher's output belongs to the question it is filed under: checked, never assumed.

Published and replayed outputs are matched to problems by position or by id, so a file shifted by
one row, or with programs moved onto other questions, still parses, and every thought then
answers the wrong question (PaLM CoT shifted by one: 1.7% right instead of 73.9%). A worked
solution restates the numbers of its own question: on the real SVAMP files 99.7% of a Codex
program's numbers and 69% of a PaLM rationale's are in its own question, 5-7% in its neighbour's,
and no row shares none with its own. So an output that shares no number with its own question but
most of its numbers (at least two) with another question was filed under the wrong one.

    index = Questions([p.question for p in problems])
    other = index.owner(thought_text, own=k)   # None, or the index of the question it fits
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from md.errors import MDError

MIN_SHARED = 2  # numbers another question must share before an output is said to be its
MAX_SCAN = 20_000  # characters of an output read for numbers (hostile texts stay linear and cheap)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def numbers(text: str) -> frozenset[float]:
    """The distinct numbers written in `text` (its first MAX_SCAN characters)."""
    return frozenset(float(n) for n in _NUMBER.findall(text[:MAX_SCAN]))


class Questions:
    """The numbers of every question, indexed by number so a stray output finds its owner fast."""

    def __init__(self, questions: list[str]):
        self.sets = [numbers(q) for q in questions]
        self.by_number: dict[float, list[int]] = defaultdict(list)
        for i, found in enumerate(self.sets):
            for n in found:
                self.by_number[n].append(i)

    def owner(self, text: str, own: int) -> int | None:
        """The index of another question `text` was written for, or None when it may be `own`'s."""
        mine = numbers(text)
        if len(mine) < MIN_SHARED or not self.sets[own] or mine & self.sets[own]:
            return None
        counts = Counter(j for n in mine for j in self.by_number.get(n, ()) if j != own)
        if not counts:
            return None
        other, shared = counts.most_common(1)[0]
        return other if shared >= MIN_SHARED and 2 * shared >= len(mine) else None


def check_aligned(method: str, records: list[tuple]) -> None:
    """Refuse, at its first row, a file whose outputs sit on other rows' questions.

    records: (where, question text, [output, ...], ...) in file order; MDError names `where`.
    """
    index = Questions([text for _, text, *_ in records])
    for row, (where, _, samples, *_) in enumerate(records):
        for sample in samples:
            other = index.owner(sample, row)
            if other is not None:
                raise MDError(f"{where}: this {method.upper()} output shares no number with its "
                              f"own question but {len(index.sets[other] & numbers(sample))} with "
                              f"the question of {records[other][0]}; the rows do not line up "
                              "(shifted, reordered or edited): use the files as published")
