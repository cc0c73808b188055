"""Hash-addressed artifact folders: `<root>/<stage>/<hash of the config that produced it>/`.

A stage's output is reused whenever exactly the same config (and the same upstream artifact)
asks for it again, so a sweep over `loss.lambda` trains five students on one set of teacher
thoughts and pays the teacher once. Each folder keeps the config that made it in `config.json`,
so a person can tell what is inside without decoding the hash.

    art = Artifact.of("artifacts", "extract", data_cfg, teacher_cfg)
    if not art.has("thoughts.jsonl"):
        ...write art.file("thoughts.jsonl") atomically...
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from md.config import config_hash, to_plain


@dataclass(frozen=True)
class Artifact:
    stage: str
    key: str
    dir: Path

    @classmethod
    def of(cls, root: str | Path, stage: str, *parts: Any) -> Artifact:
        """The folder for `stage` given the config parts (and upstream keys) that determine it."""
        key = config_hash(stage, *parts)
        folder = Path(root) / stage / key
        folder.mkdir(parents=True, exist_ok=True)
        manifest = folder / "config.json"
        if not manifest.exists():
            plain = [to_plain(p) for p in parts]
            manifest.write_text(json.dumps(plain, indent=2, sort_keys=True, default=str))
        return cls(stage, key, folder)

    def file(self, name: str) -> Path:
        return self.dir / name

    def has(self, name: str) -> bool:
        """True once the stage wrote `name` (writes are atomic, so existence means complete)."""
        return (self.dir / name).exists()
