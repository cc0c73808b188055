"""A seccomp filter for sandbox workers, through libseccomp (the `pyseccomp` bindings).

Loaded last, after the uid drop and PR_SET_NO_NEW_PRIVS, so it binds the program and cannot be
lifted. Every system call is allowed except those no PoT program needs, which fail with EPERM:

    ptrace, process_vm_readv/writev          reading or steering other processes
    mount, umount2, pivot_root, chroot,       changing the filesystem view or namespaces
    unshare, setns, open_by_handle_at
    bpf, perf_event_open, userfaultfd,        kernel attack surface a program never needs
    io_uring_*, keyctl, add_key, request_key,
    kexec_*, *_module, reboot, swapon/off,
    acct, quotactl, syslog
    socket(family != AF_UNIX)                 any network socket (the worker has no network
                                              either); AF_UNIX stays for the stdlib

NOT blocked: the ordinary calls any Python program makes (files, memory, time, signals to
itself), so the filter narrows the kernel's surface but is no defence against an exploit in the
calls that remain. Without libseccomp (or the bindings) the worker runs unfiltered and
`Sandbox.isolation` says so.
"""

from __future__ import annotations

import errno
import socket

DENIED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root",
    "chroot", "unshare", "setns", "open_by_handle_at", "name_to_handle_at", "bpf",
    "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load", "init_module",
    "finit_module", "delete_module", "reboot", "swapon", "swapoff", "acct", "quotactl", "syslog",
)


_bindings: dict = {}


def preload() -> None:
    """Import the bindings in the zygote, before any worker's view hides ldconfig and the
    library search path (pyseccomp finds libseccomp when imported)."""
    try:
        import pyseccomp

        _bindings["module"] = pyseccomp
    except (ImportError, OSError) as exc:
        _bindings["error"] = f"{type(exc).__name__}: {exc}"


def load_filter() -> str:
    """Install the filter on the calling process; a description for Sandbox.isolation."""
    if "module" not in _bindings:
        preload()
    seccomp = _bindings.get("module")
    if seccomp is None:
        raise OSError(0, f"libseccomp bindings unavailable ({_bindings['error']}); "
                      "pip install pyseccomp, with libseccomp2 installed")
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in DENIED:
        f.add_rule(seccomp.ERRNO(errno.EPERM), name)
    f.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket",
               seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
    f.load()
    return f"{len(DENIED)} system calls and non-AF_UNIX sockets denied (EPERM)"
