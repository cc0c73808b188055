"""Stage `mix`: judged thoughts -> vote, Type 1-4, λ, balance, targets -> MixedExample JSONL.

    python -m md.mix judged=judged.jsonl out=artifacts/mix mix=md    # or cot | pot | label

Per question (§3.1-3.2 of the paper): majority vote per method over the valid thoughts, the
type (1: only PoT's vote right, 2: only CoT's, 3: both, 4: neither), n1 / n2 = correct CoT /
PoT samples and λ = n2 / (n1 + n2) (from rates when the methods have
unequal sample counts). The `mix` group (MixSettings) picks the data-mix variant:
  md     types 1-3, type 4 dropped, types 1 and 2 upsampled; weights 1 (types 1, 2) or
         1-λ on CoT and λ on PoT (type 3)            (md.mixing.targets, md.mixing.balance)
  cot    CoT distillation: correct CoT paths of every question, weight 1
  pot    PoT distillation: correct PoT paths of every question, weight 1
  label  label fine-tuning: question -> " " + gold answer, weight 1
Every variant writes the same record type to `<out>/mixed.jsonl`, and the type statistics
(Fig. 1 shares, λ histogram) to `<out>/stats.json` and `<out>/stats.png`, and prints them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from md import jsonl
from md.data.ids import check_ids
from md.errors import MDError
from md.mixing import balance, plot, stats, targets
from md.mixing.vote import Question, summarize
from md.settings import MIX_VARIANTS, MixSettings
from md.types import JudgedThought, MixedExample, Problem

MIXED = "mixed.jsonl"
STATS_JSON = "stats.json"
STATS_PNG = "stats.png"


def questions(judged_path: str | Path, problems: Sequence[Problem]) -> list[Question]:
    """Vote and type every problem that has judged thoughts, in dataset order."""
    by_problem: dict[str, list[JudgedThought]] = defaultdict(list)
    for j in jsonl.read(judged_path, JudgedThought):
        by_problem[j.problem_id if isinstance(j.problem_id, str) else repr(j.problem_id)].append(j)
    if not by_problem:
        raise MDError(f"{judged_path}: no judged thoughts; run md.execute on a non-empty thoughts file")
    check_ids(by_problem, (p.id for p in problems), judged_path)
    return [summarize(p, by_problem[p.id]) for p in problems if p.id in by_problem]


def build(
    qs: Sequence[Question], variant: str, k: int | None, factors: dict[int, int], seed: int
) -> list[MixedExample]:
    """All records of the mix: each question's examples, repeated by its type's factor.

    Each example's `share` is 1/m for the m kept paths of its question and method, so a
    question's CoT loss is the mean over its CoT paths (likewise PoT) and the PoT:CoT ratio of
    a type-3 question is exactly λ : 1-λ (Eq. 4), however many paths each method kept. One
    dataset-wide constant then scales every share so their mean is 1 (the learning rate keeps
    its meaning; a constant factor on the whole loss changes no ratio).
    """
    records: list[MixedExample] = []
    for q in qs:
        own = list(targets.examples(q, variant, k, seed))
        per_method = Counter(e.method for e in own)
        own = [replace(e, share=1.0 / per_method[e.method]) for e in own]
        records.extend(own * factors.get(q.qtype, 1))
    scale = len(records) / sum(e.share for e in records) if records else 1.0
    return [replace(e, share=e.share * scale) for e in records]


def run(judged_path: str | Path, out_dir: str | Path, problems: Sequence[Problem],
        settings: MixSettings = MixSettings(), *, seed: int = 0,
        wandb_run: Any = None, teacher: str | None = None) -> dict[str, Any]:
    """Mix `judged_path` into `out_dir/{mixed.jsonl,stats.json,stats.png}`; returns the stats.

    seed: which of a question's correct paths are kept; wandb_run: where the statistics and the
    plot are logged as well (None: the files only); teacher: the models named in the statistics."""
    variant, paths_per_question = settings.variant, settings.paths_per_question
    if variant not in MIX_VARIANTS:
        raise MDError(f"mix.variant={variant!r}; expected one of {', '.join(MIX_VARIANTS)}")
    if paths_per_question is not None and paths_per_question < 1:
        raise MDError(f"mix.paths_per_question={paths_per_question}: use an integer >= 1 or null (all)")
    qs = questions(judged_path, problems)
    counts = {t: sum(q.qtype == t for q in qs) for t in (1, 2, 3, 4)}
    factors = (balance.factors(counts, settings.upsample, settings.target_share,
                               settings.max_factor) if variant == "md" else {})
    records = build(qs, variant, paths_per_question, factors, seed)
    out = Path(out_dir)
    datasets = sorted({q.problem.dataset for q in qs})
    result = stats.compute(qs, records, factors, dataset="+".join(datasets), variant=variant,
                           teacher=teacher)
    result["problems_without_thoughts"] = len(problems) - len(qs)
    stats.save_json(result, out / STATS_JSON)
    plot.save_png(result, out / STATS_PNG)
    stats.log_wandb(result, wandb_run, png=out / STATS_PNG)
    if not records:
        raise MDError(f"mix={variant} produced no training examples from {len(qs)} questions "
                      f"(no correct path to train on); see {out / STATS_JSON}")
    jsonl.write(out / MIXED, records)
    return result
