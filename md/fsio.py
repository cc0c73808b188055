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
import errno
import os
import re
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
    """Open a temp file beside `path` for writing; on success it replaces `path` atomically.
    The writer holds a lock on its temp file until the rename, so the temp files of writers
    that died (SIGKILL, OOM) are told apart from live ones and removed at the next write in
    that folder (sweep_temps)."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files: mode 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_temps(path.parent)
    fd, tmp = _locked_temp(path)
    held = os.dup(fd)  # keeps the lock after the file object closes, until the rename
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        if e.filename is None:  # a failed write names no file: name the one being written
            raise OSError(e.errno, e.strerror, str(path)) from e
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        os.close(held)


def _locked_temp(path: Path) -> tuple[int, str]:
    """A new temp file beside `path`, locked (flock) by this writer."""
    import fcntl

    while True:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:  # a sweep may have taken it between mkstemp and flock: then make another
            if os.stat(tmp).st_ino == os.fstat(fd).st_ino:
                return fd, tmp
        except FileNotFoundError:
            pass
        os.close(fd)


TEMP_SUFFIX = ".tmp"
TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")  # .<name>.<mkstemp's 8 characters>.tmp


def sweep_temps(folder: str | os.PathLike) -> int:
    """Remove the temp files (`.<name>.*.tmp`) that killed writers left in `folder`: those whose
    lock no process holds. A live writer's temp file is left alone. The number removed."""
    import fcntl

    removed = 0
    for tmp in Path(folder).glob(f".*{TEMP_SUFFIX}"):
        if not TEMP_NAME.match(tmp.name):
            continue  # not one of ours
        try:
            fd = os.open(tmp, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live writer holds it
        else:
            tmp.unlink(missing_ok=True)  # renamed meanwhile: nothing to remove
            removed += 1
        finally:
            os.close(fd)
    return removed


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write `text` to `path` atomically (UTF-8)."""
    with atomic_open(path) as f:
        f.write(text)
    return Path(path)


@contextlib.contextmanager
def file_lock(path: str | os.PathLike, what: str) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if needed) for the block: two jobs that would
    make the same artifact, or ask the teacher through the same cache, take turns instead of
    doing the work (and paying for it) twice. A job that has to wait says so in one line. The
    lock is the kernel's (flock), so a killed holder releases it at once."""
    import fcntl
    import sys

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another job that is making {what} (lock {path})", file=sys.stderr)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


NO_SPACE_ERRNOS = (28, 122, 27)  # ENOSPC, EDQUOT (a quota), EFBIG (a file-size limit)


def is_out_of_space(error: BaseException) -> bool:
    """Whether `error` (an OSError, or a library's error wrapping one) says the disk is full."""
    if isinstance(error, OSError) and error.errno in NO_SPACE_ERRNOS:
        return True
    text = str(error)
    return "No space left on device" in text or "os error 28" in text or "Disk quota" in text


def out_of_space_message(folder: str | os.PathLike, what: str, needed_bytes: int | None = None,
                         errno_: int | None = None) -> str:
    """One line: which folder is full, what was being written, the space needed and free. A
    file-size limit (EFBIG: `ulimit -f`, RLIMIT_FSIZE) is not a full disk and is named as such."""
    import resource
    import shutil

    folder = Path(folder)
    probe = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    free = shutil.disk_usage(probe).free
    kept = "what was finished is kept, and nothing half-written is trusted"
    if errno_ == errno.EFBIG:
        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        cap = "" if limit == resource.RLIM_INFINITY else f" of {limit:,} bytes"
        return (f"a file-size limit{cap} (ulimit -f) stopped writing {what} in {folder}, not a "
                f"full disk ({free / 1e6:,.1f} MB free there); raise the limit (ulimit -f "
                f"unlimited, or the scheduler's file-size limit) and rerun: {kept}")
    need = f"about {needed_bytes / 1e6:,.1f} MB needed, " if needed_bytes else ""
    return (f"no space left in {folder} while writing {what} ({need}{free / 1e6:,.1f} MB free); "
            f"free some space there (or point paths.runs / paths.artifacts at another disk) and "
            f"rerun: {kept}")
