"""md.report on real run folders: side-by-side rows, OOD / ensemble labels, plots, clear errors.

The fast tests build run folders the way the stages do (a composed config in `.hydra/`, then
md.stages.evaluate.run with the real sandbox) from students whose answers are scripted, so every
cell's expected value is known. The slow test trains and evaluates the two runs of a real
`-m` sweep over loss.lambda and reports them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from md import report
from md.settings import CurveSettings, InferenceSettings
from md.stages.evaluate import Students
from md.stages.evaluate import run as evaluate
from md.types import Problem

REPO = Path(__file__).resolve().parent.parent
PROBLEMS = [Problem(f"q{i}", "synthetic", "test", f"Tom has {i} apples and buys 2 more. How many?",
                    float(i + 2)) for i in range(4)]

TWO_PATHS = InferenceSettings(paths=2, curves=CurveSettings(draws=2))


class Scripted:
    """A student whose CoT / PoT completions are right or wrong on demand."""

    def __init__(self, cot_right: bool, pot_right: bool):
        self.right = {"cot": cot_right, "pot": pot_right}

    def _text(self, prompt: str) -> str:
        method = "pot" if "Let's break down the code" in prompt else "cot"
        answer = int(re.search(r"Tom has (\d+)", prompt).group(1)) + 2 if self.right[method] else 0
        return f"ans = {answer}" if method == "pot" else f"So the total is {answer}. The answer is {answer}."

    def sample(self, prompts, n, temperature):
        return [[self._text(p)] * n for p in prompts]

    def greedy(self, prompts):
        return [self._text(p) for p in prompts]


def save_config(folder: Path, stage: str, overrides: list[str]) -> None:
    """What Hydra leaves in a run folder: the composed (unresolved) config in .hydra/."""
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose(stage, overrides=overrides)
    (folder / ".hydra").mkdir(parents=True)
    OmegaConf.save(cfg, folder / ".hydra" / "config.yaml")


def trained_run(folder: Path, sandbox, overrides: list[str], cot_right: bool, pot_right: bool):
    """A training run folder (config + student/ + eval/) as md.train then md.evaluate leave it."""
    save_config(folder, "train", ["experiment=smoke", *overrides])
    (folder / "student").mkdir()
    evaluate(PROBLEMS, Students.one(Scripted(cot_right, pot_right)), sandbox,
             InferenceSettings(paths=3, curves=CurveSettings(draws=3)), folder / "eval")
    return folder


def rows(markdown: str) -> dict[str, list[str]]:
    table = markdown.split("## Accuracy (%)")[1].split("\n\n")[1].splitlines()
    return {r.split(" | ")[0].strip("| "): [c.strip(" |") for c in r.split(" | ")[1:]]
            for r in table[2:]}


def test_two_lambda_runs_side_by_side_with_plots(tmp_path, sandbox):
    sweep = tmp_path / "runs" / "smoke" / "multirun_x"
    trained_run(sweep / "0_loss.lambda=0", sandbox, ["loss=fixed", "loss.lambda=0"], True, False)
    trained_run(sweep / "1_loss.lambda=1", sandbox, ["loss=fixed", "loss.lambda=1"], False, True)
    out = tmp_path / "report" / "report.md"
    report.main([str(tmp_path / "runs"), "--out", str(out)])
    text = out.read_text()
    table = rows(text)
    assert list(table) == ["tiny-llama · MD · λ=0", "tiny-llama · MD · λ=1"]
    head = text.split("## Accuracy (%)")[1].split("\n\n")[1].splitlines()[0]
    assert "synthetic +CoT | synthetic +PoT | synthetic +CoT w/PoT" in head
    # +CoT right, +PoT wrong on all 4 questions, each with its 95% Wilson interval
    assert table["tiny-llama · MD · λ=0"][:2] == ["100.0 [51.0, 100.0]", "0.0 [0.0, 49.0]"]
    assert table["tiny-llama · MD · λ=1"][:2] == ["0.0 [0.0, 49.0]", "100.0 [51.0, 100.0]"]
    assert "95% Wilson interval" in text
    for kind in ("lambda", "paths"):
        png = out.parent / f"report_{kind}.png"
        assert png.read_bytes()[:4] == b"\x89PNG" and f"(report_{kind}.png)" in text
    assert not (out.parent / "report_size.png").exists()  # one training size: no size plot
    assert str(sweep / "0_loss.lambda=0" / "eval") in text  # every number traceable


def test_ood_and_ensemble_rows_are_labelled_by_the_trained_students(tmp_path, sandbox):
    cot_run = trained_run(tmp_path / "cot", sandbox, ["mix=cot"], True, False)
    pot_run = trained_run(tmp_path / "pot", sandbox, ["mix=pot"], False, True)
    ood = tmp_path / "evals" / "ood"  # md.evaluate on its own: data is the TEST set
    save_config(ood, "evaluate", ["experiment=table2_ood", "data=svamp",
                                  f"student_dir={cot_run / 'student'}"])
    evaluate(PROBLEMS, Students.one(Scripted(True, True)), sandbox, TWO_PATHS, ood)
    ens = tmp_path / "evals" / "ensemble"
    save_config(ens, "evaluate", ["data=svamp", f"inference.ensemble=[{cot_run / 'student'},"
                                                f"{pot_run / 'student'}]"])
    evaluate(PROBLEMS, Students(Scripted(True, False), Scripted(False, True)), sandbox,
             TWO_PATHS, ens)
    text, _ = report.build(report.parse([str(tmp_path / "evals"), "--methods", "cot_w_pot"]))
    table = rows(text)
    assert table["tiny-llama · CoT distillation · trained on synthetic"] == ["100.0 [51.0, 100.0]"]
    assert table["tiny-llama · ensemble (CoT + PoT students) · trained on synthetic"] == \
        ["100.0 [51.0, 100.0]"]
    assert "| svamp +CoT w/PoT |" in text


def test_size_plot_when_training_fractions_differ(tmp_path, sandbox):
    for frac in (0.2, 1.0):
        trained_run(tmp_path / f"f{frac}", sandbox, [f"data.train_fraction={frac}"], True, True)
    text, written = report.build(report.parse([str(tmp_path), "--plots", str(tmp_path / "p")]))
    assert set(rows(text)) == {"tiny-llama · MD", "tiny-llama · MD · 20% train"}
    assert Path(written["size"]).read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("args", [["/no/such/runs"], ["EMPTY"], ["CORRUPT"], ["--wandb", "team/md"], []])
def test_user_errors_are_one_line(tmp_path, capsys, monkeypatch, args):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc credentials either
    (tmp_path / "empty").mkdir()
    (tmp_path / "corrupt" / ".hydra").mkdir(parents=True)
    (tmp_path / "corrupt" / ".hydra" / "config.yaml").write_text("loss: {mode: fixed, lambda: [")
    (tmp_path / "corrupt" / "metrics.json").write_text('{"accuracy": {"cot": "high"}}')
    where = {"EMPTY": str(tmp_path / "empty"), "CORRUPT": str(tmp_path / "corrupt")}
    with pytest.raises(SystemExit) as exit_:
        report.main([where.get(a, a) for a in args])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err


@pytest.mark.slow
def test_lambda_sweep_makes_two_runs_that_the_report_puts_side_by_side(tmp_path):
    env = {**os.environ, "WANDB_MODE": "offline", "HF_HUB_OFFLINE": "1",
           "MD_RUNS": str(tmp_path / "runs"), "MD_ARTIFACTS": str(tmp_path / "artifacts")}

    def md(*args):
        out = subprocess.run([sys.executable, "-m", *args], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]

    md("md.train", "-m", "experiment=smoke", "loss=fixed", "loss.lambda=0,1")
    jobs = sorted(p.parent for p in (tmp_path / "runs" / "smoke").glob("multirun_*/*/student"))
    assert len(jobs) == 2, jobs
    for job in jobs:  # md.train evaluated each saved student itself (train.evaluate_after)
        assert "accuracy" in json.loads((job / "eval" / "metrics.json").read_text()), job
    md("md.report", str(tmp_path / "runs" / "smoke"), "--out", str(tmp_path / "report.md"))
    table = rows((tmp_path / "report.md").read_text())
    assert list(table) == ["tiny-llama · MD · λ=0", "tiny-llama · MD · λ=1"]
    assert all(len(cells) == 6 and all(c for c in cells) for cells in table.values())


def test_wilson_interval_and_mcnemar_p_against_hand_values():
    from md.reporting.paired import mcnemar_p
    from md.reporting.tables import wilson

    low, high = wilson(0.5, 100)  # p ± 1.96 sqrt(p(1-p)/n) shrunk toward 1/2: 0.404 .. 0.596
    assert (round(low, 3), round(high, 3)) == (0.404, 0.596)
    assert wilson(0.0, 50)[0] == 0.0 and 0.07 < wilson(0.0, 50)[1] < 0.08
    # 10 questions only MD got right, 2 only the other: 2 * P(X <= 2), X ~ Bin(12, 1/2)
    assert mcnemar_p(10, 2) == pytest.approx(2 * (1 + 12 + 66) / 4096)
    assert mcnemar_p(3, 3) == 1.0 and mcnemar_p(0, 0) == 1.0


def _predictions(folder: Path, right: dict[str, list[bool]]) -> Path:
    """An evaluation folder holding only what the paired comparison reads: predictions.jsonl
    with each question's correctness per method."""
    folder.mkdir(parents=True)
    n = len(next(iter(right.values())))
    with (folder / "predictions.jsonl").open("w") as f:
        for q in range(n):
            f.write(json.dumps({"problem_id": f"q{q}",
                                "correct": {m: v[q] for m, v in right.items()}}) + "\n")
    return folder


