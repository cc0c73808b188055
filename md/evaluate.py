"""Stage `evaluate`: sample N CoT and N PoT paths per test question and score every method.

    python -m md.evaluate student_dir=runs/x/student data=svamp inference.paths=20
    python -m md.evaluate inference.ensemble=[runs/cot/student,runs/pot/student]

One sampling run (plus one greedy path per method) feeds every method of md.evaluation.methods
(+CoT, +PoT, +CoT w/PoT, the N=2 cascade, greedy), the accuracy-vs-N curves and adaptive
consistency replayed on the recorded paths. With `inference.ensemble=[A, B]` the CoT paths come
from student A (CoT-distilled) and the PoT paths from student B (PoT-distilled), and their
concat vote is reported as `ensemble`. Writes predictions.jsonl, metrics.json and curves.*
(see md.evaluation.report) to `out_dir`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path as FsPath

import torch
from omegaconf import DictConfig

from md.cli import stage_main
from md.errors import MDError
from md.evaluation import adaptive, curves, judge, methods, report
from md.infer import Generator
from md.prompts import student_input
from md.types import Prediction, Problem


def _sample(problems: Sequence[Problem], cot_gen: Generator, pot_gen: Generator, n: int,
            temperature: float, greedy: bool) -> dict[str, list]:
    """Raw completions: n sampled per method per question, and the greedy ones."""
    cot_in = [student_input(p.question, "cot") for p in problems]
    pot_in = [student_input(p.question, "pot") for p in problems]
    texts = {"cot": cot_gen.sample(cot_in, n, temperature),
             "pot": pot_gen.sample(pot_in, n, temperature)}
    texts["greedy_cot"] = cot_gen.greedy(cot_in) if greedy else None
    texts["greedy_pot"] = pot_gen.greedy(pot_in) if greedy else None
    return texts


def summarize(preds: Sequence[Prediction], n: int, temperature: float, ensemble: bool) -> dict:
    """Accuracy per method, answer/execution rates and the cascade's cost."""
    q = max(len(preds), 1)
    acc = {m: sum(p.correct.get(m, False) for p in preds) / q for m in preds[0].correct} \
        if preds else {}
    if ensemble:
        acc["ensemble"] = acc.get("cot_w_pot", 0.0)
    statuses = {m: Counter(x.status for p in preds for x in methods.sampled(p.paths, m))
                for m in ("cot", "pot")}
    rate = {f"{m}_answer_rate": c["ok"] / max(sum(c.values()), 1) for m, c in statuses.items()}
    used = [methods.cascade(p.paths)[1] for p in preds]
    return {"questions": len(preds), "paths_per_method": n, "temperature": temperature,
            "students": "ensemble" if ensemble else "single", "accuracy": acc, **rate,
            "pot_status": dict(statuses["pot"]), "cascade_mean_paths": sum(used) / q}


def run(problems: Sequence[Problem], student: Generator, sandbox: judge.Runner, n: int,
        temperature: float, out_dir: str | FsPath, pot_student: Generator | None = None,
        greedy: bool = True, draws: int = 50, ci: float = 0.95, adaptive_rule: str = "beta",
        adaptive_threshold: float = 0.95, adaptive_round_size: int = 1, seed: int = 0,
        wandb_run=None) -> dict:
    """Evaluate `student` (or the ensemble student + pot_student) on `problems`; returns metrics."""
    if not problems:
        raise MDError("no test problems to evaluate; check data= and data.max_test")
    if n < 1:
        raise MDError(f"inference.paths must be >= 1, got {n}")
    torch.manual_seed(seed)
    texts = _sample(problems, student, pot_student or student, n, temperature, greedy)
    path_lists = judge.judge(texts["cot"], texts["pot"], sandbox,
                             texts["greedy_cot"], texts["greedy_pot"])
    preds = []
    for prob, paths in zip(problems, path_lists, strict=True):
        votes = methods.votes(paths)
        preds.append(Prediction(prob.id, prob.answer, tuple(paths), votes,
                                methods.score(votes, prob.answer)))
    metrics = summarize(preds, n, temperature, pot_student is not None)
    golds = [p.answer for p in problems]
    curve = curves.accuracy_curves(path_lists, golds, n, draws, seed, ci)
    rule = adaptive.StopRule(adaptive_rule, adaptive_threshold)
    metrics["adaptive"] = adaptive.evaluate(path_lists, golds, rule, n, "cot_w_pot",
                                            adaptive_round_size)
    files = report.write_outputs(out_dir, preds, metrics, curve)
    if wandb_run is not None:
        report.log_wandb(wandb_run, metrics, preds, curve, files["plot"])
    return metrics


def print_metrics(metrics: dict, out_dir) -> None:
    for method, value in metrics["accuracy"].items():
        print(f"{method:>20}: {100 * value:5.1f}%")
    ad = metrics["adaptive"]
    print(f"adaptive ({ad['rule']}): {100 * ad['accuracy']:.1f}% with {ad['mean_paths']:.1f} "
          f"paths vs {100 * ad['fixed_accuracy']:.1f}% with {ad['fixed_paths']:.1f}")
    print(f"wrote {out_dir}")


@stage_main("evaluate")
def main(cfg: DictConfig) -> None:
    """Evaluate a trained student (or an ensemble of two) on the test split."""
    from md import pipeline

    inf = cfg.inference
    if inf.ensemble:
        if len(inf.ensemble) != 2:
            raise MDError("inference.ensemble takes two student folders: [COT_STUDENT, POT_STUDENT]")
        students = tuple(inf.ensemble)
    elif cfg.student_dir is None:
        raise MDError("no student_dir= given: pass student_dir=FOLDER (a trained student), "
                      "or run python -m md.train, which evaluates at the end")
    else:
        students = (cfg.student_dir,)
    print_metrics(pipeline.evaluate(cfg, students, cfg.out_dir), cfg.out_dir)


if __name__ == "__main__":
    main()
