"""Atomic file writes: a file is either absent or complete, never half-written.

A kill (SIGKILL, OOM, a lost node) in the middle of a write must not leave a file that a later
run trusts: artifacts are reused whenever their file exists, checkpoints are resumed from, and
`config.json` says what a folder holds. Every writer goes through `atomic_open`: a temp file in
the same folder, flushed and fsynced, then renamed over the target (rename is atomic on POSIX).

    with atomic_open("artifacts/mix/ab12/stats.json") as f:
        f.write(text)
    write_text("runs/x/metrics.json", json.dumps(metrics))
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temp file beside `path` for writing; on success it replaces `path` atomically."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files: mode 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write `text` to `path` atomically (UTF-8)."""
    with atomic_open(path) as f:
        f.write(text)
    return Path(path)