def test_smallest_resolvable_difference_is_2_8_standard_errors_and_shrinks_with_questions():
    from md.reporting.paired import difference

    rng = __import__("numpy").random.default_rng(1)

    def pairs(questions: int, seeds: int = 3):
        out = []
        for _ in range(seeds):
            md = {f"q{i}": bool(rng.random() < 0.40) for i in range(questions)}
            other = {f"q{i}": bool(rng.random() < 0.30) for i in range(questions)}
            out.append((md, other))
        return out

    small = pairs(200)
    result = difference(small)
    # by hand: the per-question difference averaged over seeds, its standard error over questions
    d = [sum(float(a[q]) - float(b[q]) for a, b in small) / 3 for q in small[0][0]]
    mean_d = sum(d) / len(d)
    se = (sum((x - mean_d) ** 2 for x in d) / (len(d) - 1) / len(d)) ** 0.5
    assert result["diff"] == pytest.approx(100 * mean_d)
    assert result["resolvable"] == pytest.approx(100 * 2.8016 * se, rel=0.08)
    assert result["low"] < result["diff"] < result["high"]
    big = difference(pairs(800))  # 4x the questions: half the smallest resolvable difference
    assert big["resolvable"] == pytest.approx(result["resolvable"] / 2, rel=0.15)
    one_seed = difference(small[:1])  # fewer seeds pooled: a coarser design
    assert one_seed["resolvable"] > result["resolvable"]


