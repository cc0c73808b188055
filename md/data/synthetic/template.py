"""A word-problem template: question text, a value sampler, and the gold steps that solve it.

    Template("inverse_bought", ("inverse",),
             "{name} had {start} {item}. After buying some in a garage sale {name} had {after} "
             "{item} left. How many {item} did {name} buy?",
             values=lambda r: {"start": r.randint(10, 90), "after": r.randint(100, 200)},
             steps=("bought = after - start",))

Placeholders name sampled values ({start}) or words drawn from pools ({name}, {item}; slots
that share a pool get distinct words). `{price:money}` prints 2 decimals. Steps are written
`out = a + b` (add), `-` (sub), `*` (mul), `/` (div) or `out = cmp(a, b)`; labels (for cmp) may
use word placeholders. An instance is kept only if every numeric result is positive, whole
unless `whole=False`, and the same in floats as in exact fractions (so a Python program that
follows the steps prints exactly the gold).
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from md.data.synthetic.solution import trace
from md.types import Solution, Step

NAMES = ("Paul", "Tori", "Jake", "Allan", "Mary", "Zachary", "Ellen", "Sam", "Lily", "Omar", "Priya",
         "Diego", "Hana", "Marcus", "Chloe", "Ivan", "Amara", "Leo", "Sofia", "Kenji", "Nadia", "Ben")
ITEMS = ("marbles", "stickers", "books", "pencils", "apples", "cards", "toy cars", "shells",
         "balloons", "cookies", "stamps", "oranges", "crayons", "coins", "beads", "postcards")
CONTAINERS = ("boxes", "bags", "baskets", "jars", "crates", "packs", "trays")
POOLS = {"name": NAMES, "name2": NAMES, "name3": NAMES, "item": ITEMS, "item2": ITEMS,
         "item3": ITEMS, "container": CONTAINERS}
_STEP = re.compile(r"^\s*(\w+)\s*=\s*(?:(\w+)\s*([-+*/])\s*(\w+)|cmp\(\s*(\w+)\s*,\s*(\w+)\s*\))\s*$")
_SYMBOLS = {"+": "add", "-": "sub", "*": "mul", "/": "div"}


def parse_step(text: str) -> Step:
    """'total = a + b' -> Step('add', ('a', 'b'), 'total'); 'x = cmp(a, b)' -> Step('cmp', ...)."""
    m = _STEP.match(text)
    if not m:
        raise ValueError(f"not a step: {text!r}")
    out, a, sym, b, c1, c2 = m.groups()
    return Step("cmp", (c1, c2), out) if c1 else Step(_SYMBOLS[sym], (a, b), out)


class _Formatter(string.Formatter):
    def format_field(self, value, spec):
        if spec == "money":
            return f"{value:.2f}"
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super().format_field(value, spec)


_FORMAT = _Formatter()


@dataclass(frozen=True)
class Template:
    name: str
    tags: tuple[str, ...]
    text: str
    values: Callable[[random.Random], dict[str, int | float]]
    steps: tuple[str, ...]
    labels: dict[str, str] = field(default_factory=dict)
    whole: bool = True  # every intermediate result must be a whole number

    def parsed_steps(self) -> tuple[Step, ...]:
        return tuple(parse_step(s) for s in self.steps)

    def sample(self, rng: random.Random, tries: int = 200) -> tuple[str, Solution]:
        """A question and its gold Solution; resamples values until they satisfy the checks."""
        words = self._words(rng)
        steps = self.parsed_steps()
        for _ in range(tries):
            values = self.values(rng)
            labels = {k: _FORMAT.format(v, **words) for k, v in self.labels.items()}
            solution = Solution(values=values, steps=steps, labels=labels, tags=self.tags)
            if self._valid(solution):
                return _FORMAT.format(self.text, **values, **words), solution
        raise RuntimeError(f"template {self.name}: no valid values in {tries} tries")

    def _words(self, rng: random.Random) -> dict[str, str]:
        slots = sorted({f for _, f, _, _ in _FORMAT.parse(self.text + "".join(self.labels.values()))
                        if f in POOLS})
        words: dict[str, str] = {}
        for slot in slots:
            pool = [w for w in POOLS[slot] if w not in words.values()]
            words[slot] = rng.choice(pool)
        return words

    def _valid(self, solution: Solution) -> bool:
        exact, approx = trace(solution, exact=True), trace(solution, exact=False)
        for step in solution.steps:
            value = exact[step.out]
            if isinstance(value, Fraction):
                if value <= 0 or (self.whole and value.denominator != 1):
                    return False
                if float(value) != approx[step.out]:
                    return False
            elif value != approx[step.out]:
                return False
        return True
