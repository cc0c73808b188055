"""ASDiv (Miao et al., 2021): 2,305 diverse math word problems, graded 1-6.

    python -m md.data data=asdiv data.path=/path/to/asdiv

File: <path>/ASDiv.xml from chaochun/nlu-asdiv-dataset (`<Problem ID Grade>` with Body, Question,
Answer, Formula). The source has no train/test split; as in the paper, a 695-problem test set is
sampled with the grade distribution of the whole set (stratified by Grade, largest-remainder
rounding, `random.Random(seed)` per grade), and the rest is train. The id is the Problem ID.

Answers: the unit in parentheses is removed ("9 (apples)" -> 9). Fractions ("5/2", "-(1/3)") become
numbers. Every problem with ONE answer is kept, whatever its type: numbers, yes/no (bool), and
text answers such as names from comparisons ("Westford location", "They are equal"), ratios
("5:6") and clock times ("3:30 p.m."), which `md.answers.normalize` turns into lower-cased text;
the paper's own Table 5 uses such a comparison. The 90 problems with SEVERAL answers
("5 (years old); 15 (years old)") are dropped, with a logged count: a single voted answer cannot
be right or wrong about them. So 2,215 problems remain: 695 test + 1,520 train (seed 0).
"""

from __future__ import annotations

import logging
import random
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from fractions import Fraction

from md.data.common import check_split, data_dir, make_problem
from md.errors import MDError
from md.types import Problem

log = logging.getLogger(__name__)
TEST_SIZE = 695
_UNIT = re.compile(r"\s+\([^()]*\)\s*$")  # "9 (apples)"; needs the space, so "-(1/3)" stays
_FRACTION = re.compile(r"^(-?)\(?\s*(\d+)\s*/\s*(\d+)\s*\)?$")


def clean_answer(raw: str) -> str | float | None:
    """The gold of one ASDiv answer string, before normalising; None when it has several."""
    text = raw.strip()
    if ";" in text:
        return None
    text = _UNIT.sub("", text).strip()
    match = _FRACTION.match(text)
    if match and int(match.group(3)) != 0:
        value = Fraction(int(match.group(2)), int(match.group(3)))
        return float(-value if match.group(1) else value)
    return text


def load(split: str, path: str | None = None, test_size: int = TEST_SIZE, seed: int = 0) -> list[Problem]:
    """Load one split of ASDiv: a grade-stratified sample of `test_size` as test, the rest train."""
    check_split("asdiv", split)
    file = data_dir("asdiv", path, ["ASDiv.xml"]) / "ASDiv.xml"
    try:
        root = ET.parse(file).getroot()
    except ET.ParseError as e:
        raise MDError(f"{file}: malformed XML ({e})") from None
    kept, dropped = [], 0
    for node in root.iter("Problem"):
        gold = clean_answer(node.findtext("Answer") or "")
        if gold is None:
            dropped += 1
            continue
        kept.append((node, gold))
    log.info("asdiv: dropped %d problems with several answers; %d remain", dropped, len(kept))
    test_ids = _stratified_test_ids([(n.get("ID"), n.get("Grade")) for n, _ in kept], test_size, seed)
    problems = []
    for node, gold in kept:
        pid = node.get("ID")
        if (pid in test_ids) != (split == "test"):
            continue
        question = f"{(node.findtext('Body') or '').strip()} {(node.findtext('Question') or '').strip()}"
        meta = {"grade": int(node.get("Grade", 0)), "solution_type": node.findtext("Solution-Type"),
                "formula": node.findtext("Formula")}
        problems.append(make_problem("asdiv", split, pid, question, gold, f"{file} {pid}", meta=meta))
    return problems


def _stratified_test_ids(items: list[tuple[str, str]], size: int, seed: int) -> set[str]:
    """`size` ids sampled per grade in proportion to the grade's share (largest remainder)."""
    if not 0 < size < len(items):
        raise MDError(f"asdiv: test_size must be between 1 and {len(items) - 1}, got {size}")
    by_grade: dict[str, list[str]] = defaultdict(list)
    for pid, grade in items:
        by_grade[grade].append(pid)
    grades = sorted(by_grade)
    exact = {g: size * len(by_grade[g]) / len(items) for g in grades}
    quota = {g: int(exact[g]) for g in grades}
    # hand the rounding leftovers to the grades with the largest fractional parts (ties: grade order)
    for g in sorted(grades, key=lambda g: quota[g] - exact[g])[: size - sum(quota.values())]:
        quota[g] += 1
    rng = random.Random(seed)
    return {pid for g in grades for pid in rng.sample(sorted(by_grade[g]), quota[g])}
