"""The sandbox's child processes: a zygote that preloads and forks, and the workers it forks.

The zygote is a fresh `python -I` started by `Sandbox` with an almost empty environment. It
imports everything programs may use (importing after the uid drop can fail: the interpreter's
own files may be readable by root only), warms up lazy imports, then forks one worker per
request (fork is ~10 ms here; importing numpy and sympy again would be ~2 s). Each worker
isolates itself (md.sandbox.limits), reports "ready", then serves tasks from its pipe:

    parent -> worker   b"<id> <nbytes>\\n" + program bytes        (the source, never executed here)
    worker -> parent   one JSON object per line: {"ready": report} | {"fatal": text}
                       | {"id", "status", "answer", "error", "seconds"} | {"retire": reason}

Only plain JSON crosses back: the parent never unpickles anything a program could shape.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import signal
import socket
import sys

PRELOAD = (
    "math", "cmath", "fractions", "decimal", "numpy", "sympy", "itertools", "collections",
    "functools", "operator", "datetime", "re", "statistics", "random", "string", "heapq",
    "bisect", "numbers", "typing", "dataclasses", "enum", "copy", "calendar", "time",
    # not for programs (importing them trips a wire): loaded so a hostile program meets the
    # process limits, not an unreadable stdlib, on every machine
    "subprocess", "socket", "ctypes", "shutil", "tempfile",
)
# run once in the zygote so that first uses which import submodules lazily happen before fork
WARM_UP = """
import numpy as np, sympy as sp, statistics, fractions, datetime
x = sp.symbols('x'); sp.solve(sp.Eq(2 * x + 3, 7), x); sp.simplify((x**2 - 1) / (x - 1))
sp.Rational(3, 4) + sp.sqrt(8); sp.nsimplify(0.5); sp.factorint(360); sp.isprime(97)
sp.N(sp.pi, 10); sp.solve([x - 1], [x]); sp.Symbol('y', positive=True); sp.floor(2.5)
float(sp.Integer(3)); sp.Float(1.5).round(2); sp.binomial(5, 2); sp.divisors(12); sp.gcd(4, 6)
np.mean(np.array([1.0, 2.0])); np.round(np.float64(2.5)); np.linalg.solve(np.eye(2), [1, 2])
np.arange(5).sum().item(); np.percentile([1, 2, 3], 50); np.lcm(4, 6); np.gcd(4, 6)
statistics.median([1, 2, 3]); fractions.Fraction(3, 4).limit_denominator(10)
datetime.date(2020, 1, 1) + datetime.timedelta(days=3); round(3.14159, 2); '%.2f' % 1.5
"""


def zygote_main(sock_fd: int, config_json: str) -> None:
    """Preload, then fork a worker for every request on the control socket until it closes."""
    config = json.loads(config_json)
    sock = socket.socket(fileno=sock_fd)
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception as exc:  # a missing optional package only narrows what programs can use
            print(f"md.sandbox: cannot preload {name}: {exc}", file=sys.stderr)
    exec(compile(WARM_UP, "<warm-up>", "exec"), {})
    from md.sandbox import seccomp
    from md.sandbox.runner import Runner  # noqa: F401 - imported before fork, like the rest

    seccomp.preload()
    from md.sandbox.tripwires import freeze_stdlib_classes

    freeze_stdlib_classes()

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps dead workers
    gc.collect()
    gc.freeze()  # objects that survive forever: keeps the collector off the shared pages
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 64, 2)
        except OSError:
            break
        if not msg or len(fds) != 2:
            break  # the parent is gone (or confused): the workers follow via PDEATHSIG
        pid = os.fork()
        if pid == 0:
            sock.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            worker_main(fds[0], fds[1], config, _own_pid_namespace(fds))
        for fd in fds:
            os.close(fd)
        sock.sendall(b"%d\n" % pid)
    os._exit(0)


def _own_pid_namespace(fds: list[int]) -> str:
    """Make the worker PID 1 of a new PID namespace; returns the report line.

    unshare(CLONE_NEWPID) moves only later children, so this process forks once more: the child
    is PID 1 of the new namespace and becomes the worker; this process keeps no pipe open,
    waits for it and exits with it. The pool kills this process's pid on a timeout; the worker
    then dies by PR_SET_PDEATHSIG, and with PID 1 every process of its namespace."""
    from md.sandbox.limits import CLONE_NEWPID, unshare

    try:
        unshare(CLONE_NEWPID)
    except OSError as exc:
        return f"OFF: the host's PID namespace ({exc.strerror})"
    inner = os.fork()
    if inner == 0:
        os.setsid()  # its own process group: killpg from inside reaches no one outside
        return "own PID namespace (PID 1): no other process can be seen, traced or signalled"
    for fd in fds:
        os.close(fd)
    from md.sandbox.limits import die_with_parent

    die_with_parent()
    os.waitpid(inner, 0)
    os._exit(0)


def _send(fd: int, message: dict) -> None:
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(fd, data):]


def _quiet_std_fds() -> None:
    """stdin closed; C-level stdout/stderr to /dev/null (print() is captured per program)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    os.close(0)
    sys.stdin = None


def worker_main(task_fd: int, result_fd: int, config: dict, pid_namespace: str) -> None:
    """Isolate, then run tasks until EOF or a tripped wire; never returns."""
    from md.sandbox.limits import isolate
    from md.sandbox.runner import Runner

    try:
        _quiet_std_fds()
        report, workdir = isolate(config["memory_mb"], config["file_mb"], config["max_files"],
                                  config["cpu_lifetime_s"], pid_namespace)
        if os.getppid() == 1:
            os._exit(0)  # the zygote died before PDEATHSIG was armed
        runner = Runner(config["timeout_s"], config["max_output_chars"], workdir)
    except BaseException as exc:
        _send(result_fd, {"fatal": f"{type(exc).__name__}: {exc}"})
        os._exit(1)
    _send(result_fd, {"ready": report})
    _serve(os.fdopen(task_fd, "rb"), result_fd, runner, config["max_programs"])
    os._exit(0)


def _serve(reader, result_fd: int, runner, max_programs: int) -> None:
    for _ in range(max_programs):
        header = reader.readline()
        if not header:
            return
        task_id, size = (int(x) for x in header.split())
        source = reader.read(size).decode("utf-8", "replace")
        try:
            result = runner.run(source)
        except BaseException as exc:  # e.g. MemoryError in the runner itself after a program
            runner.wires.trip(f"runner failed: {type(exc).__name__}")
            result = {"status": "error", "answer": None, "error": f"sandbox: {exc!r}"[:300],
                      "seconds": 0.0}
        result["id"] = task_id
        _send(result_fd, result)
        if runner.wires.tripped:
            _send(result_fd, {"retire": runner.wires.tripped})
            return
    _send(result_fd, {"retire": f"served {max_programs} programs"})
