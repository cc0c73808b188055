"""Run a synthetic problem's gold `Solution` steps: the one definition of what the steps mean.

Step semantics (every step is `out = op(*args)`, in order; args name `Solution.values` or the
`out` of an earlier step; every op takes exactly two args):

    add(a, b) = a + b      sub(a, b) = a - b      mul(a, b) = a * b      div(a, b) = a / b
    cmp(a, b) = labels[a] if a > b, labels[b] if b > a, labels["neither"] if a == b

`div` is true division (a fraction when it does not divide evenly). `cmp` compares two numbers
and yields a text label, so it can only be the last step. The answer is the last step's `out`.

    >>> from md.types import Solution, Step
    >>> s = Solution(values={"start": 50, "after": 151},
    ...              steps=(Step("sub", ("after", "start"), "bought"),), tags=("inverse",))
    >>> evaluate(s)
    101.0
"""

from __future__ import annotations

import operator
from fractions import Fraction

from md.answers import normalize
from md.types import Answer, Solution

OPS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}
OP_NAMES = (*OPS, "cmp")


def trace(solution: Solution, exact: bool = True) -> dict[str, Fraction | float | str]:
    """Every named quantity after running the steps (values, then each step's out).

    exact=True computes with Fractions (the gold); exact=False with floats, as a Python program
    would. Raises ValueError for a malformed solution (unknown op or name, division by zero).
    """
    env: dict[str, Fraction | float | str] = {
        k: (Fraction(v) if exact else float(v)) for k, v in solution.values.items()
    }
    for i, step in enumerate(solution.steps):
        if step.op not in OP_NAMES or len(step.args) != 2:
            raise ValueError(f"step {i}: expected a two-argument {'/'.join(OP_NAMES)}, got {step}")
        missing = [a for a in step.args if a not in env]
        if missing:
            raise ValueError(f"step {i}: unknown quantity {missing[0]!r}")
        a, b = (env[x] for x in step.args)
        try:
            env[step.out] = step_value(solution, step.op, step.args, a, b)
        except ValueError as e:
            raise ValueError(f"step {i}: {e}") from None
    return env


def step_value(solution: Solution, op: str, names: tuple[str, ...], a, b) -> Fraction | float | str:
    """One step's result, `op(a, b)` for the quantities `names` (see the module docstring);
    ValueError for an unknown op, a text operand, a division by zero or a missing label."""
    if op not in OP_NAMES:
        raise ValueError(f"unknown op {op!r}")
    if isinstance(a, str) or isinstance(b, str):
        raise ValueError(f"{op} of a text label")
    if op == "cmp":
        return _compare(solution, names, a, b)
    if op == "div" and b == 0:
        raise ValueError("division by zero")
    return OPS[op](a, b)


def _compare(solution: Solution, names: tuple[str, ...], a, b) -> str:
    key = names[0] if a > b else names[1] if b > a else "neither"
    if key not in solution.labels:
        raise ValueError(f"cmp: no label for {key!r}")
    return solution.labels[key]


def final(solution: Solution, exact: bool = True) -> Fraction | float | str:
    """The raw value of the last step's out."""
    if not solution.steps:
        raise ValueError("a solution needs at least one step")
    return trace(solution, exact)[solution.steps[-1].out]


def evaluate(solution: Solution) -> Answer:
    """The gold answer the steps determine, normalised (a float, or a lower-cased label)."""
    value = final(solution, exact=True)
    answer = normalize(value if isinstance(value, str) else float(value))
    assert answer is not None, f"steps gave no answer: {value!r}"
    return answer
