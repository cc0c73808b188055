"""The persistent teacher cache: SQLite in WAL mode, one row per sampled thought.

Rows are keyed by (prompt_key, sample_index), where prompt_key hashes model + messages +
sampling params (`md.teacher.base.prompt_key`). Every response is committed in its own
transaction the moment it arrives, so `kill -9` at any point loses at most the requests still in
flight, and a rerun asks the teacher only for what is missing. The same file also remembers
OpenAI Batch API jobs (input file id, batch id, which samples each line fills), so a batch
survives a restart between upload and download. One file is shared by all runs:

    cache = Cache("artifacts/teacher_cache.sqlite")
    cache.missing(key, n=20)   # -> sample indices not answered yet

A damaged file (emptied, truncated, not SQLite, failing SQLite's own quick_check) is never
trusted and never a traceback: it is checked before the first read, moved aside
(`<file>.damaged-<time>`, with its -wal/-shm), and the cache starts empty; `cache.damaged` says
what happened, so the extraction can say how many requests it will send again before it does.

A write that fails (a full disk, a file-size limit) loses only that one answer: every answer
committed before stays in the file (WAL), and the failure is raised as an OSError naming the
cache file and its cause, ENOSPC for a full disk or EFBIG for a file-size limit, which SQLite
itself reports only as "database or disk is full" or "disk I/O error".
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import resource
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from md.jsonl import clean

SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    prompt_key TEXT NOT NULL, sample_index INTEGER NOT NULL, model TEXT NOT NULL,
    text TEXT NOT NULL, usage TEXT NOT NULL, created REAL NOT NULL, served TEXT,
    PRIMARY KEY (prompt_key, sample_index));
CREATE TABLE IF NOT EXISTS in_flight (
    tag TEXT PRIMARY KEY, prompt_key TEXT NOT NULL, indices TEXT NOT NULL, sent REAL NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    input_file_id TEXT PRIMARY KEY, batch_id TEXT, lines TEXT NOT NULL,
    state TEXT NOT NULL, created REAL NOT NULL);
"""


SQLITE_HEADER = b"SQLite format 3\x00"


def integrity_problem(path: Path) -> str | None:
    """What is wrong with an existing cache file, or None when it is sound (or absent)."""
    if not path.exists():
        return None
    if not path.is_file():
        return "it is not a file"
    size = path.stat().st_size
    if size == 0:
        return "it is empty (0 bytes): emptied or cut off"
    with path.open("rb") as f:
        if f.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            return "it is not an SQLite database"
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            verdict = db.execute("PRAGMA quick_check").fetchone()[0]
            db.execute("SELECT count(*) FROM samples").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as e:
        return f"SQLite cannot read it ({e}; {size:,} bytes)"
    return None if verdict == "ok" else f"SQLite's integrity check failed ({verdict})"


def move_aside(path: Path) -> Path:
    """Rename a damaged cache (and its WAL files) out of the way; the new name."""
    target = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        if side.exists():
            side.rename(f"{target}{suffix}")
    return target


def damage_line(cache: Cache, requests: int, usd: float, budget: float | None) -> str | None:
    """The one line a run prints, before any request, when its cache was damaged."""
    if cache.damaged is None:
        return None
    cap = f"teacher.budget_usd=${budget:g} caps them" if budget is not None else \
        "set teacher.budget_usd to cap them"
    return (f"warning: the teacher cache {cache.path} was damaged ({cache.damaged}); it starts "
            f"empty, so {requests:,} requests (about ${usd:.2f}) will be sent, answers it held "
            f"included; {cap}")


def write_failure(path: str, error: sqlite3.Error) -> OSError | sqlite3.Error:
    """What a failed SQLite write really was: EFBIG when a cache file reached this process's
    file-size limit, ENOSPC when the disk has (almost) no room left, else the error itself."""
    if path == ":memory:":
        return error
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if limit != resource.RLIM_INFINITY:
        sizes = [Path(f"{path}{s}").stat().st_size for s in ("", "-wal", "-shm")
                 if Path(f"{path}{s}").exists()]
        if any(size + (64 << 10) >= limit for size in sizes):  # within a few pages of it
            return OSError(errno.EFBIG, os.strerror(errno.EFBIG), path)
    if shutil.disk_usage(Path(path).parent).free < (1 << 20) or \
            getattr(error, "sqlite_errorname", "") == "SQLITE_FULL":
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
    return error


def request_tag(key: str, indices: tuple[int, ...]) -> str:
    """Names one request: its prompt and the sample indices it fills (fits OpenAI metadata)."""
    return f"{key[:40]}:{','.join(map(str, indices))}"[:500]


