"""Teacher outputs are checked against their problems before use, and a split is checked whole.

Before, published and replayed outputs were trusted by position or id: PaLM CoT rows shifted by
one (1.7% right instead of 73.9%), Codex programs moved onto other questions, a `generated`
string read as one-character programs, a duplicated record counted twice and a missing method
all passed. A split listing an index twice paid its prompts twice; one question with two golds
and a test split overlapping training passed without a word. Real files, edited copies.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from md import data, jsonl
from md.errors import MDError
from md.settings import ExtractSettings
from md.stages.extract import run as extract
from md.teacher.published import build_published_teacher
from md.teacher.replay import build_replay_teacher
from md.types import Problem, Thought

CODEX = "pot_codex_svamp/svamp_s0_e-1_11_24_14_38.jsonl"


@pytest.fixture(scope="module")
def svamp(shared_data: Path) -> list[Problem]:
    folder = str(shared_data / "svamp")
    return data.load("svamp", "train", folder) + data.load("svamp", "test", folder)


@pytest.fixture
def outputs(shared_data: Path, tmp_path: Path) -> Path:
    out = tmp_path / "outputs"
    for name in ("pot_codex_svamp", "palm_cot_svamp"):
        shutil.copytree(shared_data / "teacher_outputs" / name, out / name)
    for f in out.rglob("*"):
        f.chmod(0o755 if f.is_dir() else 0o644)
    return out


def thoughts(shared_data: Path, out: Path, problems: list[Problem]) -> list[Thought]:
    return build_published_teacher(str(out), "svamp", str(shared_data / "svamp")).thoughts_for(problems)


def edit_codex(out: Path, edit) -> None:
    lines = (out / CODEX).read_text().splitlines()
    records = [json.loads(line) for line in lines]
    edit(records)
    (out / CODEX).write_text("\n".join(json.dumps(r) for r in records) + "\n")


def test_the_published_files_as_they_are_line_up(shared_data, outputs, svamp):
    found = thoughts(shared_data, outputs, svamp)
    assert {t.method for t in found} == {"cot", "pot"} and len(found) == 999 + 1000


def test_cot_rows_shifted_by_one_are_refused_at_the_first_row(shared_data, outputs, svamp):
    part = outputs / "palm_cot_svamp" / "train_CoT_0.json"
    rows = json.loads(part.read_text())
    part.write_text(json.dumps(rows[1:] + rows[:1]))  # same count, every row on its neighbour
    with pytest.raises(MDError, match=r"train_CoT_0.json\[0\]: this COT output shares no number "
                                      r"with its own question .* the rows do not line up"):
        thoughts(shared_data, outputs, svamp)


def test_programs_moved_onto_other_questions_are_refused(shared_data, outputs, svamp):
    def swap(records):  # line 3 and 6: records 2 and 5 (line 1 is a demonstration header)
        records[2]["generated"], records[5]["generated"] = records[5]["generated"], records[2]["generated"]
    edit_codex(outputs, swap)
    with pytest.raises(MDError, match=r"jsonl:3: this POT output shares no number"):
        thoughts(shared_data, outputs, svamp)


def test_a_generated_string_instead_of_a_list_is_refused(shared_data, outputs, svamp):
    def flatten(records):
        records[1]["generated"] = records[1]["generated"][0]
    edit_codex(outputs, flatten)
    with pytest.raises(MDError, match=r'jsonl:2: .*"generated" is str .*not a list of program'):
        thoughts(shared_data, outputs, svamp)


def test_a_duplicated_record_is_refused(shared_data, outputs, svamp):
    edit_codex(outputs, lambda records: records.insert(4, records[3]))
    with pytest.raises(MDError, match=r"jsonl:5: a second record for the question of chal-3"):
        thoughts(shared_data, outputs, svamp)


def test_a_missing_method_is_refused(shared_data, outputs, svamp):
    shutil.rmtree(outputs / "palm_cot_svamp")
    with pytest.raises(MDError, match=r"no palm_cot_svamp/\*_CoT_\*.json \(the CoT outputs\)"):
        thoughts(shared_data, outputs, svamp)


PROBLEMS = [Problem(f"p{i}", "svamp", "train", f"Ann has {10 + 7 * i} pens and buys {3 + 2 * i}. "
                    "How many?", 13.0 + 9 * i) for i in range(4)]


def replay(tmp_path: Path, rows: list[Thought]):
    src = tmp_path / "src.jsonl"
    jsonl.write(src, rows)
    return extract(PROBLEMS, build_replay_teacher(str(src), n=1), tmp_path / "out.jsonl",
                   ExtractSettings(progress=False))


def solved(p: Problem, pid: str, method: str = "cot") -> Thought:
    a, b = [int(w.rstrip(".")) for w in p.question.split() if w.rstrip(".").isdigit()]
    return Thought(pid, method, 0, f"{a} + {b} = {a + b}. The answer is {a + b}.", "gpt-x")


def test_replayed_thoughts_are_checked_against_their_problems(tmp_path):
    good = [solved(p, p.id, m) for p in PROBLEMS for m in ("cot", "pot")]
    assert replay(tmp_path, good).thoughts == 8
    shifted = [solved(PROBLEMS[(i + 1) % 4], p.id, m) for i, p in enumerate(PROBLEMS)
               for m in ("cot", "pot")]
    with pytest.raises(MDError, match=r"src.jsonl record 1: the cot thought of problem p0 shares "
                                      r"no number with its question but fits problem p1"):
        replay(tmp_path, shifted)


def test_a_duplicated_replay_record_is_refused(tmp_path):
    rows = [solved(p, p.id, m) for p in PROBLEMS for m in ("cot", "pot")]
    with pytest.raises(MDError, match=r"record 3: a second cot thought #0 for problem p0 \(first: record 1\)"):
        replay(tmp_path, rows[:2] + rows[:1] + rows[2:])


def svamp_copy(shared_data: Path, tmp_path: Path, edit) -> str:
    folder = tmp_path / "svamp"
    shutil.copytree(shared_data / "svamp", folder)
    split = folder / "reasoning_teacher_split" / "svamp__default.json"
    split.chmod(0o644)
    lists = json.loads(split.read_text())
    edit(lists)
    split.write_text(json.dumps(lists))
    return str(folder)


def test_a_split_listing_an_index_twice_is_refused(shared_data, tmp_path):
    folder = svamp_copy(shared_data, tmp_path, lambda s: s["train"].extend([s["train"][4]] * 4))
    with pytest.raises(MDError, match=r"svamp__default.json: the train list names index \d+ twice"):
        data.load("svamp", "train", folder)


def test_a_test_split_overlapping_training_is_one_warning(shared_data, tmp_path, caplog):
    folder = svamp_copy(shared_data, tmp_path, lambda s: s["test"].extend(s["train"][:7]))
    with caplog.at_level(logging.WARNING, logger="md.data.checks"):
        assert len(data.load("svamp", "test", folder)) == 307
    (line,) = [r.getMessage() for r in caplog.records]
    assert "7 of the 307 test problems are also in the train split" in line


def test_one_question_with_two_golds_is_refused(shared_data, tmp_path):
    folder = tmp_path / "gsm8k"
    folder.mkdir()
    lines = (shared_data / "gsm8k" / "train.jsonl").read_text().splitlines()[:20]
    other = json.loads(lines[3])
    other["answer"] = other["answer"].rsplit("####", 1)[0] + "#### 12345"
    (folder / "train.jsonl").write_text("\n".join(lines + [json.dumps(other)]) + "\n")
    shutil.copy(shared_data / "gsm8k" / "test.jsonl", folder / "test.jsonl")
    with pytest.raises(MDError, match=r"gsm8k-train-3 and gsm8k-train-20 ask the same question "
                                      r"with different gold answers"):
        data.load("gsm8k", "train", str(folder))
