"""Turn any answer value into a canonical `Answer` (float | bool | str) and compare two of them.

Total functions: model text, program results and gold labels of every benchmark go through
`normalize`; anything that is not an answer becomes None, nothing raises.

    >>> normalize("$1,234.50"), normalize("9 (apples)"), normalize("Yes"), normalize(" Neither day.")
    (1234.5, 9.0, True, 'neither day')
    >>> is_correct("3/4", 0.75), is_correct(True, "yes"), is_correct(None, 1.0)
    (True, True, False)
    >>> is_correct(120006, 120000), is_correct("1,234.50", 1234.5), is_correct(0.5, "1/2")
    (False, True, True)
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable

from md.types import Answer

_BOOLS = {"yes": True, "true": True, "no": False, "false": False}
_NUM = r"[-+]?\s*\$?\s*[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][-+]?\d+)?|[-+]?\$?\.\d+"
# a number, then optionally "%" or a unit: "45%", "9 (apples)", "12 dollars", "3.5 (square feet)"
_NUMBER_WITH_UNIT = re.compile(rf"({_NUM})\s*(%|\s[a-z][a-z '.\-]*|\(\s*[a-z][a-z '.\-]*\))?")
_FRACTION = re.compile(r"([-+]?)\s*(?:(\d{1,30})\s+)?(\d{1,30})\s*/\s*(\d{1,30})")  # "3/4", "-1 1/2"
_LEAD_JUNK = " \t\r\n,;:!?\"'`*"  # quotes, markdown bold; not "." (".5" is a number)
_TRAIL_JUNK = _LEAD_JUNK + "."  # a sentence's full stop is not part of its answer
MAX_TEXT = 10_000  # longer strings are not answers; also bounds regex work


def normalize(value: object) -> Answer | None:
    """The canonical Answer for a Python value or a string; None when it is not an answer."""
    if value is None or isinstance(value, bool):
        return value
    if type(value).__name__ in ("bool_", "bool", "BooleanTrue", "BooleanFalse"):
        return bool(value)  # numpy.bool_ / sympy.true are not bool subclasses
    if isinstance(value, str):
        return _normalize_text(value)
    if isinstance(value, (bytes, bytearray, list, tuple, dict, set, frozenset)):
        return None  # containers are not one answer (a PoT program that built a list failed)
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return _scalar_item(value)  # numpy scalar or 0-d array
    return _to_float(value)


def _scalar_item(value: object) -> Answer | None:
    try:
        inner = value.item()  # type: ignore[attr-defined]
    except Exception:
        return None
    if isinstance(inner, (bool, int, float, str)):
        return normalize(inner)
    return _to_float(inner)


def _to_float(value: object) -> float | None:
    """Any real number (int, Fraction, Decimal, sympy Rational, ...) as a finite float, else None."""
    if isinstance(value, complex):
        value = value.real if value.imag == 0 else None
    try:
        number = float(value)  # type: ignore[arg-type]
    except Exception:  # OverflowError for 10**400, TypeError for symbols and objects
        return None
    return number + 0.0 if math.isfinite(number) else None  # + 0.0 turns -0.0 into 0.0


def _normalize_text(text: str) -> Answer | None:
    if len(text) > MAX_TEXT:
        return None
    text = " ".join(text.split()).lstrip(_LEAD_JUNK).rstrip(_TRAIL_JUNK).lower()
    if not text or text.lstrip("+-") in ("nan", "inf", "infinity"):
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    is_number, number = _parse_number(text)
    return number if is_number else text  # "1e999" is a number too large: None, not text


def _parse_number(text: str) -> tuple[bool, float | None]:
    """(is it a number?, its finite value or None) for "$1,234.50", "45%", "9 (apples)", "3/4"."""
    match = _NUMBER_WITH_UNIT.fullmatch(text)
    if match:
        digits = re.sub(r"[\s$,]", "", match.group(1))
        if digits.count("-") + digits.count("+") > 1:
            return False, None
        return True, _to_float(digits)
    match = _FRACTION.fullmatch(text)
    if match:
        sign, whole, num, den = match.groups()
        if int(den) == 0:
            return False, None  # "3/0" stays text: it is what the model wrote
        value = (int(whole) if whole else 0) + int(num) / int(den)
        return True, _to_float(-value if sign == "-" else value)
    return False, None


def answer_key(answer: object) -> Hashable:
    """A hashable key under which equal answers group for voting (None for no answer).

    Floats are rounded (6 decimals, then 12 significant digits) so 3.0 and 2.9999999, or two
    computations of 1e20 differing in the last bit, share a key. The type is part of the key,
    so True and 1.0 never merge.
    """
    value = normalize(answer)
    if value is None:
        return None
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, float):
        return ("num", float(f"{round(value, 6):.12g}") + 0.0)
    return ("text", value)


# How close a number must be to the gold answer. Benchmark answers are exact (GSM8K's and
# SVAMP's are integers), so an integer gold allows only float noise (a program's 0.1 * 30 is
# 3.0000000000000004): no two integers below 10**9 can pass for one another. Any other gold
# allows a relative 1e-7: two numbers written with at most 7 significant digits that differ
# (1234.5 and 1234.51, 0.3333333 and 0.3333334) are farther apart than that, while 1/3 written as
# 0.3333333 still counts.
INTEGER_ABS_TOL, INTEGER_REL_TOL = 1e-6, 1e-12
REL_TOL = 1e-7


def is_correct(pred: object, gold: object) -> bool:
    """Whether `pred` answers `gold`: numbers equal up to the tolerances above, bools and texts
    equal."""
    p, g = normalize(pred), normalize(gold)
    if p is None or g is None or isinstance(p, bool) != isinstance(g, bool):
        return False
    if isinstance(p, float) and isinstance(g, float):
        if g.is_integer():
            return abs(p - g) <= INTEGER_ABS_TOL + INTEGER_REL_TOL * abs(g)
        return math.isclose(p, g, rel_tol=REL_TOL, abs_tol=0.0)
    return type(p) is type(g) and p == g
