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
from md.evaluation import curves as curves_mod
from md.fsio import write_text
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


def log_wandb(run, metrics: dict, predictions: Sequence[Prediction], curves: dict,
              plot_png: str) -> None:
    """Metrics as scalars; predictions and curves as tables; the curve plot as an image."""
    import wandb  # only when a logger is on

    run.log(flatten(metrics))
    rows = [[p.problem_id, str(p.gold), json.dumps(p.votes, default=str),
             json.dumps(p.correct), len(p.paths)] for p in predictions]
    run.log({"eval/predictions": wandb.Table(
        columns=["problem_id", "gold", "votes", "correct", "paths"], data=rows)})
    curve_rows = [[name, t, a, lo, hi] for name, c in curves["methods"].items()
                  for t, a, lo, hi in zip(c["total_paths"], c["accuracy"], c["ci_low"],
                                          c["ci_high"], strict=True)]
    run.log({"eval/curves": wandb.Table(
        columns=["method", "total_paths", "accuracy", "ci_low", "ci_high"], data=curve_rows),
        "eval/curves_plot": wandb.Image(plot_png)})
