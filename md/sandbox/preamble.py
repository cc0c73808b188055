"""A program's execution environment travels with it: Python run before each program, and the
variable the program leaves its answer in.

Some teachers write programs against an environment of their own: Faithful-CoT's assume sympy's
`Symbol`, `Eq` and `solve`, `from math import *` and a `solve_it` helper (its
solver_prefix.txt), and its executor reads the variable `answer`. Run bare, 3.5% of its SVAMP
and 9.5% of its ASDiv programs fail with NameError; read by md's own conventions (`ans`, then
`result`, then `answer`: md.sandbox.runner), a program that keeps an intermediate in `result`
is judged by it. So the environment is part of how those programs are judged (the execute
artifact's key holds its digest), and a student trained on them writes programs that assume it:
md.train records it in the student's md_student.json and evaluation runs the student's PoT
paths in it. A student trained on preamble-free programs has none and gets none.

The preamble is prepended to each program's text for the run only (the recorded program is
unchanged), and the answer variable, when named, is copied into `ans` after it (if the program
set it); both run in the same sandbox, under the same limits, as the program.

    env = read("faithful_cot/solver_prefix.txt", answer="answer")
    with_preamble(sandbox, env).run(["x = Symbol('x')\\nanswer = solve_it(Eq(2 * x, 4), x)[x]"])
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from md.errors import MDError


@dataclass(frozen=True)
class Preamble:
    """The environment a teacher's programs assume; empty (falsy) for programs run as written."""

    text: str = ""
    answer: str | None = None  # the variable the programs leave their answer in

    def __bool__(self) -> bool:
        return bool(self.text or self.answer)

    def record(self) -> dict | None:
        """As md_student.json and metrics.json hold it (None when empty)."""
        return {"text": self.text, "answer": self.answer} if self else None

    def digest(self) -> str:
        """A short content hash, for artifact keys."""
        return hashlib.sha256(json.dumps(self.record(), sort_keys=True).encode()).hexdigest()[:16]

    def wrap(self, program: str) -> str:
        """The text the sandbox runs for `program`."""
        head = f"{self.text.rstrip()}\n\n" if self.text.strip() else ""
        tail = (f"\n\ntry:\n    ans = {self.answer}\nexcept NameError:\n    pass\n"
                if self.answer else "")
        return f"{head}{program}{tail}"


def of_record(record: Any) -> Preamble:
    """A Preamble from what `Preamble.record()` wrote (None or {} for none)."""
    if not record:
        return Preamble()
    if not isinstance(record, dict):
        raise MDError(f"a recorded preamble must be {{'text', 'answer'}} or null, not {record!r}; "
                      "fix the student's md_student.json")
    return Preamble(str(record.get("text") or ""), record.get("answer") or None)


def read(path: str | Path | None, answer: str | None = None) -> Preamble:
    """The preamble file's text (none for no file) and the programs' answer variable."""
    if answer is not None and not str(answer).isidentifier():
        raise MDError(f"teacher.answer_variable={answer!r} is not a Python variable name; set it "
                      "to the variable the programs assign their result to (e.g. answer) or null")
    if path is None or str(path) in ("", "None"):
        return Preamble("", answer or None)
    try:
        return Preamble(Path(path).read_text(encoding="utf-8"), answer or None)
    except (OSError, UnicodeDecodeError) as e:
        why = getattr(e, "strerror", None) or type(e).__name__
        raise MDError(f"teacher.preamble={path}: cannot read it ({why}); point it at the Python "
                      "file the teacher's programs assume, or set teacher.preamble=null") from None


class Preambled:
    """A sandbox that runs each program in `preamble`'s environment (same results, same order)."""

    def __init__(self, sandbox: Any, preamble: Preamble):
        self.sandbox, self.preamble = sandbox, preamble

    def run(self, programs: Sequence[str], progress: Any = False) -> list:
        wrapped = [self.preamble.wrap(p) if isinstance(p, str) else p for p in programs]
        return self.sandbox.run(wrapped, progress=progress)


def with_preamble(sandbox: Any, preamble: Preamble | None) -> Any:
    """`sandbox` itself when there is no preamble, else one that runs programs in it."""
    return Preambled(sandbox, preamble) if preamble else sandbox