def test_seeds_that_disagree_widen_the_interval_that_resamples_them():
    """Three seeds whose MD − other differences are +60, -40 and +10 points: the question
    bootstrap (these trained students) resolves the +10 pooled, the seed-and-question bootstrap
    does not; seeds that agree leave the two intervals alike, and one seed has no second one."""
    from md.reporting.paired import difference

    def seed_pair(md_right: int, other_right: int, n: int = 100):
        return ({f"q{i}": i < md_right for i in range(n)}, {f"q{i}": i < other_right for i in range(n)})

    disagree = difference([seed_pair(80, 20), seed_pair(20, 60), seed_pair(50, 40)])
    assert disagree["per_seed"] == pytest.approx([60.0, -40.0, 10.0])
    assert disagree["diff"] == pytest.approx(10.0)
    assert disagree["low"] > 0  # questions alone: "resolved"
    low, high = disagree["seeds_too"]
    assert low < -20 and high > 40  # retraining moves it from -40 to +60: not resolved

    agree = difference([seed_pair(60, 40)] * 3)
    assert agree["seeds_too"] == pytest.approx([agree["low"], agree["high"]], abs=1.0)
    assert difference([seed_pair(60, 40)])["seeds_too"] is None


def test_md_from_another_teacher_is_its_own_row_and_compared_with_the_panel_md(tmp_path):
    from md.reporting.collect import Run
    from md.reporting.paired import comparisons, paired_table
    from md.reporting.tables import accuracy_table

    panel = "code-davinci-001, code-davinci-002, gpt-3.5-turbo, gpt-4, text-davinci-002, text-davinci-003"
    q = 40
    def run(name, mix, seed, teacher, **right):
        folder = _predictions(tmp_path / name, {m: [i % k == 0 for i in range(q)]
                                                 for m, k in right.items()})
        acc = {m: sum(i % k == 0 for i in range(q)) / q for m, k in right.items()}
        return Run(folder=str(folder), student="smollm2-135m", mix=mix, train_data="svamp",
                   test_data="svamp", paths=3, seed=seed, teacher=teacher, accuracy=acc,
                   questions=q)

    runs = [run("md0", "md", 0, panel, cot_w_pot=2, cot=2), run("md1", "md", 1, panel, cot_w_pot=2, cot=2),
            run("cot0", "cot", 0, panel, cot=4), run("cot1", "cot", 1, panel, cot=4),
            run("md35", "md", 0, "gpt-3.5-turbo", cot_w_pot=5, cot=5)]
    table = accuracy_table(runs, ["cot_w_pot"])
    assert "| smollm2-135m · MD · teacher 6-model panel | 50.0 ± 0.0 (n=2) |" in table
    assert "| smollm2-135m · MD · teacher gpt-3.5-turbo | 20.0 [" in table  # not averaged in
    found = {(c["teacher"], c["against"], c["other_teacher"], c["md_method"]): c
             for c in comparisons(runs)}
    vs_cot = found[("6-model panel", "cot", "6-model panel", "cot_w_pot")]
    assert vs_cot["seeds"] == 2 and vs_cot["diff"] == pytest.approx(25.0)
    vs_single = found[("6-model panel", "md", "gpt-3.5-turbo", "cot_w_pot")]
    assert vs_single["seeds"] == 1 and vs_single["diff"] == pytest.approx(30.0)
    # the single-teacher MD has no CoT student of its own teacher to be paired with
    assert not any(t == "gpt-3.5-turbo" for t, *_ in found)
    assert "MD, teacher 6-model panel (+CoT w/PoT) − MD, teacher gpt-3.5-turbo (+CoT w/PoT)" \
        in paired_table(runs)
    same = accuracy_table(runs[:4], ["cot_w_pot"])  # one teacher: no teacher in the labels
    assert "| smollm2-135m · MD | 50.0 ± 0.0 (n=2) |" in same and "teacher" not in same


def test_students_tested_in_and_out_of_distribution_are_one_row_with_both_test_sets(tmp_path):
    from md.reporting.collect import Run
    from md.reporting.tables import accuracy_table

    def run(test, acc):
        return Run(folder=str(tmp_path / test), student="smollm2-135m", mix="cot",
                   train_data="svamp", test_data=test, paths=3, seed=0, accuracy={"cot": acc},
                   questions=100)

    table = accuracy_table([run("svamp", 0.3), run("asdiv", 0.2)], ["cot"])
    assert "| run | svamp +CoT | asdiv +CoT |" in table
    assert "| smollm2-135m · CoT distillation | 30.0 [" in table and "· trained on" not in table
    assert "Every student was trained on svamp; the columns of asdiv test it out of distribution" \
        in table
    only_ood = accuracy_table([run("asdiv", 0.2)], ["cot"])  # nothing in distribution: say so
    assert "| smollm2-135m · CoT distillation · trained on svamp | 20.0 [" in only_ood
