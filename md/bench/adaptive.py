"""Adaptive consistency against fixed N on recorded paths: accuracy and mean paths used.

    python -m md.bench.adaptive                 # 1000 simulated questions, N = 20 per method
    python -m md.bench.adaptive --questions 300 --paths 20 --thresholds 0.9 0.95 0.99

No trained student's paths exist yet, so the recorded paths are SIMULATED, and the figures say
how the stopping rules behave on a plausible answer distribution, not what a real student gets:

- each question has a latent per-path accuracy p ~ Beta(m k, (1 - m) k), drawn separately for
  CoT and PoT; a wrong path picks one of three distractor answers with probabilities
  0.6 / 0.25 / 0.15 (a dominant wrong answer, as arithmetic slips tend to agree);
- 10% of PoT paths fail to execute and 5% of CoT paths state no answer;
- m = 0.66 is the paper's N=2 cascade accuracy (Table 3, LLaMA2-7B-MD, SVAMP); the spread k is
  fitted on a grid so that +CoT w/PoT with 7 + 7 paths gives the paper's 83.5% at N=14.

The paths are then replayed in sampling order by md.evaluation.adaptive (one CoT + one PoT
per round), exactly as a live run would draw them.
"""

from __future__ import annotations

import argparse
import random

from md.answers import is_correct
from md.evaluation import adaptive
from md.evaluation.methods import vote
from md.types import ReasoningPath

DISTRACTORS = (0.6, 0.25, 0.15)
TARGET_N14 = 0.835  # paper Table 3: LLaMA2-7B-MD + CoT w/PoT at N=14 (7 CoT + 7 PoT)
MEAN = 0.66  # paper Table 3: N=2 cascade


def _paths(rng: random.Random, method: str, p: float, n: int, fail: float) -> list[ReasoningPath]:
    out = []
    for _ in range(n):
        if rng.random() < fail:
            out.append(ReasoningPath(method, "", "error" if method == "pot" else "no_answer", None))
        elif rng.random() < p:
            out.append(ReasoningPath(method, "", "ok", 1.0))  # the gold answer is 1.0
        else:
            wrong = rng.choices((2.0, 3.0, 4.0), weights=DISTRACTORS)[0]
            out.append(ReasoningPath(method, "", "ok", wrong))
    return out


def simulate(questions: int, n: int, mean: float, k: float, seed: int) -> list[list[ReasoningPath]]:
    """Recorded paths: n CoT then n PoT per question; every gold answer is 1.0."""
    rng = random.Random(seed)
    lists = []
    for _ in range(questions):
        p_cot = rng.betavariate(mean * k, (1 - mean) * k)
        p_pot = rng.betavariate(mean * k, (1 - mean) * k)
        lists.append(_paths(rng, "cot", p_cot, n, 0.05) + _paths(rng, "pot", p_pot, n, 0.10))
    return lists


def accuracy_at(lists: list[list[ReasoningPath]], n: int) -> float:
    return sum(is_correct(v, 1.0) for v in (vote(p, "cot_w_pot", n) for p in lists)
               if v is not None) / len(lists)


def fit_k(questions: int, seed: int) -> float:
    """The Beta spread whose +CoT w/PoT accuracy at 7 + 7 paths is closest to the paper's."""
    grid = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0)
    return min(grid, key=lambda k: abs(accuracy_at(simulate(questions, 7, MEAN, k, seed), 7)
                                       - TARGET_N14))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=int, default=1000)
    ap.add_argument("--paths", type=int, default=20, help="N per method (fixed baseline)")
    ap.add_argument("--thresholds", type=float, nargs="+", default=[0.95, 0.99])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    k = fit_k(args.questions, args.seed + 1)  # fit and report on different draws
    lists = simulate(args.questions, args.paths, MEAN, k, args.seed)
    golds = [1.0] * len(lists)
    print(f"simulated {args.questions} questions, mean per-path accuracy {MEAN}, Beta spread "
          f"k={k} (N=14 accuracy {accuracy_at(lists, 7):.3f}, paper {TARGET_N14})")
    rules = [adaptive.StopRule("unchangeable")] + [
        adaptive.StopRule("beta", t) for t in args.thresholds]
    for rule in rules:
        r = adaptive.evaluate(lists, golds, rule, args.paths)
        print(f"{rule.rule:>12} {rule.threshold if rule.rule == 'beta' else '':>5}: "
              f"accuracy {100 * r['accuracy']:.1f}% with {r['mean_paths']:.1f} paths | fixed "
              f"N={args.paths}: {100 * r['fixed_accuracy']:.1f}% with {r['fixed_paths']:.0f} "
              f"paths | {100 * r['saving']:.0f}% fewer, "
              f"{100 * (r['accuracy'] - r['fixed_accuracy']):+.1f} points "
              f"({r['gained']} questions gained, {r['lost']} lost)")


if __name__ == "__main__":
    main()
