"""Read the answer out of a chain-of-thought completion, strictly and flexibly.

strict:   the text after the LAST "the answer is" / "answer is:" / "answer:" in the first answer
          block (the completion cut before a hallucinated next "Q:"), up to the end of that
          sentence; an arithmetic answer such as "(16 * 17) * 4." is evaluated, "yes"/"no"
          become bools, other text is kept lower-cased ("neither day").
flexible: strict when it finds something, else the last number in the first block.

    >>> extract_cot_answer("16 * 17 = 272. The answer is (16 * 17) * 4.\\n\\nQ: There are 15 trees")
    1088.0
    >>> extract_cot_answers("So 5 + 3 = 8 apples.")
    CotAnswers(strict=None, flexible=8.0)
"""

from __future__ import annotations

import re
from typing import NamedTuple

from md.answers.arithmetic import evaluate_arithmetic
from md.answers.canonical import MAX_TEXT, normalize
from md.errors import MDError
from md.types import Answer

# teachers run on into the next shot: "\n  Q:". Only spaces and tabs after the newline, so a
# run of k newlines costs k steps, not k^2 (`\n\s*` rescans the run from every newline in it);
# first_block then cuts at the first newline of the blank run before the match.
_NEXT_QUESTION = re.compile(r"\n[ \t]*(?:Q|Question)[ \t]*:")
_ANSWER_IS = re.compile(r"answer\s+is\s*:?|answer\s*:", re.IGNORECASE)
_SENTENCE_END = re.compile(r"\.(?=\s|$)|\n")  # "3.5." ends at the second dot
_LEADING_BOOL = re.compile(r"(yes|no|true|false)\b", re.IGNORECASE)
_LEADING_MATH = re.compile(r"[\d\s$.,+\-*/×÷^()]+")  # "(16 * 17) * 4 houses" -> the sum
_NUMBER = re.compile(r"(?<![\w)\]])-?\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


class CotAnswers(NamedTuple):
    """Both readings of one completion, as lm-evaluation-harness reports them."""

    strict: Answer | None
    flexible: Answer | None


def extract_cot_answers(text: object) -> CotAnswers:
    """The strict and the flexible answer of a CoT completion (None where there is none)."""
    if not isinstance(text, str):
        return CotAnswers(None, None)
    block = first_block(text[: MAX_TEXT * 10])  # bounds the work on a runaway completion
    strict = _strict(block)
    return CotAnswers(strict, strict if strict is not None else _last_number(block))


def extract_cot_answer(text: object, mode: str = "strict") -> Answer | None:
    """The CoT completion's answer; `mode` is "strict" or "flexible" (see module docstring).

    Total on `text`; an unknown `mode` is a configuration mistake and raises MDError.
    """
    if mode not in ("strict", "flexible"):
        raise MDError(f"unknown answer extraction mode {mode!r}; use 'strict' or 'flexible'")
    answers = extract_cot_answers(text)
    return answers.flexible if mode == "flexible" else answers.strict


def extract_label_answer(text: object) -> Answer | None:
    """A label-fine-tuned student's answer: the bare answer it writes after "The answer is"
    (" 42", " yes", " 3/4", " 42 apples"), read from its first line. Total on `text`."""
    if not isinstance(text, str):
        return None
    block = first_block(text[: MAX_TEXT * 10])
    line = next((ln for ln in block.splitlines() if ln.strip()), "")
    strict = _strict(line)  # a student that writes "The answer is 42" after all
    return strict if strict is not None else parse_answer_span(line.rstrip(". "))


def first_block(text: str) -> str:
    """The completion up to a hallucinated next few-shot question ("\\nQ:" / "\\nQuestion:"),
    cut at the first newline of the blank lines before it. Linear in len(text)."""
    match = _NEXT_QUESTION.search(text)
    if match is None:
        return text
    head = text[: match.start()]
    blank_from = len(head.rstrip())
    first_newline = head.find("\n", blank_from)
    return head[:first_newline] if first_newline >= 0 else head


def _strict(block: str) -> Answer | None:
    last = None
    for last in _ANSWER_IS.finditer(block):  # noqa: B007 - we want the last match
        pass
    if last is None:
        return None
    tail = block[last.end():].lstrip()
    return parse_answer_span(_SENTENCE_END.split(tail, maxsplit=1)[0])


def parse_answer_span(span: str) -> Answer | None:
    """The Answer in the words that follow "the answer is", e.g. "(10 - 6)" or "yes, because"."""
    span = _unwrap(span.strip())
    if "=" in span:  # "10 - 6 = 4": the right-most side is the result
        span = span.rsplit("=", 1)[1].strip() or span
    if match := _LEADING_BOOL.match(span):
        return normalize(match.group(1))
    value = evaluate_arithmetic(span)
    if value is not None:
        return value
    answer = normalize(span)
    prefix = _LEADING_MATH.match(span)
    # a number then words, "42 apples, so": the number. Not "(8 / 4) and (6 / 4)": two answers
    if isinstance(answer, str) and prefix and not re.search(r"\d", span[prefix.end():]):
        value = evaluate_arithmetic(prefix.group(0))
        if value is not None:
            return value
    return answer


def _unwrap(span: str) -> str:
    """Drop parentheses around the whole span: "((neither day))" -> "neither day". One pass
    finds each "(" its ")", so 5,000 nested pairs cost one scan, not 5,000."""
    closes = _closing_positions(span)
    left, right = 0, len(span) - 1
    while left < right and closes.get(left) == right:
        left, right = left + 1, right - 1
        while left <= right and span[left].isspace():
            left += 1
        while right >= left and span[right].isspace():
            right -= 1
    return span[left:right + 1]


def _closing_positions(span: str) -> dict[int, int]:
    """{index of "(": index of the ")" that closes it}, for the balanced pairs of `span`."""
    opened, closes = [], {}
    for index, char in enumerate(span):
        if char == "(":
            opened.append(index)
        elif char == ")" and opened:
            closes[opened.pop()] = index
    return closes


def _last_number(block: str) -> float | None:
    numbers = _NUMBER.findall(block)
    for number in reversed(numbers):
        value = normalize(number)
        if isinstance(value, float):
            return value
    return None