class Cache:
    """Thoughts answered so far, and open Batch API jobs. `path=":memory:"` for a throwaway one."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self.damaged: str | None = None  # "<why>; moved to <where>" when the file was not sound
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            why = integrity_problem(Path(self.path))
            if why is not None:
                self.damaged = f"{why}; moved to {move_aside(Path(self.path))}"
        # isolation_level=None: we open transactions ourselves, one per response.
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:  # these write too: a disk already full fails here, before any request
            self.db.execute("PRAGMA journal_mode=WAL")  # readers never block the writer; crash-safe
            self.db.execute("PRAGMA synchronous=NORMAL")  # WAL+NORMAL: a commit survives kill -9
            self.db.execute("PRAGMA busy_timeout=30000")  # two runs sharing the file wait, not fail
            self.db.executescript(SCHEMA)
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(samples)")}
            if "served" not in columns:  # a cache written before md recorded what answered
                self.db.execute("ALTER TABLE samples ADD COLUMN served TEXT")
        except sqlite3.OperationalError as e:
            self.close()
            raise write_failure(self.path, e) from e

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):  # a full disk: the WAL keeps what was committed
            self.db.close()

    @contextlib.contextmanager
    def _writing(self):
        """One transaction; a failed write is raised as what it was (see write_failure)."""
        try:
            with self.db:  # BEGIN ... COMMIT
                yield
        except sqlite3.OperationalError as e:
            raise write_failure(self.path, e) from e

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def indices(self, key: str) -> set[int]:
        rows = self.db.execute("SELECT sample_index FROM samples WHERE prompt_key=?", (key,))
        return {r[0] for r in rows}

    def held(self, key: str, n: int) -> int:
        """How many of the sample indices 0..n-1 have an answer (without listing them)."""
        return self.db.execute("SELECT count(*) FROM samples WHERE prompt_key=? AND "
                               "sample_index < ?", (key, n)).fetchone()[0]

    def missing(self, key: str, n: int) -> list[int]:
        """Sample indices in 0..n-1 that have no answer yet."""
        have = self.indices(key)
        return [i for i in range(n) if i not in have]

    def put(self, key: str, model: str, indices: tuple[int, ...], texts: tuple[str, ...],
            usage: dict[str, int], served: dict[str, str] | None = None) -> None:
        """Store one response atomically. The request's usage goes on its first sample only,
        so summing usage over thoughts gives exactly what was paid. A response with fewer texts
        than indices (a server that ignores `n`) fills the first ones; the rest stay missing."""
        if len(texts) > len(indices):
            raise ValueError(f"{len(texts)} texts for {len(indices)} sample indices")
        texts = tuple(clean(t) if isinstance(t, str) else "" for t in texts)  # never fails on text
        now = time.time()
        rows = []
        for j, (index, text) in enumerate(zip(indices, texts, strict=False)):
            u = dict(usage, request_samples=len(texts)) if j == 0 else {}
            rows.append((key, index, model, text, json.dumps(u), now, json.dumps(served or {})))
        with self._writing():
            self.db.executemany(
                "INSERT OR IGNORE INTO samples VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            self.db.execute("DELETE FROM in_flight WHERE tag=?", (request_tag(key, indices),))

    # --- requests sent but not answered yet (for recovery after kill -9) ------------------
    def mark_sent(self, key: str, indices: tuple[int, ...]) -> str:
        """Record a request as sent (before sending it); returns its tag."""
        tag = request_tag(key, indices)
        with self._writing():
            self.db.execute("INSERT OR REPLACE INTO in_flight VALUES (?, ?, ?, ?)",
                            (tag, key, json.dumps(list(indices)), time.time()))
        return tag

    def in_flight(self) -> list[tuple[str, str, tuple[int, ...]]]:
        """(tag, prompt_key, indices) of requests sent by a run that died before the answer."""
        rows = self.db.execute("SELECT tag, prompt_key, indices FROM in_flight ORDER BY sent")
        return [(t, k, tuple(json.loads(i))) for t, k, i in rows]

    def get(self, key: str, index: int) -> tuple[str, dict[str, int], dict[str, str]] | None:
        """(text, usage, served) of one cached sample, or None."""
        row = self.db.execute(
            "SELECT text, usage, served FROM samples WHERE prompt_key=? AND sample_index=?",
            (key, index)).fetchone()
        return None if row is None else (row[0], json.loads(row[1]), json.loads(row[2] or "{}"))

    # --- Batch API jobs -------------------------------------------------------------------
    def add_batch_file(self, input_file_id: str, lines: dict[str, Any]) -> None:
        """Remember an uploaded batch input file before the batch is created."""
        with self.db:
            self.db.execute("INSERT INTO batches VALUES (?, NULL, ?, 'uploaded', ?)",
                            (input_file_id, json.dumps(lines), time.time()))

    def set_batch(self, input_file_id: str, batch_id: str | None, state: str) -> None:
        with self.db:
            self.db.execute("UPDATE batches SET batch_id=COALESCE(?, batch_id), state=? "
                            "WHERE input_file_id=?", (batch_id, state, input_file_id))

    def open_batches(self) -> list[tuple[str, str | None, dict[str, Any]]]:
        """(input_file_id, batch_id or None, lines) of batches not merged yet, oldest first."""
        rows = self.db.execute("SELECT input_file_id, batch_id, lines FROM batches "
                               "WHERE state NOT IN ('merged', 'dead') ORDER BY created")
        return [(f, b, json.loads(lines)) for f, b, lines in rows]
