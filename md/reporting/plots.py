"""The report's figures: accuracy vs λ, vs sampled paths N (Fig. 4), vs training-set size (Fig. 5).

    written = make_plots(runs, "report_dir", prefix="report")   # {"lambda": ".../report_lambda.png", ...}

A plot is drawn only when the runs vary along its axis (two λ values, two training sizes, a
curves.json). Each mix is drawn with the methods the paper shows for it: a CoT-distilled
student with +CoT, a PoT-distilled one with +PoT, MD with all three.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from md.reporting.collect import Run
from md.reporting.tables import COLUMN_NAMES, dataset_order, row_label

HEADLINE = {"cot": ("cot",), "pot": ("pot",), "md": ("cot", "pot", "cot_w_pot"),
            "ensemble": ("cot_w_pot",), "label": ("label",), "few-shot": ("cot_w_pot",)}
STYLE = {"cot": "--", "pot": ":", "cot_w_pot": "-", "greedy_cot": "-."}


def _methods(run: Run) -> tuple[str, ...]:
    return HEADLINE.get(run.mix, ("cot_w_pot",))


def _figure(datasets: list[str]):
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 3.8), squeeze=False)
    return plt, fig, dict(zip(datasets, axes[0], strict=True))


def _by_x(runs: Sequence[Run], x: Callable[[Run], float | None], label: Callable[[Run], str],
          out: Path, xlabel: str, refs: Sequence[Run] = ()) -> None:
    """One panel per test dataset; a line per (label, method) over the x values (runs averaged);
    each run in `refs` (same test data) as a horizontal +CoT w/PoT reference line."""
    datasets = dataset_order({r.test_data for r in runs})
    plt, fig, axes = _figure(datasets)
    points: dict[tuple[str, str, str], dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        if x(run) is None:
            continue
        for m in _methods(run):
            if m in run.accuracy:
                points[(run.test_data, label(run), m)][x(run)].append(100 * run.accuracy[m])
    for (data, name, m), xs in sorted(points.items()):
        keys = sorted(xs)
        axes[data].plot(keys, [sum(xs[k]) / len(xs[k]) for k in keys], STYLE.get(m, "-"),
                        marker="o", label=f"{name} {COLUMN_NAMES.get(m, m)}")
    for ref in refs:
        if ref.test_data in axes and "cot_w_pot" in ref.accuracy:
            axes[ref.test_data].axhline(100 * ref.accuracy["cot_w_pot"], color="grey", lw=1,
                                        label=f"{ref.student} adaptive λ +CoT w/PoT")
    _finish(plt, fig, axes, xlabel, out)


def _finish(plt, fig, axes, xlabel: str, out: Path) -> None:
    """Label every panel alike and save the figure."""
    for data, ax in axes.items():
        ax.set(title=data, xlabel=xlabel, ylabel="accuracy (%)")
        ax.set_ylim(bottom=max(0.0, ax.get_ylim()[0]))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def lambda_plot(runs: Sequence[Run], out: Path) -> bool:
    """Accuracy vs the fixed λ; the adaptive (per-question λ) runs as horizontal lines."""
    fixed = [r for r in runs if r.loss == "fixed" and r.lam is not None]
    if len({r.lam for r in fixed}) < 2:
        return False
    adaptive = [r for r in runs if r.loss == "adaptive" and r.mix == "md"]
    _by_x(fixed, lambda r: r.lam, lambda r: r.student, out, "λ (loss=fixed)", adaptive)
    return True


def size_plot(runs: Sequence[Run], out: Path) -> bool:
    """Accuracy vs the share of the training set used (the paper's Fig. 5)."""
    if len({r.train_fraction for r in runs}) < 2:
        return False
    _by_x(runs, lambda r: 100 * r.train_fraction,
          lambda r: f"{r.student} {r.mix}", out, "training set (%)")
    return True


def curves_plot(runs: Sequence[Run], out: Path) -> bool:
    """Accuracy vs total sampled paths from each run's curves.json (Table 3 / Fig. 4)."""
    have = [r for r in runs if r.curves and r.curves.get("methods")]
    if not have:
        return False
    datasets = dataset_order({r.test_data for r in have})
    plt, fig, axes = _figure(datasets)
    for run in have:
        for m in _methods(run):
            cur = run.curves["methods"].get(m)
            if cur and len(cur["total_paths"]) > 1:
                acc = [100 * a for a in cur["accuracy"]]
                axes[run.test_data].plot(cur["total_paths"], acc, STYLE.get(m, "-"),
                                         label=f"{row_label(run)} {COLUMN_NAMES.get(m, m)}")
    _finish(plt, fig, axes, "total sampled paths N", out)
    return True


def make_plots(runs: Sequence[Run], folder: str | Path, prefix: str = "report") -> dict[str, str]:
    """Every plot the runs support, as PNG files in `folder`; returns {kind: path}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind, draw in (("lambda", lambda_plot), ("paths", curves_plot), ("size", size_plot)):
        out = folder / f"{prefix}_{kind}.png"
        if draw(runs, out):
            written[kind] = str(out)
    return written
