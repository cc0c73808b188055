"""The ensemble row from paths already sampled: no model loaded, nothing generated again.

The paper's ensemble votes a CoT-distilled student's CoT paths together with a PoT-distilled
student's PoT paths. Each student's own evaluation (md.train evaluates at its end, into
`<run>/eval/`) has already sampled exactly those paths on the same test questions, at the same
temperature: `inference.reuse_paths=true` votes those instead of sampling them a second time (on
a CPU, sampling is nearly all of an evaluation's cost). The paths are the same kind of draw
either way, so the row measures the same thing.

A saved evaluation is used only when it is finished (its metrics.json, written last, exists)
and matches: the same test questions in the same order, at least the paths per method asked
for, the same temperature. Anything else is refused in one line that says how to sample anew.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from md import jsonl
from md.errors import MDError
from md.evaluation.methods import sampled
from md.types import Prediction, Problem, ReasoningPath

FIX = "or evaluate the ensemble anew with inference.reuse_paths=false"


def eval_dir_of(student_dir: str | Path, folder: str = "eval") -> Path:
    """Where md.train put the evaluation of the student it saved: `<run>/eval` beside `student/`
    (`folder`: another evaluation of it there, e.g. `eval_asdiv`, inference.reuse_from)."""
    return Path(student_dir).parent / folder


def saved_paths(eval_dir: Path, problems: Sequence[Problem], n: int, temperature: float,
                fix: str = FIX) -> list[list[ReasoningPath]]:
    """Per test question, every path a finished evaluation in `eval_dir` judged; `fix` ends
    each refusal (what to do instead)."""
    metrics_file = eval_dir / "metrics.json"
    if not metrics_file.is_file():
        raise MDError(f"{eval_dir}: no finished evaluation to reuse (no metrics.json); {fix}")
    try:
        metrics = json.loads(metrics_file.read_text())
    except (OSError, ValueError) as e:
        raise MDError(f"{metrics_file}: unreadable ({e}); {fix}") from None
    if metrics.get("paths_per_method", 0) < n:
        raise MDError(f"{eval_dir} sampled {metrics.get('paths_per_method')} paths per method, "
                      f"fewer than inference.paths={n}; {fix}")
    if metrics.get("temperature") != temperature:
        raise MDError(f"{eval_dir} sampled at temperature {metrics.get('temperature')}, not "
                      f"inference.temperature={temperature}; {fix}")
    preds = jsonl.read_all(eval_dir / "predictions.jsonl", Prediction)
    if [p.problem_id for p in preds] != [p.id for p in problems]:
        raise MDError(f"{eval_dir} was evaluated on other test questions than data= and "
                      f"data.max_test now select; {fix}")
    return [list(p.paths) for p in preds]


def ensemble_paths(cot_lists: Sequence[Sequence[ReasoningPath]], pot_lists: Sequence[Sequence[ReasoningPath]],
                   n: int, greedy: bool) -> list[list[ReasoningPath]]:
    """Per question: the first n sampled CoT paths of the first student, the first n sampled PoT
    paths of the second, then (with `greedy`) each one's greedy path of its own method."""
    out = []
    for cot, pot in zip(cot_lists, pot_lists, strict=True):
        paths = sampled(cot, "cot")[:n] + sampled(pot, "pot")[:n]
        if greedy:
            paths += [p for p in cot if p.greedy and p.method == "cot"]
            paths += [p for p in pot if p.greedy and p.method == "pot"]
        out.append(paths)
    return out
