"""Adaptive teacher sampling: ask for a question's samples in rounds, stop once more would not
change the training data (`extract.adaptive.enabled=true`; off by default, the paper's n=20). The values are
md.settings.AdaptiveSampling; how they decide is here.

A (question, method) prompt is sampled `round_size` samples at a time, each round judged (CoT
answers parsed, PoT programs run in the sandbox), and stops once

1. its voted answer is decided, by the rule evaluation uses for adaptive consistency
   (md.evaluation.adaptive.should_stop, one implementation): "unchangeable" (exact: the
   leader's lead exceeds the samples left, so the vote over all n could not differ) or "beta"
   (that, or P(leader beats the runner-up) >= threshold under a Beta posterior); and
2. the mix has what it keeps of it: `paths_per_question` distinct correct paths, or no new
   distinct correct path in the last `patience` samples. (Teachers repeat themselves: the
   simulated one writes 1.5 distinct correct paths per prompt on average out of 20, so waiting
   for 4 would almost never stop; a run of samples that adds nothing is the useful signal.)

What it changes: a question's λ is estimated from the samples taken, as the ratio of the rates of
correct samples (md.mixing.vote.lam_of; exactly n2 / (n1 + n2) at 20 per method), so it is
noisier; the type can differ when a "beta" stop was wrong. The exact rule never changes a voted
answer.
Every sample is cached like any other, so a later non-adaptive run asks only for the rest.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from md.evaluation.adaptive import StopRule, should_stop
from md.mixing.targets import normalize_ws
from md.settings import AdaptiveSampling
from md.types import JudgedThought


def settled(rule: AdaptiveSampling, judged: Sequence[JudgedThought], n: int) -> bool:
    """Whether a prompt with these judged samples (in sample order) of at most n can stop."""
    if len(judged) >= n:
        return True
    answers = [j.answer for j in judged if j.status == "ok" and j.answer is not None]
    if not should_stop(answers, n - len(judged), StopRule(rule.rule, rule.threshold)):
        return False
    return enough_paths(rule, judged)


def enough_paths(rule: AdaptiveSampling, judged: Sequence[JudgedThought]) -> bool:
    """k distinct correct paths, or none new in the last `patience` samples."""
    seen: set[str] = set()
    last_new = -1
    for i, j in enumerate(judged):
        if j.correct:
            key = normalize_ws(j.text)
            if key not in seen:
                seen.add(key)
                last_new = i
    if rule.paths_per_question is not None and len(seen) >= rule.paths_per_question:
        return True
    return len(judged) - 1 - last_new >= rule.patience


def taken(samples: Sequence[JudgedThought], rule: AdaptiveSampling, n: int) -> int:
    """How many of a prompt's recorded samples (in order) the rule would have asked for."""
    count = 0
    while count < min(n, len(samples)):
        count = min(n, count + rule.round_size)
        if settled(rule, samples[:count], n):
            break
    return min(count, len(samples))


def expected_saving(rule: AdaptiveSampling, n: int, agreement: float, new_path: float = 0.1,
                    trials: int = 400, seed: int = 0) -> float:
    """Expected share of samples saved if each sample gives the majority answer with
    probability `agreement` (else one of three others) and a correct sample is a new distinct
    path with probability `new_path` (the first always is): a dry-run estimate, not a promise."""
    rng = random.Random(seed)
    used = 0
    for _ in range(trials):
        samples, seen = [], 0
        for i in range(n):
            right = rng.random() < agreement
            new = right and (seen == 0 or rng.random() < new_path)
            seen += new
            text = f"path {seen}" if right and new else ("path 1" if right else f"wrong {i}")
            samples.append(JudgedThought("q", "cot", i, text, "ok",
                                         1.0 if right else float(2 + rng.randrange(3)),
                                         right, None))
        used += taken(samples, rule, n)
    return 1 - used / (trials * n)


def expected_saving_line(rule: AdaptiveSampling, n: int) -> str:
    """The dry run's line: the expected saving under three agreement levels."""
    levels = (0.95, 0.8, 0.6)
    saved = " / ".join(f"{expected_saving(rule, n, q):.0%}" for q in levels)
    agree = " / ".join(f"{q:.0%}" for q in levels)
    return (f"adaptive sampling ({rule.rule}): expected saving about {saved} if samples agree "
            f"with their majority {agree} of the time; the cost above is the most it can be")
