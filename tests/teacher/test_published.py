"""teacher=published on the real files: Codex PoT and PaLM CoT for SVAMP (../shared/data).

Imported through the teacher and judged by the project's own executor (the real sandbox) and
judge, the published outputs must give the published accuracies: Codex PoT 84.9% on its 999
problems (85.2% as its repository judged it, with a tolerance; see md.answers.canonical), PaLM
CoT 74.1% on the 800 training rationales of the distilling-step-by-step split (74.4%
recounted with a tolerance).
Files that do not align with the data are refused in one line naming the file.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from md import data, jsonl
from md.errors import MDError
from md.stages import execute, mix
from md.stages.extract import run as extract
from md.teacher.published import build_published_teacher, text_key
from md.types import JudgedThought

CODEX = "pot_codex_svamp/svamp_s0_e-1_11_24_14_38.jsonl"


@pytest.fixture(scope="module")
def svamp(shared_data: Path) -> list:
    folder = shared_data / "svamp"
    return data.load("svamp", "train", str(folder)) + data.load("svamp", "test", str(folder))


def teacher(shared_data: Path, outputs: Path | None = None):
    return build_published_teacher(str(outputs or shared_data / "teacher_outputs"), "svamp",
                                   str(shared_data / "svamp"))


@pytest.fixture(scope="module")
def judged_all(shared_data, svamp, tmp_path_factory) -> list[JudgedThought]:
    """Every published SVAMP sample, imported and judged in the sandbox."""
    tmp = tmp_path_factory.mktemp("published")
    summary = extract(svamp, teacher(shared_data), tmp / "thoughts.jsonl")
    assert summary.complete and summary.requests_sent == 0 and summary.spent_usd == 0
    execute.run(tmp / "thoughts.jsonl", tmp / "judged.jsonl", svamp, progress=False)
    return jsonl.read_all(tmp / "judged.jsonl", JudgedThought)


def test_imported_outputs_reproduce_the_published_accuracies(judged_all, shared_data, svamp):
    pot = [j for j in judged_all if j.method == "pot"]
    split = shared_data / "svamp" / "distilling_step_by_step_split" / "svamp_train.json"
    train_800 = {text_key(data.svamp.join(*json.loads(line)["input"].split("\n", 1)))
                 for line in split.read_text().splitlines()}
    ids_800 = {p.id for p in svamp if text_key(p.question) in train_800}
    cot_800 = [j for j in judged_all if j.method == "cot" and j.problem_id in ids_800]
    pot_acc = sum(j.correct for j in pot) / len(pot)
    cot_acc = sum(j.correct for j in cot_800) / len(cot_800)
    print(f"\npublished SVAMP judged here: Codex PoT {pot_acc:.1%} of {len(pot)}, "
          f"PaLM CoT {cot_acc:.1%} of {len(cot_800)} train rationales")
    assert len(pot) == 999 and len(ids_800) == len(cot_800) == 800
    # judged exactly (md.answers.is_correct): Codex 848/999 = 84.9% (its repository reports
    # 85.2%, judged with a tolerance that passed two near misses), PaLM 593/800 = 74.1% (74.4%
    # recounted in ../shared/data/README.md, with the same tolerance: 1,538,910 for 1,538,832
    # kids and 1,201,587 for 1,201,565 passed it)
    assert round(pot_acc * 999) in (847, 848)  # 848; one slack for a timeout under load
    assert round(cot_acc * 800) == 593


def test_sample_counts_follow_the_files(judged_all, svamp):
    """One sample per method where the files have one; chal-1000 has no Codex program."""
    counts = Counter((j.problem_id, j.method) for j in judged_all)
    assert set(counts.values()) == {1}
    assert ("chal-1000", "pot") not in counts and ("chal-1000", "cot") in counts
    assert sum(m == "cot" for _, m in counts) == 1000  # 800 train + 200 test rationales


def test_the_real_mix_types_every_question(judged_all, svamp, tmp_path):
    train = [p for p in svamp if p.split == "train"]
    path = tmp_path / "judged.jsonl"
    jsonl.write(path, [j for j in judged_all if j.problem_id in {p.id for p in train}])
    questions = mix.questions(path, train)
    types = Counter(q.qtype for q in questions)
    print(f"\nSVAMP train types: {dict(sorted(types.items()))}")
    assert len(questions) == 700 and all(types[t] > 0 for t in (1, 2, 3, 4))
    lonely = next(q for q in questions if q.problem.id == "chal-1000")
    assert lonely.vote_pot is None and lonely.qtype in (2, 4)  # no PoT sample: PoT cannot be right
    both = [q for q in questions if q.qtype == 3]
    assert all(q.lam == 0.5 for q in both)  # one right sample of each: λ = 1 / (1 + 1)


def copy_outputs(shared_data: Path, tmp_path: Path) -> Path:
    out = tmp_path / "outputs"
    shutil.copytree(shared_data / "teacher_outputs", out)
    for f in out.rglob("*"):
        f.chmod(0o755 if f.is_dir() else 0o644)
    return out


def test_a_cot_file_that_does_not_align_is_refused(shared_data, svamp, tmp_path):
    out = copy_outputs(shared_data, tmp_path)
    (out / "palm_cot_svamp" / "train_CoT_1.json").unlink()  # 500 rows against 800
    with pytest.raises(MDError, match=r"train_CoT_0.json hold 500 completions but .*800 rows"):
        teacher(shared_data, out).thoughts_for(svamp[:5])


def test_a_record_with_another_gold_answer_is_named_by_file_and_line(shared_data, svamp, tmp_path):
    out = copy_outputs(shared_data, tmp_path)
    codex = out / CODEX
    lines = codex.read_text().splitlines()
    record = json.loads(lines[1])
    record["answer"] = record["answer"] + 1
    lines[1] = json.dumps(record)
    codex.write_text("\n".join(lines) + "\n")
    with pytest.raises(MDError, match=r"svamp_s0_e-1_11_24_14_38.jsonl:2: .* not the gold answer"):
        teacher(shared_data, out).thoughts_for(svamp)


def test_outputs_of_another_dataset_are_refused(shared_data, tmp_path):
    gsm8k = data.load("gsm8k", "train", str(shared_data / "gsm8k"))[:50]
    out = copy_outputs(shared_data, tmp_path)
    wrong = build_published_teacher(str(out), "svamp", str(shared_data / "svamp"))
    with pytest.raises(MDError, match=r"only 0 of the 50 svamp problems found by question text"):
        wrong.thoughts_for(gsm8k)


def test_a_folder_without_the_files_is_one_line(tmp_path, shared_data):
    t = build_published_teacher(str(tmp_path), "svamp", str(shared_data / "svamp"))
    with pytest.raises(MDError, match=r"no pot_codex_svamp/\*.jsonl or palm_cot_svamp"):
        t.check_ready()
