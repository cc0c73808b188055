"""Table tests for md.answers: extraction (strict and flexible), normalisation, arithmetic,
comparison and voting, plus garbage inputs that must come back quickly without raising.

    .venv/bin/python -m pytest tests/answers/test_answers.py -q
"""

from __future__ import annotations

import doctest
import importlib
import math
import time
from collections import Counter
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
import sympy

from md import answers as A
from md.errors import MDError

PALM = ("There are 16 blocks. Each block has 17 houses. So there are 16 * 17 = 272 houses. "
        "The answer is (16 * 17) * 4.\n\nQ: There are 15 trees in the grove. How many?\n"
        "A: There are 15 trees. The answer is 6.")
DEEP = "(" * 40 + "1 + 1" + ")" * 40

# (function name, argument(s), expected). Arguments are a tuple when the function takes several.
TABLE = [
    # --- strict extraction
    ("strict", PALM, 1088.0),
    ("strict", "So she has 72 left. The answer is 72.", 72.0),
    ("strict", "So the answer is yes.", True),
    ("strict", "The answer is: No, because bats are mammals.", False),
    ("strict", "Both are 5. The answer is Neither day.", "neither day"),
    ("strict", "The answer is (neither day).", "neither day"),
    ("strict", "answer is: $1,234.50", 1234.5),
    ("strict", "The answer is 10 - 6 = 4.", 4.0),
    ("strict", "The answer is 42 apples, so she is happy.", 42.0),
    ("strict", "The answer is 3.5.", 3.5),
    ("strict", "The answer is -12.", -12.0),
    ("strict", "The answer is (1,234 + 766).", 2000.0),
    ("strict", "First the answer is 3. Wait, the answer is 4.", 4.0),
    ("strict", "A: The answer is 3.\nQ: Next? A: The answer is 9.", 3.0),
    ("strict", "The answer is (8 / 4) and (6 / 4).", "(8 / 4) and (6 / 4)"),
    ("strict", "Answer: 17", 17.0),
    ("strict", "She has 12 apples.", None),
    ("strict", "She had 5. The answer is", None),
    ("strict", "", None),
    # --- flexible extraction: strict when found, else the last number of the first block
    ("flexible", PALM, 1088.0),
    ("flexible", "She has 12 apples.", 12.0),
    ("flexible", "She had 5. The answer is", 5.0),
    ("flexible", "So 10-6 leaves 4\nQ: 99 trees", 4.0),
    ("flexible", "he now has -12 marbles", -12.0),
    ("flexible", "it cost $1,234.50 in total", 1234.5),
    ("flexible", "no numbers here", None),
    # --- normalize: strings
    ("normalize", "$1,234.50", 1234.5),
    ("normalize", "45%", 45.0),
    ("normalize", "9 (apples)", 9.0),
    ("normalize", "12.50 (dollars)", 12.5),
    ("normalize", "12 dollars", 12.0),
    ("normalize", "3/4", 0.75),
    ("normalize", "1 1/2", 1.5),
    ("normalize", "-1 1/2", -1.5),
    ("normalize", "-3", -3.0),
    ("normalize", "- $5", -5.0),
    ("normalize", ".5", 0.5),
    ("normalize", "1,000,000", 1e6),
    ("normalize", "**42**", 42.0),
    ("normalize", "yes", True),
    ("normalize", "No", False),
    ("normalize", "TRUE", True),
    ("normalize", "false.", False),
    ("normalize", "  Neither   day. ", "neither day"),
    ("normalize", "Mrs. Hilt", "mrs. hilt"),
    ("normalize", "3:4", "3:4"),
    ("normalize", "6th", "6th"),
    ("normalize", "1e999", None),
    ("normalize", "nan", None),
    ("normalize", "...", None),
    ("normalize", "3/0", "3/0"),
    # --- normalize: python values
    ("normalize", 7, 7.0),
    ("normalize", True, True),
    ("normalize", -0.0, 0.0),
    ("normalize", float("nan"), None),
    ("normalize", float("-inf"), None),
    ("normalize", 10**400, None),
    ("normalize", Fraction(1, 4), 0.25),
    ("normalize", Decimal("2.50"), 2.5),
    ("normalize", Decimal("NaN"), None),
    ("normalize", np.bool_(False), False),
    ("normalize", np.float64(2.5), 2.5),
    ("normalize", np.int64(3), 3.0),
    ("normalize", np.array(4), 4.0),
    ("normalize", np.array([1, 2]), None),
    ("normalize", sympy.Rational(3, 4), 0.75),
    ("normalize", sympy.Integer(5), 5.0),
    ("normalize", sympy.Symbol("x"), None),
    ("normalize", sympy.true, True),
    ("normalize", complex(2, 0), 2.0),
    ("normalize", complex(1, 1), None),
    ("normalize", [3], None),
    ("normalize", None, None),
    # --- evaluate_arithmetic
    ("arith", "(16 * 17) * 4.", 1088.0),
    ("arith", "$1,200 / 3", 400.0),
    ("arith", "7 // 2 + 7 % 3", 4.0),
    ("arith", "2 ** 10", 1024.0),
    ("arith", "2^3", 8.0),
    ("arith", "3 x 4", 12.0),
    ("arith", "10 ÷ 4", 2.5),
    ("arith", "1/3*3", 1.0),
    ("arith", "-(-5)", 5.0),
    ("arith", "4 ** 0.5", 2.0),
    ("arith", DEEP, 2.0),
    ("arith", "1/0", None),
    ("arith", "2**10**10", None),
    ("arith", "(-8) ** 0.5", None),
    ("arith", "__import__('os').getcwd()", None),
    ("arith", "abs(-3)", None),
    ("arith", "x + 1", None),
    ("arith", "True + 1", None),
    ("arith", "(3, 5)", None),
    # --- is_correct
    ("correct", ("3/4", 0.75), True),
    ("correct", (1 / 3 + 1e-9, 1 / 3), True),  # float noise
    ("correct", (1 / 3 + 1e-6, 1 / 3), False),  # 0.333334 is another number (exact rule)
    ("correct", (0.333, 1 / 3), False),
    ("correct", (0.0, 1e-7), False),
    ("correct", (3.0000000000000004, 3), True),
    ("correct", (1088, "1,088"), True),
    ("correct", ("9 (apples)", 9), True),
    ("correct", (True, "yes"), True),
    ("correct", (True, 1.0), False),
    ("correct", (1.0, True), False),
    ("correct", ("Neither Day.", "neither day"), True),
    ("correct", ("monday", "tuesday"), False),
    ("correct", (None, None), False),
    ("correct", (None, 3), False),
    # --- majority_vote: None skipped, near-equal floats group, ties -> earliest first occurrence
    ("vote", [3.0, 2.9999999, 4.0], 3.0),
    ("vote", [4.0, "a", "a", 4.0], 4.0),
    ("vote", ["a", 4.0, 4.0, "a"], "a"),
    ("vote", [None, None, 5.0], 5.0),
    ("vote", [True, 1.0, 1.0], 1.0),
    ("vote", [True, 1.0], True),
    ("vote", ["Yes", True, False], True),
    ("vote", [None, None], None),
    ("vote", [], None),
]

