"""Stage `evaluate`: sample N CoT and N PoT paths per test question and score every method.

    python -m md.evaluate student_dir=runs/x/student data=svamp inference.paths=20
    python -m md.evaluate inference.ensemble=[runs/cot/student,runs/pot/student]

    metrics = run(problems, Students.one(generator), sandbox, InferenceSettings(paths=4), "out")

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from md.errors import MDError
from md.evaluation import adaptive, curves, judge, methods, outputs
from md.evaluation.journal import NAME as JOURNAL
from md.evaluation.journal import Journal
from md.inference import Generator
from md.prompts import student_input
from md.settings import InferenceSettings
from md.types import Prediction, Problem, ReasoningPath


def _inputs(problems: Sequence[Problem]) -> tuple[list[str], list[str]]:
    return ([student_input(p.question, "cot") for p in problems],
            [student_input(p.question, "pot") for p in problems])


BOTH = ("cot", "pot")


def sampled_paths(problems: Sequence[Problem], cot_gen: Generator, pot_gen: Generator, n: int,
                  temperature: float, sandbox: judge.Runner, journal: Journal | None = None,
                  methods: Sequence[str] = BOTH) -> list[list[ReasoningPath]]:
    """Per question: n sampled CoT paths, then n sampled PoT paths (programs run), judged.
    journal: record the completions chunk by chunk, and skip what it already holds. methods:
    the ones sampled (a CoT-distilled student is not asked for programs)."""
    cot_in, pot_in = _inputs(problems)
    none: list[list[str]] = [[] for _ in problems]
    cot = _texts(journal, "cot", cot_in, cot_gen, n, temperature) if "cot" in methods else none
    pot = _texts(journal, "pot", pot_in, pot_gen, n, temperature) if "pot" in methods else none
    return judge.judge(cot, pot, sandbox)


def greedy_paths(problems: Sequence[Problem], cot_gen: Generator, pot_gen: Generator,
                 sandbox: judge.Runner, journal: Journal | None = None,
                 methods: Sequence[str] = BOTH) -> list[list[ReasoningPath]]:
    """Per question: one greedy path of each method in `methods`, judged."""
    cot_in, pot_in = _inputs(problems)
    none: list[list[str]] = [[] for _ in problems]
    cot = [t[0] for t in _texts(journal, "greedy_cot", cot_in, cot_gen, 1, None)] \
        if "cot" in methods else []
    pot = [t[0] for t in _texts(journal, "greedy_pot", pot_in, pot_gen, 1, None)] \
        if "pot" in methods else []
    return judge.judge(none, none, sandbox, cot, pot)


def _call(gen: Generator, n: int, temperature: float | None):
    """The generator's sampling, or (temperature None) its greedy decoding, one path a prompt."""
    if temperature is None:
        return lambda prompts: [[text] for text in gen.greedy(prompts)]
    return lambda prompts: gen.sample(prompts, n, temperature)


