"""kill -9 in the middle of a 500-request extraction, then rerun: nothing lost, nothing repaid.

Without recovery, a request in flight at the moment of the kill has no answer anywhere but the
dead process, so the rerun sends it again (at most one per worker); every request answered
before the kill is never sent again. With teacher.recover_in_flight the rerun fetches those
answers from the server's stored completions instead, so the server sees every request exactly
once. Either way the output holds exactly the expected 1,000 thoughts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from openai_server import FakeOpenAI, reply_text, request_id

from md import jsonl
from md.teacher.cache import Cache
from md.types import Thought

REPO = Path(__file__).resolve().parents[2]
CONCURRENCY = 8
DRIVER = """
import sys
from md.settings import ExtractSettings
from md.data.synthetic import load
from md.stages.extract import run
from md.teacher.openai_client import build_openai_teacher
problems = load("train", n_train=250)
t = build_openai_teacher(model="gpt-test", n=2, base_url=sys.argv[1], concurrency={c},
                         backoff_s=0.01, recover_in_flight={recover}, prices={{"gpt-test": {{"input": 1, "output": 2}}}})
run(problems, t, sys.argv[2], ExtractSettings(cache_path=sys.argv[3], progress=False))
"""


def extract(server: FakeOpenAI, out: Path, cache: Path, recover: bool) -> subprocess.Popen:
    env = dict(os.environ, OPENAI_API_KEY="sk-test", PYTHONPATH=str(REPO))
    code = DRIVER.format(c=CONCURRENCY, recover=recover)
    return subprocess.Popen([sys.executable, "-c", code, server.url, str(out), str(cache)],
                            env=env, cwd=REPO)


@pytest.mark.parametrize("recover", [False, True], ids=["resend", "recover"])
def test_sigkill_mid_run_then_rerun(tmp_path, recover):
    server = FakeOpenAI(latency=0.02).start()
    out, cache_path = tmp_path / "thoughts.jsonl", tmp_path / "cache.sqlite"
    try:
        proc = extract(server, out, cache_path, recover)
        deadline = time.monotonic() + 60
        while len(server.answered) < 150 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        first = [request_id(b) for b in server.requests]
        assert 150 <= len(first) < 500, "the kill should land mid-run"
        assert not out.exists()
        with Cache(cache_path) as _c:
            committed = _c.db.execute("SELECT COUNT(DISTINCT prompt_key) FROM samples").fetchone()[0]
        assert committed >= 140

        rerun = extract(server, out, cache_path, recover)
        assert rerun.wait(120) == 0
    finally:
        server.stop()

    seen = Counter(request_id(b) for b in server.requests)
    assert len(seen) == 500  # every request reached the server
    again = [r for r, k in seen.items() if k > 1]
    if recover:  # the in-flight answers came from stored completions: exactly once
        assert not again and len(server.requests) == 500 and server.counts["list_stored"] > 0
    else:  # only requests in flight at the kill (uncommitted) are sent twice
        assert len(again) <= CONCURRENCY  # at most one per worker
        assert len(server.requests) == 500 + len(again)
        assert len(first) - committed == len(again)
    thoughts = jsonl.read_all(out, Thought)
    assert len(thoughts) == 1000
    assert len({(t.problem_id, t.method, t.sample_index) for t in thoughts}) == 1000
    expected = {reply_text(b["messages"], i) for b in server.requests for i in range(2)}
    assert {t.text for t in thoughts} == expected
