"""Student task prompts: the phrases that tell a distilled student which reasoning to produce.

The paper (§3.2) appends "Let's think step by step" to elicit a CoT path and "Let's break down
the code step by step" to elicit a PoT program. Training and inference must place them
identically, so both build inputs here. Teacher few-shot templates live in `md.teacher.prompts`.
"""

from __future__ import annotations

COT_TRIGGER = "Let's think step by step."
POT_TRIGGER = "Let's break down the code step by step."
LABEL_TRIGGER = "The answer is"

TRIGGERS = {"cot": COT_TRIGGER, "pot": POT_TRIGGER, "label": LABEL_TRIGGER}


# Where a student's completion ends: small students run on into a made-up next question, whose
# numbers would pollute answer extraction (both sampling engines stop there and cut there).
STOP = "\nQuestion:"


def until_next_question(text: str, stop: str = STOP) -> str:
    """The completion up to the student's made-up next question (`stop`), stripped."""
    return text.split(stop, 1)[0].strip()


def student_input(question: str, method: str) -> str:
    """The student's input for a question and a method ("cot", "pot" or "label")."""
    try:
        trigger = TRIGGERS[method]
    except KeyError:
        raise ValueError(f"unknown method {method!r}; expected one of {sorted(TRIGGERS)}") from None
    return f"Question: {question.strip()}\nAnswer: {trigger}"
