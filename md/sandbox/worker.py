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
import select
import signal
import socket
import sys
import time

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
    _serve(task_fd, result_fd, runner, config["max_programs"])
    os._exit(0)


class _Frames:
    """The task pipe, read with os.read into a buffer: tells whether another task is waiting."""

    def __init__(self, fd: int) -> None:
        self.fd, self.buf = fd, bytearray()

    def _whole(self) -> bool:
        newline = self.buf.find(b"\n")
        return newline >= 0 and len(self.buf) - newline - 1 >= int(self.buf[:newline].split()[1])

    def waiting(self) -> bool:
        """Another task is here or on its way (the parent writes whole chunks at once)."""
        return self._whole() or bool(select.select([self.fd], [], [], 0)[0])

    def next(self) -> tuple[int, str] | None:
        while not self._whole():
            data = os.read(self.fd, 1 << 16)
            if not data:
                return None
            self.buf += data
        newline = self.buf.find(b"\n")
        task_id, size = (int(x) for x in self.buf[:newline].split())
        body = bytes(self.buf[newline + 1 : newline + 1 + size])
        del self.buf[: newline + 1 + size]
        return task_id, body.decode("utf-8", "replace")


# Results of quick programs go back in batches while more tasks wait: one write and one wake-up
# of the parent per batch. A result is held at most HOLD_S, and never behind a slow program, so
# the parent's wall-clock view of the program at the head of the queue stays within HOLD_S.
HOLD_S, HOLD_MAX = 0.002, 16


def _serve(task_fd: int, result_fd: int, runner, max_programs: int) -> None:
    frames, held, held_since = _Frames(task_fd), [], 0.0
    for _ in range(max_programs):
        task = frames.next()  # results are held only while another task is already waiting
        if task is None:
            _flush(result_fd, held)
            return
        start = time.perf_counter()
        try:
            result = runner.run(task[1])
        except BaseException as exc:  # e.g. MemoryError in the runner itself after a program
            runner.wires.trip(f"runner failed: {type(exc).__name__}")
            result = {"status": "error", "answer": None, "error": f"sandbox: {exc!r}"[:300],
                      "seconds": 0.0}
        result["id"] = task[0]
        now = time.perf_counter()
        held_since = held_since if held else start
        held.append(result)
        if runner.wires.tripped:
            held.append({"retire": runner.wires.tripped})
            _flush(result_fd, held)
            return
        if len(held) >= HOLD_MAX or now - held_since > HOLD_S or not frames.waiting():
            _flush(result_fd, held)
    held.append({"retire": f"served {max_programs} programs"})
    _flush(result_fd, held)


def _flush(fd: int, messages: list) -> None:
    data = "".join(json.dumps(m) + "\n" for m in messages).encode()
    messages.clear()
    while data:
        data = data[os.write(fd, data):]
