"""Sandbox: the parent's scheduler. Keeps several programs in flight per worker, enforces the
wall-clock limit by killing, and replaces workers that die, time out or retire."""

from __future__ import annotations

import json
import os
import selectors
import sys
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Sequence

from md.errors import MDError
from md.sandbox.limits import missing
from md.sandbox.procs import WorkerHandle, Zygote
from md.sandbox.result import ExecResult

MAX_MESSAGE_BYTES = 1 << 20  # a worker line longer than this is not one the runner writes


class Sandbox:
    """A pool of isolated workers; `run(programs)` -> list[ExecResult] in the same order."""

    def __init__(self, workers: int = 2, *, timeout_s: float = 5.0, memory_mb: int = 512,
                 max_output_chars: int = 65_536, inflight: int = 16, file_mb: int = 16,
                 max_files: int = 64, max_programs_per_worker: int = 200_000,
                 startup_timeout_s: float = 120.0, require_isolation: bool = False) -> None:
        if workers < 1 or timeout_s <= 0 or memory_mb < 16 or inflight < 1:
            raise MDError("sandbox: workers >= 1, timeout_s > 0, memory_mb >= 16 and inflight >= 1"
                          f" are required (got {workers}, {timeout_s}, {memory_mb}, {inflight})")
        self.timeout_s, self.inflight, self.startup_timeout_s = timeout_s, inflight, startup_timeout_s
        self.grace_s = max(0.5, 0.1 * timeout_s)  # the in-worker alarm gets the first chance
        config = {"timeout_s": timeout_s, "memory_mb": memory_mb, "file_mb": file_mb,
                  "max_files": max_files, "max_output_chars": max_output_chars,
                  "max_programs": max_programs_per_worker,
                  "cpu_lifetime_s": int(max(3600, 100 * timeout_s))}
        self.isolation: dict = {}  # what the workers could switch on (from the first "ready")
        self.respawns = 0
        self._zygote = Zygote(config)
        self._finalizer = weakref.finalize(self, self._zygote.close)  # also at interpreter exit
        self._selector = selectors.DefaultSelector()
        self._done: deque[tuple[int, ExecResult]] = deque()
        self._pending: deque[int] = deque()
        self._closed = False
        try:
            for _ in range(workers):
                self._start_worker()
            self._wait_ready()
            _check_isolation(self.isolation, require_isolation)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Kill the workers and the zygote (also done on `with` exit and at interpreter exit)."""
        self._closed = True
        self._finalizer()

    def run(self, programs: Sequence[str], progress: bool | Callable[[int], None] = False
            ) -> list[ExecResult]:
        """Run every program; `progress` True shows a tqdm bar, a callable gets each done count."""
        results: list[ExecResult | None] = [None] * len(programs)
        bar = None
        if progress is True:
            from tqdm import tqdm
            bar = tqdm(total=len(programs), desc="sandbox", unit="prog", mininterval=0.5)
        for done, (index, result) in enumerate(self.run_iter(programs), 1):
            results[index] = result
            if bar is not None:
                bar.update(1)
            elif callable(progress):
                progress(done)
        if bar is not None:
            bar.close()
        return results  # type: ignore[return-value]

    def run_iter(self, programs: Sequence[str]) -> Iterator[tuple[int, ExecResult]]:
        """Yield (index, result) as programs finish (completion order, not input order)."""
        if self._closed:
            raise MDError("sandbox: run() after close(); create a new Sandbox")
        frames = [_frame(i, p) for i, p in enumerate(programs)]
        for index, program in enumerate(programs):
            if isinstance(program, str):
                self._pending.append(index)
            else:
                error = f"a program must be a str, not {type(program).__name__}"
                self._done.append((index, ExecResult.failed("error", error)))
        remaining = len(frames)
        try:
            while remaining:
                self._dispatch(frames)
                while self._done:
                    remaining -= 1
                    yield self._done.popleft()
                if remaining:
                    self._poll()
        finally:
            if remaining and not self._closed:  # abandoned midway: drop its work, keep the pool
                self._pending.clear()
                self._done.clear()
                for worker in list(self._zygote.workers.values()):
                    if worker.inflight:
                        worker.inflight.clear()
                        self._replace(worker, None, None)

    def _dispatch(self, frames: list[bytes]) -> None:
        now = time.monotonic()
        for worker in list(self._zygote.workers.values()):
            chunk = []
            while self._pending and len(worker.inflight) < self.inflight and not worker.retiring:
                index = self._pending[0]
                size = len(frames[index])
                if size > worker.capacity - 4096:
                    self._pending.popleft()
                    error = f"program too large ({size} bytes; at most {worker.capacity - 4096})"
                    self._done.append((index, ExecResult.failed("error", error)))
                    continue
                if worker.inflight_bytes + size > worker.capacity:
                    break  # never more unread bytes than the pipe holds: writes never block
                self._pending.popleft()
                if not worker.inflight and worker.ready:
                    worker.head_started = now
                worker.inflight.append((index, size))
                worker.inflight_bytes += size
                chunk.append(frames[index])
            if chunk:
                try:
                    os.write(worker.task_fd, b"".join(chunk))
                except OSError:
                    pass  # the worker is dead; its EOF is handled in _poll

    def _poll(self) -> None:
        now = time.monotonic()
        deadlines = [self._deadline(w) for w in self._zygote.workers.values() if w.inflight]
        timeout = max(0.0, min(deadlines) - now) if deadlines else 0.05
        for key, _ in self._selector.select(timeout):
            worker: WorkerHandle = key.data
            try:
                data = os.read(worker.result_fd, 1 << 16)
            except BlockingIOError:
                continue
            if not data:
                self._replace(worker, "error", "worker died (crash, os._exit, or a resource limit)")
                continue
            worker.buffer += data
            self._read_messages(worker)
        now = time.monotonic()
        for worker in list(self._zygote.workers.values()):
            if worker.inflight and now > self._deadline(worker):
                if not worker.ready:
                    raise MDError(f"sandbox: a worker did not start in {self.startup_timeout_s} s")
                self._replace(worker, "timeout", f"killed after {self.timeout_s:g} s wall clock")

    def _deadline(self, worker: WorkerHandle) -> float:
        if not worker.ready or worker.head_started is None:
            return worker.spawned_at + self.startup_timeout_s
        return worker.head_started + self.timeout_s + self.grace_s

    def _read_messages(self, worker: WorkerHandle) -> None:
        *lines, worker.buffer = worker.buffer.split(b"\n")
        if len(worker.buffer) > MAX_MESSAGE_BYTES:
            lines.append(b"")  # forces a protocol violation below
        for line in lines:
            if worker.pid not in self._zygote.workers:
                return
            try:
                self._handle(worker, json.loads(line))
            except (ValueError, TypeError, KeyError, IndexError):
                self._replace(worker, "error", "protocol violation: the program wrote to the "
                              "sandbox's result pipe")

    def _handle(self, worker: WorkerHandle, message: dict) -> None:
        if "ready" in message:
            worker.ready, worker.head_started = True, time.monotonic()
            self.isolation = self.isolation or message["ready"]
        elif "fatal" in message:
            raise MDError(f"sandbox: a worker could not isolate itself: {message['fatal']}")
        elif "retire" in message:
            worker.retiring = True
            self._replace(worker, None, None)
        else:
            index, size = worker.inflight[0]
            if message["id"] != index:
                raise ValueError("result out of order")
            self._done.append((index, ExecResult.from_message(message)))
            worker.inflight.pop(0)
            worker.inflight_bytes -= size
            worker.head_started = time.monotonic()

    def _replace(self, worker: WorkerHandle, status: str | None, error: str | None) -> None:
        """Discard a worker; its running program gets (status, error), the rest run elsewhere."""
        self._selector.unregister(worker.result_fd)
        self._zygote.discard(worker)
        queued = [index for index, _ in worker.inflight]
        if status is not None and queued:
            seconds = time.monotonic() - (worker.head_started or time.monotonic())
            self._done.append((queued.pop(0), ExecResult.failed(status, error, round(seconds, 3))))
        self._pending.extendleft(reversed(queued))
        self.respawns += 1
        self._start_worker()

    def _start_worker(self) -> None:
        worker = self._zygote.spawn()
        self._selector.register(worker.result_fd, selectors.EVENT_READ, worker)

    def _wait_ready(self) -> None:
        while not all(w.ready for w in self._zygote.workers.values()):
            waiting = [w for w in self._zygote.workers.values() if not w.ready]
            if time.monotonic() > min(w.spawned_at for w in waiting) + self.startup_timeout_s:
                raise MDError(f"sandbox: workers did not start in {self.startup_timeout_s} s")
            self._poll()
        self.respawns = 0


_warned: set[str] = set()


def _check_isolation(report: dict, required: bool) -> None:
    """One warning line per process naming the protections that are off; an error if required."""
    off = missing(report)
    if not off:
        return
    line = "; ".join(off)
    if required:
        raise MDError(f"sandbox: isolation is required but off: {line}. Run as root on Linux "
                      "(namespaces, mounts), or set execute.require_isolation=false")
    if line not in _warned:
        _warned.add(line)
        print(f"warning: md.sandbox runs with protections off: {line}", file=sys.stderr)


def _frame(index: int, program: object) -> bytes:
    body = program.encode("utf-8", "replace") if isinstance(program, str) else b""
    return b"%d %d\n" % (index, len(body)) + body
