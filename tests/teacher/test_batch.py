"""Batch API mode against the local server: completes, resumes after a restart (whichever of
several batch files was open), never creates a batch twice, and finds its batch on any page."""

from __future__ import annotations

import pytest
from openai_server import reply_text

from md import jsonl
from md.errors import MDError
from md.settings import ExtractSettings
from md.stages.extract import run
from md.teacher.openai_client import build_openai_teacher
from md.types import Thought
from tests.teacher.test_openai_client import PRICES, problems


@pytest.fixture
def server(fake_openai):
    return fake_openai(batch_polls=2)


def batch_teacher(server):
    return build_openai_teacher(model="gpt-test", n=3, base_url=server.url, mode="batch",
                                prices=PRICES, max_retries=2, backoff_s=0.01)


def extract(server, tmp_path, **knobs):
    settings = ExtractSettings(cache_path=tmp_path / "c.sqlite", batch_poll_s=0.02, progress=False,
                               **knobs)
    return run(problems(4), batch_teacher(server), tmp_path / "t.jsonl", settings)


def check_output(server, tmp_path):
    thoughts = jsonl.read_all(tmp_path / "t.jsonl", Thought)
    assert len(thoughts) == 4 * 2 * 3
    expected = {reply_text(b["messages"], i) for b in server.answered for i in range(3)}
    assert {t.text for t in thoughts} == expected


def test_batch_mode_completes(server, tmp_path):
    s = extract(server, tmp_path)
    assert s.complete and s.requests_sent == 8
    assert server.counts["upload"] == 1 and len(server.batches) == 1
    assert not server.requests  # nothing went through the online endpoint
    full = s.prompt_tokens * 1.0 + s.completion_tokens * 2.0
    assert s.spent_usd == pytest.approx(full / 1e6 * 0.5)  # Batch API half price
    check_output(server, tmp_path)
    again = extract(server, tmp_path)  # cached: no new upload
    assert again.requests_sent == 0 and server.counts["upload"] == 1


def test_restart_between_create_and_download(server, tmp_path):
    server.hold_batches = True
    with pytest.raises(MDError, match="Batch API job is still running.*rerun later"):
        extract(server, tmp_path, batch_wait_s=0.1)
    assert not (tmp_path / "t.jsonl").exists() and len(server.batches) == 1
    server.hold_batches = False
    s = extract(server, tmp_path)
    assert s.complete and server.counts["upload"] == 1 and len(server.batches) == 1
    check_output(server, tmp_path)


def test_restart_between_upload_and_create(server, tmp_path):
    server.fail_batch_create = True
    with pytest.raises(MDError, match="HTTP 500"):
        extract(server, tmp_path)
    assert server.counts["upload"] == 1 and not server.batches
    server.fail_batch_create = False
    s = extract(server, tmp_path)
    assert s.complete and server.counts["upload"] == 1 and len(server.batches) == 1
    check_output(server, tmp_path)


def test_a_lost_create_answer_is_found_on_a_later_page_not_created_twice(server, tmp_path):
    server.lose_batch_create = 1  # the batch is made; its answer never arrives
    server.foreign_batches = 150  # meanwhile other jobs' batches push ours to page 2
    s = extract(server, tmp_path)
    ours = [b for b in server.batches.values() if not b["input_file_id"].startswith("file-other")]
    assert s.complete and len(ours) == 1 and server.counts["batch_create"] == 1
    assert server.counts["batch_list"] == 2  # page 1: 100 others; page 2: ours
    check_output(server, tmp_path)


def test_several_batch_files_each_resume_after_a_restart(server, tmp_path, monkeypatch):
    monkeypatch.setattr("md.teacher.batch.MAX_LINES", 3)  # 8 requests: files of 3, 3 and 2
    server.hold_batches = True
    with pytest.raises(MDError, match="still running"):
        extract(server, tmp_path, batch_wait_s=0.1)
    assert server.counts["upload"] == 3 and len(server.batches) == 3
    server.hold_batches = False
    s = extract(server, tmp_path)
    assert s.complete and server.counts["upload"] == 3 and len(server.batches) == 3
    check_output(server, tmp_path)
