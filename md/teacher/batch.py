"""OpenAI Batch API mode (`teacher.mode=batch`): half price, results within 24 h, resumable.

For every request not cached and not already inside an open batch: write the JSONL input
(one chat-completions body per line), upload it, create the batch, poll, download the output
and merge it into the cache. The cache file remembers each uploaded file *before* its batch is
created, and the batch id right after, so a restart at any point resumes the same job: a file
with no recorded batch is matched to a batch the server already has (by input file id) or the
batch is created then. Nothing is uploaded or paid twice. SIGTERM stops the wait at once (the
jobs stay remembered, and keep running on the server): `stopped="sigterm"`.

    python -m md.extract data=gsm8k teacher=openai teacher.mode=batch extract.batch_wait_s=86400
"""

from __future__ import annotations

import asyncio
import json
import time

from tqdm import tqdm

from md.teacher.base import Request, cost_usd, worst_case_usd
from md.teacher.cache import Cache
from md.teacher.engine import FillResult
from md.teacher.sigterm import on_sigterm

TERMINAL = ("completed", "failed", "expired", "cancelled")
ENDPOINT = "/v1/chat/completions"
MAX_LINES = 50_000  # the Batch API's limit on requests per input file: more go in several files


def run_batch(requests: list[Request], teacher, cache: Cache, budget_usd: float | None = None,
              poll_s: float = 30.0, wait_s: float | None = None,
              max_lines: int | None = None, progress: bool = True) -> FillResult:
    """Submit, poll and merge; `stopped="pending"` if batches are still running after wait_s."""
    return asyncio.run(_run(requests, teacher, cache, budget_usd, poll_s, wait_s,
                            max_lines or MAX_LINES, progress))


async def _run(requests, teacher, cache, budget_usd, poll_s, wait_s, max_lines,
               progress) -> FillResult:
    result = FillResult()

    def stop() -> None:
        result.stopped = "sigterm"

    try:
        with on_sigterm(stop, [asyncio.current_task()], grace_s=0):
            await _submit_and_poll(requests, teacher, cache, budget_usd, poll_s=poll_s,
                                   wait_s=wait_s, max_lines=max_lines, progress=progress,
                                   result=result)
    except asyncio.CancelledError:
        if result.stopped != "sigterm":
            raise
    finally:
        await teacher.aclose()
    return result


async def _submit_and_poll(requests, teacher, cache, budget_usd, *, poll_s, wait_s, max_lines,
                           progress, result: FillResult) -> None:
    jobs = await _resume(teacher, cache)
    in_batch = {line["key"] for _, lines in jobs for line in lines.values()}
    todo = [r for r in requests if r.prompt_key not in in_batch]
    for start in range(0, len(todo), max_lines):
        chunk = _affordable(todo[start:start + max_lines], teacher, budget_usd, result)
        if chunk:
            jobs.append(await _submit(chunk, teacher, cache))
        if result.stopped:
            break
    with tqdm(total=sum(len(lines) for _, lines in jobs), unit="request",
              desc=f"batch {teacher.model}", disable=not progress) as bar:
        await _poll(jobs, teacher, cache, poll_s, wait_s, result, bar)


def _affordable(chunk: list[Request], teacher, budget_usd, result: FillResult) -> list[Request]:
    """The longest prefix of `chunk` whose worst case still fits the budget."""
    if budget_usd is None:
        return chunk
    fits = []
    for req in chunk:
        need = worst_case_usd(teacher, [*fits, req], teacher.batch_discount)
        if result.spent_usd + result.reserved_usd + need > budget_usd:
            result.stopped = "budget"
            break
        fits.append(req)
    result.reserved_usd += worst_case_usd(teacher, fits, teacher.batch_discount)
    return fits


async def _submit(chunk: list[Request], teacher, cache: Cache) -> tuple[str, dict]:
    lines, rows = {}, []
    for req in chunk:
        custom_id = f"{req.prompt_key}:{req.indices[0]}"
        lines[custom_id] = {"key": req.prompt_key, "indices": list(req.indices)}
        rows.append(json.dumps({"custom_id": custom_id, "method": "POST", "url": ENDPOINT,
                                "body": teacher.body(req, online=False)}))
    data = ("\n".join(rows) + "\n").encode()
    file = await teacher.retrying(lambda: teacher.client.files.create(
        file=("md_batch.jsonl", data), purpose="batch"))
    cache.add_batch_file(file.id, lines)  # before create: a crash here must not re-upload
    batch_id = await _create(teacher, file.id)
    cache.set_batch(file.id, batch_id, "submitted")
    return batch_id, lines


