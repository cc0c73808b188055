"""Paper-style markdown tables from collected runs.

    print(accuracy_table(runs))      # rows: student / mix / loss-λ / ...; columns: dataset x method
    print(types_table(mixes))        # Fig. 1: type shares per dataset

Runs that land in the same row and column (seeds, repeats) are averaged: the cell gives the
mean ± the standard deviation over them and how many there were (`41.0 ± 2.8 (n=2)`). A row label only names the axes that tell its runs apart: the training
set size when it is not 100%, the training data when it differs from the test data (OOD), and
N when runs sampled different numbers of paths.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from statistics import mean, stdev

from md.reporting.collect import Run

# Method keys of metrics.json and their column names, in the paper's order.
COLUMN_NAMES = {"label": "label", "cot": "+CoT", "pot": "+PoT", "cot_w_pot": "+CoT w/PoT",
           "cascade": "cascade (N=2)", "greedy_label": "greedy label", "greedy_cot": "greedy CoT",
           "greedy_pot": "greedy PoT"}
DATASETS = ("svamp", "gsm8k", "asdiv", "strategyqa")  # paper order; others follow by name
MIXES = {"few-shot": "few-shot (not fine-tuned)", "label": "label fine-tuning",
         "cot": "CoT distillation", "pot": "PoT distillation",
         "ensemble": "ensemble (CoT + PoT students)", "md": "MD"}
TYPES = {"1": "only PoT", "2": "only CoT", "3": "both", "4": "neither"}


def loss_label(run: Run) -> str:
    if run.loss == "fixed":
        return f"λ={run.lam:g}"
    return "" if run.loss == "adaptive" else run.loss


def teacher_models(run: Run) -> list[str]:
    """The models asked for the run's training thoughts (Run.teacher: "a, b (answered by ...)")."""
    return [m.strip() for m in run.teacher.split(" (answered by")[0].split(",") if m.strip()]


def teacher_label(run: Run) -> str:
    """A short name for who wrote the run's training thoughts: the model, or "N-model panel"."""
    models = teacher_models(run)
    return models[0] if len(models) == 1 else f"{len(models)}-model panel" if models else ""


def varies_teacher(runs: Sequence[Run]) -> bool:
    """Whether the fine-tuned runs were trained on more than one teacher's thoughts."""
    return len({teacher_label(r) for r in runs if r.mix != "few-shot"}) > 1


def one_training_set(runs: Sequence[Run]) -> str | None:
    """The training data of every fine-tuned run when they share one and some are also tested
    on it: a student tested in and out of distribution is then one row, its columns the test
    sets (Table 2's shape), instead of one row per test set."""
    trained = {r.train_data for r in runs if r.mix != "few-shot"}
    if len(trained) == 1 and any(r.test_data == r.train_data for r in runs):
        return trained.pop()
    return None


def row_label(run: Run, vary_paths: bool = False, vary_teacher: bool = False,
              train_in_label: bool = True) -> str:
    parts = [run.student, MIXES.get(run.mix, run.mix), loss_label(run)]
    if vary_teacher and teacher_label(run):
        parts.append(f"teacher {teacher_label(run)}")
    if run.train_fraction != 1.0:
        parts.append(f"{100 * run.train_fraction:g}% train")
    if train_in_label and run.train_data not in ("?", run.test_data):
        parts.append(f"trained on {run.train_data}")
    if vary_paths and run.paths is not None:
        parts.append(f"N={run.paths}")
    return " · ".join(p for p in parts if p)


def _row_order(run: Run) -> tuple:
    mix_rank = list(MIXES).index(run.mix) if run.mix in MIXES else len(MIXES)
    return (run.student, run.train_data, mix_rank, run.loss, run.lam or 0.0, run.train_fraction,
            run.paths or 0, -len(teacher_models(run)))


def dataset_order(names: set[str]) -> list[str]:
    return [d for d in DATASETS if d in names] + sorted(names - set(DATASETS))


def accuracy_table(runs: Sequence[Run], methods: Sequence[str] = tuple(COLUMN_NAMES)) -> str:
    """Accuracy (%) with rows = ablation settings and columns = test dataset x method."""
    vary_paths, vary_teacher = len({r.paths for r in runs}) > 1, varies_teacher(runs)
    trained_on = one_training_set(runs)
    cells: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    sizes: dict[tuple[str, str, str], int | None] = {}
    rows: dict[str, tuple] = {}
    for run in runs:
        label = row_label(run, vary_paths, vary_teacher, trained_on is None)
        rows.setdefault(label, _row_order(run))
        for method in methods:
            if method in run.accuracy:
                cells[(label, run.test_data, method)].append(run.accuracy[method])
                sizes[(label, run.test_data, method)] = run.questions
    datasets = dataset_order({r.test_data for r in runs})
    cols = [(d, m) for d in datasets for m in methods
            if any((label, d, m) in cells for label in rows)]
    head = "| run | " + " | ".join(f"{d} {COLUMN_NAMES.get(m, m)}" for d, m in cols) + " |"
    lines = [head, "|---|" + "---:|" * len(cols)]
    for label in sorted(rows, key=rows.__getitem__):
        lines.append(f"| {label} | " + " | ".join(_cell(cells.get((label, d, m)),
                                                          sizes.get((label, d, m))) for d, m in cols)
                     + " |")
    note = paths_note(runs, [m for _, m in cols])
    if trained_on and len(datasets) > 1:
        note += (f"\n\nEvery student was trained on {trained_on}; the columns of "
                 f"{', '.join(d for d in datasets if d != trained_on)} test it out of distribution.")
    if any(len(v) == 1 and sizes.get(k) for k, v in cells.items()):
        note += ("\n\nA single run's cell is its accuracy with the 95% Wilson interval over its test "
                 "questions, [low, high].")
    return "\n".join(lines) + note


