"""Stage `extract`: ask the teacher for n CoT and n PoT thoughts per training problem.

Every answered request is committed to a persistent SQLite cache first, so a crash, a rate limit
or a rerun inside a sweep never pays twice; the thoughts JSONL (`md.types.Thought`) is written
atomically only once every thought is there. `extract.dry_run=true` prints the requests, tokens
and dollars and stops; `teacher.budget_usd` is a hard cap; `teacher.mode=batch` uses the Batch API.

    python -m md.extract data=synthetic teacher=simulated              # offline, a simulation
    python -m md.extract data=gsm8k teacher=openai extract.dry_run=true
    python -m md.extract data=gsm8k teacher=openai teacher.budget_usd=5
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path

from md import jsonl
from md.errors import MDError
from md.fsio import file_lock, is_out_of_space, out_of_space_message
from md.settings import ExtractSettings
from md.teacher import plan as planning
from md.teacher.adaptive import expected_saving_line
from md.teacher.base import TEACHER_MODES, Teacher
from md.teacher.batch import run_batch
from md.teacher.cache import Cache, damage_line
from md.teacher.engine import FillResult, fill
from md.teacher.recover import recover_in_flight
from md.teacher.rounds import Judge, run_rounds
from md.teacher.sigterm import stopped_line
from md.types import Problem


@dataclass(frozen=True)
class ExtractSummary:
    prompts: int
    requests_planned: int
    requests_sent: int
    thoughts: int  # written to out_path (0 unless complete)
    prompt_tokens: int
    completion_tokens: int
    spent_usd: float
    estimate: planning.Estimate
    complete: bool
    stopped: str | None
    out_path: str | None


def run(problems: list[Problem], teacher: Teacher, out_path: str | Path,
        settings: ExtractSettings = ExtractSettings(), *, judge: Judge | None = None,
        allow_partial: bool = False) -> ExtractSummary:
    """Extract the teacher's thoughts for `problems` into `out_path`, as `settings` says.

    The teacher says how many samples (`teacher.n`), the budget (`teacher.budget_usd`) and the
    mode (online or batch). A run that stops early (budget reached, batch still running) keeps
    everything in the cache and raises MDError, unless allow_partial=True, which returns the
    summary (complete=False). `settings.cache_path=None` keeps the cache in memory (tests); the
    pipeline passes the shared SQLite file. `settings.adaptive`: sample in rounds and stop each
    prompt once settled (md.teacher.adaptive); each round's new thoughts are judged with `judge`
    (md.stages.execute.judge, with a sandbox).
    """
    n, budget, mode = int(teacher.n), teacher.budget_usd, teacher.mode
    dry_run, cache_path, adaptive = settings.dry_run, settings.cache_path, settings.adaptive
    poll_s, wait_s, progress = settings.batch_poll_s, settings.batch_wait_s, settings.progress
    if n < 1 or mode not in TEACHER_MODES:
        raise MDError(f"need teacher.n >= 1 and teacher.mode online|batch, got {n} and {mode!r}")
    if not problems:
        raise MDError("no problems to extract thoughts for; check data and extract.max_problems")
    if teacher.recorded:  # published outputs (md.teacher.published): no requests
        return _recorded(problems, teacher, out_path, dry_run)
    use_disk = teacher.cacheable and cache_path is not None
    # one job at a time asks through a cache file: a second one waits, then finds the answers
    with _cache_lock(cache_path if use_disk and not dry_run else None):
        cache = Cache(cache_path if use_disk else ":memory:")
        try:
            if teacher.recover_in_flight and not dry_run:
                recover_in_flight(teacher, cache)
            prompt_list = planning.prompts_for(problems, teacher)
            discount = teacher.batch_discount if mode == "batch" else 1.0
            est = planning.estimate_unplanned(prompt_list, teacher, cache, n, discount)
            damaged = damage_line(cache, est.requests, est.usd, budget)
            if damaged:
                print(damaged, file=sys.stderr)
            if dry_run:
                print("\n".join(["dry run: nothing sent", *est.lines(teacher.model)]))
                if budget is not None and est.usd > budget:
                    print(f"teacher.budget_usd=${budget:g} is below this estimate: the "
                          f"extraction would stop after about {budget / est.usd:.0%} of it; raise "
                          f"teacher.budget_usd to about ${est.usd:.2f} (at most "
                          f"${est.usd_max:.2f}) to extract everything")
                if adaptive is not None:
                    print(expected_saving_line(adaptive, n))
                return _summary(prompt_list, est.requests, FillResult(), est, False, "dry_run",
                                None)
            reqs = planning.plan(prompt_list, teacher, cache, n)
            counts = None
            if adaptive is None:
                result = _ask(reqs, teacher, cache, budget, mode, poll_s, wait_s, progress)
            else:
                def ask(round_reqs, spent):
                    left = None if budget is None else budget - spent
                    return _ask(round_reqs, teacher, cache, left, mode, poll_s, wait_s, progress)

                counts, result = run_rounds(prompt_list, teacher, cache, n, adaptive,
                                            _need(judge), ask, progress)
                _print_saving(counts, n)
            where = cache.path if use_disk else "memory"
            if result.stopped == "sigterm":  # a scheduler ended the job: what came is kept
                raise MDError(stopped_line(result.requests_sent, len(reqs), where))
            if result.stopped == "error" and is_out_of_space(result.error):
                kept = len(reqs) - len(planning.plan(prompt_list, teacher, cache, n))
                raise MDError(out_of_space_message(
                    Path(cache.path).parent, f"the teacher cache {cache.path} ({kept} of "
                    f"{len(reqs)} requests answered and kept in it)", errno_=result.error.errno))
            if result.stopped == "error":
                # an MDError already says what to fix (a malformed record: a rerun cannot help)
                again = "" if isinstance(result.error, MDError) else "; rerun to continue"
                raise MDError(f"{result.error} ({result.requests_sent} of {len(reqs)} requests "
                              f"answered and saved in the cache {where}{again})")
            written = 0 if adaptive and result.stopped else _write(prompt_list, teacher, cache, n, out_path, counts)
        finally:
            cache.close()
    summary = _summary(prompt_list, len(reqs), result, est, written > 0, result.stopped,
                       str(out_path) if written else None, written)
    if not summary.complete and not allow_partial:
        raise MDError(_why(summary, budget, where))
    return summary


def _cache_lock(cache_path: str | None):
    if cache_path is None:
        return contextlib.nullcontext()
    return file_lock(f"{cache_path}.lock", f"teacher answers through the cache {cache_path}")


def _recorded(problems, teacher, out_path, dry_run: bool) -> ExtractSummary:
    """Thoughts a teacher already wrote down: written out as they are, at no cost."""
    thoughts = teacher.thoughts_for(problems)
    est = planning.Estimate(0, 0, 0, 0, 0, 0.0, 0.0)
    counts = {m: sum(t.method == m for t in thoughts) for m in ("cot", "pot")}
    print(f"teacher {teacher.model}: {counts['cot']} CoT and {counts['pot']} PoT samples for "
          f"{len(problems)} problems, nothing to send")
    if dry_run:
        return ExtractSummary(2 * len(problems), 0, 0, 0, 0, 0, 0.0, est, False, "dry_run", None)
    written = jsonl.write(out_path, thoughts)
    return ExtractSummary(2 * len(problems), 0, 0, written, 0, 0, 0.0, est, True, None,
                          str(out_path))


def _ask(reqs, teacher, cache, budget, mode, poll_s, wait_s, progress) -> FillResult:
    if not reqs:
        return FillResult()
    teacher.check_ready()  # no key and nothing cached to stand in: one clear line
    if mode == "batch":
        if not teacher.batch_api:
            raise MDError(f"teacher {teacher.model!r} has no batch mode; set teacher.mode=online")
        return run_batch(reqs, teacher, cache, budget, poll_s, wait_s, progress=progress)
    return fill(reqs, teacher, cache, budget, progress)


def _need(judge: Judge | None) -> Judge:
    if judge is None:
        raise MDError("adaptive extraction judges every round: pass judge= (md.pipeline does)")
    return judge


def _print_saving(counts: dict[str, int], n: int) -> None:
    taken, full = sum(counts.values()), n * len(counts)
    print(f"adaptive: {taken:,} of {full:,} samples taken ({1 - taken / full:.0%} saved), "
          f"{sum(c < n for c in counts.values()):,} of {len(counts):,} prompts stopped early")


def _write(prompt_list, teacher, cache: Cache, n: int, out_path, counts=None) -> int:
    """Write the thoughts file if every thought is cached; 0 (and no file) otherwise."""
    try:
        return jsonl.write(out_path, planning.thoughts(prompt_list, teacher, cache, n, counts))
    except KeyError:
        return 0


def _summary(prompt_list, planned: int, result: FillResult, est, complete, stopped, out,
             written=0):
    return ExtractSummary(len(prompt_list), planned, result.requests_sent, written,
                          result.prompt_tokens, result.completion_tokens, result.spent_usd, est,
                          complete, stopped, out)


def _why(s: ExtractSummary, budget, where) -> str:
    done = f"{s.requests_sent} of {s.requests_planned} requests answered and saved in {where}"
    if s.stopped == "budget":
        return (f"teacher.budget_usd=${budget} reached (spent ${s.spent_usd:.4f}, about "
                f"${s.estimate.usd:.2f} needed); {done}; raise the budget and rerun to continue")
    if s.stopped == "pending":
        return f"the Batch API job is still running; {done}; rerun later to collect it"
    return f"some thoughts are missing (failed batch lines); {done}; rerun to retry them"