async def _create(teacher, file_id: str) -> str:
    """Create the batch for an uploaded file. Creating is not idempotent: before a retry, look
    for a batch an attempt whose answer was lost did create, so a file is never paid twice."""
    attempts = 0

    async def create_once() -> str:
        nonlocal attempts
        attempts += 1
        if attempts > 1 and (found := await _find_batch(teacher, file_id)):
            return found
        batch = await teacher.client.batches.create(
            input_file_id=file_id, endpoint=ENDPOINT, completion_window="24h",
            metadata={"source": "md.extract"})
        return batch.id

    return await teacher.retrying(create_once)


async def _resume(teacher, cache: Cache) -> list[tuple[str, dict]]:
    """Open jobs from earlier runs; creates the batch for a file uploaded just before a crash."""
    jobs = []
    for file_id, batch_id, lines in cache.open_batches():
        if batch_id is None:
            batch_id = await _find_batch(teacher, file_id) or await _create(teacher, file_id)
            cache.set_batch(file_id, batch_id, "submitted")
        jobs.append((batch_id, lines))
    return jobs


async def _find_batch(teacher, file_id: str) -> str | None:
    """The batch the server already made from `file_id` (its create answer was lost), searching
    every page of the account's batches, newest first; None when there is none."""
    after: str | None = None
    while True:
        extra = {"after": after} if after else {}
        page = await teacher.retrying(
            lambda extra=extra: teacher.client.batches.list(limit=100, **extra))
        for batch in page.data:
            if batch.input_file_id == file_id:
                return batch.id
        if not page.data or page.has_more is False:
            return None
        after = page.data[-1].id


async def _poll(jobs, teacher, cache: Cache, poll_s, wait_s, result: FillResult, bar) -> None:
    deadline = None if wait_s is None else time.monotonic() + wait_s
    waiting, done = list(jobs), {}
    while waiting:
        for job in list(waiting):
            batch = await teacher.retrying(lambda job=job: teacher.client.batches.retrieve(job[0]))
            done[job[0]] = getattr(batch.request_counts, "completed", 0) or 0
            bar.n = sum(done.values())
            bar.set_postfix(status=batch.status, spent=f"${result.spent_usd:.4f}")
            if batch.status in TERMINAL:
                await _merge(batch, job[1], teacher, cache, result)
                waiting.remove(job)
        if waiting and deadline is not None and time.monotonic() >= deadline:
            result.stopped = result.stopped or "pending"
            result.pending = [b for b, _ in waiting]
            return
        if waiting:
            await asyncio.sleep(poll_s)


async def _merge(batch, lines: dict, teacher, cache: Cache, result: FillResult) -> None:
    """Write every successful line of a finished batch into the cache."""
    if batch.output_file_id:
        content = await teacher.retrying(lambda: teacher.client.files.content(batch.output_file_id))
        for raw in content.text.splitlines():
            _merge_line(raw, lines, teacher, cache, result)
    cache.set_batch(batch.input_file_id, batch.id, "merged")


def _merge_line(raw: str, lines: dict, teacher, cache: Cache, result: FillResult) -> None:
    from md.teacher.openai_client import parse_completion  # avoids an import cycle at load

    try:
        row = json.loads(raw)
        line = lines[row["custom_id"]]
        body = (row.get("response") or {}).get("body") or {}
        if (row.get("response") or {}).get("status_code") != 200:
            raise ValueError("failed line")
        comp = parse_completion(body, len(line["indices"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        result.failed_lines += 1  # left uncached: the next run resubmits it
        return
    cache.put(line["key"], teacher.model, tuple(line["indices"]), comp.texts, comp.usage,
              comp.served)
    p, c = comp.usage["prompt_tokens"], comp.usage["completion_tokens"]
    result.requests_sent += 1
    result.samples += len(line["indices"])
    result.prompt_tokens += p
    result.completion_tokens += c
    result.spent_usd += cost_usd(teacher, p, c, teacher.batch_discount)
