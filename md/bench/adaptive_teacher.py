"""Adaptive teacher sampling against the paper's n = 20 per method, on recorded samples.

    python -m md.bench.adaptive_teacher                        # 2,000 problems + two students
    python -m md.bench.adaptive_teacher --problems 500 --no-students

Runs a full n = 20 extraction once on the embedded default (synthetic problems, the SIMULATED
teacher, every program run in the sandbox), then replays the adaptive rule (md.teacher.adaptive,
the defaults of extract.adaptive) on the recorded samples in sampling order: exactly what live
rounds would have asked for, since samples are independent. Both judged sets are voted, typed
and weighted by md.mix, and compared question by question. With students (the default), the
demo's MD student (experiment=demo: tiny-llama, full fine-tuning) is trained on each mix and
evaluated on the demo's test questions, side by side. The last line is the summary:

    saved S% of completions; types identical for T% of questions; mean |Δλ| = L (max M)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from md import data, jsonl
from md.settings import ADAPTIVE_RULES, AdaptiveSampling, ExtractSettings
from md.stages import execute, mix
from md.stages.extract import run as extract
from md.teacher.adaptive import taken
from md.teacher.simulated import build_simulated_teacher
from md.types import JudgedThought


def replay(judged: list[JudgedThought], rule: AdaptiveSampling, n: int) -> list[JudgedThought]:
    """The samples adaptive rounds would have taken, per (problem, method), in sample order."""
    groups: dict[tuple[str, str], list[JudgedThought]] = defaultdict(list)
    for j in judged:
        groups[(j.problem_id, j.method)].append(j)
    kept = []
    for samples in groups.values():
        samples.sort(key=lambda j: j.sample_index)
        kept += samples[:taken(samples, rule, n)]
    return kept


def compare(full: list, adaptive: list) -> dict[str, float]:
    """Types identical, and |Δλ| over the type-3 questions (the only ones whose loss uses λ:
    types 1 and 2 weigh both methods 1) and over every question with a λ in both runs."""
    by_id = {q.problem.id: q for q in adaptive}
    pairs = [(q, by_id[q.problem.id]) for q in full]
    same = sum(a.qtype == b.qtype for a, b in pairs)
    both = [abs(a.lam - b.lam) for a, b in pairs if a.lam is not None and b.lam is not None]
    type3 = [abs(a.lam - b.lam) for a, b in pairs if a.qtype == b.qtype == 3]
    return {"types_identical": same / len(full), "type3": len(type3),
            "mean_dlam": _mean(type3), "max_dlam": max(type3, default=0.0),
            "mean_dlam_all": _mean(both), "max_dlam_all": max(both, default=0.0)}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def train_demo_student(mixed: Path, out: Path, overrides: list[str]) -> dict[str, float]:
    """The demo's MD student trained on `mixed`, evaluated on the demo's test questions."""
    cmd = [sys.executable, "-m", "md.train", "experiment=demo", "mix=md", "logger=none",
           f"train.examples={mixed}", f"hydra.run.dir={out}", f"paths.artifacts={out / 'art'}",
           *overrides]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"training on {mixed} failed:\n{done.stderr[-3000:]}")
    return json.loads((out / "eval" / "metrics.json").read_text())["accuracy"]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problems", type=int, default=2000, help="synthetic training problems")
    ap.add_argument("--n", type=int, default=20, help="samples per method in the full run")
    ap.add_argument("--rule", default="beta", choices=ADAPTIVE_RULES)
    ap.add_argument("--no-students", action="store_true", help="skip the two demo students")
    ap.add_argument("--student-args", nargs="*", default=[],
                    help="extra md.train overrides for the students, e.g. trainer.max_steps=10")
    args = ap.parse_args(argv)
    rule = AdaptiveSampling(rule=args.rule)
    problems = data.load("synthetic", "train", n_train=args.problems)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        extract(problems, build_simulated_teacher(n=args.n), work / "thoughts.jsonl",
                ExtractSettings(progress=False))
        execute.run(work / "thoughts.jsonl", work / "full.jsonl", problems, progress=False)
        judged = jsonl.read_all(work / "full.jsonl", JudgedThought)
        kept = replay(judged, rule, args.n)
        jsonl.write(work / "adaptive.jsonl", kept)
        full_q = mix.questions(work / "full.jsonl", problems)
        adaptive_q = mix.questions(work / "adaptive.jsonl", problems)
        stats = compare(full_q, adaptive_q)
        saved = 1 - len(kept) / len(judged)
        print(f"{len(problems):,} synthetic problems, simulated teacher, n = {args.n} per "
              f"method: {len(judged):,} completions in the full run, {len(kept):,} taken by the "
              f"adaptive rule ({rule.rule}, threshold {rule.threshold}, rounds of "
              f"{rule.round_size}, patience {rule.patience}, {rule.paths_per_question} paths)")
        print(f"|Δλ| over the {stats['type3']:,} questions of type 3 in both runs (the only ones "
              f"whose loss uses λ); over every question with a λ: mean "
              f"{stats['mean_dlam_all']:.3f} (max {stats['max_dlam_all']:.3f})")
        if not args.no_students:
            rows = {}
            for name in ("full", "adaptive"):
                mix.run(work / f"{name}.jsonl", work / f"mix_{name}", problems)
                rows[name] = train_demo_student(work / f"mix_{name}" / "mixed.jsonl",
                                                work / f"student_{name}", args.student_args)
            keys = [k for k in ("cot", "pot", "cot_w_pot", "cascade") if k in rows["full"]]
            print("\ndemo MD student        " + "  ".join(f"{k:>10}" for k in keys))
            for name, acc in rows.items():
                print(f"trained on the {name:<8}" + "  ".join(f"{100 * acc[k]:>9.1f}%" for k in keys))
            print()
    print(f"saved {saved:.0%} of completions; types identical for "
          f"{stats['types_identical']:.1%} of questions; mean |Δλ| = {stats['mean_dlam']:.3f} "
          f"(max {stats['max_dlam']:.3f})")


if __name__ == "__main__":
    main()
