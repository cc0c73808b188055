"""md.jsonl and md.types: round trips, atomic writes, and errors that name file and line."""

from __future__ import annotations

import json

import pytest

from md import jsonl
from md.errors import MDError
from md.types import MixedExample, Prediction, Problem, ReasoningPath, Solution, Step, Thought


def test_round_trip_of_nested_records(tmp_path):
    sol = Solution(values={"a": 3.0, "b": 4.0}, steps=(Step("add", ("a", "b"), "c"),), tags=("multi_step",))
    problems = [Problem("p1", "synthetic", "train", "3 + 4?", 7.0, solution=sol), Problem("p2", "x", "test", "?", True)]
    out = tmp_path / "sub" / "problems.jsonl"
    assert jsonl.write(out, problems) == 2
    assert jsonl.read_all(out, Problem) == problems

    pred = Prediction("p1", 7.0, paths=(ReasoningPath("pot", "ans = 7", "ok", 7.0),), votes={"cot+pot": 7.0})
    jsonl.write(out, [pred])
    assert jsonl.read_all(out, Prediction) == [pred]


def test_dicts_are_written_as_they_are(tmp_path):
    out = tmp_path / "rows.jsonl"
    jsonl.write(out, [{"a": 1}, {"b": "é"}])
    assert list(jsonl.read(out)) == [{"a": 1}, {"b": "é"}]


def test_malformed_line_names_file_and_line(tmp_path):
    out = tmp_path / "thoughts.jsonl"
    good = json.dumps({"problem_id": "p", "method": "cot", "sample_index": 0, "text": "t", "model": "m"})
    out.write_text(good + "\n\n" + good + "\n{not json\n")
    with pytest.raises(MDError, match=r"thoughts\.jsonl:4: malformed JSON"):
        list(jsonl.read(out, Thought))


def test_wrong_fields_name_file_and_line(tmp_path):
    out = tmp_path / "mixed.jsonl"
    out.write_text(json.dumps({"problem_id": "p", "colour": "red"}) + "\n")
    with pytest.raises(MDError, match=r"mixed\.jsonl:1: not a valid MixedExample record.*colour"):
        list(jsonl.read(out, MixedExample))


def test_failed_write_leaves_previous_file_intact(tmp_path):
    out = tmp_path / "a.jsonl"
    jsonl.write(out, [{"v": 1}])

    def explode():
        yield {"v": 2}
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        jsonl.write(out, explode())
    assert list(jsonl.read(out)) == [{"v": 1}]
    assert [p.name for p in tmp_path.iterdir()] == ["a.jsonl"]  # no temp file left behind


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(MDError, match="no such file"):
        list(jsonl.read(tmp_path / "nope.jsonl"))
