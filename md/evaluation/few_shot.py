"""The rows above the students: a model prompted few-shot, with no fine-tuning.

Table 1 reports the teacher (GPT-3.5-Turbo) and few-shot base models (LLaMA2†, CodeLlama†) beside
the distilled students. Any teacher of md.teacher serves: `teacher=openai` (the API), or
`teacher=hf teacher.model=<base folder>` (a base student, the † rows). It is asked, with the
extraction's own few-shot prompts, for N CoT and N PoT samples per TEST question, through the
shared SQLite cache (a rerun never pays twice) and the budget cap; the completions are then
judged and scored exactly like a student's sampled paths.

    path_lists = teacher_paths(problems, teacher, n=10, sandbox=sb, cache_path="artifacts/...")
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from md.errors import MDError
from md.evaluation import judge
from md.teacher import plan as planning
from md.teacher.base import Teacher
from md.teacher.cache import Cache, damage_line
from md.teacher.engine import fill
from md.types import Problem, ReasoningPath


def teacher_paths(problems: Sequence[Problem], teacher: Teacher, *, n: int, sandbox: judge.Runner,
                  cache_path: str | Path | None = None, budget_usd: float | None = None,
                  progress: bool = True) -> list[list[ReasoningPath]]:
    """Per question: n CoT then n PoT few-shot completions of `teacher`, judged (a published
    teacher, md.teacher.published: the first n of what its files hold for each question)."""
    if teacher.recorded:
        texts: dict[tuple[str, str], list[str]] = defaultdict(list)
        for t in teacher.thoughts_for(list(problems)):
            texts[(t.problem_id, t.method)].append(t.text)
        return judge.judge([texts[(p.id, "cot")][:n] for p in problems],
                           [texts[(p.id, "pot")][:n] for p in problems], sandbox)
    cache = Cache(str(cache_path) if cache_path and teacher.cacheable else ":memory:")
    try:
        prompt_list = planning.prompts_for(list(problems), teacher)
        reqs = planning.plan(prompt_list, teacher, cache, n)
        damaged = damage_line(cache, len(reqs), planning.estimate(reqs, teacher).usd, budget_usd)
        if damaged:
            print(damaged, file=sys.stderr)
        if reqs:
            teacher.check_ready()
            result = fill(reqs, teacher, cache, budget_usd, progress)
            if result.stopped:
                raise MDError(f"few-shot evaluation of {teacher.model} stopped ({result.stopped}: "
                              f"{result.error or 'budget reached'}); what was answered is cached, "
                              "rerun to continue")
        texts = defaultdict(list)
        for t in planning.thoughts(prompt_list, teacher, cache, n):
            texts[(t.problem_id, t.method)].append(t.text)
    finally:
        cache.close()
    return judge.judge([texts[(p.id, "cot")] for p in problems],
                       [texts[(p.id, "pot")] for p in problems], sandbox)
