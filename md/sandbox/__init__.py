"""Run untrusted model-written Python programs, thousands per second, each one contained.

    from md.sandbox import Sandbox, ExecResult
    with Sandbox(workers=2, timeout_s=5.0, memory_mb=512) as sb:
        results = sb.run(programs, progress=True)   # list[str] -> list[ExecResult], same order
    # ExecResult(status="ok"|"error"|"timeout", answer=float|bool|str|None, error, seconds)

Benchmark: `python -m md.bench.sandbox`. Answer conventions (first match wins): `solution()`
returning non-None (PAL style); else the variable `ans`, `result`, then `answer`; else the last
non-empty printed line. The value is normalised with md.answers.normalize in the worker.

How it works: a zygote process (`python -I`, near-empty environment) imports math, fractions,
numpy, sympy, ... once and forks workers. Each worker, before it runs anything, enters a new
network and mount namespace, mounts private tmpfs over /tmp, /var/tmp, /dev/shm and /run/lock,
makes an empty working directory there, clears its environment, sets RLIMIT_AS/FSIZE/NOFILE/
CORE, drops to uid/gid 65534 (nobody) with no capabilities, sets RLIMIT_NPROC 0 and
no_new_privs. The parent never executes program code and only parses JSON from workers. It keeps
several programs in flight per worker, kills a worker whose program runs past the wall-clock
limit (an in-worker alarm catches Python-level loops first; a C-level loop is killed), sets a
per-program RLIMIT_CPU, and replaces any worker that dies, times out or retires.

Protected (each has an adversarial test in tests/test_sandbox_adversarial.py): infinite and
C-level loops; huge and gradual allocations; fork, os.system, subprocess and threads (NPROC 0);
writes outside the working directory (uid nobody; /tmp is private and discarded); network,
loopback included (new namespace, no interfaces up); reading the parent's API keys (environment
cleared; the zygote was started without them; /proc/<parent>/environ is root-only); sys.exit,
SystemExit, KeyboardInterrupt; recursion overflow and interpreter segfaults; floods of output
(capped); ctypes (the worker is retired after it; its memory dies with it).

Reused workers, honestly: for speed a worker runs many programs in one interpreter. Each program
gets fresh globals and builtins, and stdout, the recursion limit, the decimal context and numpy's
error/print options are reset after it. Beyond that, tripwires (md.sandbox.tripwires) retire the
worker after any program that imports a module outside the safe list, names a dunder such as
`__dict__`/`__globals__`/`__class__`, calls setattr/delattr/vars/globals/locals, sets an
attribute of any module, triggers any audit event (open, os.*, exec of a string, gc, ctypes...),
or changes builtins, a safe module's namespace or a Python class defined there. NOT detected:
mutating a library object through its ordinary methods (e.g. `random.seed(1)`, `np.random.seed`,
appending to a list a library keeps at module level, sympy's global parameters or caches), or
patching a non-dunder attribute of a numpy/sympy class (`sympy.Integer.foo = f`). Such a program
can change what later programs in the same worker compute. A program that escapes the tripwires
could also write forged results for programs queued behind it in its worker (results must come in
order; at most `inflight` programs). Use one worker per program (`max_programs_per_worker=1`,
~100 programs/s) where that matters.

Not protected at all: kernel exploits and container escapes (no seccomp filter), CPU side
channels, reading world-readable files (the project tree, /etc), CPU and memory contention with
other workers, and, when not running as root, the uid drop and the private /tmp; without
permission to create namespaces (unprivileged, no user namespaces) there is no network isolation
either: `Sandbox.isolation` reports what was switched on.
"""

from md.sandbox.pool import Sandbox
from md.sandbox.result import ExecResult

__all__ = ["ExecResult", "Sandbox"]
