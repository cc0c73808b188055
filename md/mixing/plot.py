"""The mix statistics as one PNG: Type 1-4 shares (the paper's Fig. 1) beside the λ histogram.

Draws on a bare `matplotlib.figure.Figure` rendered by the Agg canvas: no pyplot, no display,
no global backend switch, so it works headless and leaves a caller's matplotlib state alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

COLORS = {"1": "#4c72b0", "2": "#dd8452", "3": "#55a868", "4": "#8c8c8c"}


def save_png(stats: dict[str, Any], path: str | Path) -> Path:
    """Draw the two panels and write them to `path`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(10, 4))
    FigureCanvasAgg(fig)  # attaches itself as fig.canvas
    ax_t, ax_l = fig.subplots(1, 2)
    types = stats["types"]
    labels = [f"T{t}\n{r['name']}" for t, r in types.items()]
    shares = [100 * r["share"] for r in types.values()]
    bars = ax_t.bar(labels, shares, color=[COLORS[t] for t in types])
    for bar, row in zip(bars, types.values(), strict=True):
        ax_t.annotate(f"{row['share']:.1%}\n(n={row['count']})", (bar.get_x() + bar.get_width() / 2,
                      bar.get_height()), ha="center", va="bottom", fontsize=8)
    ax_t.set_ylabel("% of questions")
    ax_t.set_ylim(0, max(shares + [1.0]) * 1.25)
    ax_t.set_title(f"{stats['dataset'] or 'data'}: question types ({stats['questions']} questions)")
    if stats.get("teacher"):
        fig.suptitle(f"teacher: {stats['teacher']}", fontsize=9)

    lam = stats["lambda"]
    edges = lam["bins"]
    width = edges[1] - edges[0]
    ax_l.bar(edges[:-1], lam["types_1_3"], width=width, align="edge", color="#c0c0c0",
             edgecolor="white", label="types 1-3")
    ax_l.bar(edges[:-1], lam["type_3"], width=width, align="edge", color=COLORS["3"],
             edgecolor="white", label="type 3 (weights CoT 1-λ, PoT λ)")
    ax_l.set_xlabel("λ = n2 / (n1 + n2)")
    ax_l.set_ylabel("questions")
    ax_l.set_title("λ per question")
    ax_l.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path
