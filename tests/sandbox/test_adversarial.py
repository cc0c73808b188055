"""One hostile program per property of md.sandbox; after each, the same pool still answers right.

    .venv/bin/python -m pytest tests/sandbox/test_adversarial.py -q
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from pathlib import Path

import pytest

from md.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[2]
SECRET = "sk-test-not-a-real-key-1234"
TIMEOUT = 1.5  # page faults are slow here: filling 256 MiB takes ~0.5 s


@pytest.fixture(scope="module")
def sb():
    os.environ["OPENAI_API_KEY"] = SECRET  # the caller holds a key; programs must not see it
    os.environ["WANDB_API_KEY"] = SECRET
    try:
        with Sandbox(workers=2, timeout_s=TIMEOUT, memory_mb=256) as sandbox:
            yield sandbox
    finally:
        os.environ.pop("OPENAI_API_KEY")
        os.environ.pop("WANDB_API_KEY")


def run_then_check_healthy(sb: Sandbox, *programs: str):
    """Run the hostile programs, then a normal one on the same pool; return the hostile results."""
    results = sb.run(list(programs))
    normal = sb.run(["import math\nx = math.sqrt(16)\nans = x * 10 + 2"])[0]
    assert (normal.status, normal.answer) == ("ok", 42.0), normal
    return results


def test_infinite_loop_times_out(sb):
    (r,) = run_then_check_healthy(sb, "while True:\n    pass")
    assert r.status == "timeout" and r.seconds < TIMEOUT + 1.0, r


def test_infinite_loop_that_swallows_the_alarm_is_killed(sb):
    (r,) = run_then_check_healthy(sb, "while True:\n    try:\n        pass\n    except BaseException:"
                                      "\n        pass")
    assert r.status == "timeout", r


def test_c_level_loop_is_killed(sb):
    start = time.monotonic()
    (r,) = run_then_check_healthy(sb, "ans = sum(range(10**12))")
    assert r.status == "timeout", r
    assert time.monotonic() - start < TIMEOUT + sb.grace_s + 3.0


def test_huge_allocation_fails(sb):
    (r,) = run_then_check_healthy(sb, "x = bytearray(10 * 1024**3)\nans = len(x)")
    assert r.status == "error" and "MemoryError" in r.error, r


@pytest.mark.parametrize("item", ["bytearray(10**7)", "[0] * 10**5"])
def test_gradual_allocation_fails(sb, item):
    (r,) = run_then_check_healthy(sb, f"xs = []\nwhile True:\n    xs.append({item})")
    assert r.status == "error" and "MemoryError" in r.error, r


@pytest.mark.parametrize("module", ["os", "posix"])
def test_fork_bomb_cannot_fork(sb, module):
    (r,) = run_then_check_healthy(sb, f"import {module}\nwhile True:\n    {module}.fork()")
    assert r.status == "error" and "BlockingIOError" in r.error, r


def test_threads_cannot_start(sb):
    (r,) = run_then_check_healthy(sb, "import threading\nthreading.Thread(target=print).start()")
    assert r.status == "error", r


@pytest.mark.parametrize("call", [
    "import os\nans = os.system('touch {path}')",
    "import posix\nans = posix.system('touch {path}')",
    "import subprocess\nans = subprocess.run(['touch', '{path}']).returncode",
])
def test_shell_escape_cannot_run(sb, call, tmp_path):
    path = tmp_path / "escaped"
    os.chmod(tmp_path, 0o777)  # even a world-writable target stays untouched
    (r,) = run_then_check_healthy(sb, call.format(path=path))
    assert not path.exists()
    assert r.status == "error" or r.answer != 0.0, r


def test_write_to_tmp_stays_private(sb):
    path = Path("/tmp") / f"md-sandbox-probe-{uuid.uuid4().hex}"
    (r,) = run_then_check_healthy(sb, f"open({str(path)!r}, 'w').write('x')\nans = 1")
    assert not path.exists(), "a program's /tmp write reached the host /tmp"


def test_write_to_project_tree_is_denied(sb):
    path = REPO / f"md-sandbox-probe-{uuid.uuid4().hex}"
    (r,) = run_then_check_healthy(sb, f"open({str(path)!r}, 'w').write('x')\nans = 1")
    assert not path.exists()
    # Not in the worker's root at all (only md/ and .venv/ of the tree are bound, read-only);
    # or, where there is no own root, denied as uid nobody.
    denied = ("PermissionError", "FileNotFoundError", "Read-only file system")
    assert r.status == "error" and any(d in r.error for d in denied), r


def test_socket_cannot_reach_local_listener(sb):
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]
    with listener:
        program = (f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), "
                   "timeout=0.5)\ns.sendall(b'leak')\nans = 1")
        (r,) = run_then_check_healthy(sb, program)
        assert r.status == "error", r
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected


def test_api_keys_are_invisible(sb):
    program = f"""
