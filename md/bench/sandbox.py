"""Sandbox throughput: (a) in-process exec, (b) a fresh interpreter per program, (c) md.sandbox.

    python -m md.bench.sandbox                       # ~3,100 programs, about a minute
    python -m md.bench.sandbox --workers 2 --b-sample 300 --generated 2100

(a) runs the corpus with plain exec() in `workers` forked processes, no isolation at all: the
upper limit. (b) starts `python -I -S -c <program>` per program (site-packages appended to
sys.path only so numpy/sympy programs can run), `workers` at a time, on a sample of the
corpus. (c) is `Sandbox(workers)` with every isolation on. Pool start-up is reported apart.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import subprocess
import sys
import sysconfig
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from md.bench.pot_corpus import corpus
from md.sandbox import Sandbox
from md.sandbox.runner import CappedOutput, find_answer

DEFAULT_SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
_B_WRAPPER = """import sys
sys.path.append({site!r})
g = {{"__name__": "__main__"}}
exec(compile({source!r}, "<program>", "exec"), g)
print(repr(g.get("ans", g.get("result"))))
"""


def _exec_chunk(programs: list[str]) -> list[object]:
    """(a): exec each program in a fresh namespace in this process; no limits of any kind."""
    answers = []
    for source in programs:
        namespace: dict = {"__name__": "__main__"}
        out = CappedOutput(1 << 16)  # the same answer conventions and print capture as (c)
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(source, "<program>", "exec"), namespace)
                answers.append(find_answer(namespace, out)[0])
        except Exception:
            answers.append(None)
    return answers


def _warm(_: int) -> None:
    import numpy  # noqa: F401 - the same preloaded libraries the sandbox workers have
    import sympy  # noqa: F401


def bench_inprocess(programs: list[str], workers: int) -> tuple[float, list[object]]:
    chunks = [programs[i::workers] for i in range(workers)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pool.map(_warm, range(workers))
        start = time.perf_counter()
        parts = pool.map(_exec_chunk, chunks)
        seconds = time.perf_counter() - start
    answers: list[object] = [None] * len(programs)
    for i, part in enumerate(parts):
        answers[i::workers] = part
    return seconds, answers


def bench_subprocess(programs: list[str], workers: int) -> tuple[float, float]:
    """(b): (wall seconds for all, programs/s over those that import no numpy/sympy)."""
    site = sysconfig.get_paths()["purelib"]

    def one(source: str) -> float:
        code = _B_WRAPPER.format(site=site, source=source)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True,
                       timeout=60, env={}, check=False)
        return time.perf_counter() - start

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        durations = list(pool.map(one, programs))
    wall = time.perf_counter() - start
    plain = [d for d, p in zip(durations, programs, strict=True) if not _heavy(p)]
    return wall, workers * len(plain) / max(sum(plain), 1e-9)


def _heavy(program: str) -> bool:
    return "numpy" in program or "sympy" in program


def bench_sandbox(programs: list[str], workers: int) -> tuple[float, float, list, Sandbox]:
    start = time.perf_counter()
    with Sandbox(workers=workers, timeout_s=5.0, memory_mb=512) as sandbox:
        ready = time.perf_counter()
        results = sandbox.run(programs)
        done = time.perf_counter()
    return ready - start, done - ready, results, sandbox


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--generated", type=int, default=2100, help="generated programs")
    parser.add_argument("--b-sample", type=int, default=300, help="programs timed for (b)")
    parser.add_argument("--shared-data", type=Path,
                        default=Path(os.environ.get("MD_SHARED_DATA", DEFAULT_SHARED)))
    args = parser.parse_args(argv)
    programs = corpus(args.generated, args.shared_data)
    print(f"corpus: {len(programs)} programs ({len(programs) - args.generated} real Codex SVAMP "
          f"+ {args.generated} generated); {args.workers} workers; {os.cpu_count()} CPUs")
    a_s, a_answers = bench_inprocess(programs, args.workers)
    step = max(1, len(programs) // args.b_sample)
    sample = programs[::step][: args.b_sample]
    b_s, b_plain = bench_subprocess(sample, args.workers)
    start_s, c_s, results, sandbox = bench_sandbox(programs, args.workers)
    a, b, c = len(programs) / a_s, len(sample) / b_s, len(programs) / c_s
    agree = sum(r.answer == x for r, x in zip(results, a_answers, strict=True))
    print(f"(a) in-process exec, no isolation  {a:9.0f} programs/s  ({len(programs)} in {a_s:.2f} s)")
    print(f"(b) fresh python -I -S per program {b:9.0f} programs/s  (a sample of {len(sample)} "
          f"programs, to keep the run short, in {b_s:.2f} s; {b_plain:.0f}/s on the "
          f"{sum(not _heavy(p) for p in sample)} that import neither numpy nor sympy)")
    print(f"(c) md.sandbox.Sandbox             {c:9.0f} programs/s  ({len(programs)} in {c_s:.2f} s;"
          f" pool start {start_s:.2f} s not counted)")
    print(f"c/b = {c / b:.1f}x (target >= 50; {c / b_plain:.1f}x against the plain-only (b))   "
          f"c/a = {c / a:.2f}x (target >= 0.5)")
    statuses = {s: sum(r.status == s for r in results) for s in ("ok", "error", "timeout")}
    print(f"(c) statuses {statuses}; answers equal to (a): {agree}/{len(programs)}; "
          f"workers replaced: {sandbox.respawns}; isolation: {sandbox.isolation}")


if __name__ == "__main__":
    main()
