"""Run a real md entry point as a user would, and read its one error line.

`md(...)` runs `python -m md.<stage> ARGS` in a subprocess: the command exactly as typed, for
the tests that need a process of its own (a kill, a full run, a launcher). `md_here(...)` runs
the same entry point (`md.<stage>.main()` with that argv) inside the test process, with the same
environment, working folder and captured output: a one-line error or a `--cfg job` needs no
fresh interpreter, and skipping its 3-5 s of imports is what keeps `make test` fast.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import subprocess
import sys
import traceback
from pathlib import Path


def _env(tmp_path: Path, env: dict | None) -> dict:
    base = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    return {**base, "WANDB_MODE": "offline", "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
            **(env or {})}


def _argv(tmp_path: Path, args, artifacts: Path | None, runs: Path | None) -> list[str]:
    return [*args, f"paths.artifacts={artifacts or tmp_path / 'art'}",
            f"paths.runs={runs or tmp_path / 'runs'}"]


def md(tmp_path: Path, *args: str, stage: str = "train", env: dict | None = None,
       wrap: list[str] | None = None, artifacts: Path | None = None,
       runs: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m md.<stage> ARGS` with no OpenAI key, offline W&B and hub, and its own
    artifacts and runs folders under tmp_path (flags first, as Hydra's parser wants)."""
    cmd = [*(wrap or []), sys.executable, "-m", f"md.{stage}", *_argv(tmp_path, args, artifacts, runs)]
    return subprocess.run(cmd, cwd=tmp_path, env=_env(tmp_path, env), capture_output=True,
                          text=True, timeout=timeout)


def md_here(tmp_path: Path, *args: str, stage: str = "train", env: dict | None = None,
            artifacts: Path | None = None, runs: Path | None = None) -> subprocess.CompletedProcess:
    """`md(...)` inside this process: same argv, environment, folder and captured output; an
    uncaught exception becomes a traceback on stderr and exit status 1, as in a subprocess."""
    argv = [f"md.{stage}", *_argv(tmp_path, args, artifacts, runs)]
    saved_env, saved_argv, saved_cwd = dict(os.environ), sys.argv, os.getcwd()
    out, err, code = io.StringIO(), io.StringIO(), 0
    os.environ.clear()
    os.environ.update(_env(tmp_path, env))
    sys.argv = argv
    os.chdir(tmp_path)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                importlib.import_module(f"md.{stage}").main()
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            except Exception:
                traceback.print_exc(file=err)
                code = 1
    finally:
        os.chdir(saved_cwd)
        sys.argv = saved_argv
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def one_error_line(out: subprocess.CompletedProcess) -> str:
    """The single `error:` line of a failed run (exit status 2, no traceback)."""
    assert out.returncode == 2, out.stdout[-1000:] + out.stderr[-3000:]
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    lines = [ln for ln in out.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, out.stderr[-3000:]
    return lines[0]
