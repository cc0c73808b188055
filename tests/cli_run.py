"""Run a real md entry point in a subprocess, as a user would, and read its one error line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def md(tmp_path: Path, *args: str, stage: str = "train", env: dict | None = None,
       wrap: list[str] | None = None, artifacts: Path | None = None,
       runs: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m md.<stage> ARGS` with no OpenAI key, offline W&B and hub, and its own
    artifacts and runs folders under tmp_path (flags first, as Hydra's parser wants)."""
    base = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env = {**base, "WANDB_MODE": "offline", "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
           **(env or {})}
    cmd = [*(wrap or []), sys.executable, "-m", f"md.{stage}", *args,
           f"paths.artifacts={artifacts or tmp_path / 'art'}", f"paths.runs={runs or tmp_path / 'runs'}"]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=timeout)


def one_error_line(out: subprocess.CompletedProcess) -> str:
    """The single `error:` line of a failed run (exit status 2, no traceback)."""
    assert out.returncode == 2, out.stdout[-1000:] + out.stderr[-3000:]
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    lines = [ln for ln in out.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, out.stderr[-3000:]
    return lines[0]
