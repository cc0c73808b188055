"""Stage `execute`: judge every teacher thought (run PoT in the sandbox, parse the CoT answer).

    python -m md.execute thoughts=thoughts.jsonl judged=judged.jsonl data=svamp

Reads Thought JSONL, writes one JudgedThought per thought, in input order, with
status "ok" | "error" | "timeout" | "no_answer", the normalised answer and whether it is right.
PoT programs run in `md.sandbox` (workers, timeout and memory limit from `execute.*`); a
program that runs but leaves no answer is "no_answer", as is CoT text with no strict answer
(`md.answers.extract_cot_answer(text, mode="strict")`). Garbage thoughts (wrong types, unknown
method, crashing programs) become "error" records; nothing here trusts the teacher's text.
Thought ids that are not problems of the dataset stop the stage with one MDError.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig
from tqdm import tqdm

from md import jsonl
from md.answers import extract_cot_answer, is_correct
from md.cli import stage_main
from md.mixing.from_config import required
from md.mixing.ids import check_ids
from md.types import Answer, JudgedThought, Problem, Thought


def _judged(t: Thought, status: str, answer: Answer | None, gold: Answer, error: str | None):
    correct = status == "ok" and answer is not None and bool(is_correct(answer, gold))
    text = t.text if isinstance(t.text, str) else repr(t.text)
    return JudgedThought(t.problem_id, t.method, t.sample_index, text, status, answer, correct, error)


def judge_cot(t: Thought, gold: Answer) -> JudgedThought:
    """Parse a CoT thought's answer strictly; no answer -> "no_answer"."""
    try:
        answer = extract_cot_answer(t.text, mode="strict")
    except Exception as e:  # the answers module promises not to raise; be safe anyway
        return _judged(t, "error", None, gold, f"answer extraction failed: {type(e).__name__}: {e}")
    if answer is None:
        return _judged(t, "no_answer", None, gold, "no answer found in the CoT text")
    return _judged(t, "ok", answer, gold, None)


def _from_exec(t: Thought, result: Any, gold: Answer) -> JudgedThought:
    status = getattr(result, "status", "error")
    if status == "ok" and result.answer is None:
        return _judged(t, "no_answer", None, gold, "the program ran but produced no answer")
    if status not in ("ok", "error", "timeout"):
        return _judged(t, "error", None, gold, f"unknown sandbox status {status!r}")
    answer = result.answer if status == "ok" else None
    return _judged(t, status, answer, gold, getattr(result, "error", None))


def judge(
    problems: dict[str, Problem], thoughts: Sequence[Thought], sandbox: Any, progress: bool = True
) -> list[JudgedThought]:
    """Judge all thoughts (ids already checked) with an md.sandbox.Sandbox for the programs."""
    out: list[JudgedThought | None] = [None] * len(thoughts)
    programs: list[int] = []
    bar = tqdm(total=len(thoughts), unit="thought", desc="judge", disable=not progress)
    for i, t in enumerate(thoughts):
        gold = problems[t.problem_id].answer
        if not isinstance(t.text, str):
            out[i] = _judged(t, "error", None, gold, f"thought text is {type(t.text).__name__}")
        elif t.method == "pot":
            programs.append(i)
            continue
        elif t.method == "cot":
            out[i] = judge_cot(t, gold)
        else:
            out[i] = _judged(t, "error", None, gold, f"unknown method {t.method!r}")
        bar.update(1)
    if programs:
        cot_done = bar.n

        def tick(done: int) -> None:  # the sandbox reports how many programs have finished
            bar.update(cot_done + done - bar.n)

        results = sandbox.run([thoughts[i].text for i in programs], progress=tick)
        for i, result in zip(programs, results, strict=True):
            out[i] = _from_exec(thoughts[i], result, problems[thoughts[i].problem_id].answer)
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


def run(
    thoughts_path: str | Path,
    out_path: str | Path,
    problems: Sequence[Problem],
    workers: int = 2,
    timeout_s: float = 5.0,
    memory_mb: int = 512,
    progress: bool = True,
    require_isolation: bool = False,
) -> dict[str, dict[str, Any]]:
    """Judge the thoughts file against `problems`, write JudgedThought JSONL; returns `summary`.
    require_isolation: refuse to run programs when a sandbox protection is off (md.sandbox)."""
    thoughts = jsonl.read_all(thoughts_path, Thought)
    by_id = {p.id: p for p in problems}
    check_ids((t.problem_id for t in thoughts), by_id, thoughts_path)
    if any(t.method == "pot" for t in thoughts):
        from md.sandbox import Sandbox  # starts worker processes; only when there is code to run

        with Sandbox(workers=workers, timeout_s=timeout_s, memory_mb=memory_mb,
                     require_isolation=require_isolation) as sandbox:
            judged = judge(by_id, thoughts, sandbox, progress)
    else:
        judged = judge(by_id, thoughts, None, progress)
    jsonl.write(out_path, judged)
    return summary(judged)


def print_summary(stats: dict[str, dict[str, Any]]) -> None:
    for method, row in stats.items():
        parts = " ".join(f"{k}={v}" for k, v in row.items() if k not in ("thoughts", "accuracy"))
        print(f"{method}: {row['thoughts']} thoughts, {row['accuracy']:.1%} right ({parts})")


@stage_main("execute")
def main(cfg: DictConfig) -> None:
    """Judge `thoughts` into `judged`; with neither given, the pipeline's own artifacts."""
    from md import pipeline

    if cfg.get("thoughts") is None and cfg.get("judged") is None:
        pipeline.preflight(cfg)
        print(f"judged thoughts: {pipeline.judged(cfg)}")
        return
    thoughts = required(cfg, "thoughts", "a Thought JSONL written by md.extract")
    judged = required(cfg, "judged", "where to write the JudgedThought JSONL")
    ex = cfg.execute
    stats = run(thoughts, judged, pipeline.train_problems(cfg), ex.workers, ex.timeout_s,
                ex.memory_mb, require_isolation=ex.require_isolation)
    print_summary(stats)
    print(f"wrote {judged}")


if __name__ == "__main__":
    main()
