"""Find evaluated runs on disk and read what each one is: its ablation axes and its accuracies.

    runs, mixes = collect(["runs/table1", "runs/lambda_sweep"])

A run is any folder holding an evaluation's `metrics.json` (one with an `accuracy` table; the
training `metrics.json` beside `student/` has none and is skipped). Its config is the nearest
`.hydra/config.yaml` at or above that folder. An evaluation run on its own (`md.evaluate
student_dir=...`) describes only the TEST data, so the axes of the student (name, mix, loss,
training data) are read from the training run that saved it: `<student_dir>/../.hydra`.
`stats.json` files of md.mix (type shares, the paper's Fig. 1) are collected too.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from md.errors import MDError
from md.models.saved import read_manifest


@dataclass
class Run:
    """One evaluation: where it is, its axes, accuracy per method and (optionally) its curves."""

    folder: str
    student: str = "?"
    mix: str = "?"             # few-shot | label | cot | pot | md | ensemble
    loss: str = "adaptive"     # adaptive | fixed | equal
    lam: float | None = None   # loss.lambda when loss=fixed
    train_data: str = "?"
    test_data: str = "?"
    train_fraction: float = 1.0
    paths: int | None = None   # sampled paths per method
    seed: int | None = None    # the job's seed (mix, training, sampling); rows average over it
    experiment: str = ""
    accuracy: dict[str, float] = field(default_factory=dict)
    paths_used: dict[str, str] = field(default_factory=dict)  # method -> "20", "10+10", "1"
    curves: dict | None = None
    teacher: str = ""          # who wrote the training thoughts: "asked (served as dated, ...)"
    questions: int | None = None  # test questions scored (the accuracies' sample size)


def _get(cfg: dict | None, key: str, default: Any = None) -> Any:
    """`cfg["a"]["b"]` for key "a.b"; `default` when missing, null or an unresolved ${...}."""
    value: Any = cfg
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None or (isinstance(value, str) and value.startswith("${")):
        return default
    return value


def _load_config(folder: Path) -> dict | None:
    """The nearest `.hydra/config.yaml` at or above `folder` (as saved: plain YAML), or None."""
    for parent in (folder, *folder.parents):
        path = parent / ".hydra" / "config.yaml"
        if path.is_file():
            return yaml.safe_load(path.read_text()) or {}
    return None


def _student_config(student_dir: Any, near: Path) -> dict:
    """The training config of a saved student folder; when its run folder is gone, what the
    student's md_student.json says (its name), so a row is never labelled with defaults."""
    given = Path(str(student_dir))
    tries = [given] if given.is_absolute() else [base / given for base in (Path.cwd(), *near.parents)]
    for path in tries:
        if path.exists():
            cfg = _load_config(path.parent)
            if cfg is not None:
                return cfg
            manifest = read_manifest(path)
            return {"student": {"name": manifest.get("name", path.name)}}
    return {"student": {"name": given.name or "?"}}


def describe(folder: Path, metrics: dict) -> Run:
    """A Run from an evaluation folder and its metrics.json content."""
    cfg = _load_config(folder)
    ensemble = _get(cfg, "inference.ensemble")
    student_dir = ensemble[0] if ensemble else _get(cfg, "student_dir")
    trained = _student_config(student_dir, folder) if student_dir else cfg
    loss = _get(trained, "loss.mode", "adaptive")
    if metrics.get("students") == "few-shot":  # a teacher or base model, not fine-tuned
        return Run(folder=str(folder), student=str(metrics.get("few_shot_model", "?")),
                   mix="few-shot", test_data=str(_get(cfg, "data.name", "?")),
                   paths=metrics.get("paths_per_method"),
                   experiment=str(_get(cfg, "experiment_name", "")),
                   accuracy={k: float(v) for k, v in metrics["accuracy"].items()},
                   paths_used=dict(metrics.get("paths_used") or {}),
                   questions=metrics.get("questions"),
                   curves=_read_json(folder / "curves.json"))
    return Run(
        folder=str(folder),
        student=str(_get(trained, "student.name", "?")),
        mix="ensemble" if ensemble or metrics.get("students") == "ensemble"
        else str(_get(trained, "mix.variant", "?")),
        loss=str(loss),
        lam=float(_get(trained, "loss.lambda")) if loss == "fixed" else None,
        train_data=str(_get(trained, "data.name", "?")),
        test_data=str(_get(cfg, "data.name", "?")),
        train_fraction=float(_get(trained, "data.train_fraction", 1.0)),
        paths=metrics.get("paths_per_method"),
        seed=_get(trained, "seed"),
        experiment=str(_get(cfg, "experiment_name", "")),
        accuracy={k: float(v) for k, v in metrics["accuracy"].items()},
        paths_used=dict(metrics.get("paths_used") or {}),
        questions=metrics.get("questions"),
        curves=_read_json(folder / "curves.json"),
        teacher=teacher_of(Path(student_dir).parent if student_dir else folder),
    )


def teacher_of(folder: Path) -> str:
    """The teacher named in the nearest provenance.json at or above `folder` (written by
    md.train, md.tracking.provenance): the model asked and the dated models that answered."""
    for parent in (folder, *folder.parents):
        facts = _read_json(parent / "provenance.json")
        if isinstance(facts, dict):
            teacher = facts.get("teacher") or {}
            asked = ", ".join(teacher.get("asked") or [])
            served = ", ".join(teacher.get("served") or {})
            return f"{asked} (answered by {served})" if asked and served else asked
    return ""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def collect(paths: list[str]) -> tuple[list[Run], list[dict]]:
    """Every evaluation run and every mix statistics file under `paths`, in a stable order."""
    runs: list[Run] = []
    mixes: list[dict] = []
    for root in paths:
        if not Path(root).exists():
            raise MDError(f"{root}: no such file or folder; pass run folders (e.g. runs/table1)")
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in ("wandb", "checkpoints", ".hydra"))
            here = Path(dirpath)
            metrics = _read_json(here / "metrics.json") if "metrics.json" in filenames else None
            if isinstance(metrics, dict) and isinstance(metrics.get("accuracy"), dict):
                try:
                    runs.append(describe(here, metrics))
                except Exception as e:  # a hand-edited or truncated config / metrics file
                    why = str(e).strip().splitlines()[0] if str(e).strip() else ""
                    raise MDError(f"{here}: cannot read this run ({type(e).__name__}: {why}); "
                                  "fix or remove its metrics.json / .hydra/config.yaml") from None
            stats = _read_json(here / "stats.json") if "stats.json" in filenames else None
            if isinstance(stats, dict) and isinstance(stats.get("types"), dict):
                mixes.append({**stats, "folder": str(here)})
    if not runs and not mixes:
        raise MDError(f"no evaluation (metrics.json with an accuracy table) or mix statistics "
                      f"(stats.json) under {', '.join(paths)}; evaluate a student first")
    return runs, mixes
