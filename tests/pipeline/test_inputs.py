"""Artifacts are keyed by what their inputs contain, not only by their paths and settings.

Before, a data file edited in place (a gold answer fixed) was answered from the old extract,
execute and mix artifacts without a word. Here a real gsm8k-format folder and a replayed teacher
file go through `md.mix`; one gold answer is edited in place and the rerun makes new artifacts
and says which file changed; an unedited rerun reuses everything.
"""

from __future__ import annotations

import json

from cli_run import md_here

QUESTIONS = [("Tom has 3 apples and buys 2 more. How many apples does he have?", 5),
             ("A box holds 4 pens. How many pens are in 3 boxes?", 12),
             ("Ann had 10 dollars and spent 4. How many dollars are left?", 6),
             ("There are 7 cats and 2 leave. How many cats stay?", 5)]


def write_data(folder, golds):
    folder.mkdir(exist_ok=True)
    rows = [json.dumps({"question": q, "answer": f"steps\n#### {g}"})
            for (q, _), g in zip(QUESTIONS, golds, strict=True)]
    (folder / "train.jsonl").write_text("\n".join(rows) + "\n")
    (folder / "test.jsonl").write_text(rows[0] + "\n")


def write_thoughts(path):
    rows = []
    for i, (_, gold) in enumerate(QUESTIONS):
        for method, text in (("cot", f"So it is {gold}. The answer is {gold}."),
                             ("pot", f"ans = {gold}")):
            rows.append(json.dumps({"problem_id": f"gsm8k-train-{i}", "method": method,
                                    "sample_index": 0, "text": text, "model": "replay"}))
    path.write_text("\n".join(rows) + "\n")


def mix(tmp_path, data):
    out = md_here(tmp_path, "data=gsm8k", f"data.path={data}", "teacher=replay",
                  f"teacher.path={tmp_path / 'thoughts.jsonl'}", "teacher.n=1",
                  "extract.progress=false", "execute.workers=1", stage="mix")
    assert out.returncode == 0, out.stderr[-3000:]
    return out


def folders(tmp_path, stage):
    return {p.name for p in (tmp_path / "art" / stage).iterdir() if p.is_dir()}


def test_an_edited_gold_answer_remakes_execute_and_mix_and_says_why(tmp_path):
    data = tmp_path / "gsm8k"
    write_data(data, [g for _, g in QUESTIONS])
    write_thoughts(tmp_path / "thoughts.jsonl")
    mix(tmp_path, data)
    before = {stage: folders(tmp_path, stage) for stage in ("execute", "mix")}

    same = mix(tmp_path, data)  # unedited: everything reused, nothing said
    assert {stage: folders(tmp_path, stage) for stage in ("execute", "mix")} == before
    assert "changed since" not in same.stderr

    write_data(data, [5, 12, 6, 99])  # one gold edited in place: the teacher was right before
    edited = mix(tmp_path, data)
    for stage in ("execute", "mix"):
        assert len(folders(tmp_path, stage)) == 2, stage
        assert f"data.path/train.jsonl changed since {tmp_path / 'art' / stage}" in edited.stderr
        assert f"making the {stage} artifact again" in edited.stderr
    (new_judged,) = [p / "judged.jsonl" for p in (tmp_path / "art" / "execute").iterdir()
                     if p.name not in before["execute"]]
    last = [json.loads(line) for line in new_judged.read_text().splitlines()
            if '"gsm8k-train-3"' in line]
    assert last and not any(row["correct"] for row in last)  # judged against the new gold
