"""Teacher few-shot templates, CoT and PoT, in the paper's format (its Appendix B, Fig. 8/9).

Each exemplar is a (question, reasoning, answer) triplet (x_p, r_p, y_p of §3.1). A prompt lists
the exemplars as `Question: ...` / `Answer: <trigger> ...` blocks, then the new question with the
same trigger, so the teacher's completion is exactly what the student later learns to write after
`md.prompts.student_input(question, method)`. CoT reasoning ends "The answer is X."; PoT code
ends by assigning `ans`. StrategyQA's PoT carries the CoT as code comments (after Li et al. 2023a).
All exemplars are our own; tests/teacher/test_prompts.py checks none appears in any benchmark file.

    messages = build_messages(problem, "pot")   # -> [{"role": "system", ...}, {"role": "user", ...}]
"""

from __future__ import annotations

from md.prompts import COT_TRIGGER, POT_TRIGGER
from md.types import Problem

SYSTEM = ("Answer the last question in exactly the format of the examples: reasoning first, "
          "then the final answer. Write nothing after the answer.")

MATH_COT = [
    ("A baker filled 14 trays with 6 muffins each. He sold 59 muffins. How many muffins are left?",
     "The baker made 14 * 6 = 84 muffins. After selling 59 he has 84 - 59 = 25 left.", "25"),
    ("Rosa has 3 times as many stamps as Ivan. Rosa has 57 stamps. How many stamps does Ivan have?",
     "Rosa has 3 times Ivan's stamps, so Ivan has 57 / 3 = 19 stamps.", "19"),
    ("A ferry carried 318 passengers in the morning and 176 in the evening. How many more "
     "passengers did it carry in the morning than in the evening?",
     "The difference is 318 - 176 = 142 passengers.", "142"),
    ("Tom read 2/5 of a 45-page comic. How many pages does he still have to read?",
     "He read 45 * 2 / 5 = 18 pages, so 45 - 18 = 27 pages are left.", "27"),
]

MATH_POT = [
    (MATH_COT[0][0], "trays = 14\nmuffins_per_tray = 6\nsold = 59\n"
                     "ans = trays * muffins_per_tray - sold"),
    (MATH_COT[1][0], "rosa_stamps = 57\ntimes_more = 3\nans = rosa_stamps / times_more"),
    (MATH_COT[2][0], "morning = 318\nevening = 176\nans = morning - evening"),
    (MATH_COT[3][0], "pages = 45\nread_fraction = 2 / 5\nans = pages - pages * read_fraction"),
]

SQA_COT = [
    ("Could a goldfish survive a week in the Dead Sea?",
     "Goldfish are freshwater fish. The Dead Sea is about ten times saltier than the ocean, "
     "and almost nothing lives in it. So a goldfish would die there.", "no"),
    ("Would a standard bathtub hold the water of a full two-liter soda bottle?",
     "A standard bathtub holds roughly 150 liters. Two liters is far less than 150 liters.",
     "yes"),
    ("Did the inventor of the telephone live to see the first transatlantic phone call?",
     "Alexander Graham Bell died in 1922. The first transatlantic telephone call was made in "
     "1927, after his death.", "no"),
    ("Is a marathon longer than the length of Manhattan island?",
     "A marathon is about 42 km. Manhattan is about 22 km long. 42 is more than 22.", "yes"),
]

SQA_POT = [
    (SQA_COT[0][0], "# Goldfish are freshwater fish.\n# The Dead Sea is far saltier than the ocean.\n"
                    "goldfish_needs_fresh_water = True\ndead_sea_is_fresh = False\n"
                    "ans = dead_sea_is_fresh or not goldfish_needs_fresh_water"),
    (SQA_COT[1][0], "# A standard bathtub holds roughly 150 liters.\n# The bottle holds 2 liters.\n"
                    "bathtub_liters = 150\nbottle_liters = 2\nans = bathtub_liters >= bottle_liters"),
    (SQA_COT[2][0], "# Alexander Graham Bell died in 1922.\n"
                    "# The first transatlantic phone call was in 1927.\n"
                    "bell_death_year = 1922\nfirst_call_year = 1927\n"
                    "ans = bell_death_year >= first_call_year"),
    (SQA_COT[3][0], "# A marathon is about 42 km; Manhattan is about 22 km long.\n"
                    "marathon_km = 42\nmanhattan_km = 22\nans = marathon_km > manhattan_km"),
]

TEMPLATES = {("math", "cot"): MATH_COT, ("math", "pot"): MATH_POT,
             ("strategyqa", "cot"): SQA_COT, ("strategyqa", "pot"): SQA_POT}


def family(dataset: str) -> str:
    """Which template family a dataset uses: StrategyQA has its own, everything else is math."""
    return "strategyqa" if dataset.lower().startswith("strategyqa") else "math"


def exemplar_block(question: str, method: str, body: str) -> str:
    trigger = COT_TRIGGER if method == "cot" else POT_TRIGGER
    sep = " " if method == "cot" else "\n"
    return f"Question: {question.strip()}\nAnswer: {trigger}{sep}{body}".rstrip()


def few_shot(dataset: str, method: str) -> str:
    """The exemplar part of the prompt for a dataset and method."""
    blocks = []
    for ex in TEMPLATES[(family(dataset), method)]:
        body = f"{ex[1]} The answer is {ex[2]}." if method == "cot" else ex[1]
        blocks.append(exemplar_block(ex[0], method, body))
    return "\n\n".join(blocks)


def build_prompt(question: str, dataset: str, method: str) -> str:
    """The whole few-shot text ending with the new question and the method's trigger."""
    if method not in ("cot", "pot"):
        raise ValueError(f"unknown method {method!r}; expected 'cot' or 'pot'")
    trigger = COT_TRIGGER if method == "cot" else POT_TRIGGER
    return f"{few_shot(dataset, method)}\n\nQuestion: {question.strip()}\nAnswer: {trigger}"


def build_messages(problem: Problem, method: str) -> tuple[dict[str, str], ...]:
    """Chat messages for one problem and method (what chat endpoints receive)."""
    return ({"role": "system", "content": SYSTEM},
            {"role": "user", "content": build_prompt(problem.question, problem.dataset, method)})


def exemplar_questions() -> list[str]:
    return [q for exs in TEMPLATES.values() for q, *_ in exs]
