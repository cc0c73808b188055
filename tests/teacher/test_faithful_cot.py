"""teacher=faithful_cot on the real files: the six-model panel of Faithful-CoT (../shared/data).

The source's own files are read as they are: one CoT and one program per model for every SVAMP
and ASDiv question (StrategyQA: CoT only), matched to the project's problems (SVAMP by position
in SVAMP.json, the others by question text) with every matched row's gold answer checked. Each
thought names its model; `teacher.models` picks a subset; the bill and provenance name the panel.
Files that do not align are refused in one line naming the file (and row).
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from cli_run import md_here

from md import data
from md.config.targets import flatten
from md.errors import MDError
from md.report import main as report_main
from md.teacher.faithful_cot import MODELS, build_faithful_cot_teacher
from md.tracking.provenance import served_by

PANEL = list(MODELS.values())


def panel(shared_data: Path, dataset: str, models=PANEL, path: Path | None = None):
    return build_faithful_cot_teacher(str(path or shared_data / "teacher_outputs" / "faithful_cot"),
                                      dataset, models, str(shared_data / dataset))


def train(shared_data: Path, dataset: str) -> list:
    return data.load(dataset, "train", str(shared_data / dataset))


def test_svamp_every_training_question_has_one_cot_and_one_program_per_model(shared_data):
    problems = train(shared_data, "svamp")
    thoughts = panel(shared_data, "svamp").thoughts_for(problems)
    per = Counter((t.problem_id, t.method) for t in thoughts)
    assert len(problems) == 700 and len(per) == 1400 and set(per.values()) == {6}
    first = [t for t in thoughts if t.problem_id == problems[0].id]
    assert [(t.method, t.sample_index, t.model) for t in first] == \
        [("cot", i, m) for i, m in enumerate(PANEL)] + [("pot", i, m) for i, m in enumerate(PANEL)]
    assert not first[0].text.endswith("\n") and "The answer is" in first[0].text
    # the source numbers SVAMP by SVAMP.json's order: chal-1 is its id 0 (76 - 25 = 51 dollars)
    chal1 = next(t for t in thoughts if t.problem_id == "chal-1" and t.method == "pot")
    assert "76" in chal1.text and "answer =" in chal1.text


def test_a_subset_of_the_panel_is_one_sample_per_chosen_model(shared_data):
    problems = train(shared_data, "svamp")[:20]
    thoughts = panel(shared_data, "svamp", ["gpt-3.5-turbo", "gpt4"]).thoughts_for(problems)
    assert Counter(t.model for t in thoughts) == {"gpt-3.5-turbo": 40, "gpt-4": 40}
    assert {t.sample_index for t in thoughts if t.model == "gpt-4"} == {1}
    assert panel(shared_data, "svamp", ["gpt-3.5-turbo"]).model == "gpt-3.5-turbo"


def test_asdiv_is_matched_by_question_text_and_strategyqa_has_cot_only(shared_data):
    asdiv = train(shared_data, "asdiv")
    thoughts = panel(shared_data, "asdiv").thoughts_for(asdiv)
    found = {t.problem_id for t in thoughts}
    # the source holds 2,097 of ASDiv's 2,305 questions: 1,394 of the 1,520 training questions
    assert (len(asdiv), len(found)) == (1520, 1394)
    assert Counter(t.method for t in thoughts) == {"cot": 6 * 1394, "pot": 6 * 1394}
    sqa = train(shared_data, "strategyqa")
    thoughts = panel(shared_data, "strategyqa", ["gpt4"]).thoughts_for(sqa)
    assert {t.method for t in thoughts} == {"cot"}
    # one question is asked twice in StrategyQA: two problems, one source record each
    assert len(thoughts) == len({t.problem_id for t in thoughts}) == len(sqa) == 2061


def copy_svamp(shared_data: Path, tmp_path: Path) -> Path:
    out = tmp_path / "faithful_cot"
    shutil.copytree(shared_data / "teacher_outputs" / "faithful_cot" / "SVAMP", out / "SVAMP")
    for f in out.rglob("*"):
        f.chmod(0o755 if f.is_dir() else 0o644)
    return out


def test_a_row_with_another_gold_answer_is_refused_by_file_and_line(shared_data, tmp_path):
    out = copy_svamp(shared_data, tmp_path)
    questions = out / "SVAMP" / "test.jsonl"
    lines = questions.read_text().splitlines()
    lines[3] = json.dumps({**json.loads(lines[3]), "answer": "#### 12345"})
    questions.write_text("\n".join(lines) + "\n")
    problems = data.load("svamp", "test", str(shared_data / "svamp")) + train(shared_data, "svamp")
    with pytest.raises(MDError, match=r"SVAMP/test.jsonl:4: the source's answer '#### 12345' is "
                                      r"not the gold answer .* of chal-4"):
        panel(shared_data, "svamp", path=out).thoughts_for(problems)


def test_a_cut_predictions_file_and_another_dataset_are_refused(shared_data, tmp_path):
    out = copy_svamp(shared_data, tmp_path)
    cut = out / "SVAMP" / "gpt4_noNL" / "predictions.jsonl"
    cut.write_text("\n".join(cut.read_text().splitlines()[:500]) + "\n")
    problems = train(shared_data, "svamp")
    with pytest.raises(MDError, match=r"gpt4_noNL/predictions.jsonl: no record for \d+ of the"):
        panel(shared_data, "svamp", path=out).thoughts_for(problems)
    gsm8k = data.load("gsm8k", "train", str(shared_data / "gsm8k"))[:50]
    wrong = build_faithful_cot_teacher(str(out), "asdiv", PANEL, None)
    with pytest.raises(MDError, match=r"no ASDiv/test.jsonl there"):
        wrong.thoughts_for(gsm8k)
    asdiv = panel(shared_data, "asdiv")
    with pytest.raises(MDError, match=r"ASDiv/test.jsonl: only 0 of the 50 asdiv problems"):
        asdiv.thoughts_for(gsm8k)


@pytest.mark.parametrize(("models", "needle"), [
    (["gpt-5"], "teacher.models: unknown model 'gpt-5'; choose from code-davinci-001"),
    (["gpt4", "gpt-4"], "teacher.models: gpt-4 is listed twice"),
    ([], "teacher.models is empty"),
])
def test_a_bad_model_list_is_one_line(shared_data, models, needle):
    with pytest.raises(MDError, match=needle):
        panel(shared_data, "svamp", models)


def test_the_bill_provenance_and_logged_config_name_the_models(shared_data, tmp_path, composed):
    out = md_here(tmp_path, "data=svamp", f"data.path={shared_data / 'svamp'}",
                  "teacher=faithful_cot", "data.max_train=30", "mix=cot",
                  f"teacher.path={shared_data / 'teacher_outputs' / 'faithful_cot'}", stage="mix")
    assert out.returncode == 0, out.stderr[-3000:]
    [spend] = (tmp_path / "art" / "extract").glob("*/spend.json")
    assert json.loads(spend.read_text())["model"] == ", ".join(PANEL)
    assert served_by(spend.with_name("thoughts.jsonl"))["asked"] == sorted(PANEL)
    cfg = composed("train", "data=svamp", "teacher=faithful_cot", "teacher.models=[gpt4]")
    assert flatten(cfg)["teacher.models"] == ["gpt4"]


def mix_stats(tmp_path: Path, shared_data: Path, dataset: str, *overrides: str) -> dict:
    out = md_here(tmp_path, f"data={dataset}", f"data.path={shared_data / dataset}",
                  "teacher=faithful_cot", *overrides,
                  f"teacher.path={shared_data / 'teacher_outputs' / 'faithful_cot'}", stage="mix")
    assert out.returncode == 0, out.stderr[-3000:]
    folder = out.stdout.split("mixed training set: ")[-1].strip()
    return json.loads((Path(folder).parent / "stats.json").read_text())


def types_and_lambda(stats: dict) -> tuple:
    return (tuple(stats["types"][t]["count"] for t in "1234"),
            stats["lambda"]["type_3_half"], stats["lambda"]["type_3_not_half"])


@pytest.mark.slow  # a minute on 2 cores: every real file of the panel, judged
def test_fig1_on_real_data_the_panel_and_one_model(shared_data, tmp_path):
    """The issue's acceptance, measured: the panel's types (strict CoT extraction, programs in
    their environment) and λ ≠ 0.5 for about half the type-3 questions; gpt-3.5-turbo alone, one
    sample per method, λ = 0.5 for every one. md.report shows both, per dataset and teacher."""
    svamp = mix_stats(tmp_path, shared_data, "svamp")
    assert svamp["teacher"] == ", ".join(sorted(PANEL))
    assert types_and_lambda(svamp) == ((58, 32, 560, 50), 257, 303)
    alone = mix_stats(tmp_path, shared_data, "svamp", "teacher.models=[gpt-3.5-turbo]")
    assert alone["teacher"] == "gpt-3.5-turbo"
    assert types_and_lambda(alone) == ((34, 74, 508, 84), 508, 0)
    asdiv = mix_stats(tmp_path, shared_data, "asdiv")
    assert types_and_lambda(asdiv) == ((88, 90, 1122, 94), 587, 535)
    report = tmp_path / "report.md"
    report_main([str(tmp_path / "art" / "mix"), "--out", str(report)])
    text = report.read_text()
    assert "| svamp | gpt-3.5-turbo | 700 | 4.9 | 10.6 | 72.6 | 12.0 | 0 | 0.500 |" in text
    assert f"| svamp | {', '.join(sorted(PANEL))} | 700 | 8.3 | 4.6 | 80.0 | 7.1 | 303 |" in text
    assert "## λ of the type-3 questions" in text and "| asdiv |" in text