def _texts(journal: Journal | None, phase: str, prompts: list[str], gen: Generator, n: int,
           temperature: float | None) -> list[list[str]]:
    """gen's n completions per prompt (temperature None: its greedy one), through the journal
    when there is one, in chunks that are whole multiples of the generator's own batches, so the
    calls, and with them the random stream, are exactly an unchunked run's."""
    call = _call(gen, n, temperature)
    if journal is None:
        return call(prompts)
    batch = int(getattr(gen, "batch_size", 32) or 32)
    per_call = max(1, batch // n) if n <= batch else 1
    chunk = per_call * max(1, journal.every // per_call)
    return journal.run(phase, prompts, call, chunk)


def live_rounds(problems: Sequence[Problem], cot_gen: Generator, pot_gen: Generator,
                temperature: float, sandbox: judge.Runner,
                methods: Sequence[str] = BOTH) -> adaptive.Round:
    """An adaptive `Round` that samples: k more CoT and PoT paths for each open question."""

    def sample_round(open_: list[int], start: int, k: int) -> list[list[ReasoningPath]]:
        return sampled_paths([problems[i] for i in open_], cot_gen, pot_gen, k, temperature,
                             sandbox, methods=methods)

    return sample_round


def label_paths(problems: Sequence[Problem], gen: Generator, n: int, temperature: float,
                greedy: bool, journal: Journal | None = None) -> list[list[ReasoningPath]]:
    """Per question: n sampled answers of a label-fine-tuned student (and its greedy one)."""
    inputs = [student_input(p.question, "label") for p in problems]
    sampled = _texts(journal, "label", inputs, gen, n, temperature)
    greedy_texts = [t[0] for t in _texts(journal, "greedy_label", inputs, gen, 1, None)] \
        if greedy else None
    return judge.judge_labels(sampled, greedy_texts)


@dataclass(frozen=True)
class Students:
    """Who writes the paths: one student (cot is pot), or an ensemble's CoT and PoT students.

    label: a label-fine-tuned student, prompted with the label trigger, its bare answers scored
    as the `label` method. methods: the reasoning methods sampled; a student distilled on one
    method only (its md_student.json) is sampled in that method alone, as the paper's Table 1
    reports only +CoT for CoT distillation and +PoT for PoT distillation."""

    cot: Generator
    pot: Generator
    label: bool = False
    methods: tuple[str, ...] = BOTH

    @classmethod
    def one(cls, student: Generator, label: bool = False,
            methods: tuple[str, ...] = BOTH) -> Students:
        return cls(student, student, label, methods)

    @property
    def kind(self) -> str:
        return "single" if self.cot is self.pot else "ensemble"


@dataclass(frozen=True)
class Source:
    """What scored paths came from, as metrics.json says it: `single`, `ensemble` or `few-shot`
    students, a label student, and extra facts (how the student was loaded, merged shards)."""

    students: str = "single"
    label: bool = False
    info: Mapping[str, Any] = field(default_factory=dict)


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


def stop_rule(inference: InferenceSettings) -> adaptive.StopRule:
    return adaptive.StopRule(inference.adaptive.rule, inference.adaptive.threshold)


def run(problems: Sequence[Problem], students: Students, sandbox: judge.Runner,
        inference: InferenceSettings, out_dir: str | Path, wandb_run=None,
        dataset: str = "test", journal_key: str | None = None) -> dict:
    """Evaluate `students` on `problems` as `inference` says; returns the metrics.

    `inference.paths` paths per method are sampled (plus one greedy path each); the +CoT w/PoT
    vote uses `inference.vote_paths` of each (the paper's Table 1: 10 + 10), while +CoT and
    +PoT vote over all of them and the curves cover every N <= paths. Adaptive consistency is
    always replayed on the recorded paths; with `inference.adaptive.live` it is also run for
    real, sampling in rounds (a second sampling run, timed against the first). journal_key:
    record what is sampled in `out_dir` as it goes (md.evaluation.journal), so a killed run
    resumes; the key names what determines the samples (the caller's students and settings)."""
    if not problems:
        raise MDError("no test problems to evaluate; check data= and data.max_test")
    n, temperature, label = inference.paths, inference.temperature, students.label
    torch.manual_seed(inference.seed)
    journal = None if journal_key is None else journal_for(out_dir, journal_key, problems,
                                                           inference)
    start = time.perf_counter()
    if label:
        path_lists = label_paths(problems, students.cot, n, temperature, inference.greedy, journal)
    else:
        path_lists = sampled_paths(problems, students.cot, students.pot, n, temperature, sandbox,
                                   journal, students.methods)
    fixed_seconds = time.perf_counter() - start
    if inference.greedy and not label:
        greedy_lists = greedy_paths(problems, students.cot, students.pot, sandbox, journal,
                                    students.methods)
        path_lists = [s + g for s, g in zip(path_lists, greedy_lists, strict=True)]
    gens = [students.cot] if students.kind == "single" else [students.cot, students.pot]
    facts: dict[str, Any] = {"student_base": [getattr(g, "base_weights", "?") for g in gens],
                             "engine": ", ".join(dict.fromkeys(getattr(g, "engine", "?") for g in gens)),
                             # the environment the PoT paths ran in (md.sandbox.preamble), if any
                             "pot_preamble": _preamble_of(sandbox)}
    if inference.adaptive.live and not label:
        start, golds = time.perf_counter(), [p.answer for p in problems]
        used = adaptive.rounds(
            live_rounds(problems, students.cot, students.pot, temperature, sandbox,
                        students.methods),
            len(problems), stop_rule(inference), n, "cot_w_pot", inference.adaptive.round_size)
        facts["adaptive_live"] = {
            **adaptive.compare(used, path_lists, golds, stop_rule(inference), n, "cot_w_pot"),
            "seconds": time.perf_counter() - start, "fixed_seconds": fixed_seconds}
    metrics = score(problems, path_lists, inference, out_dir, Source(students.kind, label, facts),
                    wandb_run, dataset)
    if journal is not None:
        journal.finish()
    return metrics


def _preamble_of(sandbox) -> dict | None:
    preamble = getattr(sandbox, "preamble", None)
    return preamble.record() if preamble else None


def journal_for(out_dir: str | Path, journal_key: str, problems: Sequence[Problem],
                inference: InferenceSettings) -> Journal:
    """The sampling journal of an evaluation in `out_dir` (md.evaluation.journal)."""
    return Journal(Path(out_dir) / JOURNAL, journal_key, [p.id for p in problems],
                   every=inference.resume_every)


def score(problems: Sequence[Problem], path_lists: Sequence[Sequence[ReasoningPath]],
          inference: InferenceSettings, out_dir: str | Path, source: Source = Source(),
          wandb_run=None, dataset: str = "test") -> dict:
    """Vote, score and report judged paths (a student's, an ensemble's or a few-shot model's):
    accuracy per method, curves, replayed adaptive consistency; writes `out_dir`, logs W&B
    (keys `eval/<dataset>/...`)."""
    n, vote_paths = inference.paths, inference.vote_paths
    preds = []
    for prob, paths in zip(problems, path_lists, strict=True):
        votes = methods.votes(paths, vote_paths)
        preds.append(Prediction(prob.id, prob.answer, tuple(paths), votes,
                                methods.score(votes, prob.answer)))
    metrics = summarize(preds, n, inference.temperature, source.students == "ensemble")
    metrics["students"] = source.students
    metrics["paths_used"] = methods.paths_used(n, vote_paths, source.label)
    metrics["sampled_methods"] = [m for m in ("cot", "pot", "label")
                                  if any(p.method == m for paths in path_lists for p in paths)]
    metrics.update(source.info)
    golds = [p.answer for p in problems]
    voted = "label" if source.label else "cot_w_pot"
    curve = (curves.accuracy_curves([], [], n) if source.label
             else curves.accuracy_curves(path_lists, golds, n, inference.curves.draws,
                                         inference.seed, inference.curves.ci))
    metrics["adaptive"] = adaptive.evaluate(path_lists, golds, stop_rule(inference), n, voted,
                                            inference.adaptive.round_size)
    files = outputs.write_outputs(out_dir, preds, metrics, curve)
    if wandb_run is not None:
        outputs.log_wandb(wandb_run, metrics, preds, curve, files["plot"],
                          {p.id: p.question for p in problems}, dataset)
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
