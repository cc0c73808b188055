"""Parent side of the process tree: start the zygote, ask it for workers, kill everything at the end."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from md.errors import MDError

F_SETPIPE_SZ, F_GETPIPE_SZ = 1031, 1032
PIPE_BYTES = 1 << 20  # ask for 1 MiB task pipes: more programs in flight without ever blocking
# The zygote's whole environment (and so what /proc/<worker>/environ can show): no API keys.
ZYGOTE_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1",
              "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
_BOOT = "import sys; sys.path.insert(0, {root!r}); from md.sandbox.worker import zygote_main; " \
        "zygote_main({fd}, {config!r})"


class WorkerHandle:
    """One worker as the parent sees it: pid, the two pipe ends, and what is in flight."""

    def __init__(self, pid: int, task_fd: int, result_fd: int, capacity: int) -> None:
        self.pid, self.task_fd, self.result_fd, self.capacity = pid, task_fd, result_fd, capacity
        self.buffer = b""
        self.inflight: list[tuple[int, int]] = []  # (program index, frame bytes), oldest first
        self.inflight_bytes = 0
        self.ready = False
        self.retiring = False
        self.head_started: float | None = None  # when the oldest in-flight program began
        self.spawned_at = time.monotonic()


class Zygote:
    """A preloaded `python -I` that forks workers; owns every process and fd of one Sandbox."""

    def __init__(self, config: dict) -> None:
        parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        root = str(Path(__file__).resolve().parents[2])
        boot = _BOOT.format(root=root, fd=child_sock.fileno(), config=json.dumps(config))
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", boot], env=ZYGOTE_ENV, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, pass_fds=[child_sock.fileno()], cwd="/",
        )
        child_sock.close()
        self.sock = parent_sock
        self.workers: dict[int, WorkerHandle] = {}
        self.closed = False

    def spawn(self) -> WorkerHandle:
        """Fork a new worker (it isolates itself and sends "ready" on its own)."""
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        try:
            fcntl.fcntl(task_w, F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:
            pass  # keep the default size; capacity below is whatever the pipe really has
        capacity = fcntl.fcntl(task_w, F_GETPIPE_SZ)
        try:
            socket.send_fds(self.sock, [b"spawn"], [task_r, result_w])
            pid = int(self._read_line())
        except (OSError, ValueError) as exc:
            for fd in (task_r, task_w, result_r, result_w):
                os.close(fd)
            raise MDError(f"the sandbox zygote died ({exc}); see the messages above") from exc
        os.close(task_r)
        os.close(result_w)
        os.set_blocking(result_r, False)
        worker = WorkerHandle(pid, task_w, result_r, capacity)
        self.workers[pid] = worker
        return worker

    def _read_line(self) -> bytes:
        line = b""
        while not line.endswith(b"\n"):
            chunk = self.sock.recv(1)
            if not chunk:
                raise OSError("control socket closed")
            line += chunk
        return line

    def discard(self, worker: WorkerHandle) -> None:
        """Kill a worker (if still alive) and close its pipes."""
        if self.workers.pop(worker.pid, None) is None:
            return
        try:
            os.kill(worker.pid, signal.SIGKILL)  # the zygote reaps it (SIGCHLD ignored there)
        except ProcessLookupError:
            pass
        for fd in (worker.task_fd, worker.result_fd):
            os.close(fd)

    def close(self) -> None:
        """Kill every worker and the zygote; safe to call twice and at interpreter exit."""
        if self.closed:
            return
        self.closed = True
        for worker in list(self.workers.values()):
            self.discard(worker)
        self.sock.close()  # EOF: the zygote exits by itself
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
