"""Synthetic SVAMP-style word problems with gold answers AND gold solution steps (offline default).

    python -m md.data data=synthetic data.n_train=600 data.n_test=200 data.seed=0

The embedded default dataset for offline demos and tests: no files, no network. 28 templates
(`TEMPLATES`) cover what the paper's Table 5 and Appendix D name as the cases where CoT and PoT
differ, marked by tags (`TAGS`): "large_numbers", "multi_step", "more_fewer", "inverse" ("after
buying some he had 151 left"), "compare" (text answers such as "neither day") and "fraction";
"distractor" marks irrelevant numbers ("if he sold 70 cakes and 88 pastries").

Each Problem has `solution` (md.types.Solution) whose steps fully determine the answer; the step
semantics (out = op(*args); cmp yields the label of the larger arg, or labels["neither"]) are
defined in `md.data.synthetic.solution`. `meta["template"]` names the template. Values are ints
where whole and floats exact in binary (quarter dollars) otherwise, and every value is written in
the question; intermediate results are whole except in templates tagged "fraction", and the same
steps run in float arithmetic (as a PoT program would) give exactly the gold.

Determinism and splits: the test split is drawn first from `random.Random(f"synthetic-test-{seed}")`,
then train from its own stream, skipping any question text already used, so no question is in
both splits (nor twice in one) and the test set does not depend on `n_train`. Templates are used
round-robin (shuffled per round), so any split of >= 28 problems holds every template.
Ids are `synthetic-<seed>-<split>-<index>`.
"""

from __future__ import annotations

import random

from md.data.common import check_split
from md.data.synthetic.bank_basic import BASIC
from md.data.synthetic.bank_hard import HARD
from md.data.synthetic.solution import evaluate
from md.errors import MDError
from md.types import Problem

TEMPLATES = BASIC + HARD
TAGS = ("large_numbers", "multi_step", "more_fewer", "inverse", "compare", "fraction", "distractor")
assert len({t.name for t in TEMPLATES}) == len(TEMPLATES), "template names must be unique"
assert {tag for t in TEMPLATES for tag in t.tags} == set(TAGS), "TAGS must list the templates' tags"


def generate(split: str, n: int, seed: int, exclude: set[str] | None = None) -> list[Problem]:
    """`n` problems of `split` from the split's own seeded stream, avoiding `exclude`d questions."""
    rng = random.Random(f"synthetic-{split}-{seed}")
    seen = set(exclude or ())
    problems: list[Problem] = []
    order: list = []
    misses = 0
    while len(problems) < n:
        if not order:
            order = rng.sample(TEMPLATES, len(TEMPLATES))
        template = order.pop()
        question, solution = template.sample(rng)
        if question in seen:
            misses += 1
            if misses > 50 * n + 1000:  # the templates' value ranges are far larger than this
                raise MDError(f"synthetic: could not make {n} distinct {split} questions; lower n")
            continue
        seen.add(question)
        problems.append(Problem(
            id=f"synthetic-{seed}-{split}-{len(problems)}", dataset="synthetic", split=split,
            question=question, answer=evaluate(solution), solution=solution,
            meta={"template": template.name},
        ))
    return problems


def load(split: str, path: str | None = None, n_train: int = 600, n_test: int = 200,
         seed: int = 0) -> list[Problem]:
    """The `split` of the synthetic set (path must be None: the data is generated)."""
    check_split("synthetic", split)
    if path is not None:
        raise MDError("synthetic: problems are generated, not read; leave data.path=null "
                      "(or pick a benchmark, e.g. data=gsm8k data.path=...)")
    if n_train < 0 or n_test < 0:
        raise MDError(f"synthetic: n_train and n_test must be >= 0, got {n_train} and {n_test}")
    test = generate("test", n_test, seed)
    if split == "test":
        return test
    return generate("train", n_train, seed, exclude={p.question for p in test})
