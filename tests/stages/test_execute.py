"""The execute stage: CoT answers parsed, PoT programs run in the real sandbox, garbage survived."""

from __future__ import annotations

import json

import pytest

from md import jsonl
from md.errors import MDError
from md.settings import SandboxSettings
from md.stages import execute
from md.types import JudgedThought, Problem, Thought

PROBLEMS = [
    Problem("a", "toy", "train", "What is 6 * 7?", 42.0),
    Problem("b", "toy", "train", "Which day had more?", "neither day"),
    Problem("c", "toy", "train", "Is 3 > 2?", True),
]


def thought(pid, method, i, text) -> Thought:
    return Thought(pid, method, i, text, "hand")


def write_raw(path, rows) -> None:
    """Write rows as raw JSON: garbage must reach the stage the way a broken file would."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def run(tmp_path, thoughts, **kw) -> list[JudgedThought]:
    src = tmp_path / "thoughts.jsonl"
    jsonl.write(src, thoughts)
    execute.run(src, tmp_path / "judged.jsonl", PROBLEMS, SandboxSettings(**kw), progress=False)
    return jsonl.read_all(tmp_path / "judged.jsonl", JudgedThought)


def test_cot_answers_are_parsed_strictly_and_compared(tmp_path):
    got = run(tmp_path, [
        thought("a", "cot", 0, "6 * 7 = 42. The answer is 42."),
        thought("a", "cot", 1, "6 * 7 = 41. The answer is 41."),
        thought("a", "cot", 2, "I think it is about forty-something, so 42 maybe"),
        thought("b", "cot", 0, "Both days had 5. The answer is neither day."),
        thought("c", "cot", 0, "3 is larger than 2. The answer is yes."),
    ])
    assert [(j.status, j.answer, j.correct) for j in got] == [
        ("ok", 42.0, True), ("ok", 41.0, False), ("no_answer", None, False),
        ("ok", "neither day", True), ("ok", True, True),
    ]
    assert got[2].error


def test_garbage_thoughts_become_error_records(tmp_path):
    src = tmp_path / "thoughts.jsonl"
    base = {"problem_id": "a", "sample_index": 0, "model": "m"}
    write_raw(src, [
        {**base, "method": "cot", "text": None},
        {**base, "method": "cot", "text": 12345},
        {**base, "method": "poem", "text": "The answer is 42."},
        {**base, "method": "cot", "text": "\x00\ufffd The answer is ((((((("},
        {**base, "method": "cot", "text": "The answer is " + "9" * 5000 + "."},
    ])
    stats = execute.run(src, tmp_path / "j.jsonl", PROBLEMS, progress=False)
    got = jsonl.read_all(tmp_path / "j.jsonl", JudgedThought)
    assert [j.status for j in got[:3]] == ["error", "error", "error"]
    assert "unknown method" in got[2].error and not any(j.correct for j in got)
    assert all(j.status in ("ok", "no_answer", "error") for j in got)
    assert stats["cot"]["thoughts"] == 4 and stats["poem"]["error"] == 1


def test_ids_not_in_the_dataset_are_one_clear_error(tmp_path):
    thoughts = [thought(pid, "cot", 0, "The answer is 1.") for pid in ("a", "x1", "x2", "x3", "x4")]
    with pytest.raises(MDError) as e:
        run(tmp_path, thoughts)
    msg = str(e.value)
    assert "thoughts.jsonl" in msg and "4 of 5 problem ids are not in the dataset" in msg
    assert "'x1'" in msg and "(and 1 more)" in msg
    assert not (tmp_path / "judged.jsonl").exists()


def test_progress_bar_is_shown(tmp_path, capsys):
    src = tmp_path / "thoughts.jsonl"
    jsonl.write(src, [thought("a", "cot", i, "The answer is 42.") for i in range(3)])
    execute.run(src, tmp_path / "j.jsonl", PROBLEMS, progress=True)
    err = capsys.readouterr().err
    assert "judge" in err and "3/3" in err


def test_pot_programs_run_in_the_sandbox(tmp_path):
    pytest.importorskip("md.sandbox", reason="md.sandbox not written yet")
    programs = [
        "a = 6\nb = 7\nans = a * b",  # right
        "ans = 6 * 7 - 1",  # wrong
        "ans = 1 / 0",  # raises
        "while True:\n    pass",  # never ends: killed at the timeout
        "x = 42",  # runs, but sets no answer
        "def f(:\n  return",  # syntax error
        "import os\nans = len(os.environ) * 0 + 42",  # whatever the sandbox allows, no crash
    ]
    thoughts = [thought("a", "pot", i, p) for i, p in enumerate(programs)]
    thoughts.append(thought("b", "pot", 0, "ans = 'Neither day'"))
    thoughts.append(thought("a", "cot", 0, "The answer is 42."))  # CoT mixed in, order kept
    got = run(tmp_path, thoughts, workers=2, timeout_s=1.0, memory_mb=256)
    assert [(j.problem_id, j.method, j.sample_index) for j in got] == [
        (t.problem_id, t.method, t.sample_index) for t in thoughts
    ]
    assert (got[0].status, got[0].answer, got[0].correct) == ("ok", 42.0, True)
    assert (got[1].status, got[1].correct) == ("ok", False)
    assert got[2].status == "error" and got[2].error
    assert got[3].status == "timeout"
    assert got[4].status == "no_answer"
    assert got[5].status == "error"
    assert got[6].status in ("ok", "error")
    assert (got[7].answer, got[7].correct) == ("neither day", True)
    assert got[8].correct