import os
seen = str(dict(os.environ))
for pid in ('self', os.getppid(), {os.getpid()}):
    try:
        seen += open(f'/proc/{{pid}}/environ').read()
    except OSError:
        pass
ans = str({SECRET!r} in seen or 'API_KEY' in seen)
"""
    (r,) = run_then_check_healthy(sb, program)
    assert (r.status, r.answer) == ("ok", False), r


@pytest.mark.parametrize("program", [
    "import sys\nsys.exit(3)", "raise SystemExit", "raise KeyboardInterrupt", "exit()",
])
def test_exit_and_interrupt_are_errors(sb, program):
    (r,) = run_then_check_healthy(sb, program)
    assert r.status == "error", r


def test_recursion_overflow(sb):
    (r,) = run_then_check_healthy(sb, "def f(n):\n    return f(n + 1)\nans = f(0)")
    assert r.status == "error" and "RecursionError" in r.error, r


def test_deep_recursion_segfault(sb):
    # recursion through C (map) with the limit lifted overflows the C stack: SIGSEGV
    program = ("import sys\nsys.setrecursionlimit(10**8)\n"
               "def f(n):\n    return list(map(f, [n + 1]))\nans = f(0)")
    (r,) = run_then_check_healthy(sb, program)
    assert r.status in ("error", "timeout") and r.answer is None, r


@pytest.mark.parametrize("program", [
    "print('x' * 100_000_000)\nans = 1",
    "for _ in range(10**6):\n    print('y' * 100)\nans = 1",
])
def test_output_flood_is_capped(sb, program):
    (r,) = run_then_check_healthy(sb, program)
    assert r.status == "error" and "printed more than" in r.error, r


POISONS = [
    "import builtins\nbuiltins.len = lambda x: 99\nans = 1",
    "import math\nmath.sqrt = lambda x: -1.0\nans = 1",
    "import math\nmath.__dict__['sqrt'] = lambda x: -1.0\nans = 1",
    "import math\nvars(math)['sqrt'] = lambda x: -1.0\nans = 1",
    "import math\nsetattr(math, 'sqrt', lambda x: -1.0)\nans = 1",
    "import statistics\nstatistics.mean.__globals__['fsum'] = lambda x: -1.0\nans = 1",
    "import sys\nsys.modules['math'] = type(sys)('math')\nans = 1",
    "__builtins__['len'] = lambda x: 99\nimport fractions\nfractions.Fraction.__add__ = None",
    "import decimal\ndecimal.getcontext().prec = 1\nans = 1",
    "import typing\ntyping.sys.modules['builtins'].len = lambda x: 99\nans = 1",
    "g = (lambda: 0).__globals__\nans = 1",
]
VICTIM = ("import math, decimal, statistics\nfrom fractions import Fraction\n"
          "ans = len([1, 2]) + math.sqrt(16) + float(Fraction(1, 2) + Fraction(1, 2))"
          " + float(decimal.Decimal(1) / decimal.Decimal(3) * 3) + statistics.mean([1, 3])")


@pytest.mark.parametrize("poison", POISONS)
def test_monkeypatching_does_not_poison_the_next_program(sb, poison):
    # the poison and the victims queue on the same workers (several in flight per worker)
    results = run_then_check_healthy(sb, poison, *[VICTIM] * 20)
    for r in results[1:]:
        assert (r.status, r.answer) == ("ok", pytest.approx(2 + 4 + 1 + 1 + 2)), r


def test_ctypes_memory_poke_does_not_leak(sb):
    poke = "import ctypes\nctypes.c_long.from_address(id(7) + 24).value = 8\nans = 7 + 0"
    results = run_then_check_healthy(sb, poke, *["x = 6\nans = x + 1"] * 20)
    assert all((r.status, r.answer) == ("ok", 7.0) for r in results[1:]), results


def test_ctypes_segfault_is_contained(sb):
    (r,) = run_then_check_healthy(sb, "import ctypes\nans = ctypes.string_at(0)")
    assert r.status == "error" and "worker died" in r.error, r