def paths_note(runs: Sequence[Run], methods: Sequence[str]) -> str:
    """The line under a table that says how many paths each column's numbers used."""
    parts = []
    for method in dict.fromkeys(methods):
        counts = sorted({r.paths_used[method] for r in runs if method in r.paths_used})
        if counts:
            parts.append(f"{COLUMN_NAMES.get(method, method)}: {' / '.join(counts)}")
    return f"\n\nPaths per number (CoT+PoT where mixed): {'; '.join(parts)}." if parts else ""


def wilson(p: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of an accuracy p over n questions (good near 0 and 1,
    where the normal approximation is not)."""
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _cell(values: list[float] | None, questions: int | None = None) -> str:
    """Mean (%); one run over `questions` questions: also its 95% Wilson interval; several runs
    (seeds): ± the sample standard deviation and n."""
    if not values:
        return ""
    text = f"{100 * mean(values):.1f}"
    if len(values) == 1:
        if not questions:
            return text
        low, high = wilson(values[0], questions)
        return f"{text} [{100 * low:.1f}, {100 * high:.1f}]"
    return f"{text} ± {100 * stdev(values):.1f} (n={len(values)})"


def types_table(mixes: Sequence[dict]) -> str:
    """The paper's Fig. 1 as a table: share (%) of questions of each type, per dataset and
    teacher, with how many type-3 questions have λ other than 0.5 and their mean λ."""
    lines = ["| dataset | teacher | questions | "
             + " | ".join(f"type {t}: {n}" for t, n in TYPES.items())
             + " | type 3 with λ ≠ 0.5 | mean λ (type 3) |",
             "|---|---|---:|" + "---:|" * (len(TYPES) + 2)]
    for stats in _distinct(mixes):
        types, lam = stats["types"], stats.get("lambda") or {}
        total = sum(int(types.get(t, {}).get("count", 0)) for t in TYPES)
        shares = " | ".join(f"{100 * float(types.get(t, {}).get('share', 0.0)):.1f}" for t in TYPES)
        off = lam.get("type_3_not_half")
        mean_lam = lam.get("mean_type_3")
        lines.append(f"| {stats.get('dataset', '?')} | {stats.get('teacher') or '?'} | {total} | "
                     f"{shares} | {'?' if off is None else off} | "
                     f"{'n/a' if mean_lam is None else f'{mean_lam:.3f}'} |")
    return "\n".join(lines)


def lambda_table(mixes: Sequence[dict]) -> str:
    """Fig. 1's λ histogram as a table: type-3 questions per λ bin, per dataset and teacher."""
    first = next((m["lambda"] for m in mixes if (m.get("lambda") or {}).get("bins")), None)
    if first is None:
        return ""
    edges = first["bins"]
    lines = ["| dataset | teacher | " + " | ".join(f"{lo:.1f}-{hi:.1f}" for lo, hi in
                                                 zip(edges[:-1], edges[1:], strict=True)) + " |",
             "|---|---|" + "---:|" * (len(edges) - 1)]
    for stats in _distinct(mixes):
        counts = (stats.get("lambda") or {}).get("type_3") or []
        lines.append(f"| {stats.get('dataset', '?')} | {stats.get('teacher') or '?'} | "
                     + " | ".join(str(c) for c in counts) + " |")
    return "\n".join(lines)


def _distinct(mixes: Sequence[dict]) -> list[dict]:
    """One mix per dataset, teacher and type counts: every mix variant of one judged set writes
    the same shares, so each is listed once."""
    seen, out = set(), []
    for stats in sorted(mixes, key=lambda s: (str(s.get("dataset")), str(s.get("teacher")),
                                              s["folder"])):
        counts = tuple(int(stats["types"].get(t, {}).get("count", 0)) for t in TYPES)
        if (stats.get("dataset"), stats.get("teacher"), counts) not in seen:
            seen.add((stats.get("dataset"), stats.get("teacher"), counts))
            out.append(stats)
    return out


def runs_list(runs: Sequence[Run]) -> str:
    """Which folder each row came from, so every number can be traced back."""
    vary_paths, vary_teacher = len({r.paths for r in runs}) > 1, varies_teacher(runs)
    def seed(r: Run) -> str:
        return "" if r.seed is None else f" · seed {r.seed}"

    return "\n".join(f"- {row_label(r, vary_paths, vary_teacher)}{seed(r)} | test {r.test_data}: `{r.folder}`"
                     for r in sorted(runs, key=lambda r: (_row_order(r), r.test_data,
                                                          r.seed or 0)))
