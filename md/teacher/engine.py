"""The online request engine: bounded-concurrency workers, a hard budget, a progress bar.

`fill(requests, teacher, cache, budget_usd)` answers every request that is not cached yet.
`teacher.concurrency` workers each take `teacher.batch_size` requests at a time. Before a
worker sends anything it reserves the worst case those requests can cost (every sample running
to max_tokens); if spent + reserved would pass the budget it stops taking work, so the budget is
never exceeded. Each completion is committed to the cache as it arrives. A failure that
survives the teacher's retries stops the other workers from taking new work; what is in flight
is still saved, then the error is raised; a failed commit (a full disk) is such a failure,
and the other workers' answers are still committed if they can be. SIGTERM (a scheduler ending the job) stops new work,
waits a little for the answers in flight and ends with `stopped="sigterm"` (md.teacher.sigterm).
A completion with fewer texts than the request's
sample indices (servers that ignore `n`) is kept, and the rest go back on the queue as a new
request, so nothing is asked twice and nothing answered is thrown away.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace

from tqdm import tqdm

from md.teacher.base import Request, cost_usd, worst_case_usd
from md.teacher.cache import Cache
from md.teacher.sigterm import on_sigterm


@dataclass
class FillResult:
    requests_sent: int = 0
    samples: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    spent_usd: float = 0.0
    stopped: str | None = None  # None | "budget" | "error" | "sigterm" | "pending" (batch running)
    error: BaseException | None = None
    reserved_usd: float = 0.0  # batch mode: worst case of what was submitted
    failed_lines: int = 0  # batch mode: lines the batch answered with an error
    pending: list[str] = field(default_factory=list)  # batch ids still running


class _State:
    def __init__(self, budget_usd: float | None):
        self.budget = budget_usd
        self.reserved = 0.0
        self.active = 0  # groups in flight, which may still queue follow-up requests
        self.result = FillResult()

    def reserve(self, amount: float) -> bool:
        """Claim `amount` of the budget for an in-flight call; False if it would not fit."""
        if self.budget is not None and self.result.spent_usd + self.reserved + amount > self.budget:
            return False
        self.reserved += amount
        return True


def fill(requests: list[Request], teacher, cache: Cache, budget_usd: float | None = None,
         progress: bool = True) -> FillResult:
    """Answer `requests` (all uncached) into `cache`; see the module docstring."""
    return asyncio.run(_fill(requests, teacher, cache, budget_usd, progress))


async def _fill(requests, teacher, cache, budget_usd, progress) -> FillResult:
    state = _State(budget_usd)
    size = max(1, int(teacher.batch_size))
    queue: asyncio.Queue = asyncio.Queue()
    for i in range(0, len(requests), size):
        queue.put_nowait(requests[i:i + size])
    total = sum(len(r.indices) for r in requests)
    bar = tqdm(total=total, unit="thought", disable=not progress, dynamic_ncols=True,
               desc=f"teacher {teacher.model}")
    workers = [asyncio.create_task(_worker(queue, teacher, cache, state, bar))
               for _ in range(max(1, int(teacher.concurrency)))]

    def stop() -> None:
        state.result.stopped = "sigterm"  # workers take no new request; in-flight ones finish

    try:
        with on_sigterm(stop, workers):
            await asyncio.gather(*workers)
    except asyncio.CancelledError:  # the grace period after SIGTERM ran out
        if state.result.stopped != "sigterm":
            raise
    finally:
        bar.close()
        await teacher.aclose()
    return state.result


async def _worker(queue: asyncio.Queue, teacher, cache: Cache, state: _State, bar) -> None:
    result = state.result
    while result.stopped is None:
        if queue.empty():
            if state.active == 0:  # nobody can put follow-up requests back: done
                return
            await asyncio.sleep(0.02)
            continue
        group = queue.get_nowait()
        need = worst_case_usd(teacher, group)
        if not state.reserve(need):
            result.stopped = "budget"
            return
        state.active += 1
        try:
            await _answer(group, need, queue, teacher, cache, state, bar)
        finally:
            state.active -= 1


async def _answer(group, need, queue, teacher, cache: Cache, state: _State, bar) -> None:
    """Send one group of requests and commit what came back; queue what is still missing."""
    result = state.result
    if teacher.recover_in_flight:
        for req in group:  # before sending: a rerun after kill -9 can fetch the answer
            cache.mark_sent(req.prompt_key, req.indices)
    try:
        completions = await teacher.complete(group)
    except Exception as e:  # noqa: BLE001 - recorded and re-raised by the caller
        if result.stopped is None:
            result.stopped, result.error = "error", e
        return
    finally:
        state.reserved -= need
    for req, comp in zip(group, completions, strict=True):
        p, c = comp.usage.get("prompt_tokens", 0), comp.usage.get("completion_tokens", 0)
        result.requests_sent += 1  # paid, whether or not the commit below succeeds
        result.prompt_tokens += p
        result.completion_tokens += c
        result.spent_usd += cost_usd(teacher, p, c)
        try:
            cache.put(req.prompt_key, teacher.model, req.indices, comp.texts, comp.usage,
                      comp.served)
        except Exception as e:  # noqa: BLE001 - a full disk: stop, keep what was committed
            if result.stopped in (None, "sigterm"):
                result.stopped, result.error = "error", e
            continue
        result.samples += len(comp.texts)
        rest = req.indices[len(comp.texts):]  # fewer choices than n: ask for the rest
        per = max(1, int(teacher.max_n_per_request))
        for i in range(0, len(rest), per):
            queue.put_nowait([replace(req, indices=rest[i:i + per])])
    bar.update(sum(len(c.texts) for c in completions))
    bar.set_postfix(spent=f"${result.spent_usd:.4f}", refresh=False)
