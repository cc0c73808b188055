"""Nothing is paid twice: two `md.extract` jobs started together on the same config and
artifacts folder, against the fault-injecting OpenAI server on 127.0.0.1, send each request once
between them (the second waits on the artifact's lock, then reuses the thoughts); and a damaged
teacher cache is named in one line, before any request, with what will be sent again."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

from cli_run import _env

ARGS = ["data=synthetic", "data.n_train=20", "teacher=openai_compatible", "teacher.model=gpt-test",
        "teacher.n=2", "extract.progress=false", "teacher.concurrency=4"]


def extract(tmp_path, server, *extra) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "md.extract", *ARGS, f"teacher.base_url={server.url}", *extra,
           f"paths.artifacts={tmp_path / 'art'}", f"paths.runs={tmp_path / 'runs'}"]
    return subprocess.Popen(cmd, cwd=tmp_path, env=_env(tmp_path, {"OPENAI_API_KEY": "sk-test"}),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def asked(server) -> Counter:
    return Counter(json.dumps(body["messages"], sort_keys=True) for body in server.requests)


def test_two_jobs_at_once_pay_each_request_once(tmp_path, fake_openai):
    server = fake_openai(latency=0.2)  # ~2 s of requests: the two jobs overlap
    jobs = [extract(tmp_path, server), extract(tmp_path, server)]
    outs = [job.communicate(timeout=300) for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0], [err[-2000:] for _, err in outs]
    sent = asked(server)
    assert len(sent) == 40 and set(sent.values()) == {1}  # 20 questions x (CoT, PoT), once each
    # the later job waited on the lock (or, on a loaded machine, started after the first had
    # finished and reused its thoughts): never both asking
    assert sum("waiting for another job" in err for _, err in outs) <= 1
    (thoughts,) = (tmp_path / "art" / "extract").glob("*/thoughts.jsonl")
    assert len(thoughts.read_text().splitlines()) == 80


def test_a_damaged_cache_is_named_before_any_request(tmp_path, fake_openai):
    server = fake_openai()
    first = extract(tmp_path, server)
    assert first.wait(timeout=300) == 0
    cache = tmp_path / "art" / "teacher_cache.sqlite"
    for size in (5000, 0):
        for stale in (tmp_path / "art" / "extract").glob("*/thoughts.jsonl"):
            stale.unlink()  # the thoughts must be made again
        before = len(server.requests)
        with cache.open("r+b") as f:
            f.truncate(size)
        rerun = extract(tmp_path, server)
        _, err = rerun.communicate(timeout=300)
        assert rerun.returncode == 0, err[-2000:]
        (line,) = [x for x in err.splitlines() if "teacher cache" in x and "damaged" in x]
        assert str(cache) in line and "40 requests" in line, line
        assert ("empty (0 bytes)" if size == 0 else "SQLite") in line
        assert "Traceback" not in err
        assert len(server.requests) - before == 40  # said, then sent again (nothing was cached)
        assert list(cache.parent.glob("teacher_cache.sqlite.damaged-*"))