CALL = {
    "strict": lambda x: A.extract_cot_answer(x, "strict"),
    "flexible": lambda x: A.extract_cot_answer(x, "flexible"),
    "normalize": A.normalize,
    "arith": A.evaluate_arithmetic,
    "correct": lambda args: A.is_correct(*args),
    "vote": A.majority_vote,
}


def _same(got: object, want: object) -> bool:
    """Equal value AND type: 1.0 is not True, "4" is not 4.0."""
    if isinstance(want, float) and not isinstance(want, bool):
        return type(got) is float and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)
    return type(got) is type(want) and got == want


@pytest.mark.parametrize(("kind", "arg", "want"), TABLE, ids=[f"{k}-{i}" for i, (k, *_) in
                                                               enumerate(TABLE)])
def test_table(kind: str, arg: object, want: object) -> None:
    got = CALL[kind](arg)
    assert _same(got, want), f"{kind}({arg!r}) = {got!r}, want {want!r}"


def test_table_is_big_enough() -> None:
    assert len(TABLE) >= 40


@pytest.mark.parametrize("value", [arg for kind, arg, _ in TABLE if kind == "normalize"])
def test_normalize_is_idempotent(value: object) -> None:
    once = A.normalize(value)
    assert _same(A.normalize(once), once) or once is None


