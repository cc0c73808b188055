"""Reading an answer out of model-written text costs time linear in the text, never more.

A hostile server or file controls every character of a completion; before this, one completion
of 100k newlines cost ~14 s of the judge's main process (`\\n\\s*` rescanned the run from every
newline) and 5,000 nested parentheses ~3 s. Each 1 MB text here is judged in under a second.
"""

from __future__ import annotations

import time

import pytest

from md.answers.extract import extract_cot_answers, extract_label_answer, first_block
from md.answers.verdict import of_cot

MB = 1_000_000
HOSTILE = {
    "newlines": "\n" * MB,
    "blank_lines": " \n\t" * (MB // 3),
    "nested_parens": "The answer is " + "(" * 5_000 + "7" + ")" * 5_000 + ".",
    "deep_parens": "The answer is " + "(" * (MB // 2) + "7" + ")" * (MB // 2),
    "answer_words": ("answer" + " " * 1_000) * (MB // 1_006),
    "next_questions": ("\nQ" + " " * 1_000) * (MB // 1_002),
    "sums": "The answer is " + "1 + " * (MB // 4),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_megabyte_of_hostile_text_is_judged_in_under_a_second(name):
    text = HOSTILE[name]
    start = time.monotonic()
    of_cot(text)
    extract_cot_answers(text)
    extract_label_answer(text)
    assert time.monotonic() - start < 1.0, name


def test_the_linear_readers_keep_their_answers():
    assert of_cot("The answer is " + "(" * 300 + "7" + ")" * 300 + ".").answer == 7.0
    assert of_cot("So 3 + 4 = 7. The answer is 7.\n\n \n  Q: next").answer == 7.0
    assert first_block("a \n\n \t\nQuestion: b") == "a "
    assert first_block("a\nQ : b\nQ: c") == "a"
    assert extract_cot_answers("The answer is ((8 / 4) and (6 / 4)).").strict != 2.0
