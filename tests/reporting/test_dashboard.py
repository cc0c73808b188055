"""Seeds, paired differences and the W&B Report that md.report builds.

Run folders are made the way the stages make them (a composed config in `.hydra/`, then the real
evaluate stage with the real sandbox) from scripted students, so every mean, standard deviation
and paired difference has a known value. The Report is built with wandb-workspaces; its panels
are converted to W&B's own panel model, and its filter is parsed by wandb-workspaces' parser.
The slow test sweeps λ × seed through the real CLI with offline W&B and checks the Report's
filter, columns and line-plot keys against what the runs' own W&B files hold.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from wandb_records import read_finished_run

from md import report
from md.reporting import dashboard
from md.reporting.collect import collect
from md.reporting.paired import comparisons, difference
from md.settings import CurveSettings, InferenceSettings
from md.stages.evaluate import Students
from md.stages.evaluate import run as evaluate
from tests.test_report import PROBLEMS, save_config


class RightOn:
    """A student right on the questions listed per method (by Tom's apple count), wrong elsewhere."""

    def __init__(self, cot: set[int], pot: set[int]):
        self.right = {"cot": cot, "pot": pot}

    def _text(self, prompt: str) -> str:
        method = "pot" if "Let's break down the code" in prompt else "cot"
        i = int(re.search(r"Tom has (\d+)", prompt).group(1))
        answer = i + 2 if i in self.right[method] else 0
        return f"ans = {answer}" if method == "pot" else f"The answer is {answer}."

    def sample(self, prompts, n, temperature):
        return [[self._text(p)] * n for p in prompts]

    def greedy(self, prompts):
        return [self._text(p) for p in prompts]


def job(folder: Path, sandbox, overrides: list[str], student: RightOn) -> Path:
    save_config(folder, "train", ["experiment=smoke", *overrides])
    (folder / "student").mkdir()
    evaluate(PROBLEMS, Students.one(student), sandbox,
             InferenceSettings(paths=3, curves=CurveSettings(draws=3)), folder / "eval")
    return folder


ALL, HALF = {0, 1, 2, 3}, {0, 1}


def test_seeds_give_mean_and_std_and_md_is_paired_with_cot_on_the_same_questions(tmp_path, sandbox):
    runs = tmp_path / "runs"
    job(runs / "md0", sandbox, ["mix=md", "seed=0"], RightOn(ALL, ALL))            # 4 of 4
    job(runs / "md1", sandbox, ["mix=md", "seed=1"], RightOn({0, 1, 2}, {0, 1, 2}))  # 3 of 4
    job(runs / "cot0", sandbox, ["mix=cot", "seed=0"], RightOn(HALF, set()))        # 2 of 4
    job(runs / "cot1", sandbox, ["mix=cot", "seed=1"], RightOn(HALF, set()))
    text, _ = report.build(report.parse([str(runs), "--methods", "cot,cot_w_pot"]))
    assert "| tiny-llama · MD | 87.5 ± 17.7 (n=2) | 87.5 ± 17.7 (n=2) |" in text
    assert "| tiny-llama · CoT distillation | 50.0 ± 0.0 (n=2) |" in text
    found, _ = collect([str(runs)])
    assert sorted((r.mix, r.seed) for r in found) == [("cot", 0), ("cot", 1), ("md", 0), ("md", 1)]
    # MD's +CoT w/PoT against CoT distillation's +CoT, then MD's own +CoT against it
    md_vs_cot, same_path = comparisons(found)
    assert md_vs_cot["against"] == "cot" and (md_vs_cot["seeds"], md_vs_cot["questions"]) == (2, 4)
    assert md_vs_cot["md_method"] == "cot_w_pot" and same_path["md_method"] == "cot"
    assert md_vs_cot["per_seed"] == [50.0, 25.0] and md_vs_cot["diff"] == 37.5
    assert md_vs_cot["low"] <= 37.5 <= md_vs_cot["high"]
    assert "| tiny-llama · synthetic | MD (+CoT w/PoT) − CoT distillation (+CoT) | 2 × 4 | +37.5 |" in text


def test_md_is_also_compared_on_the_single_path_students_own_path(tmp_path, sandbox):
    runs = tmp_path / "runs"
    # MD's +CoT is right on 1 of 4 questions, its +PoT on all 4
    job(runs / "md", sandbox, ["mix=md"], RightOn({0}, ALL))
    job(runs / "cot", sandbox, ["mix=cot"], RightOn(HALF, set()))  # +CoT right on 2 of 4
    found, _ = collect([str(runs)])
    by_method = {c["md_method"]: c for c in comparisons(found)}
    assert set(by_method) == {"cot_w_pot", "cot"}
    same = by_method["cot"]  # question 0 both right, question 1 only CoT distillation
    assert (same["diff"], same["md_only"], same["other_only"]) == (-25.0, 0, 1)
    text, _ = report.build(report.parse([str(runs)]))
    assert "| tiny-llama · synthetic | MD (+CoT) − CoT distillation (+CoT) | 1 × 4 | -25.0 |" in text


def test_the_paired_interval_is_zero_wide_without_disagreement_and_wide_with_it():
    same = {f"q{i}": i % 2 == 0 for i in range(50)}
    assert difference([(same, same)]) | {"per_seed": None} == {
        "questions": 50, "seeds": 1, "diff": 0.0, "low": 0.0, "high": 0.0, "per_seed": None,
        "se": 0.0, "resolvable": 0.0, "md_only": 0, "other_only": 0, "mcnemar_p": 1.0, "seeds_too": None}
    right = {q: True for q in same}
    wrong = {q: False for q in same}
    assert (difference([(right, wrong)])["low"], difference([(right, wrong)])["high"]) == (100.0, 100.0)
    noisy = difference([(same, {q: not v for q, v in same.items()})])  # +1 and -1 in equal parts
    assert noisy["diff"] == 0.0 and noisy["low"] < -15 and noisy["high"] > 15  # noise, not a gap


def lambda_seed_sweep(tmp_path, sandbox) -> Path:
    runs = tmp_path / "runs" / "smoke" / "multirun_x"
    for i, (lam, seed) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        job(runs / str(i), sandbox, ["loss=fixed", f"loss.lambda={lam}", f"seed={seed}"],
            RightOn(ALL if lam else HALF, HALF if lam else ALL))
    return tmp_path / "runs" / "smoke"


def test_the_dashboard_of_a_lambda_sweep_over_seeds(tmp_path, sandbox):
    sweep = lambda_seed_sweep(tmp_path, sandbox)
    out = tmp_path / "report" / "report.md"
    report.main([str(sweep), "--out", str(out), "--dashboard", "team/md"])
    spec = json.loads((out.parent / "report.wandb.json").read_text())
    assert (spec["type"], spec["entity"], spec["project"]) == ("Report", "team", "md")
    grids = [b for b in spec["blocks"] if b["type"] == "PanelGrid"]
    table, curves = grids
    (runset,) = table["runsets"]
    shared = ["data:synthetic", "family:llama", "loss:fixed", "mix:md", "size:tiny"]
    assert runset["filters"] == dashboard.filter_string("smoke", shared)  # not λ or seed: they vary
    assert runset["groupby"] == ["config.student.family", "config.student.size",
                                 "config.mix.variant", "config.loss.lambda"]
    assert {f"summary:eval/synthetic/{m}" for m in ("cot", "pot", "cot_w_pot")} <= set(
        runset["pinned_columns"])
    (bars,) = table["panels"]
    assert bars["type"] == "BarPlot" and bars["groupby_rangefunc"] == "stddev"  # error bars
    by_x = {p["x"]: p for p in curves["panels"]}
    assert set(by_x) == {"axis/lambda", "eval/synthetic/curve/n"}
    assert by_x["axis/lambda"]["y"][0] == "eval/synthetic/cot_w_pot"
    assert by_x["eval/synthetic/curve/n"]["y"][0] == "eval/synthetic/curve/cot_w_pot"
    assert all(p["type"] == "LinePlot" and p["groupby_aggfunc"] == "mean" for p in by_x.values())
    # the same Report, as wandb-workspaces would send it: W&B's panel models and a parsed filter
    from wandb_workspaces import expr

    built = dashboard.build(collect([str(sweep)])[0], "team", "md")
    views = [p._to_model().view_type for b in built.blocks for p in getattr(b, "panels", [])]
    assert views == ["Bar Chart", "Run History Line Plot", "Run History Line Plot"]
    tree = expr.expr_to_filters(runset["filters"]).model_dump()
    assert selects(tree, "smoke", set(shared) | {"lambda:0", "seed:1"})
    assert not selects(tree, "table1", set(shared))  # another experiment's run
    assert not selects(tree, "smoke", set(shared) - {"mix:md"} | {"mix:cot"})
    text = out.read_text()
    assert "| tiny-llama · MD · λ=0 | 50.0 ± 0.0 (n=2) | 100.0 ± 0.0 (n=2) |" in text


def test_the_dashboard_carries_the_paired_differences(tmp_path, sandbox):
    runs = tmp_path / "runs"
    for seed in (0, 1):
        job(runs / f"md{seed}", sandbox, ["mix=md", f"seed={seed}"], RightOn(ALL, ALL))
        job(runs / f"pot{seed}", sandbox, ["mix=pot", f"seed={seed}"], RightOn(set(), HALF))
    spec = dashboard.spec(dashboard.build(collect([str(runs)])[0], "team", "md"))
    (block,) = [b for b in spec["blocks"] if b["type"] == "MarkdownBlock"]
    assert "| MD (+CoT w/PoT) − PoT distillation (+PoT) | 2 × 4 | +50.0 |" in block["text"]
    assert "| MD (+PoT) − PoT distillation (+PoT) | 2 × 4 | +50.0 |" in block["text"]


def selects(tree: dict, group: str, tags: set[str]) -> bool:
    """Whether W&B's filter tree (as wandb-workspaces parses it) selects a run."""
    if tree["op"] in ("AND", "OR"):
        results = [selects(t, group, tags) for t in tree["filters"]]
        return all(results) if tree["op"] == "AND" else any(results)
    name, value = tree["key"]["name"], tree["value"]
    if (name, tree["op"]) == ("group", "="):
        return group == value
    if (name, tree["op"]) == ("tags", "IN"):
        return bool(tags & set(value))
    raise AssertionError(f"a filter the dashboard does not write: {tree}")


@pytest.mark.parametrize("args", [["--publish"], ["--dashboard", "team"], ["--dashboard", "/md"]])
def test_dashboard_mistakes_are_one_line_before_any_work(tmp_path, capsys, args):
    with pytest.raises(SystemExit) as exit_:
        report.main([str(tmp_path / "no-runs-needed"), *args])
    assert exit_.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: --")


def test_publish_without_a_reachable_server_is_one_line_after_everything_is_written(
        tmp_path, sandbox, capsys, monkeypatch):
    import socket

    sweep = job(tmp_path / "runs" / "one", sandbox, [], RightOn(ALL, HALF))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("WANDB_API_KEY", "k" * 40)
    monkeypatch.setenv("WANDB_BASE_URL", f"http://127.0.0.1:{port}")
    out = tmp_path / "r" / "report.md"
    with pytest.raises(SystemExit):
        report.main([str(sweep), "--out", str(out), "--dashboard", "team/md", "--publish"])
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: --publish: cannot reach http://127.0.0.1:{port}")
    assert out.exists() and (out.parent / "report.wandb.json").exists()


@pytest.mark.slow  # a 4-job sweep (λ x seed) through the real CLI with offline W&B
def test_the_report_selects_and_reads_exactly_what_the_sweep_logged(tmp_path):
    from wandb_workspaces import expr

    env = {**os.environ, "WANDB_MODE": "offline", "HF_HUB_OFFLINE": "1"}
    small = ["experiment=smoke", "logger=wandb", "trainer.max_steps=2", "data.max_test=2",
             "inference.paths=2", "inference.max_new_tokens=8", "inference.greedy=false",
             f"paths.artifacts={tmp_path / 'art'}", f"paths.runs={tmp_path / 'runs'}"]
    out = subprocess.run([sys.executable, "-m", "md.train", "-m", *small, "loss=fixed",
                          "loss.lambda=0,1", "seed=0,1"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert len(list((tmp_path / "art" / "extract").iterdir())) == 1  # the teacher paid once
    assert len(list((tmp_path / "art" / "mix").iterdir())) == 2      # a mix per seed
    sweep = tmp_path / "runs" / "smoke"
    subprocess.run([sys.executable, "-m", "md.report", str(sweep), "--out",
                    str(sweep / "report.md"), "--dashboard", "team/md"], check=True, env=env,
                   cwd=tmp_path, capture_output=True)
    spec = json.loads((sweep / "report.wandb.json").read_text())
    table, curves = [b for b in spec["blocks"] if b["type"] == "PanelGrid"]
    tree = expr.expr_to_filters(table["runsets"][0]["filters"]).model_dump()
    columns = [c.split(":", 1)[1] for c in table["runsets"][0]["pinned_columns"]
               if c.startswith("summary:")]
    logged = []
    for path in sweep.glob("multirun_*/*/wandb/offline-run-*/run-*.wandb"):
        records = read_finished_run(path)
        (meta,) = [r.run for r in records if r.WhichOneof("record_type") == "run"][:1]
        summary = {u.key or "/".join(u.nested_key) for r in records
                   if r.WhichOneof("record_type") == "summary" for u in r.summary.update}
        history = {i.key or "/".join(i.nested_key) for r in records
                   if r.WhichOneof("record_type") == "history" for i in r.history.item}
        logged.append(meta.display_name)
        assert selects(tree, meta.run_group, set(meta.tags)), (meta.run_group, meta.tags)
        assert set(columns) <= summary, set(columns) - summary
        for panel in curves["panels"]:
            assert {panel["x"], *panel["y"]} <= history, ({panel["x"], *panel["y"]} - history)
    assert len(logged) == 4
    assert "± " in (sweep / "report.md").read_text()


def test_a_w_and_b_run_reads_back_as_the_same_row():
    """md.report --wandb reads what a job logged: the flat config and eval/<dataset>/<method>."""
    from md.evaluation.outputs import summary_keys
    from md.reporting.wandb_runs import to_run

    metrics = {"accuracy": {"cot": 0.5, "cot_w_pot": 0.75}, "questions": 4, "cot_answer_rate": 1.0,
               "adaptive": {"accuracy": 0.7}}
    summary = summary_keys(metrics, "svamp")
    assert summary == {"eval/svamp/cot": 0.5, "eval/svamp/cot_w_pot": 0.75,
                       "eval/svamp/questions": 4, "eval/svamp/cot_answer_rate": 1.0,
                       "eval/svamp/adaptive/accuracy": 0.7}
    config = {"student.name": "codellama-7b", "mix.variant": "md", "loss.mode": "fixed",
              "loss.lambda": 0.25, "data.name": "gsm8k", "seed": 2, "experiment_name": "x",
              "inference.paths": 20}
    run = to_run("wandb:team/md/abc", config, summary)
    assert (run.student, run.mix, run.lam, run.train_data, run.test_data, run.seed) == (
        "codellama-7b", "md", 0.25, "gsm8k", "svamp", 2)
    assert run.accuracy == {"cot": 0.5, "cot_w_pot": 0.75}  # not the rates or the adaptive row
    assert to_run("wandb:team/md/def", config, {"train/loss": 1.0}) is None  # never evaluated
