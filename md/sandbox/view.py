"""A worker's filesystem: only what the interpreter needs, read-only, and a private /tmp.

`enter_minimal_view` runs in a worker that has its own mount namespace (md.sandbox.limits) and
is PID 1 of its own PID namespace (md.sandbox.worker), before anything covers the host's /tmp.
It builds a new root on a tmpfs:

    <python prefix>, <venv>, <md package>   read-only bind mounts (lazy imports still work)
    /usr, /lib, /lib64, /etc/ld.so.cache    read-only: the shared libraries the interpreter links
    /dev/null, /dev/zero, /dev/urandom      bind mounts of the host's device files
    /proc                                   a new procfs: only the worker's own PID namespace
    /tmp                                    a private, empty tmpfs (the program's working dir)
    /etc                                    empty

then `pivot_root`s into it and detaches the old root, so nothing else of the host exists for the
program: not the project tree (only its `md` package and `.venv` are bound in, as code), not
home folders, data folders, /srv or /workspace, not a `.env` beside the code. The new root
itself is remounted read-only. Needs root (or a user namespace that owns the mount namespace).
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
from pathlib import Path

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_BIND, MS_REC = 0x20, 0x1000, 0x4000
MNT_DETACH = 2
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(platform.machine())
SYSTEM_LIBS = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/etc/ld.so.cache")
DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")
# The mount point of the new root: a folder of the host's /tmp (so code under /tmp, e.g. a CI
# checkout, can still be bound), covered by a tmpfs that only this worker's mount namespace sees.
ROOT = "/tmp/.md-sandbox-root"

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _enc(text: str | None) -> bytes | None:
    return text.encode() if text is not None else None


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    _check(_libc.mount(_enc(source), _enc(target), _enc(fstype), flags, _enc(data)),
           f"mount {target}")


def code_paths() -> list[str]:
    """What the interpreter reads lazily: its prefix, the venv, sys.path entries, md itself.
    The folder md is imported from (a source checkout, with an editable install) is the
    project tree: only its `md` package is bound, never the folder."""
    import md

    package = Path(md.__file__).resolve().parent
    paths = {sys.base_prefix, sys.prefix, str(package)}
    paths |= {p for p in sys.path if p and os.path.isdir(p)
              and Path(p).resolve() != package.parent}
    paths |= {str(Path(p).resolve()) for p in list(paths)}  # symlinked prefixes, both names
    paths -= {str(package.parent)}
    real = sorted(p for p in paths if os.path.exists(p))
    return [p for p in real if not any(p != q and p.startswith(q + "/") for q in real)]


def _bind_readonly(path: str, root: str) -> None:
    target = root + path
    if os.path.islink(path):  # e.g. /lib -> usr/lib on merged-/usr systems: same link inside
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        if not os.path.lexists(target):
            os.symlink(os.readlink(path), target)
        return
    if os.path.isdir(path):
        Path(target).mkdir(parents=True, exist_ok=True)
    else:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).touch()
    _mount(path, target, None, MS_BIND | MS_REC)
    _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def enter_minimal_view(tmpfs_mb: int) -> str:
    """Build the new root, pivot into it; returns a description for Sandbox.isolation."""
    if SYS_PIVOT_ROOT is None:
        raise OSError(0, f"pivot_root: unknown syscall number on {platform.machine()}")
    code = code_paths()
    os.makedirs(ROOT, mode=0o700, exist_ok=True)  # one empty folder on the host, for all workers
    _mount("tmpfs", ROOT, "tmpfs", MS_NOSUID, "size=1m,mode=0755")
    for path in (*code, *(p for p in SYSTEM_LIBS if os.path.lexists(p))):
        _bind_readonly(path, ROOT)
    for dev in DEVICES:
        if os.path.exists(dev):
            Path(ROOT + dev).parent.mkdir(parents=True, exist_ok=True)
            Path(ROOT + dev).touch()
            _mount(dev, ROOT + dev, None, MS_BIND)
    for folder in ("/proc", "/tmp", "/etc", "/.old"):
        os.makedirs(ROOT + folder, exist_ok=True)
    _mount("proc", ROOT + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mount("tmpfs", ROOT + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmpfs_mb}m,mode=1777")
    os.chdir(ROOT)
    _check(_libc.syscall(SYS_PIVOT_ROOT, b".", b".old"), "pivot_root")
    os.chdir("/")
    _check(_libc.umount2(b"/.old", MNT_DETACH), "umount the old root")
    os.rmdir("/.old")
    _mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID)
    return (f"own root (pivot_root): read-only {', '.join(code)} and the system libraries; "
            "/dev/null|zero|urandom, a private /proc and /tmp; nothing else of the host")
