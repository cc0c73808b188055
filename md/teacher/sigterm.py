"""SIGTERM while the teacher answers: stop cleanly, keep every answer received, say so.

A scheduler ends a job with SIGTERM, and SIGKILL only after a grace period (30 s by default on
SLURM and Kubernetes). Python's default for SIGTERM is to die where it stands: no line in the
log, and the answers of the requests in flight, paid for whether or not anyone reads them, lost
with the process, so the rerun pays them again. Inside the asyncio loop that talks to the
teacher, SIGTERM instead stops new requests at once, waits up to `grace_s` for those in flight
(each answer is committed to the cache as it arrives) and then cancels what is left; the caller
sees `stopped="sigterm"` and fails in one line that says what was kept.

    async with ... :
        with on_sigterm(stop, tasks, grace_s=GRACE_S):
            await asyncio.gather(*tasks)
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator, Sequence

GRACE_S = 10.0  # well inside a scheduler's grace period, long enough for most answers in flight


@contextlib.contextmanager
def on_sigterm(stop: Callable[[], None], tasks: Sequence[asyncio.Future],
               grace_s: float = GRACE_S) -> Iterator[None]:
    """For the block (inside a running loop): SIGTERM calls `stop()` (take no new work) and
    cancels `tasks` after `grace_s` seconds. The previous SIGTERM handler is restored after.
    Outside the main thread signals cannot be caught, and the block runs unchanged."""
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGTERM)

    def terminated() -> None:
        stop()
        loop.call_later(grace_s, lambda: [t.cancel() for t in tasks if not t.done()])

    installed = threading.current_thread() is threading.main_thread()
    if installed:
        loop.add_signal_handler(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGTERM)  # this leaves SIG_DFL: put back the old
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def stopped_line(answered: int, planned: int, where: str) -> str:
    """The one line a SIGTERMed extraction fails with."""
    return (f"stopped by SIGTERM: {answered} of {planned} requests answered and saved in the "
            f"teacher cache {where}; rerun the same command to ask only for the missing ones")
