"""Hand-made MixedExamples (types 1-3 in turn) for the training benchmark and tests: no teacher, no pipeline."""

from __future__ import annotations

from md.types import MixedExample


def demo_examples(n_questions: int = 24, seed: int = 0) -> list[MixedExample]:
    """A few synthetic mixed examples (types 1-3 in turn) for demos and tests, no teacher needed."""
    import random

    from md.prompts import student_input

    rng, out = random.Random(seed), []
    for i in range(n_questions):
        a, b = rng.randint(2, 999), rng.randint(2, 99)
        q = f"Tom has {a} apples and buys {b} more. How many apples does he have now?"
        cot = f"Tom starts with {a} apples and buys {b} more, so {a} + {b} = {a + b}. The answer is {a + b}."
        pot = f"apples = {a}\nbought = {b}\nans = apples + bought\nprint(ans)"
        qtype = (1, 2, 3)[i % 3]
        lam = round(rng.uniform(0.2, 0.8), 2) if qtype == 3 else None
        w_pot = lam if lam is not None else 1.0
        w_cot = 1.0 - lam if lam is not None else 1.0
        out += [MixedExample(f"demo-{i}", "cot", student_input(q, "cot"), cot, w_cot, qtype, lam),
                MixedExample(f"demo-{i}", "pot", student_input(q, "pot"), pot, w_pot, qtype, lam)]
    return out
