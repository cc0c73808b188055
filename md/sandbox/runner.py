"""Run one untrusted program inside a worker: fresh namespace, answer conventions, tripwires.

The worker reuses one interpreter for many programs (that is where the speed comes from), so
each program gets fresh globals and a fresh copy of the builtins, and after it ends the runner
restores what programs commonly change (stdout, the decimal context, numpy's error and print
options). Anything that could reach state shared with the next program trips a wire (see
`Tripwires`); a tripped worker answers, then retires and is replaced by a fresh fork.

Answer conventions, first match wins: a callable `solution` (PAL style) returning something
other than None; else the variable `ans`, then `result`, then `answer`; else the last non-empty
printed line. The value is normalised by md.answers.normalize inside the worker, under the
program's time limit, because converting a program's object runs the program's code.
"""

from __future__ import annotations

import decimal
import signal
import sys
import time
import types

from md.answers import normalize
from md.sandbox.limits import set_cpu_limit
from md.sandbox.tripwires import Tripwires

ANSWER_NAMES = ("ans", "result", "answer")
MAX_ANSWER_CHARS = 1000  # a text answer longer than this is reported cut
CPU_LIMIT_REFRESH_S = 0.5


_set_module_attr = types.ModuleType.__setattr__


class ProgramTimeout(BaseException):
    """Raised by the in-worker alarm; BaseException so `except Exception:` does not swallow it."""


class OutputLimit(Exception):
    """Raised when a program prints more than the cap."""


class CappedOutput:
    """A write-only text stream that keeps at most `cap` characters, then raises."""

    def __init__(self, cap: int) -> None:
        self.cap, self.size, self.parts = cap, 0, []

    def write(self, text: str) -> int:
        text = str(text)
        self.size += len(text)
        if self.size > self.cap:
            raise OutputLimit(f"printed more than {self.cap} characters")
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def getvalue(self) -> str:
        return "".join(self.parts)


def _on_alarm(signum, frame):  # noqa: ARG001 - signal handler signature
    raise ProgramTimeout


class Runner:
    """Executes programs one at a time in this (already isolated) process."""

    def __init__(self, timeout_s: float, max_output_chars: int, workdir: str) -> None:
        self.timeout_s, self.max_output_chars, self.workdir = timeout_s, max_output_chars, workdir
        self.wires = Tripwires()
        self.recursion_limit = sys.getrecursionlimit()
        self.decimal_context = decimal.getcontext().copy()
        self.numpy = sys.modules.get("numpy")
        self.np_state = (self.numpy.geterr(), self.numpy.get_printoptions()) if self.numpy else None
        self.cpu_limit_set_at = -1e9
        signal.signal(signal.SIGALRM, _on_alarm)

    def run(self, source: str) -> dict:
        """One program -> {"status", "answer", "error", "seconds"}; never raises."""
        start = time.perf_counter()
        if start - self.cpu_limit_set_at > CPU_LIMIT_REFRESH_S:
            # setrlimit costs ~4 us; between refreshes a program can use at most
            # CPU_LIMIT_REFRESH_S more CPU than timeout_s + 1 (one thread: CPU <= wall clock)
            self.cpu_limit_set_at = start
            if not set_cpu_limit(self.timeout_s + 1 + CPU_LIMIT_REFRESH_S):
                self.wires.trip("CPU lifetime budget spent")
        status, answer, error = self._execute(source)
        self._restore()
        if isinstance(answer, str) and len(answer) > MAX_ANSWER_CHARS:
            answer = answer[:MAX_ANSWER_CHARS]
        return {"status": status, "answer": answer, "error": error,
                "seconds": round(time.perf_counter() - start, 6)}

    def _execute(self, source: str) -> tuple[str, object, str | None]:
        out = CappedOutput(self.max_output_chars)
        late = f"ran past {self.timeout_s:g} s"
        signal.setitimer(signal.ITIMER_REAL, self.timeout_s)  # compiling counts too
        try:
            try:
                code = compile(source, "<program>", "exec")
                namespace = {"__name__": "__main__", "__builtins__": self.wires.fresh_builtins()}
                self.wires.check_code(code)
                _set_module_attr(sys, "stdout", out)  # past _GuardedModule's hook: ours, not theirs
                _set_module_attr(sys, "stderr", out)
                self.wires.arm(code)
                exec(code, namespace)
                answer, note = find_answer(namespace, out)
                return "ok", answer, note
            except ProgramTimeout:
                return "timeout", None, late
            except BaseException as exc:  # the program's own exception, SystemExit included
                return "error", None, _describe(exc)  # str(exc) may run program code: still armed
        except ProgramTimeout:  # the alarm fired while describing the program's exception
            return "timeout", None, late
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self.wires.disarm()
            _set_module_attr(sys, "stdout", sys.__stdout__)
            _set_module_attr(sys, "stderr", sys.__stderr__)

    def _restore(self) -> None:
        """Put back the process state programs commonly change, and check the rest."""
        sys.setrecursionlimit(self.recursion_limit)
        decimal.setcontext(self.decimal_context.copy())
        if self.numpy is not None:
            err, printopts = self.np_state
            if self.numpy.geterr() != err:
                self.numpy.seterr(**err)
            if self.numpy.get_printoptions() != printopts:
                self.numpy.set_printoptions(**printopts)
        self.wires.check_state()
        # No folder clean-up: creating a file or changing directory raises an audit event,
        # which retires the worker, and its private tmpfs dies with it.


def find_answer(namespace: dict, out: CappedOutput) -> tuple[object, str | None]:
    """(normalised answer, note) by the documented conventions; runs program code (solution)."""
    solution = namespace.get("solution")
    if callable(solution):
        value = normalize(solution())
        if value is not None:
            return value, None
    for name in ANSWER_NAMES:
        if name in namespace and not isinstance(namespace[name], types.ModuleType):
            value = normalize(namespace[name])
            return value, None if value is not None else f"`{name}` is not an answer"
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    if lines:
        value = normalize(lines[-1])
        return value, None if value is not None else "last printed line is not an answer"
    return None, "no answer: no solution(), ans, result, answer, or printed line"


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:300]

