"""The OpenAI teacher against a real local HTTP server: parameters, retries, failures, budget."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from dataclasses import replace

import pytest
from openai_server import FakeOpenAI, reply_text

from md import jsonl
from md.errors import MDError
from md.settings import ExtractSettings
from md.stages.extract import run
from md.teacher.cache import Cache
from md.teacher.openai_client import build_openai_teacher
from md.teacher.retry import backoff, retryable
from md.types import Problem, Thought

PRICES = {"gpt-test": {"input": 1.0, "output": 2.0}}


def problems(k: int) -> list[Problem]:
    return [Problem(f"p{i}", "svamp", "train", f"Ann has {i} apples and buys 3. How many?", i + 3.0)
            for i in range(k)]


def teacher(server: FakeOpenAI, **kw):
    opts = dict(model="gpt-test", n=3, base_url=server.url, concurrency=4, max_retries=3,
                backoff_s=0.01, max_backoff_s=2.0, timeout_s=2.0, prices=PRICES, stop=["\n\nQ:"],
                temperature=0.7)
    opts.update(kw)
    return build_openai_teacher(**opts)


@pytest.fixture
def server(fake_openai):
    return fake_openai(key="sk-test-SECRET-1234")


def test_params_reach_server_and_thoughts_match(server, tmp_path):
    out = tmp_path / "thoughts.jsonl"
    s = run(problems(3), teacher(server, top_p=0.9), out, ExtractSettings(cache_path=tmp_path / "c.sqlite", progress=False))
    assert s.complete and s.thoughts == 3 * 2 * 3 and s.requests_sent == 6
    assert len(server.requests) == 6
    for body in server.requests:
        assert (body["n"], body["temperature"], body["top_p"], body["stop"]) == (3, 0.7, 0.9,
                                                                                ["\n\nQ:"])
        assert body["model"] == "gpt-test" and body["max_tokens"] == 512
    thoughts = jsonl.read_all(out, Thought)
    by_key = {(t.problem_id, t.method, t.sample_index): t for t in thoughts}
    for body in server.requests:
        user = body["messages"][-1]["content"]
        pid = next(p.id for p in problems(3) if p.question in user)
        method = "pot" if user.rstrip().endswith("code step by step.") else "cot"
        for i in range(3):
            assert by_key[(pid, method, i)].text == reply_text(body["messages"], i)
    assert sum(t.usage.get("completion_tokens", 0) for t in thoughts) > 0
    assert s.spent_usd > 0


def test_rerun_sends_nothing_and_raising_n_asks_only_new_samples(server, tmp_path, monkeypatch):
    cache = tmp_path / "c.sqlite"
    run(problems(2), teacher(server), tmp_path / "a.jsonl", ExtractSettings(cache_path=cache, progress=False))
    before = len(server.requests)
    s = run(problems(2), teacher(server), tmp_path / "b.jsonl", ExtractSettings(cache_path=cache, progress=False))
    assert len(server.requests) == before and s.requests_sent == 0 and s.thoughts == 12
    run(problems(2), replace(teacher(server), n=5), tmp_path / "c.jsonl", ExtractSettings(cache_path=cache, progress=False))
    assert [b["n"] for b in server.requests[before:]] == [2, 2, 2, 2]  # samples 3 and 4 only
    monkeypatch.delenv("OPENAI_API_KEY")  # everything cached: no key needed
    s = run(problems(2), replace(teacher(server), n=5), tmp_path / "d.jsonl", ExtractSettings(cache_path=cache))
    assert s.thoughts == 20 and s.requests_sent == 0


def test_injected_faults_are_retried(server, tmp_path):
    server.faults = ["429", "500", "timeout", "malformed", "bad_shape", "429"]
    server.timeout_sleep = 1.0
    t = teacher(server, timeout_s=0.3, concurrency=1, max_retries=8)
    s = run(problems(2), t, tmp_path / "t.jsonl", ExtractSettings(cache_path=tmp_path / "c.sqlite", progress=False))
    assert s.complete and s.thoughts == 12
    assert t.retries_done == 6 and len(server.answered) == 4


def test_retry_after_is_honoured(server, tmp_path):
    server.faults, server.retry_after = ["429"], "1"
    start = time.monotonic()
    run(problems(1), teacher(server, concurrency=1), tmp_path / "t.jsonl", ExtractSettings(cache_path=tmp_path / "c.sqlite", progress=False))
    assert time.monotonic() - start >= 1.0  # backoff_s=0.01 alone would wait ~10 ms


def test_faults_that_never_clear_stop_with_a_clear_error_and_keep_the_rest(server, tmp_path):
    cache_path = tmp_path / "c.sqlite"
    server.faults = [None] * 5  # five good answers, then the server breaks for good
    server.always = "500"
    with pytest.raises(MDError, match="failed 4 times.*HTTP 500.*5 of 10 requests answered"):
        run(problems(5), teacher(server, concurrency=1), tmp_path / "t.jsonl", ExtractSettings(cache_path=cache_path, progress=False))
    assert not (tmp_path / "t.jsonl").exists()
    cache = Cache(cache_path)
    rows = cache.db.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
    assert rows == 5 * 3  # every completed request is kept
    server.always = None
    s = run(problems(5), teacher(server), tmp_path / "t.jsonl", ExtractSettings(cache_path=cache_path, progress=False))
    assert s.requests_sent == 5 and s.thoughts == 30


def test_budget_smaller_than_estimate_stops_before_exceeding(server, tmp_path):
    t = teacher(server, max_tokens=64, concurrency=2)
    dry = run(problems(20), t, tmp_path / "t.jsonl", ExtractSettings(dry_run=True, progress=False))
    budget = dry.estimate.usd_max / 3
    s = run(problems(20), replace(t, budget_usd=budget), tmp_path / "t.jsonl", ExtractSettings(cache_path=tmp_path / "c.sqlite", progress=False), allow_partial=True)
    assert s.stopped == "budget" and not s.complete and 0 < s.requests_sent < 40
    assert s.spent_usd <= budget
    with pytest.raises(MDError, match="budget_usd.*reached.*raise the budget"):
        run(problems(20), replace(t, budget_usd=budget), tmp_path / "t.jsonl", ExtractSettings(cache_path=tmp_path / "fresh.sqlite", progress=False))


def test_dry_run_prints_requests_tokens_dollars(server, tmp_path, capsys):
    s = run(problems(4), teacher(server, n=20), tmp_path / "t.jsonl", ExtractSettings(dry_run=True))
    out = capsys.readouterr().out
    assert "8 requests for 160 samples" in out and "estimated cost: about $" in out
    assert "prompt +" in out and not server.requests and s.estimate.usd > 0


def test_no_key_no_cache_is_one_clear_error(server, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(MDError, match="teacher=gpt-test needs an API key: set OPENAI_API_KEY"):
        run(problems(1), teacher(server), tmp_path / "t.jsonl", ExtractSettings(cache_path=tmp_path / "c.sqlite"))


def test_key_never_logged(server, tmp_path, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    server.always = "500"
    with pytest.raises(MDError) as err:
        run(problems(1), teacher(server, max_retries=1), tmp_path / "t.jsonl", ExtractSettings(cache_path=tmp_path / "c.sqlite"))
    seen = capsys.readouterr()
    text = seen.out + seen.err + caplog.text + str(err.value) + repr(teacher(server))
    assert "SECRET" not in text
    assert b"SECRET" not in (tmp_path / "c.sqlite").read_bytes()


def test_backoff_grows_with_jitter_and_obeys_retry_after():
    import httpx2
    import openai

    def status(code, headers=None):
        req = httpx2.Request("POST", "http://x/v1/chat/completions")
        resp = httpx2.Response(code, headers=headers or {}, request=req)
        return openai.APIStatusError("x", response=resp, body=None)

    plain = [backoff(a, status(500), 1.0, 60.0) for a in (0, 5) for _ in range(200)]
    assert all(0 <= d <= 1.0 for d in plain[:200]) and max(plain[200:]) > 16  # 2**5 ceiling
    assert len(set(plain)) > 300  # jittered, not a fixed schedule
    asked = backoff(0, status(429, {"retry-after-ms": "2500"}), 1.0, 60.0)
    assert 2.5 <= asked <= 2.75
    assert backoff(0, status(429, {"retry-after": "90"}), 1.0, 60.0) >= 90  # beyond the cap
    assert retryable(status(429)) and retryable(status(503)) and not retryable(status(400))


# --- servers that are not OpenAI: no server-specific flag is needed --------------------------
def test_server_ignoring_n_keeps_every_choice_and_asks_only_for_the_rest(server, tmp_path, caplog):
    """transformers serve / llama.cpp answer one choice whatever n says: nothing is retried,
    nothing answered is thrown away, and each request brings exactly one new sample."""
    from md.teacher import openai_client

    openai_client.IGNORES_N.discard(server.url)
    server.max_choices = 1
    out = tmp_path / "t.jsonl"
    with caplog.at_level(logging.WARNING):
        s = run(problems(3), teacher(server, n=4, concurrency=2), out, ExtractSettings(cache_path=tmp_path / "c.sqlite", progress=False))
    thoughts = jsonl.read_all(out, Thought)
    assert s.complete and len(thoughts) == 3 * 2 * 4
    assert len(server.requests) == len(thoughts)  # one request per sample, none repeated
    per_prompt = Counter(json_key(b) for b in server.requests)
    assert len(per_prompt) == 6 and set(per_prompt.values()) == {4}  # n=4, one sample each
    later = server.requests[6:]  # once known, n is no longer sent
    assert later and all("n" not in b for b in later[2:])
    ignored = [r for r in caplog.records if "ignores n" in r.getMessage()]
    assert len(ignored) == 1
    # the same server in a later run of this process: n is not even tried
    before = len(server.requests)
    run(problems(1), teacher(server, n=2), tmp_path / "u.jsonl", ExtractSettings(progress=False))
    assert all("n" not in b for b in server.requests[before:])
    openai_client.IGNORES_N.discard(server.url)


def json_key(body: dict) -> str:
    import json

    return json.dumps(body["messages"], sort_keys=True)


def test_stop_string_inside_the_text_is_cut(server, tmp_path):
    server.echo_stop = True
    out = tmp_path / "t.jsonl"
    run(problems(2), teacher(server, n=2, stop=["\nQuestion:"]), out, ExtractSettings(progress=False))
    for t in jsonl.read_all(out, Thought):
        assert "Question:" not in t.text and "Made-up" not in t.text
        assert t.text.startswith("Reply ")


def test_missing_usage_is_estimated_and_marked(server, tmp_path):
    server.usage = False
    out = tmp_path / "t.jsonl"
    s = run(problems(2), teacher(server, n=2), out, ExtractSettings(progress=False))
    firsts = [t for t in jsonl.read_all(out, Thought) if t.usage]
    assert firsts and all(t.usage["estimated"] == 1 and t.usage["completion_tokens"] > 0
                          and t.usage["prompt_tokens"] > 0 for t in firsts)
    assert s.spent_usd > 0  # the budget still counts estimated tokens


def test_identical_samples_at_positive_temperature_warn_once(server, tmp_path, caplog):
    from md.teacher import openai_client

    server.max_choices = 1  # every request answers choice 0: the same text each time
    with caplog.at_level(logging.WARNING):
        run(problems(2), teacher(server, n=3, supports_n=False), tmp_path / "t.jsonl", ExtractSettings(progress=False))
    warned = [r.getMessage() for r in caplog.records if "repeat another sample" in r.getMessage()]
    assert len(warned) == 1 and "67%" in warned[0] and "temperature 0.7" in warned[0]  # 2 of 3
    caplog.clear()
    server.max_choices = None  # distinct samples: no warning
    with caplog.at_level(logging.WARNING):
        run(problems(2), teacher(server, n=3), tmp_path / "u.jsonl", ExtractSettings(progress=False))
    assert not [r for r in caplog.records if "repeat another sample" in r.getMessage()]
    openai_client.IGNORES_N.discard(server.url)


def test_no_http_info_line_per_request(server, tmp_path, caplog):
    with caplog.at_level(logging.INFO):
        run(problems(2), teacher(server, n=2), tmp_path / "t.jsonl", ExtractSettings(progress=False))
    assert not [r for r in caplog.records if "HTTP Request" in r.getMessage()]


# --- the teacher API as it is now: parameters a model refuses -------------------------------

def test_a_model_that_refuses_max_tokens_gets_max_completion_tokens(server, tmp_path, capsys):
    server.refuse = {"max_tokens"}
    t = teacher(server)
    s = run(problems(3), t, tmp_path / "t.jsonl", ExtractSettings(progress=False))
    assert s.complete and s.thoughts == 3 * 2 * 3
    warned = [ln for ln in capsys.readouterr().err.splitlines() if "max_completion_tokens" in ln]
    assert len(warned) == 1 and "gpt-test" in warned[0]
    answered = server.answered
    assert answered and all("max_completion_tokens" in b and "max_tokens" not in b for b in answered)
    assert len(server.requests) - len(answered) <= 4  # the 400s of requests already in flight


def test_a_model_that_refuses_temperature_samples_at_its_default(server, tmp_path, capsys):
    server.refuse = {"temperature"}
    s = run(problems(2), teacher(server, concurrency=1), tmp_path / "t.jsonl",
            ExtractSettings(progress=False))
    assert s.complete and len(server.requests) == len(server.answered) + 1  # one 400, learnt
    assert "does not take temperature" in capsys.readouterr().err
    assert all("temperature" not in b for b in server.answered)


def test_any_other_400_is_one_line_and_no_retry(server, tmp_path):
    server.reject_all = True
    with pytest.raises(MDError, match=r"answered HTTP 400: .*malformed"):
        run(problems(2), teacher(server, concurrency=1), tmp_path / "t.jsonl",
            ExtractSettings(progress=False))
    assert len(server.requests) == 1  # not retried


def test_a_thought_records_the_dated_model_and_fingerprint_that_answered(server, tmp_path):
    from openai_server import FINGERPRINT, dated

    out = tmp_path / "t.jsonl"
    run(problems(2), teacher(server), out, ExtractSettings(cache_path=tmp_path / "c.sqlite",
                                                          progress=False))
    thoughts = jsonl.read_all(out, Thought)
    assert {t.model for t in thoughts} == {"gpt-test"}  # what was asked for, an alias
    assert all(t.served == {"model": dated("gpt-test"), "system_fingerprint": FINGERPRINT}
               for t in thoughts)
    # a run trained on them records it (md.train writes this), and md.report names it
    from md.reporting.collect import teacher_of
    from md.tracking.provenance import served_by, write

    facts = json.loads(write(tmp_path / "run", teacher=served_by(out)).read_text())
    assert facts["teacher"] == {"asked": ["gpt-test"],
                                "served": {f"{dated('gpt-test')} ({FINGERPRINT})": 12}}
    assert facts["md"] and facts["python"] and "torch" in facts["libraries"]
    assert facts["device"]["kind"] in ("cpu", "cuda") and set(facts["git"] or {}) <= {"commit", "dirty"}
    assert teacher_of(tmp_path / "run" / "eval") == \
        f"gpt-test (answered by {dated('gpt-test')} ({FINGERPRINT}))"
