"""Paired differences between mixes on the same test questions: is MD really ahead of CoT, PoT
and the ensemble, or is the gap noise at this sample size?

    print(paired_table(runs))

Each side answers with its own headline method (MD and the ensemble with the +CoT w/PoT vote,
CoT distillation with +CoT, PoT distillation with +PoT, label fine-tuning with its label vote).
MD is also set against CoT and PoT distillation on their own path (MD's +CoT against CoT
distillation's +CoT, likewise PoT): the headline row mixes two effects, more paths and a better
student, and the same-path row keeps only the second.
Runs are paired when they share the student, the training and test data, the training fraction
and the number of paths, and the same seed (a sweep over seeds pairs seed with seed). The
difference is pooled over every paired (seed, question); its 95% interval is a paired bootstrap
that resamples test questions (the same questions for every seed), so it reflects how much the
difference would move on another draw of questions, with these trained students. With several
seeds a second interval also resamples the seeds (a two-level bootstrap: seeds with replacement,
then the questions), so it counts how much retraining moves the difference too; that is the one
to read for "is MD better as a method". On tiny students the seeds can disagree in sign while the
question interval alone looks resolved (the demo over three seeds: MD − PoT distillation per seed
-68, +37, -2 points). An interval that excludes 0 is a real difference at this sample size; one
that covers 0 is not, whatever the point estimate says.
Each comparison also states the smallest difference its design can resolve: the true difference
that a two-sided 5% test would detect with 80% power at this number of seeds x questions and this
spread of the paired differences, (z_0.975 + z_0.8) x the bootstrap standard error; a difference
smaller than that is one this table could not have told from noise, whichever way it came out.
When MD was trained from more than one teacher (e.g. the Faithful-CoT panel and one of its models
alone), each MD row is compared with the other mixes of its own teacher, and the MD rows of
different teachers with each other (the one with more teacher models first).
Per-question correctness comes from each run's predictions.jsonl (runs read from the W&B API
have none and are left out).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from md.reporting.collect import Run
from md.reporting.tables import COLUMN_NAMES, MIXES, loss_label, teacher_label, teacher_models

HEADLINE = {"md": "cot_w_pot", "ensemble": "cot_w_pot", "cot": "cot", "pot": "pot", "label": "label"}
AGAINST = ("cot", "pot", "ensemble", "label")
SAME_PATH = ("cot", "pot")  # mixes MD is also compared with on their own path
DRAWS = 2000
POWER_Z = 1.959964 + 0.841621  # two-sided 5% test, 80% power


def correctness(run: Run, method: str) -> dict[str, bool] | None:
    """problem id -> whether `method` answered it right, from the run's predictions.jsonl."""
    path = Path(run.folder) / "predictions.jsonl"
    if not path.is_file():
        return None
    right, seen = {}, False
    with path.open() as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                seen = seen or method in record.get("correct", {})
                right[record["problem_id"]] = bool(record.get("correct", {}).get(method, False))
    return right if seen else None  # a method the run never answered is not a wrong answer


def difference(pairs: Sequence[tuple[dict[str, bool], dict[str, bool]]], draws: int = DRAWS,
               seed: int = 0) -> dict:
    """MD − other in points over the questions every pair shares, with a paired bootstrap 95%
    interval over questions and, with several seeds, one over seeds and questions; also the
    per-seed differences."""
    shared = sorted(set.intersection(*(set(a) & set(b) for a, b in pairs)))
    if not shared:
        return {"questions": 0}
    d = np.array([[float(a[q]) - float(b[q]) for q in shared] for a, b in pairs])  # seeds x Q
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(shared), size=(draws, len(shared)))
    per_seed_boots = d[:, idx].mean(axis=2)  # seeds x draws: each seed on the same question draw
    boots = per_seed_boots.mean(axis=0)
    low, high = np.percentile(boots, [2.5, 97.5])
    se = float(boots.std(ddof=1))
    seeds_too = None
    if len(pairs) > 1:  # draw k: a resample of the seeds, each on question draw k
        picked = rng.integers(0, len(pairs), size=(draws, len(pairs)))
        both = per_seed_boots[picked, np.arange(draws)[:, None]].mean(axis=1)
        seeds_too = [100 * float(x) for x in np.percentile(both, [2.5, 97.5])]
    md_only, other_only = int((d > 0).sum()), int((d < 0).sum())
    return {"questions": len(shared), "seeds": len(pairs), "diff": 100 * float(d.mean()),
            "low": 100 * float(low), "high": 100 * float(high), "seeds_too": seeds_too,
            "se": 100 * se, "resolvable": 100 * POWER_Z * se,
            "per_seed": [100 * float(x) for x in d.mean(axis=1)],
            "md_only": md_only, "other_only": other_only,
            "mcnemar_p": mcnemar_p(md_only, other_only)}


