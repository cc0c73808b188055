"""Stage `evaluate`: sample N CoT and N PoT paths per test question and score every method.

    python -m md.evaluate student_dir=runs/x/student data=svamp inference.paths=20
    python -m md.evaluate inference.ensemble=[runs/cot/student,runs/pot/student]

One sampling run (plus one greedy path per method) feeds every method of md.evaluation.methods
(+CoT, +PoT, +CoT w/PoT, the N=2 cascade, greedy), the accuracy-vs-N curves and adaptive
consistency replayed on the recorded paths. With `inference.ensemble=[A, B]` the CoT paths come
from student A (CoT-distilled) and the PoT paths from student B (PoT-distilled), and their
concat vote is reported as `ensemble`. `inference.adaptive.live=true` also runs adaptive
consistency for real: a second sampling run in rounds, reported as `adaptive_live`. Writes
predictions.jsonl, metrics.json and curves.* (see md.evaluation.outputs) to `out_dir`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import torch

from md.errors import MDError
from md.evaluation import adaptive, curves, judge, methods, outputs
from md.infer import Generator
from md.prompts import student_input
from md.types import Prediction, Problem, ReasoningPath


def _inputs(problems: Sequence[Problem]) -> tuple[list[str], list[str]]:
    return ([student_input(p.question, "cot") for p in problems],
            [student_input(p.question, "pot") for p in problems])


def sampled_paths(problems: Sequence[Problem], cot_gen: Generator, pot_gen: Generator, n: int,
                  temperature: float, sandbox: judge.Runner) -> list[list[ReasoningPath]]:
    """Per question: n sampled CoT paths, then n sampled PoT paths (programs run), judged."""
    cot_in, pot_in = _inputs(problems)
    return judge.judge(cot_gen.sample(cot_in, n, temperature),
                       pot_gen.sample(pot_in, n, temperature), sandbox)


def greedy_paths(problems: Sequence[Problem], cot_gen: Generator, pot_gen: Generator,
                 sandbox: judge.Runner) -> list[list[ReasoningPath]]:
    """Per question: one greedy CoT path and one greedy PoT path, judged."""
    cot_in, pot_in = _inputs(problems)
    none: list[list[str]] = [[] for _ in problems]
    return judge.judge(none, none, sandbox, cot_gen.greedy(cot_in), pot_gen.greedy(pot_in))


def live_rounds(problems: Sequence[Problem], cot_gen: Generator, pot_gen: Generator,
                temperature: float, sandbox: judge.Runner) -> adaptive.Round:
    """An adaptive `Round` that samples: k more CoT and PoT paths for each open question."""

    def sample_round(open_: list[int], start: int, k: int) -> list[list[ReasoningPath]]:
        return sampled_paths([problems[i] for i in open_], cot_gen, pot_gen, k, temperature,
                             sandbox)

    return sample_round


def label_paths(problems: Sequence[Problem], gen: Generator, n: int, temperature: float,
                greedy: bool) -> list[list[ReasoningPath]]:
    """Per question: n sampled answers of a label-fine-tuned student (and its greedy one)."""
    inputs = [student_input(p.question, "label") for p in problems]
    return judge.judge_labels(gen.sample(inputs, n, temperature),
                              gen.greedy(inputs) if greedy else None)


def summarize(preds: Sequence[Prediction], n: int, temperature: float, ensemble: bool) -> dict:
    """Accuracy per method, answer/execution rates and the cascade's cost."""
    q = max(len(preds), 1)
    acc = {m: sum(p.correct.get(m, False) for p in preds) / q for m in preds[0].correct} \
        if preds else {}
    if ensemble:
        acc["ensemble"] = acc.get("cot_w_pot", 0.0)
    statuses = {m: Counter(x.status for p in preds for x in methods.sampled(p.paths, m))
                for m in ("cot", "pot", "label")}
    rate = {f"{m}_answer_rate": c["ok"] / sum(c.values()) for m, c in statuses.items() if c}
    used = [methods.cascade(p.paths)[1] for p in preds]
    return {"questions": len(preds), "paths_per_method": n, "temperature": temperature,
            "students": "ensemble" if ensemble else "single", "accuracy": acc, **rate,
            "pot_status": dict(statuses["pot"]), "cascade_mean_paths": sum(used) / q}


