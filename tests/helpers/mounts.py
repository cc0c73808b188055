"""Real small filesystems for disk tests: a tmpfs mounted on a folder of the test (root only).

    with tmpfs(tmp_path / "full", size="16k") as folder:   # a disk that fills at 16 KB
        ...
        grow(folder, "1m")                                   # space freed, the same files kept
    with tmpfs(tmp_path / "ro", read_only=True) as folder:  # a read-only disk

A test that cannot mount skips, naming why; a read-only folder falls back to one without write
permission when not root (the same refusal for a non-root process).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def tmpfs(folder: Path, size: str = "64k", read_only: bool = False) -> Iterator[Path]:
    folder.mkdir(parents=True)
    options = f"{'ro,' if read_only else ''}size={size}"
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        if read_only and os.geteuid() != 0:
            folder.chmod(0o555)
        else:
            pytest.skip(f"cannot mount a tmpfs here ({made.stderr.strip() or 'not root'})")
    try:
        yield folder
    finally:
        if made.returncode == 0:
            subprocess.run(["umount", str(folder)], check=True)


def grow(folder: Path, size: str) -> None:
    """Give a mounted tmpfs more room, keeping its files: a disk after space was freed."""
    subprocess.run(["mount", "-o", f"remount,size={size}", str(folder)], check=True)
