"""Render a synthetic problem's gold `Solution` as CoT text or a PoT program (simulated teacher).

`apply` runs the steps (optionally with arithmetic slips, or the last step dropped) and returns
what each step computed; `cot_text` writes those steps in words ending "The answer is X.";
`pot_code` writes a Python program ending `ans = ...`, optionally misreading one operation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from md.data.synthetic.solution import step_value, trace
from md.types import Solution, Step

SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
INVERSE = {"add": "sub", "sub": "add", "mul": "div", "div": "mul"}


@dataclass(frozen=True)
class Done:
    step: Step
    args: tuple[float, ...]
    value: float | str


def fmt(x: float | str) -> str:
    """A number as a person writes it: 12, 3.5, 0.3333."""
    if isinstance(x, str):
        return x
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.4f}".rstrip("0").rstrip(".")


def label(sol: Solution, name: str) -> str:
    return sol.labels.get(name, name.replace("_", " "))


def compute(sol: Solution, op: str, names: tuple[str, ...], args: tuple) -> float | str:
    """A step's result by the one definition of the steps (md.data.synthetic.solution); a slip
    upstream may make a divisor 0, which a written-out rationale shows as nan."""
    if op == "div" and not args[1]:
        return float("nan")
    return step_value(sol, op, names, args[0], args[1])


def apply(sol: Solution, slip: list[float] | None = None, drop_last: bool = False) -> list[Done]:
    """Run the steps; `slip[i]` is added to step i's result (a flipped answer for cmp)."""
    values: dict[str, float | str] = dict(sol.values)
    done = []
    steps = sol.steps[:-1] if drop_last and len(sol.steps) > 1 else sol.steps
    for i, step in enumerate(steps):
        args = tuple(values[a] for a in step.args)
        value = compute(sol, step.op, step.args, args)
        delta = slip[i] if slip else 0
        if delta and step.op == "cmp":
            value = label(sol, step.args[1] if value == label(sol, step.args[0]) else step.args[0])
        elif delta:
            value = value + delta
        values[step.out] = value
        done.append(Done(step, args, value))
    return done


def evaluate(sol: Solution) -> dict[str, float | str]:
    """Every named quantity of the gold solution, stated and computed (as floats)."""
    return trace(sol, exact=False)


def words(name: str) -> str:
    return name.replace("_", " ")


def cot_text(sol: Solution, done: list[Done], malformed: bool = False) -> str:
    """CoT in words: the givens, one sentence per step, then the answer sentence."""
    givens = ", ".join(f"{words(k)} is {fmt(v)}" for k, v in sol.values.items())
    lines = [f"We know that {givens}."]
    for d in done:
        if d.step.op == "cmp":
            a, b = d.step.args
            lines.append(f"Comparing {words(a)} ({fmt(d.args[0])}) with {words(b)} "
                         f"({fmt(d.args[1])}) gives {d.value}.")
        else:
            expr = f" {SYMBOL[d.step.op]} ".join(fmt(x) for x in d.args)
            lines.append(f"So {words(d.step.out)} is {expr} = {fmt(d.value)}.")
    final = done[-1].value if done else next(iter(sol.values.values()))
    if malformed:  # stops before giving an answer
        return " ".join(lines + ["Now we can work out the final answer."])
    return " ".join(lines + [f"The answer is {fmt(final)}."])


def ident(name: str) -> str:
    """A valid Python identifier for a quantity name."""
    clean = re.sub(r"\W+", "_", name).strip("_") or "x"
    return f"v_{clean}" if clean[0].isdigit() else clean


def pot_code(sol: Solution, misread: bool = False, drop_last: bool = False,
             malformed: bool = False, variant: int = 0) -> str:
    """A program that computes the answer into `ans`; `misread` inverts one operation."""
    lines = [f"{ident(k)} = {fmt(v)}" for k, v in sol.values.items()]
    steps = list(sol.steps[:-1] if drop_last and len(sol.steps) > 1 else sol.steps)
    target = _misread_target(steps, sol.tags) if misread else -1
    for i, step in enumerate(steps):
        a, b = (ident(x) for x in step.args)
        if variant == 1:
            lines.append(f"# {words(step.out)}")
        if step.op == "cmp":
            cmp = "<" if i == target else ">"
            neither = sol.labels.get("neither", "neither")
            lines.append(f"{ident(step.out)} = {label(sol, step.args[0])!r} if {a} {cmp} {b} "
                         f"else ({label(sol, step.args[1])!r} if {a} != {b} else {neither!r})")
        else:
            op = INVERSE[step.op] if i == target else step.op
            lines.append(f"{ident(step.out)} = {a} {SYMBOL[op]} {b}")
    last = ident(steps[-1].out) if steps else ident(next(iter(sol.values)))
    if malformed and variant == 2:
        return "\n".join(lines)  # never assigns ans
    if malformed:
        return "\n".join(lines + [f"ans = ({last}"])  # unbalanced parenthesis
    return "\n".join(lines + [f"ans = {last}"])


def _misread_target(steps: list[Step], tags: tuple[str, ...]) -> int:
    """Which step PoT misreads: a comparison if the question compares, else the last operation."""
    if "compare" in tags:
        for i, s in enumerate(steps):
            if s.op == "cmp":
                return i
    for i in range(len(steps) - 1, -1, -1):
        if steps[i].op in INVERSE:
            return i
    return -1