def run(problems: Sequence[Problem], student: Generator, sandbox: judge.Runner, *, n: int,
        temperature: float, out_dir: str | Path, pot_student: Generator | None = None,
        vote_paths: int | None = None, label: bool = False, greedy: bool = True,
        draws: int = 50, ci: float = 0.95, stop: adaptive.StopRule | None = None,
        round_size: int = 1, live_adaptive: bool = False, seed: int = 0, wandb_run=None,
        info: dict | None = None) -> dict:
    """Evaluate `student` (or the ensemble student + pot_student) on `problems`; returns metrics.

    vote_paths: CoT and PoT paths each in the +CoT w/PoT vote (None: all n); the paper's
    Table 1 uses 10 + 10, while +CoT and +PoT vote over all n and the curves cover every
    N <= n. label: the student was label-fine-tuned: it is prompted with the label trigger
    and its bare answers are scored as the `label` method. Adaptive consistency is always
    replayed on the recorded paths; with `live_adaptive` it is also run for real, sampling in
    rounds (a second sampling run, timed against the first). info: extra facts for
    metrics.json (how the student was loaded)."""
    if not problems:
        raise MDError("no test problems to evaluate; check data= and data.max_test")
    if n < 1:
        raise MDError(f"inference.paths must be >= 1, got {n}")
    stop = stop or adaptive.StopRule()  # beta at 0.95
    torch.manual_seed(seed)
    ensemble, pot_student = pot_student is not None, pot_student or student
    start = time.perf_counter()
    if label:
        path_lists = label_paths(problems, student, n, temperature, greedy)
    else:
        path_lists = sampled_paths(problems, student, pot_student, n, temperature, sandbox)
    fixed_seconds = time.perf_counter() - start
    if greedy and not label:
        greedy_lists = greedy_paths(problems, student, pot_student, sandbox)
        path_lists = [s + g for s, g in zip(path_lists, greedy_lists, strict=True)]
    facts = dict(info or {})
    if live_adaptive and not label:
        start, golds = time.perf_counter(), [p.answer for p in problems]
        used = adaptive.rounds(live_rounds(problems, student, pot_student, temperature, sandbox),
                               len(problems), stop, n, "cot_w_pot", round_size)
        facts["adaptive_live"] = {
            **adaptive.compare(used, path_lists, golds, stop, n, "cot_w_pot"),
            "seconds": time.perf_counter() - start, "fixed_seconds": fixed_seconds}
    return score(problems, path_lists, n=n, temperature=temperature, out_dir=out_dir,
                 vote_paths=vote_paths, students="ensemble" if ensemble else "single",
                 label=label, draws=draws, ci=ci, stop=stop, round_size=round_size, seed=seed,
                 wandb_run=wandb_run, info=facts)


def score(problems: Sequence[Problem], path_lists: Sequence[Sequence[ReasoningPath]], *, n: int,
          temperature: float, out_dir: str | Path, vote_paths: int | None = None,
          students: str = "single", label: bool = False, draws: int = 50, ci: float = 0.95,
          stop: adaptive.StopRule | None = None, round_size: int = 1, seed: int = 0,
          wandb_run=None, info: dict | None = None) -> dict:
    """Vote, score and report judged paths (a student's, an ensemble's or a few-shot model's):
    accuracy per method, curves, replayed adaptive consistency; writes `out_dir`, logs W&B."""
    stop = stop or adaptive.StopRule()
    preds = []
    for prob, paths in zip(problems, path_lists, strict=True):
        votes = methods.votes(paths, vote_paths)
        preds.append(Prediction(prob.id, prob.answer, tuple(paths), votes,
                                methods.score(votes, prob.answer)))
    metrics = summarize(preds, n, temperature, students == "ensemble")
    metrics["students"] = students
    metrics["paths_used"] = methods.paths_used(n, vote_paths, label)
    metrics.update(info or {})
    golds = [p.answer for p in problems]
    voted = "label" if label else "cot_w_pot"
    curve = (curves.accuracy_curves([], [], n) if label
             else curves.accuracy_curves(path_lists, golds, n, draws, seed, ci))
    metrics["adaptive"] = adaptive.evaluate(path_lists, golds, stop, n, voted, round_size)
    files = outputs.write_outputs(out_dir, preds, metrics, curve)
    if wandb_run is not None:
        outputs.log_wandb(wandb_run, metrics, preds, curve, files["plot"])
    return metrics


def print_metrics(metrics: dict, out_dir) -> None:
    for method, value in metrics["accuracy"].items():
        print(f"{method:>20}: {100 * value:5.1f}%")
    ad = metrics["adaptive"]
    print(f"adaptive ({ad['rule']}, replayed): {100 * ad['accuracy']:.1f}% with "
          f"{ad['mean_paths']:.1f} paths vs {100 * ad['fixed_accuracy']:.1f}% with "
          f"{ad['fixed_paths']:.1f}")
    if "adaptive_live" in metrics:
        live = metrics["adaptive_live"]
        print(f"adaptive ({live['rule']}, live): {100 * live['accuracy']:.1f}% with "
              f"{live['mean_paths']:.1f} paths in {live['seconds']:.1f} s vs "
              f"{100 * live['fixed_accuracy']:.1f}% with {live['fixed_paths']:.1f} in "
              f"{live['fixed_seconds']:.1f} s")
    print(f"wrote {out_dir}")
