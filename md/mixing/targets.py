"""Training targets: which sampled paths become MixedExample records, and with what weight.

Only individually correct paths are targets (status "ok" and right answer), whitespace-
normalised duplicates count once, and at most `k` per question and method are kept, chosen by a
seeded RNG keyed on (seed, problem id, method) so the choice is reproducible and does not shift
when other questions change.

Weights of the `md` variant follow Eq. 2-4 of the paper:
    type 1, 2: weight 1 on every CoT and every PoT target (L_path_CoT + L_path_PoT)
    type 3:    (1 - λ) on CoT targets, λ on PoT targets, λ = n2 / (n1 + n2)
A type 1 question's CoT vote is wrong, yet some of its CoT samples may be right: those correct
samples are still CoT targets with weight 1 (Eq. 2 trains both paths); if none is right the
question contributes PoT targets only. Type 2 is the mirror image.

Variants `cot` and `pot` are single-method distillation (every question with a correct path,
weight 1, qtype 0); `label` maps question to " " + gold answer (weight 1, qtype 0).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from md.prompts import student_input
from md.settings import MIX_VARIANTS
from md.types import Answer, JudgedThought, MixedExample

from .vote import Question


def normalize_ws(text: str) -> str:
    return " ".join(text.split())


def pick_paths(
    thoughts: tuple[JudgedThought, ...], k: int | None, seed: int, problem_id: str, method: str
) -> list[JudgedThought]:
    """Up to k (None: all) distinct paths of `thoughts` (in sample order), seeded, in that order."""
    unique: dict[str, int] = {}  # normalised text -> position of its first occurrence
    for i, t in enumerate(thoughts):  # in sample order, so the earliest duplicate is kept
        unique.setdefault(normalize_ws(t.text), i)
    keep = list(unique.values())
    if k is not None and len(keep) > k:
        rng = random.Random(f"{seed}:{problem_id}:{method}")  # str seeds hash stably (sha512)
        keep = sorted(rng.sample(keep, k))
    return [thoughts[i] for i in keep]


def format_answer(answer: Answer) -> str:
    """A gold answer as the label student should write it: 42.0 -> "42", True -> "yes"."""
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    if isinstance(answer, (int, float)):
        value = float(answer)
        if value.is_integer():
            return str(int(value))
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(answer).strip()


def md_weight(q: Question, method: str) -> float:
    """Loss weight of one path of question q (Eq. 2 for types 1 and 2, Eq. 4 for type 3)."""
    if q.qtype in (1, 2):
        return 1.0
    assert q.qtype == 3 and q.lam is not None, f"type {q.qtype} has no MD weight"
    return q.lam if method == "pot" else 1.0 - q.lam


def _paths(q: Question, method: str, k: int | None, seed: int, weight: float, qtype: int, lam):
    pid = q.problem.id
    prompt = student_input(q.problem.question, method)
    for t in pick_paths(q.correct(method), k, seed, pid, method):
        yield MixedExample(pid, method, prompt, t.text, weight, qtype, lam)


def examples(q: Question, variant: str, k: int | None, seed: int) -> Iterator[MixedExample]:
    """The records one question contributes (before upsampling) to the given variant."""
    if variant == "md":
        if q.qtype == 4:
            return
        for method in ("cot", "pot"):
            yield from _paths(q, method, k, seed, md_weight(q, method), q.qtype, q.lam)
    elif variant in ("cot", "pot"):
        yield from _paths(q, variant, k, seed, 1.0, 0, None)
    elif variant == "label":
        p = q.problem
        yield MixedExample(p.id, "label", student_input(p.question, "label"),
                           " " + format_answer(p.answer), 1.0, 0, None)
    else:
        raise ValueError(f"unknown mix variant {variant!r}; expected one of {MIX_VARIANTS}")
