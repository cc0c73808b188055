"""W&B artifacts that show where a student came from: thoughts -> mix -> student -> evaluation.

With `logger=wandb`, the training run records the teacher thoughts and the mixed training set it
trained on as its inputs and the saved student as its output; the evaluation run records the
student as its input and the evaluation (metrics, predictions) as its output. Names carry the
artifact key (`mix-<hash>`), so every run of a sweep that reused one mix points at the same
artifact, and W&B's content digest deduplicates the upload.

Online, inputs are `run.use_artifact`, so the W&B lineage graph draws the edges. Offline, wandb
refuses `use_artifact` (it needs the server), so inputs are logged with `log_artifact` like the
outputs, and every artifact's metadata names its inputs (`inputs`) and its role (`role`):
after `wandb sync` the artifacts and their provenance are there, but the graph shows the run
as their producer.

    log_lineage(run, used=[thoughts_files(path, key), mix_files(folder, key, thoughts_key)],
                produced=[student_files(student_dir, "lora")])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ArtifactFiles:
    """One W&B artifact: its name and type, the files or folder it holds, and metadata."""

    name: str
    type: str
    paths: tuple[Path, ...]
    metadata: dict[str, Any] = field(default_factory=dict)
    reference: bool = False  # checksum-free file:// references (full 7B weights stay put)


def thoughts_files(path: str | Path, key: str) -> ArtifactFiles:
    return ArtifactFiles(f"thoughts-{key}", "teacher-thoughts", (Path(path),))


def mix_files(folder: str | Path, key: str, thoughts_key: str) -> ArtifactFiles:
    folder = Path(folder)
    files = tuple(p for p in (folder / "mixed.jsonl", folder / "stats.json") if p.exists())
    return ArtifactFiles(f"mix-{key}", "dataset", files, {"thoughts": f"thoughts-{thoughts_key}"})


def student_files(folder: str | Path, finetune: str) -> ArtifactFiles:
    """Named by the folder, so the training and the evaluation run name the same artifact."""
    from md.pipeline.artifacts import content_hash

    folder = Path(folder)
    return ArtifactFiles(f"student-{content_hash(str(folder.resolve()))}", "model", (folder,),
                         {"finetune": finetune, "folder": str(folder)},
                         reference=finetune == "full")


def evaluation_files(folder: str | Path, name: str) -> ArtifactFiles:
    folder = Path(folder)
    files = tuple(p for p in (folder / "metrics.json", folder / "predictions.jsonl",
                              folder / "curves.json") if p.exists())
    return ArtifactFiles(f"evaluation-{name}", "evaluation", files)


def log_lineage(run: Any, used: Sequence[ArtifactFiles], produced: Sequence[ArtifactFiles]) -> None:
    """Record `used` as the run's inputs and `produced` as its outputs (see the module docstring).
    A full W&B staging folder costs the lineage, not the run (md.tracking.staging)."""
    from md.tracking.staging import staged

    offline = bool(getattr(run, "offline", False))
    inputs = [a.name for a in used]
    with staged("the run's lineage artifacts"):
        for spec in used:
            artifact = _artifact(spec, {"role": "input"})
            run.log_artifact(artifact) if offline else run.use_artifact(artifact)
        for spec in produced:
            run.log_artifact(_artifact(spec, {"role": "output", "inputs": inputs}))


def _artifact(spec: ArtifactFiles, extra: dict[str, Any]):
    import wandb

    artifact = wandb.Artifact(_safe(spec.name), type=spec.type, metadata={**spec.metadata, **extra})
    for path in spec.paths:
        if spec.reference:
            artifact.add_reference(path.resolve().as_uri(), checksum=False)
        elif path.is_dir():
            artifact.add_dir(str(path))
        else:
            artifact.add_file(str(path))
    return artifact


def _safe(name: str) -> str:
    """W&B artifact names allow letters, digits, '-', '_' and '.' only (128 characters)."""
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name)[:128]
