"""Process-level isolation of one sandbox worker: namespaces, its own root, rlimits, uid drop,
seccomp.

`isolate(...)` runs once in a freshly forked worker (PID 1 of its own PID namespace when the
zygote could make one: md.sandbox.worker), before it executes any program, and returns a report
of what it could switch on (`Sandbox.isolation` shows it; a protection that is off reads
"OFF (why)"). Order matters: namespaces and mounts need root, so they come first (network and
mount namespaces, private /tmp, then the minimal root of md.sandbox.view); the uid drop comes
late, then RLIMIT_NPROC (which the kernel does not enforce on root), PR_SET_NO_NEW_PRIVS and,
last, the seccomp filter (md.sandbox.seccomp).
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import tempfile

CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x4000, 0x40000
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
NOBODY = 65534
# every world-writable directory of a usual Linux image: each gets a private, empty tmpfs so a
# program (or a shell it escapes to) cannot leave files where other processes would see them
WRITABLE_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
TMPFS_MB = 64  # size of each private tmpfs (bounded again per file by RLIMIT_FSIZE)

_libc = ctypes.CDLL(None, use_errno=True)


def _call(fn: str, *args: object) -> None:
    if getattr(_libc, fn)(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{fn}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    _call("unshare", flags)


def die_with_parent() -> None:
    """SIGKILL this process when its parent dies (PR_SET_PDEATHSIG)."""
    _call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _namespaces(report: dict) -> bool:
    """A new network and mount namespace; True when the mount namespace is ours to change."""
    flags = CLONE_NEWNET | CLONE_NEWNS
    if os.geteuid() != 0:
        flags |= CLONE_NEWUSER  # unprivileged users may create a user namespace to own the rest
    try:
        _call("unshare", flags)
    except OSError as exc:
        report["network"] = f"OFF (unshare failed: {exc.strerror})"
        return False
    report["network"] = "new network namespace (no interfaces up, loopback included)"
    return True


def _private_tmp(report: dict) -> None:
    try:
        _call("mount", b"none", b"/", None, MS_REC | MS_PRIVATE, None)
        done = []
        for path in WRITABLE_DIRS:
            if os.path.isdir(path):
                opts = f"size={TMPFS_MB}m,mode=1777".encode()
                _call("mount", b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, opts)
                done.append(path)
        report["tmp"] = f"private tmpfs on {', '.join(done)}"
    except OSError as exc:
        report["tmp"] = f"OFF: shared with the host ({exc.strerror})"


def _drop_privileges(uid: int, gid: int, report: dict) -> None:
    if os.geteuid() != 0:
        report["user"] = f"OFF (uid {os.geteuid()} unchanged: not root, cannot switch)"
        return
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)  # from root to non-root: every capability is dropped too
    report["user"] = f"uid {uid} gid {gid}, no capabilities"


def _vm_size_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def set_rlimits(memory_mb: int, file_mb: int, max_files: int, report: dict) -> None:
    """AS (headroom above the preloaded libraries), FSIZE, NOFILE, CORE; CPU is set per program."""
    address_space = _vm_size_bytes() + memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb * 2**20, file_mb * 2**20))
    resource.setrlimit(resource.RLIMIT_NOFILE, (max_files, max_files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails (EFBIG), not the worker
    report["rlimits"] = (
        f"AS +{memory_mb} MiB over the preloaded {address_space // 2**20 - memory_mb} MiB, "
        f"FSIZE {file_mb} MiB, NOFILE {max_files}, CORE 0, NPROC 0, CPU per program"
    )


def set_cpu_limit(seconds: float) -> bool:
    """Let the next program use `seconds` more CPU; False once the worker's lifetime budget is spent."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(used + seconds) + 1
    if hard != resource.RLIM_INFINITY and soft >= hard:
        return False
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    return True


def missing(report: dict) -> list[str]:
    """The protections a worker's report says are off, as "name (why)"."""
    out = []
    for name, value in report.items():
        if isinstance(value, str) and value.startswith("OFF"):
            why = value[3:].lstrip(" :")
            out.append(f"{name} ({why[1:-1] if why.startswith('(') and why.endswith(')') else why})")
    return out


def _own_root(pid_namespace: str, report: dict) -> bool:
    """The minimal root of md.sandbox.view, with its own /tmp; False when it cannot be had."""
    from md.sandbox.view import enter_minimal_view

    if pid_namespace.startswith("OFF"):
        report["filesystem"] = "OFF: the host's (a private /proc needs a PID namespace)"
        return False
    try:
        report["filesystem"] = enter_minimal_view(TMPFS_MB)
    except OSError as exc:
        report["filesystem"] = f"OFF: the host's ({exc.strerror})"
        return False
    report["tmp"] = f"private tmpfs on /tmp ({TMPFS_MB} MiB) in its own root"
    return True


def _seccomp(report: dict) -> None:
    try:
        from md.sandbox.seccomp import load_filter

        report["seccomp"] = load_filter()
    except (OSError, RuntimeError) as exc:
        report["seccomp"] = f"OFF ({exc.strerror if isinstance(exc, OSError) else exc})"


def isolate(memory_mb: int, file_mb: int, max_files: int, cpu_lifetime_s: int,
            pid_namespace: str) -> tuple[dict, str]:
    """Isolate the calling (worker) process; returns (report, working directory).
    pid_namespace: what the zygote could do about the PID namespace (for the report)."""
    report: dict = {}
    os.environ.clear()  # unsetenv() too: the C-level environment is empty for anything spawned
    report["environment"] = "cleared"
    report["pid"] = pid_namespace
    if _namespaces(report):
        if not _own_root(pid_namespace, report):
            _private_tmp(report)
    else:
        report["tmp"] = "OFF: shared with the host (no mount namespace)"
        report["filesystem"] = "OFF: the host's (no mount namespace)"
    workdir = tempfile.mkdtemp(prefix="md-sandbox-", dir="/tmp")
    if os.geteuid() == 0:
        os.chown(workdir, NOBODY, NOBODY)
    os.chdir(workdir)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_lifetime_s, cpu_lifetime_s))
    set_rlimits(memory_mb, file_mb, max_files, report)
    _drop_privileges(NOBODY, NOBODY, report)
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))  # no fork, no thread, no exec'd shell
    _call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    die_with_parent()  # after the uid change, which clears it: dies with the process that forked it
    _seccomp(report)  # last: it denies mount, unshare, ... which the steps above needed
    return report, workdir
