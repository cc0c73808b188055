"""Run untrusted model-written Python programs, thousands per second, each one contained.

    from md.sandbox import Sandbox, ExecResult
    with Sandbox(workers=2, timeout_s=5.0, memory_mb=512) as sb:
        results = sb.run(programs, progress=True)   # list[str] -> list[ExecResult], same order
    # ExecResult(status="ok"|"error"|"timeout", answer=float|bool|str|None, error, seconds)

Benchmark: `python -m md.bench.sandbox`. Answer conventions (first match wins): `solution()`
returning non-None (PAL style); else the variable `ans`, `result`, then `answer`; else the last
non-empty printed line. The value is normalised with md.answers.normalize in the worker.

How it works: a zygote process (`python -I`, near-empty environment) imports math, fractions,
numpy, sympy, ... once and forks workers. Each worker is PID 1 of its own PID namespace (the
zygote's child unshares CLONE_NEWPID and forks it) and leads its own session; before it runs
anything it enters a new network and mount namespace, builds its own root (md.sandbox.view:
read-only bind mounts of the Python prefix, the venv, the md package and the system libraries,
/dev/null|zero|urandom, a new /proc, a private tmpfs /tmp, an empty /etc) and pivot_roots into
it, makes an empty working directory, clears its environment, sets RLIMIT_AS/FSIZE/NOFILE/CORE,
drops to uid/gid 65534 (nobody) with no capabilities, sets RLIMIT_NPROC 0 and no_new_privs, and
last loads a seccomp filter (md.sandbox.seccomp). The parent never executes program code and
only parses JSON from workers. It keeps several programs in flight per worker, kills a worker
whose program runs past the wall-clock limit (an in-worker alarm catches Python-level loops
first; a C-level loop is killed), sets a per-program RLIMIT_CPU, and replaces any worker that
dies, times out or retires.

Protected (each has an adversarial test in tests/sandbox/test_adversarial.py or, with innocent
programs in flight on the other workers, tests/sandbox/test_neighbours.py): infinite and
C-level loops; huge and gradual allocations; fork, os.system, subprocess and threads (NPROC 0);
other programs: no other process exists in a worker's PID namespace or /proc, so signals
(kill(-1), its process group, its parent), /proc scans and ptrace reach nothing (ptrace is
also denied by seccomp); the user's files: nothing of the host filesystem is in a worker's root
but the interpreter's code and system libraries (no project tree beyond md/ and the venv, no
home, /srv, /data or /workspace, no /etc but ld.so.cache), all read-only; writes anywhere but
the private /tmp; network, loopback included (new namespace, no interfaces up; non-AF_UNIX
sockets denied by seccomp); reading the parent's API keys (environment cleared; the zygote was
started without them; no other process's /proc exists); sys.exit, SystemExit,
KeyboardInterrupt; recursion overflow and interpreter segfaults; floods of output (capped);
ctypes (the worker is retired after it; its memory dies with it); mount, unshare, setns, bpf,
perf_event_open, keyctl, kexec and module loading (seccomp: EPERM).

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

Not protected at all: kernel exploits through the system calls the filter allows, CPU side
channels, CPU and memory contention with other workers, and a program changing the results of
programs queued behind it in its own worker (above). Without root (or namespaces) the PID
namespace, the own root, the private /tmp, the network namespace and the uid drop are off;
without libseccomp the filter is: `Sandbox.isolation` reports each protection ("OFF (why)"),
the sandbox then prints one warning line naming those that are off, and
`Sandbox(require_isolation=True)` (`execute.require_isolation=true`) refuses to run instead.
"""

from md.sandbox.pool import Sandbox
from md.sandbox.result import ExecResult

__all__ = ["ExecResult", "Sandbox"]