def test_answer_key_groups_near_equal_numbers_only() -> None:
    assert A.answer_key(3.0) == A.answer_key(2.9999999) == A.answer_key("3")
    assert A.answer_key(0.1 + 0.2) == A.answer_key(0.3)
    assert A.answer_key(1e20) == A.answer_key(1e20 * (1 + 1e-15))
    assert A.answer_key(574664) != A.answer_key(574665)
    assert A.answer_key(True) != A.answer_key(1.0)
    assert A.answer_key(-0.0) == A.answer_key(0.0)
    assert A.answer_key(None) is None and A.answer_key("") is None


def test_vote_counts_and_both_extractions() -> None:
    counts = A.vote_counts([3.0, 2.9999999, None, "X", "x."])
    assert counts == Counter({("num", 3.0): 2, ("text", "x"): 2})
    assert A.extract_cot_answers("She has 12 apples.") == A.CotAnswers(None, 12.0)


GARBAGE = [
    "", " ", None, "\x00\x01", "1e999", "-1e999", "9" * 5000, "(" * 10000 + "1" + ")" * 10000,
    "(" * 150 + "1" + ")" * 150, "2**10**10", "9**9**9**9", "(10**299)**1000", "10**-400",
    "1/0", "0**-1", "3 % 0", "The answer is " + "(" * 500, "The answer is 2**10**10.",
    "The answer is 1e999.", "Q:" * 1000, "The answer is " + "9" * 100_000, "answer is" * 5000,
    "-" * 1000, "%%%$$$,,,", "1/2/3/4/0", "1/" + "9" * 5000, "The answer is 1 " + "7" * 4400 + "/2",
    b"bytes", ["list"], {"a": 1}, object(), 10**400,
    float("nan"), float("inf"), Decimal("sNaN"), sympy.zoo, sympy.nan, np.array([]),
]


@pytest.mark.parametrize("junk", GARBAGE, ids=[f"junk-{i}" for i in range(len(GARBAGE))])
def test_garbage_never_raises_and_is_fast(junk: object) -> None:
    start = time.perf_counter()
    for mode in ("strict", "flexible"):
        result = A.extract_cot_answer(junk, mode)
        assert result is None or isinstance(result, (float, bool, str))
    value = A.normalize(junk)
    assert value is None or (isinstance(value, float) and math.isfinite(value)) or isinstance(
        value, (bool, str))
    assert A.evaluate_arithmetic(junk) is None or isinstance(A.evaluate_arithmetic(junk), float)
    assert A.is_correct(junk, 1.0) in (True, False)
    A.majority_vote([junk, junk, None])
    A.answer_key(junk)
    assert time.perf_counter() - start < 2.0, "garbage input must not be slow"


def test_unknown_mode_is_one_clear_error() -> None:
    with pytest.raises(MDError, match="'strict' or 'flexible'"):
        A.extract_cot_answer("The answer is 3.", mode="lenient")


def test_random_token_soup_never_raises() -> None:
    """Seeded fuzz: 3000 strings glued from answer-ish tokens through every entry point."""
    tokens = ["The answer is", "answer:", "\nQ:", "(", ")", "1", "0", "9" * 40, ".", ",", "$", "%",
              "-", "+", "*", "**", "/", "//", "=", " ", "yes", "no", "x", "1e999", "^", "÷", "and"]
    rng = np.random.default_rng(0)
    texts = ["".join(rng.choice(tokens, size=rng.integers(1, 25))) for _ in range(3000)]
    for text in texts:
        A.extract_cot_answers(text)
        A.evaluate_arithmetic(text)
        A.is_correct(text, A.normalize(text))
    assert A.majority_vote(texts) is not None


@pytest.mark.parametrize("module", ["md.answers", "md.answers.arithmetic", "md.answers.canonical",
                                    "md.answers.extract", "md.answers.vote"])
def test_docstring_examples_hold(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0


def test_numbers_are_judged_exactly():
    # benchmark answers are exact: a near miss of an integer is wrong, however close
    assert not A.is_correct(120006, 120000) and not A.is_correct(100009, 100000)
    assert not A.is_correct(999999999, 1e9) and not A.is_correct(1234.51, 1234.5)
    # float noise of a program, and other spellings of the same number, still count
    assert A.is_correct(0.1 * 30, 3) and A.is_correct(1e12 + 1e-3, 1e12)
    assert A.is_correct("1,234.50", 1234.5) and A.is_correct(0.5, "1/2")
    assert A.is_correct(0.3333333, "1/3") and not A.is_correct(0.333, "1/3")
