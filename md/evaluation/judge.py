"""Turn a student's raw completions into judged `ReasoningPath`s: CoT answers parsed, PoT programs run.

Total on model output: an empty string, garbage or a program that loops, allocates without
bound or tries to escape gets a status ("no_answer", "error", "timeout") and answer None;
nothing raises. Programs are run in one batch through the sandbox (its workers, time and
memory limits contain them). A path's status and answer follow md.answers.verdict, the rule
that also judges the teacher's thoughts.

    paths = judge(cot_texts, pot_texts, sandbox)   # per question: list[ReasoningPath]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from md.answers import extract_label_answer
from md.answers.verdict import of_cot, of_execution
from md.types import ReasoningPath


class Runner(Protocol):
    """What judging needs from `md.sandbox.Sandbox`: run programs, one result each."""

    def run(self, programs: Sequence[str]) -> list: ...


def cot_path(text: str, greedy: bool = False) -> ReasoningPath:
    """A CoT completion with its strict answer ("no_answer" when it states none)."""
    verdict = of_cot(text)
    return ReasoningPath("cot", text, verdict.status, verdict.answer, greedy)


def label_path(text: str, greedy: bool = False) -> ReasoningPath:
    """A label student's completion: the bare answer it wrote ("no_answer" when none)."""
    answer = extract_label_answer(text)
    return ReasoningPath("label", text, "ok" if answer is not None else "no_answer", answer, greedy)


def judge_labels(sampled: Sequence[Sequence[str]], greedy: Sequence[str] | None = None) -> list[list[ReasoningPath]]:
    """Per question: the sampled label paths, then the greedy one (nothing to execute)."""
    out = [[label_path(t) for t in texts] for texts in sampled]
    for q, text in enumerate(greedy or []):
        out[q].append(label_path(text, greedy=True))
    return out


def pot_path(text: str, result, greedy: bool = False) -> ReasoningPath:
    """A PoT completion with its execution result (status "ok" only with an answer)."""
    verdict = of_execution(result)
    return ReasoningPath("pot", text, verdict.status, verdict.answer, greedy)


def judge(cot: Sequence[Sequence[str]], pot: Sequence[Sequence[str]], sandbox: Runner,
          greedy_cot: Sequence[str] | None = None,
          greedy_pot: Sequence[str] | None = None) -> list[list[ReasoningPath]]:
    """Per question: sampled CoT paths, sampled PoT paths, then any greedy paths."""
    n_q = len(cot)
    programs: list[str] = [t for texts in pot for t in texts] + list(greedy_pot or [])
    results = sandbox.run(programs) if programs else []
    if len(results) != len(programs):
        raise RuntimeError(f"sandbox returned {len(results)} results for {len(programs)} programs")
    out: list[list[ReasoningPath]] = []
    k = 0
    for q in range(n_q):
        paths = [cot_path(t) for t in cot[q]]
        for t in pot[q]:
            paths.append(pot_path(t, results[k]))
            k += 1
        out.append(paths)
    for q, text in enumerate(greedy_cot or []):
        out[q].append(cot_path(text, greedy=True))
    for q, text in enumerate(greedy_pot or []):
        out[q].append(pot_path(text, results[k], greedy=True))
        k += 1
    return out
