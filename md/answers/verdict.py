"""What a CoT text or a program's execution result says: (status, answer, why), one rule for all.

Training data (md.stages.execute judges the teacher's thoughts) and evaluation
(md.evaluation.judge judges the student's paths) read answers the same way, so a path counts as
answered, failed or timed out by one definition:

    status "ok"         an answer was found (CoT: strictly, "The answer is ..."; PoT: `ans`)
           "no_answer"  CoT text stating none, or a program that ran but left no answer
           "error"      a program that failed, or a result that is not one the sandbox makes
           "timeout"    a program killed at its time limit

Total on model output: nothing here raises.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from md.answers.canonical import normalize
from md.answers.extract import extract_cot_answer
from md.types import Answer


class Verdict(NamedTuple):
    status: str
    answer: Answer | None
    why: str | None


def of_cot(text: Any) -> Verdict:
    """A CoT text's strict answer, or "no_answer" (not text at all: "error")."""
    if not isinstance(text, str):
        return Verdict("error", None, f"thought text is {type(text).__name__}")
    try:
        answer = extract_cot_answer(text, mode="strict")
    except Exception as e:  # the answers module promises not to raise; be safe anyway
        return Verdict("error", None, f"answer extraction failed: {type(e).__name__}: {e}")
    if answer is None:
        return Verdict("no_answer", None, "no answer found in the CoT text")
    return Verdict("ok", answer, None)


def of_execution(result: Any) -> Verdict:
    """A program's md.sandbox result; "ok" only with an answer, unknown statuses are "error"."""
    status = getattr(result, "status", "error")
    if status not in ("ok", "error", "timeout"):
        return Verdict("error", None, f"unknown sandbox status {status!r}")
    if status != "ok":
        return Verdict(status, None, getattr(result, "error", None))
    answer = normalize(getattr(result, "answer", None))
    if answer is None:
        return Verdict("no_answer", None, "the program ran but produced no answer")
    return Verdict("ok", answer, None)
