"""Safe evaluation of the arithmetic a teacher writes as its answer, e.g. "(16 * 17) * 4.".

Parsed with `ast` and walked node by node (never `eval`); only numbers, + - * / // % **,
parentheses and unary signs are allowed. Values are exact `Fraction`s so "1/3*3" is 1.0, and
every step is bounded, so "2**10**10" or "9**9**9" return None instead of hanging.

    >>> evaluate_arithmetic("(16 * 17) * 4.")
    1088.0
    >>> evaluate_arithmetic("$1,200 / 3") , evaluate_arithmetic("2**10**10")
    (400.0, None)
"""

from __future__ import annotations

import ast
import math
import operator
import re
import warnings
from fractions import Fraction

MAX_CHARS = 1000  # longer "expressions" are prose, and bound the parser's work
MAX_EXPONENT = 1000  # |b| in a**b
MAX_MAGNITUDE = 1e300  # any intermediate beyond this is treated as garbage (stays float-finite)

_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")  # "1,234" but not "(3,5)" or "1,23"
_TIMES = re.compile(r"(?<=[\d)])\s*[x×]\s*(?=[\d(])")  # "3 x 4", "3×4"
_REPLACE = str.maketrans({"−": "-", "–": "-", "÷": "/", "·": "*", "$": " "})


class _Reject(Exception):
    """Raised inside the walk for anything outside the allowed grammar or bounds."""


def evaluate_arithmetic(expr: object) -> float | None:
    """The value of a plain arithmetic expression, or None if it is not one (never raises)."""
    if not isinstance(expr, str) or len(expr) > MAX_CHARS:
        return None
    text = _clean(expr)
    if not text:
        return None
    try:
        with warnings.catch_warnings():  # "1and" warns "invalid decimal literal": model noise
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="eval")
        value = float(_walk(tree.body, depth=0))
    except (_Reject, SyntaxError, ValueError, TypeError, ArithmeticError, RecursionError,
            MemoryError):
        return None
    return value if math.isfinite(value) else None


def _clean(expr: str) -> str:
    """Map typographic operators to Python's, drop "$" and thousands commas and a final "."."""
    text = expr.replace("^", "**").translate(_REPLACE)
    text = _THOUSANDS.sub("", _TIMES.sub("*", text))
    return text.strip().rstrip(".=").strip()


def _walk(node: ast.AST, depth: int) -> Fraction:
    if depth > 100:  # deeper trees are never real answers; keeps recursion far from the limit
        raise _Reject
    if isinstance(node, ast.Constant):
        return _constant(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        value = _walk(node.operand, depth + 1)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left, right = _walk(node.left, depth + 1), _walk(node.right, depth + 1)
        if isinstance(node.op, ast.Pow):
            return _bounded(_power(left, right))
        func = _BINOPS.get(type(node.op))
        if func is None or (right == 0 and func in (operator.truediv, operator.floordiv,
                                                    operator.mod)):
            raise _Reject
        return _bounded(Fraction(func(left, right)))
    raise _Reject


def _constant(value: object) -> Fraction:
    # bool is an int subclass and complex is a number: neither is an arithmetic answer
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Reject
    if isinstance(value, float) and not math.isfinite(value):
        raise _Reject  # "1e999" parses to inf
    return _bounded(Fraction(repr(value)) if isinstance(value, float) else Fraction(value))


def _power(base: Fraction, exp: Fraction) -> Fraction:
    """base**exp, refusing results that would be huge before computing them."""
    if abs(exp) > MAX_EXPONENT:
        raise _Reject
    if base == 0:
        if exp < 0:
            raise _Reject
        return Fraction(0 if exp > 0 else 1)
    if abs(math.log10(abs(base)) * float(exp)) > 300:
        raise _Reject
    if exp.denominator == 1:
        return base ** int(exp)
    if base < 0:
        raise _Reject  # a fractional power of a negative number is complex
    return Fraction(float(base) ** float(exp))


def _bounded(value: Fraction) -> Fraction:
    # denominators can also explode (e.g. 3**-1000 chains); bound both ends of the fraction
    if abs(value) > MAX_MAGNITUDE or value.denominator > 10**300:
        raise _Reject
    return value
