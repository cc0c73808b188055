"""Adaptive teacher sampling (extract.adaptive): rounds, the shared stop rule, the cache.

The exact rule never changes a voted answer; an adaptive run followed by a full run asks the
server for exactly the samples still missing; a SIGKILL mid-round loses nothing and asks for
nothing twice; the budget cap holds across rounds; batch mode runs one job per round.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from openai_server import FakeOpenAI

from md import jsonl
from md.answers import majority_vote
from md.errors import MDError
from md.settings import AdaptiveSampling, ExtractSettings
from md.stages.execute import judge as judge_thoughts
from md.stages.extract import run
from md.teacher.adaptive import expected_saving_line, taken
from md.teacher.openai_client import build_openai_teacher
from md.types import JudgedThought, Problem, Thought

REPO = Path(__file__).resolve().parents[2]
PRICES = {"gpt-test": {"input": 1.0, "output": 2.0}}


def problems(k: int) -> list[Problem]:
    return [Problem(f"p{i}", "synthetic", "train", f"Ann has {i} pens and buys 3. How many?",
                    i + 3.0) for i in range(k)]


def judge_with(sandbox, probs):
    """md.execute's judge, as md.pipeline wires it (the fake server's PoT replies are prose,
    so every program fails in the sandbox and PoT never settles early: more rounds)."""
    by_id = {p.id: p for p in probs}
    return lambda thoughts: judge_thoughts(by_id, thoughts, sandbox, progress=False)


def sample(answer, right, i):
    return JudgedThought("q", "cot", i, f"path {i}", "ok" if answer is not None else "error",
                         answer, right, None)


def test_the_exact_rule_never_changes_a_voted_answer():
    rng = random.Random(0)
    rule = AdaptiveSampling(rule="unchangeable", round_size=3, patience=1)
    stopped_early = 0
    for _ in range(3000):
        n = rng.choice([5, 10, 20])
        weights = [rng.random() for _ in range(4)]
        answers = [None if rng.random() < 0.1 else float(rng.choices(range(4), weights)[0])
                   for _ in range(n)]
        samples = [sample(a, a == 0.0, i) for i, a in enumerate(answers)]
        k = taken(samples, rule, n)
        stopped_early += k < n
        ok_all = [a for a in answers if a is not None]
        ok_taken = [a for a in answers[:k] if a is not None]
        assert majority_vote(ok_taken) == majority_vote(ok_all), (answers, k)
    assert stopped_early > 600  # not vacuous: about a third of the sequences stop early


@pytest.fixture
def server(fake_openai):
    return fake_openai(agree=True)  # a confident teacher: every prompt settles in a few rounds


def teacher(server, **kw):
    opts = dict(model="gpt-test", n=12, base_url=server.url, concurrency=4, backoff_s=0.01,
                prices=PRICES, recover_in_flight=True)  # bodies then name their sample indices
    return build_openai_teacher(**{**opts, **kw})


def asked(server) -> Counter:
    """(prompt, sample index) of every sample the server was asked for."""
    out = Counter()
    for body in server.requests:
        prompt = json.dumps(body["messages"], sort_keys=True)
        indices = body["metadata"]["md_request"].split(":")[-1].split(",")
        out.update((prompt, int(i)) for i in indices)
    return out


def test_adaptive_then_full_asks_exactly_for_the_missing_samples(server, sandbox, tmp_path):
    probs, cache = problems(6), tmp_path / "cache.sqlite"
    rule = AdaptiveSampling(round_size=4, patience=4)
    a = run(probs, teacher(server), tmp_path / "a.jsonl", ExtractSettings(cache_path=cache, adaptive=rule, progress=False), judge=judge_with(sandbox, probs))
    first = asked(server)
    thoughts = jsonl.read_all(tmp_path / "a.jsonl", Thought)
    assert a.complete and len(thoughts) == sum(first.values()) < 6 * 2 * 12  # stopped early
    assert set(first.values()) == {1}
    server.requests.clear()
    run(probs, teacher(server), tmp_path / "b.jsonl", ExtractSettings(cache_path=cache, progress=False))
    second = asked(server)
    assert set(second.values()) == {1} and not set(first) & set(second)
    assert len(first) + len(second) == 6 * 2 * 12  # together: every sample exactly once
    assert len(jsonl.read_all(tmp_path / "b.jsonl", Thought)) == 6 * 2 * 12


def test_the_budget_cap_holds_across_rounds(server, sandbox, tmp_path):
    probs = problems(6)
    with pytest.raises(MDError, match="budget_usd"):
        run(probs, teacher(server, budget_usd=0.004, max_tokens=100), tmp_path / "t.jsonl", ExtractSettings(cache_path=tmp_path / "c.sqlite", adaptive=AdaptiveSampling(), progress=False), judge=judge_with(sandbox, probs))
    assert not (tmp_path / "t.jsonl").exists()


def test_dry_run_prints_the_expected_saving(server, tmp_path, capsys):
    rule = AdaptiveSampling()
    run(problems(3), teacher(server), tmp_path / "t.jsonl", ExtractSettings(dry_run=True, adaptive=rule, progress=False))
    out = capsys.readouterr().out
    assert "expected saving about" in out and "majority 95% / 80% / 60% of the time" in out
    assert not server.requests
    line = expected_saving_line(rule, 20)
    saved = [int(x) for x in line.split("about ")[1].split(" if")[0].replace("%", "").split(" / ")]
    assert saved == sorted(saved, reverse=True) and saved[0] > 20  # more agreement, more saved


DRIVER = """
import sys
from md.settings import ExtractSettings
from md.stages.execute import judge
from md.stages.extract import run
from md.sandbox import Sandbox
from md.settings import AdaptiveSampling
from md.teacher.openai_client import build_openai_teacher
from md.types import Problem
probs = [Problem(f"p{i}", "synthetic", "train", f"Ann has {i} pens and buys 3. How many?", i + 3.0)
         for i in range(120)]
