"""Accuracy against the number of sampled paths, from ONE run with N_max paths per method.

For every n <= N_max and every question, `draws` random subsets of n CoT and n PoT paths are
voted (each draw is a random permutation; its first n entries are the subset, so one draw
serves every n). A point is the mean accuracy over draws and questions; its confidence
interval is the normal interval over questions of each question's mean correctness, i.e. the
uncertainty from the finite test set (the draws only remove the luck of which paths were
sampled). `total_paths` counts what the method sampled: n for +CoT/+PoT, 2n for +CoT w/PoT,
and 1-2 for the cascade (its mean is reported), which is the x-axis of the paper's Table 3
and Fig. 4.

    curves = accuracy_curves(path_lists, golds, draws=50, seed=0)
    write_table(curves, "out/curves.md"); plot(curves, "out/curves.png")
"""

from __future__ import annotations

import math
import random
from collections.abc import Hashable, Sequence
from pathlib import Path
from statistics import NormalDist

import numpy as np

from md.answers import answer_key, is_correct
from md.evaluation.methods import cascade_pair, sampled
from md.types import Answer, ReasoningPath

CURVE_METHODS = ("cot", "pot", "cot_w_pot")


def _winner(keys: Sequence[Hashable]) -> Hashable:
    """`majority_vote` on precomputed answer keys: most common, ties to the earliest, None skipped."""
    counts: dict[Hashable, int] = {}
    for key in keys:
        if key is not None:
            counts[key] = counts.get(key, 0) + 1
    # dicts keep insertion order, so max() returns the earliest of the tied keys
    return max(counts, key=counts.__getitem__) if counts else None


def _question_draws(paths: Sequence[ReasoningPath], gold: Answer, n_max: int, draws: int,
                    rng: random.Random) -> tuple[np.ndarray, np.ndarray, float]:
    """(correct[method, draw, n-1], cascade correct per draw, cascade mean paths) for one question."""
    cots, pots = sampled(paths, "cot")[:n_max], sampled(paths, "pot")[:n_max]
    # Vote on answer keys (what majority_vote groups by); judge each distinct answer once.
    right = {answer_key(p.answer): is_correct(p.answer, gold) for p in cots + pots}
    right[None] = False
    c_keys = [answer_key(p.answer) for p in cots]
    p_keys = [answer_key(p.answer) for p in pots]
    grid = np.zeros((3, draws, n_max), dtype=bool)  # (method, draw, n - 1)
    casc = np.zeros(draws, dtype=bool)
    used = 0
    for d in range(draws):
        c_order = rng.sample(range(len(cots)), len(cots))
        p_order = rng.sample(range(len(pots)), len(pots))
        c = [c_keys[i] for i in c_order]
        p = [p_keys[i] for i in p_order]
        for n in range(1, n_max + 1):
            grid[0, d, n - 1] = right[_winner(c[:n])]
            grid[1, d, n - 1] = right[_winner(p[:n])]
            grid[2, d, n - 1] = right[_winner(c[:n] + p[:n])]  # Eq. 5: CoT first
        answer, k = cascade_pair(pots[p_order[0]] if pots else None,
                                 cots[c_order[0]] if cots else None)
        casc[d], used = answer is not None and is_correct(answer, gold), used + k
    return grid, casc, used / max(draws, 1)


def _point(per_question: np.ndarray, z: float) -> tuple[float, float, float]:
    """(mean, low, high) of per-question mean correctness, shape (Q,)."""
    q = len(per_question)
    mean = float(per_question.mean()) if q else 0.0
    half = z * float(per_question.std(ddof=1)) / math.sqrt(q) if q > 1 else 0.0
    return mean, max(0.0, mean - half), min(1.0, mean + half)


def accuracy_curves(path_lists: Sequence[Sequence[ReasoningPath]], golds: Sequence[Answer],
                    n_max: int | None = None, draws: int = 50, seed: int = 0,
                    ci: float = 0.95) -> dict:
    """Accuracy (with CI) for every n <= n_max and each voted method, plus the N=2 cascade."""
    if not path_lists:
        return {"n": [], "methods": {}, "ci": ci, "draws": draws}
    have = min(min(len(sampled(p, "cot")), len(sampled(p, "pot"))) for p in path_lists)
    n_max = have if n_max is None else min(n_max, have)
    rng, z = random.Random(seed), NormalDist().inv_cdf((1 + ci) / 2)
    grids, cascs, used = [], [], []
    for paths, gold in zip(path_lists, golds, strict=True):
        g, c, u = _question_draws(paths, gold, n_max, draws, rng)
        grids.append(g)
        cascs.append(c)
        used.append(u)
    grid = np.stack(grids).mean(axis=2)  # (Q, method, n): mean correctness over draws
    out: dict = {"n": list(range(1, n_max + 1)), "methods": {}, "ci": ci, "draws": draws}
    for m, name in enumerate(CURVE_METHODS):
        points = [_point(grid[:, m, i], z) for i in range(n_max)]
        out["methods"][name] = {
            "total_paths": [n * (2 if name == "cot_w_pot" else 1) for n in out["n"]],
            "accuracy": [p[0] for p in points],
            "ci_low": [p[1] for p in points],
            "ci_high": [p[2] for p in points],
        }
    if n_max:
        mean, low, high = _point(np.stack(cascs).mean(axis=1), z)
        out["methods"]["cascade"] = {"total_paths": [float(np.mean(used))], "accuracy": [mean],
                                     "ci_low": [low], "ci_high": [high]}
    return out


def table(curves: dict, columns: Sequence[int] = (1, 2, 4, 6, 8, 10, 14, 20, 40)) -> str:
    """A markdown table like the paper's Table 3: accuracy (%) by total sampled paths N."""
    rows = ["| method | " + " | ".join(f"N={c}" for c in columns) + " |",
            "|---|" + "---|" * len(columns)]
    for name, cur in curves["methods"].items():
        at = {round(t): a for t, a in zip(cur["total_paths"], cur["accuracy"], strict=True)}
        if name == "cascade":
            at = {2: cur["accuracy"][0]}  # the paper's N=2 entry (1-2 paths used)
        cells = [f"{100 * at[c]:.1f}" if c in at else "" for c in columns]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def plot(curves: dict, png: str | Path, title: str = "accuracy vs sampled paths") -> None:
    """The paper's Fig. 4: accuracy against total sampled paths, with the CI shaded."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, cur in curves["methods"].items():
        x, y = cur["total_paths"], [100 * a for a in cur["accuracy"]]
        if len(x) == 1:
            ax.errorbar(x, y, yerr=[[y[0] - 100 * cur["ci_low"][0]], [100 * cur["ci_high"][0] - y[0]]],
                        fmt="o", capsize=3, label=f"{name} (N=2)")
            continue
        ax.plot(x, y, marker=".", label=name)
        ax.fill_between(x, [100 * a for a in cur["ci_low"]], [100 * a for a in cur["ci_high"]],
                        alpha=0.2)
    ax.set(xlabel="total sampled paths N", ylabel="accuracy (%)", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    Path(png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=120, bbox_inches="tight")
    plt.close(fig)
