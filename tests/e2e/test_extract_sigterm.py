"""A scheduler's SIGTERM in the middle of an extraction: what was received is kept, one line says
so, the job fails, and the rerun pays only for what was missing.

Before, SIGTERM killed md.extract where it stood: no line (the log just ended), and the answers
of the requests in flight, already paid for, were never committed, so the rerun paid them again.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter

from cli_run import _env
from openai_server import request_id

from md.teacher.cache import Cache

PROBLEMS = 15  # 30 requests (CoT and PoT, n=2 in one request each)
ARGS = ["data=synthetic", f"data.n_train={PROBLEMS}", "teacher=openai_compatible",
        "teacher.model=gpt-test", "teacher.n=2", "extract.progress=false", "teacher.concurrency=3"]


def extract(tmp_path, server) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "md.extract", *ARGS, f"teacher.base_url={server.url}",
           f"paths.artifacts={tmp_path / 'art'}", f"paths.runs={tmp_path / 'runs'}"]
    return subprocess.Popen(cmd, cwd=tmp_path, env=_env(tmp_path, {"OPENAI_API_KEY": "sk-test"}),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigterm_mid_extraction_keeps_what_arrived_and_the_rerun_pays_only_the_rest(
        tmp_path, fake_openai):
    server = fake_openai(latency=0.4)  # three requests always in flight when the signal comes
    proc = extract(tmp_path, server)
    deadline = time.monotonic() + 120
    while len(server.answered) < 4 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode not in (0, None), err[-2000:]
    assert "Traceback" not in err, err[-3000:]
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "SIGTERM" in lines[0], err[-2000:]
    assert "rerun" in lines[0], lines[0]
    received = len(server.answered)
    assert received < 2 * PROBLEMS, "the signal should land mid-run"
    (cache_file,) = (tmp_path / "art").rglob("teacher_cache.sqlite")
    with Cache(cache_file) as cache:
        kept = cache.db.execute("SELECT COUNT(DISTINCT prompt_key) FROM samples").fetchone()[0]
    assert kept == received, "every answer the server sent is in the cache"
    assert f"{kept} of {2 * PROBLEMS}" in lines[0], lines[0]

    rerun = extract(tmp_path, server)
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err[-2000:]
    sent = Counter(request_id(b) for b in server.requests)
    assert len(sent) == 2 * PROBLEMS and max(sent.values()) == 1  # nothing was paid twice
