"""Statistics of a mix: Type 1-4 counts and shares (the paper's Fig. 1), λ histogram, examples.

    stats = compute(questions, records, factors, dataset="synthetic")
    print(table(stats)); save_json(stats, "stats.json"); log_wandb(stats, run, png="stats.png")

Shares are over all typed questions (type 4 included), as in Fig. 1. The λ histogram counts
questions with at least one correct path (types 1-3), with type 3 (where λ is a loss weight)
also counted on its own.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from md.fsio import write_text
from md.types import MixedExample

from .vote import TYPE_NAMES, Question

LAMBDA_BINS = 10  # equal-width bins over [0, 1]


def _hist(values: Sequence[float], bins: int = LAMBDA_BINS) -> list[int]:
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int(v * bins))] += 1  # λ = 1.0 goes in the last bin
    return counts


def _lambda_stats(questions: Sequence[Question]) -> dict[str, Any]:
    lam_all = [q.lam for q in questions if q.qtype != 4 and q.lam is not None]
    lam_t3 = [q.lam for q in questions if q.qtype == 3 and q.lam is not None]
    return {
        "bins": [i / LAMBDA_BINS for i in range(LAMBDA_BINS + 1)],
        "types_1_3": _hist(lam_all),
        "type_3": _hist(lam_t3),
        "mean_type_3": sum(lam_t3) / len(lam_t3) if lam_t3 else None,
        # a single sample per method makes every type-3 λ exactly 0.5: how many are, and are not
        "type_3_half": sum(v == 0.5 for v in lam_t3),
        "type_3_not_half": sum(v != 0.5 for v in lam_t3),
    }


def compute(
    questions: Sequence[Question],
    records: Sequence[MixedExample],
    factors: dict[int, int],
    dataset: str = "",
    variant: str = "md",
    teacher: str | None = None,
) -> dict[str, Any]:
    """All numbers of one mix as a JSON-ready dict; `teacher` names the models whose thoughts
    were mixed (md.report's Fig. 1 compares teachers by it)."""
    n = len(questions)
    counts = Counter(q.qtype for q in questions)
    types = {
        str(t): {"name": TYPE_NAMES[t], "count": counts.get(t, 0),
                 "share": counts.get(t, 0) / n if n else 0.0}
        for t in (1, 2, 3, 4)
    }
    by_method = Counter(r.method for r in records)
    by_dataset: dict[str, dict[str, int]] = {}
    for q in questions:  # one dataset per run usually; a merged run gets a row per dataset
        row = by_dataset.setdefault(q.problem.dataset, {str(t): 0 for t in (1, 2, 3, 4)})
        row[str(q.qtype)] += 1
    return {
        "dataset": dataset,
        "teacher": teacher,
        "variant": variant,
        "questions": n,
        "types": types,
        "types_by_dataset": by_dataset,
        "upsample_factors": {str(t): f for t, f in sorted(factors.items())},
        "lambda": _lambda_stats(questions),
        "examples": {
            "total": len(records),
            "by_method": dict(sorted(by_method.items())),
            "weight_sum": sum(r.weight * r.share for r in records),
            "questions_covered": len({r.problem_id for r in records}),
        },
    }


def table(stats: dict[str, Any]) -> str:
    """The type counts and shares as a plain-text table, plus one line on the examples."""
    teacher = f" teacher={stats['teacher']}" if stats.get("teacher") else ""
    lines = [f"mix={stats['variant']} dataset={stats['dataset']}{teacher} questions={stats['questions']}",
             f"{'type':<5} {'Fig. 1':<8} {'count':>7} {'share':>7} {'upsample':>8}"]
    for t, row in stats["types"].items():
        # md: the repeat factor ("drop" for type 4); other variants neither type nor upsample
        factor = stats["upsample_factors"].get(t, "drop") if stats["variant"] == "md" else "-"
        lines.append(f"{t:<5} {row['name']:<8} {row['count']:>7} {row['share']:>7.1%} {factor!s:>8}")
    ex = stats["examples"]
    methods = " ".join(f"{m}={c}" for m, c in ex["by_method"].items())
    mean = stats["lambda"]["mean_type_3"]
    lam = f"{mean:.3f}" if mean is not None else "n/a"
    half = stats["lambda"].get("type_3_half")
    at_half = f", λ = 0.5 for {half} of {half + stats['lambda']['type_3_not_half']}" \
        if half is not None else ""
    lines.append(f"examples={ex['total']} ({methods}) mean λ (type 3)={lam}{at_half}")
    return "\n".join(lines)


def save_json(stats: dict[str, Any], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(stats, indent=2, ensure_ascii=False) + "\n")
    return path


def log_wandb(stats: dict[str, Any], run: Any = None, png: str | Path | None = None) -> None:
    """Log the shares, counts and chart to a W&B run; does nothing when run is None."""
    if run is None:
        return
    import wandb  # only when a run is passed in: importing wandb is slow

    from md.tracking.staging import staged

    metrics: dict[str, Any] = {"mix/questions": stats["questions"],
                               "mix/examples": stats["examples"]["total"]}
    for t, row in stats["types"].items():
        metrics[f"mix/type{t}_share"] = row["share"]
        metrics[f"mix/type{t}_count"] = row["count"]
    if stats["lambda"]["mean_type_3"] is not None:
        metrics["mix/lambda_mean_type3"] = stats["lambda"]["mean_type_3"]
    rows = [[t, r["name"], r["count"], r["share"]] for t, r in stats["types"].items()]
    metrics["mix/types"] = wandb.Table(columns=["type", "fig1", "count", "share"], data=rows)
    if png is not None and Path(png).exists():
        metrics["mix/chart"] = wandb.Image(str(png))
    run.summary.update({k: v for k, v in metrics.items() if isinstance(v, (int, float))})
    with staged("the mix's table and chart"):  # W&B stages the table as an artifact file
        run.log(metrics)
