"""Text is made safe where it enters md: a teacher's answer, a JSONL file, a dataset question.

A lone surrogate ("\\ud800") is legal JSON but not encodable text: before, a teacher answer
holding one failed the cache commit, so every rerun paid the same requests and crashed again.
Questions that are empty, whitespace, NUL-holding or not text at all were sent to the teacher.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from cli_run import _env, md_here, one_error_line

from md import jsonl
from md.types import Thought

ARGS = ["data=synthetic", "data.n_train=6", "teacher=openai_compatible", "teacher.model=gpt-test",
        "teacher.n=2", "extract.progress=false", "teacher.concurrency=2"]


def extract(tmp_path, server) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "md.extract", *ARGS, f"teacher.base_url={server.url}",
           f"paths.artifacts={tmp_path / 'art'}", f"paths.runs={tmp_path / 'runs'}"]
    return subprocess.run(cmd, cwd=tmp_path, env=_env(tmp_path, {"OPENAI_API_KEY": "sk-test"}),
                          capture_output=True, text=True, timeout=300)


def test_a_paid_answer_with_a_lone_surrogate_is_kept_and_never_paid_again(tmp_path, fake_openai):
    server = fake_openai()
    server.always = "surrogate"
    first = extract(tmp_path, server)
    assert first.returncode == 0, first.stderr[-2000:]
    (thoughts,) = (tmp_path / "art" / "extract").glob("*/thoughts.jsonl")
    texts = [t.text for t in jsonl.read(thoughts, Thought)]
    assert len(texts) == 24 and all(t.endswith("\ufffd") for t in texts)
    sent = len(server.requests)
    (thoughts.parent / "thoughts.jsonl").unlink()  # the artifact gone: only the cache can answer
    again = extract(tmp_path, server)
    assert again.returncode == 0, again.stderr[-2000:]
    assert len(server.requests) == sent  # every answer came from the cache


def test_a_jsonl_line_with_a_lone_surrogate_reads_as_text(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"problem_id": "p", "method": "cot", "sample_index": 0,
                               "text": "The answer is 4.\ud800", "model": "t"}) + "\n")
    (thought,) = jsonl.read(src, Thought)
    assert thought.text == "The answer is 4.\ufffd"
    assert jsonl.write(tmp_path / "out.jsonl", [thought]) == 1  # encodable: nothing fails later


@pytest.mark.parametrize(("question", "why"), [
    ("", "is empty or only whitespace"), ("  \t ", "is empty or only whitespace"),
    ("How many\u0000apples?", "holds a NUL character"), (42, "is int 42, not text"),
])
def test_a_question_that_is_not_text_is_one_line_naming_the_record(tmp_path, question, why):
    folder = tmp_path / "gsm8k"
    folder.mkdir()
    good = {"question": "Tom has 3 apples and buys 2. How many?", "answer": "3+2=5\n#### 5"}
    bad = {"question": question, "answer": "#### 7"}
    (folder / "train.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    (folder / "test.jsonl").write_text(json.dumps(good) + "\n")
    line = one_error_line(md_here(tmp_path, "data=gsm8k", f"data.path={folder}", "teacher=openai",
                                  "extract.dry_run=true", stage="extract"))
    assert f"{folder / 'train.jsonl'}:2" in line and why in line, line
