"""Teacher few-shot templates: the paper's format, and no exemplar taken from any benchmark."""

from __future__ import annotations

import re

import pytest

from md import answers, data
from md.prompts import student_input
from md.teacher import prompts
from md.types import Problem

BENCHMARKS = ("gsm8k", "svamp", "asdiv", "strategyqa")


def squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


@pytest.mark.parametrize("name", BENCHMARKS)
def test_no_exemplar_in_any_split(name, shared_data):
    questions = {squash(p.question) for split in ("train", "test")
                 for p in data.load(name, split, str(shared_data / name))}
    assert len(questions) > 500
    for ex in prompts.exemplar_questions():
        q = squash(ex)
        assert q not in questions
        assert not any(q in other or other in q for other in questions if len(other) > 30)


def test_cot_exemplars_are_right_and_end_with_the_answer():
    for name in ("svamp", "strategyqa"):
        text = prompts.few_shot(name, "cot")
        blocks = text.split("\n\n")
        assert len(blocks) == 4
        for block, (_, _, gold) in zip(blocks, prompts.TEMPLATES[(prompts.family(name), "cot")],
                                       strict=True):
            assert block.endswith(f"The answer is {gold}.")
            assert answers.is_correct(answers.extract_cot_answer(block), gold)


def test_pot_exemplars_run_to_the_cot_answer():
    for fam in ("math", "strategyqa"):
        pots, cots = prompts.TEMPLATES[(fam, "pot")], prompts.TEMPLATES[(fam, "cot")]
        for (q, code), (q2, _, gold) in zip(pots, cots, strict=True):
            assert q == q2 and code.splitlines()[-1].startswith("ans = ")
            env: dict = {}
            exec(code, env)  # our own exemplar code, not model output
            assert answers.is_correct(answers.normalize(env["ans"]), gold)
    # StrategyQA's PoT carries the reasoning as comments (paper App. B, Fig. 9)
    assert all(code.startswith("# ") for _, code in prompts.SQA_POT)


def test_prompt_ends_like_the_student_input():
    p = Problem("x", "gsm8k", "train", "  Ann has 3 apples. How many?  ", 3.0)
    for method in ("cot", "pot"):
        messages = prompts.build_messages(p, method)
        assert messages[0]["role"] == "system" and messages[1]["role"] == "user"
        assert messages[1]["content"].endswith(student_input(p.question, method))
        assert messages[1]["content"].count("Question: ") == 5
    sqa = prompts.build_prompt("Is ice cold?", "strategyqa", "pot")
    assert "# Goldfish" in sqa and "muffins" not in sqa
    with pytest.raises(ValueError, match="unknown method"):
        prompts.build_prompt("q", "gsm8k", "label")
