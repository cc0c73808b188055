"""Stage `execute`: judge every teacher thought (run PoT in the sandbox, parse the CoT answer).

    python -m md.execute thoughts=thoughts.jsonl judged=judged.jsonl data=svamp

Reads Thought JSONL, writes one JudgedThought per thought, in input order, with
status "ok" | "error" | "timeout" | "no_answer", the normalised answer and whether it is right.
PoT programs run in `md.sandbox` (workers, timeout and memory limit from `execute.*`); status
and answer follow md.answers.verdict, the rule evaluation judges the student's paths by.
Garbage thoughts (wrong types, unknown method, crashing programs) become "error" records; nothing here trusts the teacher's text.
Thought ids that are not problems of the dataset stop the stage with one MDError.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tqdm import tqdm

from md import jsonl
from md.answers import is_correct
from md.answers.verdict import Verdict, of_cot, of_execution
from md.data.ids import check_ids
from md.sandbox.preamble import Preamble, with_preamble
from md.settings import SandboxSettings
from md.types import Answer, JudgedThought, Problem, Thought


def _judged(t: Thought, verdict: Verdict, gold: Answer) -> JudgedThought:
    correct = verdict.status == "ok" and bool(is_correct(verdict.answer, gold))
    text = t.text if isinstance(t.text, str) else repr(t.text)
    return JudgedThought(t.problem_id, t.method, t.sample_index, text, verdict.status,
                         verdict.answer, correct, verdict.why)


def judge(
    problems: dict[str, Problem], thoughts: Sequence[Thought], sandbox: Any, progress: bool = True,
    preamble: Preamble | None = None,
) -> list[JudgedThought]:
    """Judge all thoughts (ids already checked) with an md.sandbox.Sandbox for the programs,
    each run in `preamble` (md.sandbox.preamble: the environment the teacher's programs assume)."""
    out: list[JudgedThought | None] = [None] * len(thoughts)
    programs: list[int] = []
    bar = tqdm(total=len(thoughts), unit="thought", desc="judge", disable=not progress)
    for i, t in enumerate(thoughts):
        gold = problems[t.problem_id].answer
        if t.method == "pot" and isinstance(t.text, str):
            programs.append(i)
            continue
        if t.method in ("cot", "pot"):  # a PoT "program" that is not text: of_cot says so
            out[i] = _judged(t, of_cot(t.text), gold)
        else:
            out[i] = _judged(t, Verdict("error", None, f"unknown method {t.method!r}"), gold)
        bar.update(1)
    if programs:
        cot_done = bar.n

        def tick(done: int) -> None:  # the sandbox reports how many programs have finished
            bar.update(cot_done + done - bar.n)

        box = with_preamble(sandbox, preamble)
        results = box.run([thoughts[i].text for i in programs], progress=tick)
        for i, result in zip(programs, results, strict=True):
            out[i] = _judged(thoughts[i], of_execution(result),
                             problems[thoughts[i].problem_id].answer)
    bar.close()
    return [j for j in out if j is not None]


def summary(judged: Sequence[JudgedThought]) -> dict[str, dict[str, Any]]:
    """Per method: how many thoughts, by status, and the share that is right."""
    result: dict[str, dict[str, Any]] = {}
    for method in sorted({str(j.method) for j in judged}):
        rows = [j for j in judged if str(j.method) == method]
        statuses = Counter(j.status for j in rows)
        result[method] = {"thoughts": len(rows), **dict(sorted(statuses.items())),
                          "accuracy": sum(j.correct for j in rows) / len(rows)}
    return result


def run(thoughts_path: str | Path, out_path: str | Path, problems: Sequence[Problem],
        sandbox: SandboxSettings = SandboxSettings(), *,
        progress: bool = True, preamble: Preamble | None = None) -> dict[str, dict[str, Any]]:
    """Judge the thoughts file against `problems`, write JudgedThought JSONL; returns `summary`.
    The sandbox (md.sandbox, with `sandbox`'s workers and limits) starts only when there are
    programs to run; each runs in `preamble`'s environment."""
    thoughts = jsonl.read_all(thoughts_path, Thought)
    by_id = {p.id: p for p in problems}
    check_ids((t.problem_id for t in thoughts), by_id, thoughts_path)
    if any(t.method == "pot" for t in thoughts):
        from md.sandbox import Sandbox  # starts worker processes; only when there is code to run

        with Sandbox(**asdict(sandbox)) as box:
            judged = judge(by_id, thoughts, box, progress, preamble)
    else:
        judged = judge(by_id, thoughts, None, progress)
    jsonl.write(out_path, judged)
    return summary(judged)


def print_summary(stats: dict[str, dict[str, Any]]) -> None:
    for method, row in stats.items():
        parts = " ".join(f"{k}={v}" for k, v in row.items() if k not in ("thoughts", "accuracy"))
        print(f"{method}: {row['thoughts']} thoughts, {row['accuracy']:.1%} right ({parts})")
