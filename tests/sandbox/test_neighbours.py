"""Hostile programs aimed at their neighbours and at the user's files, with innocent programs in
flight on the other workers at the same moment: every innocent one must come back right.

Each attack runs inside a batch of innocent programs spread over 4 workers, so when it strikes,
the others are mid-program. An attack may break its own worker (that is allowed and handled);
it must not change a single innocent result. `--count`-style repetition for the acceptance
figure: `for i in $(seq 10); do pytest -q tests/sandbox/test_neighbours.py || break; done`.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from pathlib import Path

import pytest

from md.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[2]
INNOCENTS = 120  # ~5 ms each: several are running on every other worker during the attack


def innocent(k: int) -> str:
    return f"s = 0\nfor i in range(20000):\n    s += i % 7\nans = s + {k}"


def expected(k: int) -> float:
    return float(sum(i % 7 for i in range(20000)) + k)


@pytest.fixture(scope="module")
def sb():
    with Sandbox(workers=4, timeout_s=3.0, memory_mb=256) as sandbox:
        yield sandbox


def among_innocents(sb: Sandbox, attack: str):
    """Run `attack` in the middle of INNOCENTS programs; assert every innocent one is right."""
    programs = [innocent(k) for k in range(INNOCENTS)]
    programs.insert(INNOCENTS // 3, attack)
    results = sb.run(programs)
    hostile = results.pop(INNOCENTS // 3)
    broken = [(k, r) for k, r in enumerate(results) if (r.status, r.answer) != ("ok", expected(k))]
    assert not broken, f"{len(broken)} innocent programs broken, e.g. {broken[0]}"
    return hostile


def test_workers_are_isolated_as_reported(sb):
    assert sb.isolation["pid"].startswith("own PID namespace")
    assert sb.isolation["filesystem"].startswith("own root")
    assert "denied" in sb.isolation["seccomp"]


@pytest.mark.parametrize("attack", [
    "import os, signal\nos.kill(-1, signal.SIGKILL)\nans = 1",  # every process of the uid
    "import os, signal\nos.kill(-1, signal.SIGSTOP)\nans = 1",
    "import os, signal\nos.killpg(os.getpgrp(), signal.SIGKILL)\nans = 1",  # its process group
    "import os, signal\nos.killpg(0, signal.SIGKILL)\nans = 1",
    "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nans = 1",  # its parent
], ids=["kill-all", "stop-all", "kill-pgrp", "kill-pgrp-0", "kill-parent"])
def test_signals_do_not_reach_other_workers(sb, attack):
    among_innocents(sb, attack)


def test_proc_shows_no_other_process_to_kill_or_read(sb):
    scan = ("import os, signal\nmine = os.getpid()\nseen = []\n"
            "for d in os.listdir('/proc'):\n"
            "    if d.isdigit() and int(d) != mine:\n"
            "        seen.append(d)\n"
            "        os.kill(int(d), signal.SIGKILL)\n"
            "ans = len(seen)")
    r = among_innocents(sb, scan)
    assert (r.status, r.answer) == ("ok", 0.0), r  # only itself in its /proc


def test_ptrace_is_denied(sb):
    trace = ("import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
             "ans = ctypes.get_errno() if libc.ptrace(0, 0, 0, 0) == -1 else 0")  # TRACEME
    r = among_innocents(sb, trace)  # which the kernel grants any process; seccomp does not
    assert (r.status, r.answer) == ("ok", 1.0), r  # errno 1, EPERM: the seccomp filter


@pytest.fixture
def secret_dir():
    """A world-readable `.env` under /srv, as on many GPU hosts (removed afterwards)."""
    folder = Path("/srv") / f"md-test-{uuid.uuid4().hex}"
    try:
        folder.mkdir(parents=True)
    except PermissionError:
        pytest.skip("needs root to create /srv/... (the sandbox's own root needs it too)")
    (folder / ".env").write_text("OPENAI_API_KEY=sk-live-do-not-leak\n")
    os.chmod(folder, 0o755)
    os.chmod(folder / ".env", 0o644)
    yield folder
    shutil.rmtree(folder)


def test_a_world_readable_secret_outside_the_workdir_cannot_be_read(sb, secret_dir):
    r = among_innocents(sb, f"ans = open({str(secret_dir / '.env')!r}).read()")
    assert r.status == "error" and "FileNotFoundError" in r.error, r
    assert "sk-live" not in repr(r)


@pytest.mark.parametrize("folder", ["/srv", "/home", "/data", "/workspace", "/etc", str(REPO)])
def test_host_folders_are_not_there(sb, folder, secret_dir):
    listing = f"import os\nans = str(sorted(os.listdir({folder!r})))"
    r = among_innocents(sb, listing)
    if folder == str(REPO):  # at most the code: the md package and the venv, read-only
        venv = Path(sys.prefix).name.lower()  # .venv, or .venv-floors for the floor versions
        if r.status == "error":  # a clone under /tmp: the worker's private /tmp hides it all
            assert "FileNotFoundError" in r.error, r
        else:
            assert r.status == "ok" and set(eval(r.answer)) <= {"md", venv}, r
    elif folder == "/etc":  # only the dynamic linker's cache
        assert r.status == "ok" and set(eval(r.answer)) <= {"ld.so.cache"}, r
    else:
        assert r.status == "error" and "FileNotFoundError" in r.error, r
