"""Answer handling: extract, normalise, compare and vote. Pure, and total on model text.

Every function here accepts arbitrary model output and returns None rather than raising.

    >>> from md import answers
    >>> answers.extract_cot_answer("So 16 * 17 = 272. The answer is (16 * 17) * 4.\\n\\nQ: ...")
    1088.0
    >>> answers.extract_cot_answer("The answer is: Neither day.")
    'neither day'
    >>> answers.extract_cot_answers("... so she has 12 apples left")
    CotAnswers(strict=None, flexible=12.0)
    >>> answers.normalize("$1,234.50"), answers.normalize("45%"), answers.normalize("no")
    (1234.5, 45.0, False)
    >>> answers.is_correct("9 (apples)", 9), answers.evaluate_arithmetic("2**10**10")
    (True, None)
    >>> answers.majority_vote([4.0, None, "monday", 3.9999999, "monday"])  # tie: earliest wins
    4.0

Modules: `canonical` (normalize, is_correct, answer_key), `arithmetic` (evaluate_arithmetic),
`extract` (CoT answers), `vote` (majority_vote, vote_counts).
"""

from md.answers.arithmetic import evaluate_arithmetic
from md.answers.canonical import answer_key, is_correct, normalize
from md.answers.extract import (
    CotAnswers,
    extract_cot_answer,
    extract_cot_answers,
    extract_label_answer,
    first_block,
    parse_answer_span,
)
from md.answers.vote import majority_vote, vote_counts

__all__ = [
    "CotAnswers",
    "answer_key",
    "evaluate_arithmetic",
    "extract_cot_answer",
    "extract_cot_answers",
    "extract_label_answer",
    "first_block",
    "is_correct",
    "majority_vote",
    "normalize",
    "parse_answer_span",
    "vote_counts",
]