def mcnemar_p(b: int, c: int) -> float:
    """Exact two-sided McNemar p-value: b questions only MD got right, c only the other; under
    no difference each discordant question is a fair coin."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def comparisons(runs: Sequence[Run]) -> list[dict]:
    """Every MD row against every other mix it can be paired with (see the module docstring)."""
    def setting(r: Run) -> tuple:
        return (r.student, r.train_data, r.test_data, r.train_fraction, r.paths)

    several = len({teacher_label(r) for r in runs if r.mix in HEADLINE}) > 1
    by_setting: dict[tuple, dict[tuple[str, str, str], dict]] = defaultdict(lambda: defaultdict(dict))
    size: dict[str, int] = {}
    for r in runs:
        if r.mix in HEADLINE and r.seed is not None:
            teacher = teacher_label(r) if several else ""
            size[teacher] = len(teacher_models(r))
            by_setting[setting(r)][(r.mix, loss_label(r) if r.mix == "md" else "", teacher)
                                   ].setdefault(r.seed, r)
    found = []
    for key, rows in sorted(by_setting.items(), key=lambda kv: str(kv[0])):
        for (mix, loss, teacher), md_runs in sorted(rows.items()):
            if mix != "md":
                continue
            against = [(other, rows.get((other, "", teacher), {}), HEADLINE[other], teacher)
                       for other in AGAINST]
            against += [("md", runs_b, HEADLINE["md"], t) for (m, lo, t), runs_b in sorted(rows.items())
                        if m == "md" and lo == loss and size.get(t, 0) < size.get(teacher, 0)]
            for other, other_runs, other_method, other_teacher in against:
                md_methods = [HEADLINE["md"]] + ([HEADLINE[other]] if other in SAME_PATH else [])
                for md_method in md_methods:
                    pairs = []
                    for s in sorted(set(md_runs) & set(other_runs)):
                        a = correctness(md_runs[s], md_method)
                        b = correctness(other_runs[s], other_method)
                        if a is not None and b is not None:
                            pairs.append((a, b))
                    if pairs:
                        found.append({"student": key[0], "test_data": key[2], "loss": loss,
                                      "teacher": teacher, "md_method": md_method,
                                      "against": other, "other_teacher": other_teacher,
                                      **difference(pairs)})
    return found


def paired_table(runs: Sequence[Run]) -> str:
    """The markdown table of `comparisons`, or "" when no MD run can be paired."""
    rows = [c for c in comparisons(runs) if c.get("questions")]
    if not rows:
        return ""
    lines = ["| student · test data | MD against | seeds × questions | "
             "MD − other (points) | 95% interval | 95% interval, seeds too | "
             "smallest resolvable | only MD / only other right | McNemar p | per seed |",
             "|---|---|---:|---:|---|---|---:|---:|---:|---|"]
    for c in rows:
        def who(mix: str, teacher: str, method: str, loss: str = "") -> str:
            name = f"{MIXES[mix]} {loss}".strip() if mix != "md" else f"MD {loss}".strip()
            return name + (f", teacher {teacher}" if teacher else "") + \
                f" ({COLUMN_NAMES.get(method)})"
        md = who("md", c["teacher"], c["md_method"], c["loss"])
        other = who(c["against"], c["other_teacher"] if c["against"] == "md" else "",
                    HEADLINE[c["against"]], c["loss"] if c["against"] == "md" else "")
        per_seed = ", ".join(f"{x:+.1f}" for x in c["per_seed"])
        seeds_too = "[{:+.1f}, {:+.1f}]".format(*c["seeds_too"]) if c["seeds_too"] else "(one seed)"
        lines.append(f"| {c['student']} · {c['test_data']} | {md} − {other} | "
                     f"{c['seeds']} × {c['questions']} | {c['diff']:+.1f} | "
                     f"[{c['low']:+.1f}, {c['high']:+.1f}] | {seeds_too} | ±{c['resolvable']:.1f} | "
                     f"{c['md_only']} / {c['other_only']} | {c['mcnemar_p']:.3f} | {per_seed} |")
    return "\n".join(lines) + ("\n\nThe difference is pooled over every paired seed and "
                               "question; its 95% interval is a paired bootstrap over test "
                               "questions (2,000 draws, the same questions for every seed), "
                               "for these trained students; with several seeds the second "
                               "interval resamples the seeds too, so it also counts how much "
                               "retraining moves the difference (read that one for the method). "
                               "An interval that covers 0 is not a difference at this sample size. "
                               "Smallest resolvable: the true difference a two-sided 5% test "
                               "detects with 80% power at these seeds × questions, 2.80 × the "
                               "bootstrap standard error. McNemar's exact test on the questions "
                               "only one side got right (pooled over seeds, so it too is for "
                               "these trained students).")
