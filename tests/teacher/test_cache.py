"""The SQLite teacher cache: WAL mode, per-sample keys, usage on the first sample, in-flight tags."""

from __future__ import annotations

from md.teacher.base import prompt_key
from md.teacher.cache import Cache, request_tag


def test_cache_round_trip_and_reopen(tmp_path):
    path = tmp_path / "c.sqlite"
    msgs = ({"role": "user", "content": "hi"},)
    key = prompt_key("m", msgs, {"temperature": 0.7})
    assert key != prompt_key("m", msgs, {"temperature": 0.8}) != prompt_key("m2", msgs, {})
    with Cache(path) as c:
        assert c.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert c.missing(key, 3) == [0, 1, 2]
        tag = c.mark_sent(key, (0, 2))
        assert c.in_flight() == [(tag, key, (0, 2))] and tag == request_tag(key, (0, 2))
        c.put(key, "m", (0, 2), ("a", "b"), {"prompt_tokens": 5, "completion_tokens": 9},
              {"model": "m-2026-01-15"})
        c.put(key, "m", (0,), ("again",), {})  # a late duplicate never overwrites
        assert c.in_flight() == []
    with Cache(path) as c:  # what was committed survives reopening
        assert c.missing(key, 3) == [1]
        assert c.get(key, 0) == ("a", {"prompt_tokens": 5, "completion_tokens": 9,
                                       "request_samples": 2}, {"model": "m-2026-01-15"})
        assert c.get(key, 2) == ("b", {}, {"model": "m-2026-01-15"}) and c.get(key, 1) is None


def test_a_cache_written_before_served_was_recorded_still_opens(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE samples (prompt_key TEXT NOT NULL, sample_index INTEGER NOT NULL, "
               "model TEXT NOT NULL, text TEXT NOT NULL, usage TEXT NOT NULL, created REAL NOT "
               "NULL, PRIMARY KEY (prompt_key, sample_index))")
    db.execute("INSERT INTO samples VALUES ('k', 0, 'm', 'old text', '{}', 0)")
    db.commit()
    db.close()
    with Cache(path) as c:
        assert c.get("k", 0) == ("old text", {}, {})  # paid for before: still reused