t = build_openai_teacher(model="gpt-test", n=12, base_url=sys.argv[1], concurrency=4,
                         backoff_s=0.01, recover_in_flight=True,
                         prices={"gpt-test": {"input": 1, "output": 2}})
by_id = {p.id: p for p in probs}
with Sandbox(workers=1) as sb:
    rule = AdaptiveSampling(round_size=4, patience=4)
    run(probs, t, sys.argv[2], ExtractSettings(cache_path=sys.argv[3], progress=False, adaptive=rule),
        judge=lambda ts: judge(by_id, ts, sb, progress=False))
"""


def driver(server, out, cache) -> subprocess.Popen:
    env = dict(os.environ, OPENAI_API_KEY="sk-test", PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-c", DRIVER, server.url, str(out), str(cache)],
                            env=env, cwd=REPO)


def test_sigkill_mid_round_then_rerun_asks_for_nothing_twice(tmp_path):
    server = FakeOpenAI(latency=0.02)
    server.agree = True
    server.start()
    out, cache = tmp_path / "t.jsonl", tmp_path / "c.sqlite"
    try:
        proc = driver(server, out, cache)
        deadline = time.monotonic() + 90
        while len(server.answered) < 300 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed_at = len(server.requests)
        assert 300 <= killed_at and not out.exists(), "the kill should land mid-run"
        assert driver(server, out, cache).wait(180) == 0
    finally:
        server.stop()
    counts = asked(server)
    assert set(counts.values()) == {1}  # in-flight answers recovered, the rest never resent
    assert len(server.requests) > killed_at  # the rerun had work left
    thoughts = jsonl.read_all(out, Thought)
    assert len(thoughts) == len(counts) < 120 * 2 * 12


def test_batch_mode_runs_each_round_as_one_batch(monkeypatch, sandbox, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    server = FakeOpenAI(batch_polls=1)
    server.agree = True
    server.start()
    try:
        probs = problems(4)
        t = build_openai_teacher(model="gpt-test", n=12, base_url=server.url, mode="batch",
                                 prices=PRICES, backoff_s=0.01)
        s = run(probs, t, tmp_path / "t.jsonl", ExtractSettings(cache_path=tmp_path / "c.sqlite", batch_poll_s=0.02, adaptive=AdaptiveSampling(round_size=4, patience=4), progress=False), judge=judge_with(sandbox, probs))
    finally:
        server.stop()
    thoughts = jsonl.read_all(tmp_path / "t.jsonl", Thought)
    # CoT settles in round 1 (4 agreeing answers); PoT (prose, never runs) goes to n = 12
    assert Counter(t.method for t in thoughts) == {"cot": 4 * 4, "pot": 4 * 12}
    assert len(server.batches) == 3 and not server.requests  # 3 rounds, nothing online
    assert s.complete
