"""Hash-addressed artifact folders: `<root>/<stage>/<hash of the config that produced it>/`.

A stage's output is reused whenever exactly the same config (and the same upstream artifact)
asks for it again, so a sweep over `loss.lambda` trains five students on one set of teacher
thoughts and pays the teacher once. Each folder keeps the config that made it in `config.json`,
so a person can tell what is inside without decoding the hash.

Computing an artifact's key touches nothing on disk (a preflight check, a dry run or a cached
rerun leaves no trace); `prepare()` creates the folder and its `config.json` (atomically) when
the stage is about to write into it.

    art = Artifact.of("artifacts", "extract", data_cfg, teacher_cfg)
    if not art.has("thoughts.jsonl"):
        art.prepare()
        ...write art.file("thoughts.jsonl") atomically...
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from md.fsio import write_text


def content_hash(*parts: Any, length: int = 12) -> str:
    """A short, stable hash of plain values (the order of dict keys does not matter)."""
    blob = json.dumps(list(parts), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:length]


@dataclass(frozen=True)
class Artifact:
    stage: str
    key: str
    dir: Path
    parts: tuple = field(default=(), compare=False, repr=False)

    @classmethod
    def of(cls, root: str | Path, stage: str, *parts: Any) -> Artifact:
        """The folder for `stage` given the settings (plain values) and upstream keys that
        determine it. Pure: nothing is created or written (see `prepare`)."""
        key = content_hash(stage, *parts)
        return cls(stage, key, Path(root) / stage / key, parts)

    def prepare(self) -> Artifact:
        """Create the folder and its `config.json` (once, atomically) before the stage writes."""
        manifest = self.dir / "config.json"
        if not manifest.exists():
            write_text(manifest, json.dumps(list(self.parts), indent=2, sort_keys=True, default=str))
        return self

    def file(self, name: str) -> Path:
        return self.dir / name

    def has(self, name: str) -> bool:
        """True once the stage wrote `name` (writes are atomic, so existence means complete)."""
        return (self.dir / name).exists()
