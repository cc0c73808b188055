"""Write an evaluation's outputs, and log them to W&B when a run is given.

    out_dir/predictions.jsonl  one Prediction per question: every path (text, status, answer),
                               every method's vote and whether it is right
    out_dir/metrics.json       accuracies, rates, cascade cost, adaptive consistency
    out_dir/curves.json|.md|.png  accuracy vs sampled paths (the paper's Table 3 and Fig. 4)

wandb is never imported here; the caller passes its run object (or None).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from md import jsonl
from md.answers.canonical import is_correct
from md.evaluation import curves as curves_mod
from md.fsio import write_text
from md.tracking.staging import staged
from md.types import Prediction


def flatten(metrics: dict[str, Any], prefix: str = "eval") -> dict[str, float]:
    """Nested numeric metrics as W&B keys: {"accuracy": {"cot": .5}} -> {"eval/accuracy/cot": .5}."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}/{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[name] = value
    return flat


def write_outputs(out_dir: str | Path, predictions: Sequence[Prediction], metrics: dict,
                  curves: dict) -> dict[str, str]:
    """Write every output file; returns {kind: path}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "predictions": out / "predictions.jsonl",
        "metrics": out / "metrics.json",
        "curves": out / "curves.json",
        "table": out / "curves.md",
        "plot": out / "curves.png",
    }
    jsonl.write(files["predictions"], predictions)
    write_text(files["curves"], json.dumps(curves, indent=2))
    write_text(files["table"], curves_mod.table(curves))
    curves_mod.plot(curves, files["plot"])
    write_text(files["metrics"], json.dumps(metrics, indent=2, default=str))  # last: marks it done
    return {k: str(v) for k, v in files.items()}


def summary_keys(metrics: dict[str, Any], dataset: str) -> dict[str, float]:
    """The W&B keys of one evaluation: `eval/<dataset>/<method>` per method's accuracy, and the
    other scalars under `eval/<dataset>/` (`eval/svamp/cot_answer_rate`, `.../adaptive/accuracy`)."""
    prefix = f"eval/{dataset}"
    flat = flatten({k: v for k, v in metrics.items() if k != "accuracy"}, prefix)
    flat.update({f"{prefix}/{method}": value for method, value in metrics["accuracy"].items()})
    return flat


def log_wandb(run, metrics: dict, predictions: Sequence[Prediction], curves: dict,
              plot_png: str, questions: dict[str, str], dataset: str = "test") -> None:
    """The run's summary (so the runs table shows every accuracy); the predictions with the
    question, gold answer and every path's text and answer; the accuracy-vs-N curve as history
    rows (`eval/<dataset>/curve/n` against `.../curve/<method>`, which a W&B line plot draws and
    averages over seeds), as a table with its line plot and as the PNG. `questions`: problem id
    -> question text. The accuracies' history row is the caller's (with the job's axes)."""
    import wandb  # only when a logger is on

    run.summary.update(summary_keys(metrics, dataset))
    prefix = f"eval/{dataset}"
    voted = {name: c["accuracy"] for name, c in curves["methods"].items()
             if len(c["accuracy"]) == len(curves["n"])}  # not the cascade's single point
    for i, n in enumerate(curves["n"]):
        run.log({f"{prefix}/curve/n": n, **{f"{prefix}/curve/{name}": accuracy[i]
                                            for name, accuracy in voted.items()}})
    rows = [[p.problem_id, questions.get(p.problem_id, ""), str(p.gold),
             str(p.votes.get("cot_w_pot")), bool(p.correct.get("cot_w_pot")),
             json.dumps(p.votes, default=str), json.dumps(p.correct), len(p.paths)]
            for p in predictions]
    paths = [[p.problem_id, x.method, "greedy" if x.greedy else "sampled", x.text, x.status,
              None if x.answer is None else str(x.answer),
              x.answer is not None and is_correct(x.answer, p.gold)]
             for p in predictions for x in p.paths]
    curve_rows = [[name, t, a, lo, hi] for name, c in curves["methods"].items()
                  for t, a, lo, hi in zip(c["total_paths"], c["accuracy"], c["ci_low"],
                                          c["ci_high"], strict=True)]
    curve_table = wandb.Table(columns=["method", "total_paths", "accuracy", "ci_low", "ci_high"],
                              data=curve_rows)
    with staged("the evaluation's tables"):  # W&B stages each table as an artifact file
        run.log({
            f"{prefix}/predictions": wandb.Table(
                columns=["problem_id", "question", "gold", "cot_w_pot", "cot_w_pot_correct", "votes",
                         "correct", "paths"], data=rows),
            f"{prefix}/paths": wandb.Table(
                columns=["problem_id", "method", "kind", "text", "status", "answer", "matches_gold"],
                data=paths),
            f"{prefix}/curves": curve_table,
            f"{prefix}/accuracy_vs_paths": wandb.plot.line(
                curve_table, "total_paths", "accuracy", stroke="method",
                title=f"{dataset}: accuracy vs sampled paths"),
            f"{prefix}/curves_plot": wandb.Image(plot_png)})
