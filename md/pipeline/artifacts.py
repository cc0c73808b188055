"""Hash-addressed artifact folders: `<root>/<stage>/<hash of the config that produced it>/`.

A stage's output is reused whenever exactly the same config (and the same upstream artifact)
asks for it again, so a sweep over `loss.lambda` trains five students on one set of teacher
thoughts and pays the teacher once. Each folder keeps the config that made it in `config.json`,
so a person can tell what is inside without decoding the hash.

Computing an artifact's key touches nothing on disk (a preflight check, a dry run or a cached
rerun leaves no trace); `prepare()` creates the folder and its `config.json` (atomically) when
the stage is about to write into it.

An output is trusted only when the folder's `manifest.json` vouches for it: the stage writes its
files, then `seal()` writes the manifest last and atomically (records, bytes and SHA-256 of each
file). A file cut short (even at a record boundary), edited, or left without a manifest by a
killed job is named with what is wrong (`problem()`) and made again. `lock()` makes two jobs
that need the same artifact take turns: the second waits, then finds it made.

    art = Artifact.of("artifacts", "extract", data_cfg, teacher_cfg)
    with art.lock():
        if not art.has("thoughts.jsonl"):
            art.prepare()
            ...write art.file("thoughts.jsonl") atomically...
            art.seal("thoughts.jsonl")
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


def stage_key(stage: str, *parts: Any, upstream: str | None = None,
              inputs: dict[str, str] | None = None) -> str:
    """The one key function of every stage, extract to evaluate: a hash of the stage's name, the
    upstream stage's key, the stage's settings as plain values and the digests of the files it
    reads (md.pipeline.inputs). Equal keys mean the same output, so a stage whose key is on record
    (an artifact's folder, a run folder's `trained.json`, an evaluation's journal) is done."""
    return content_hash(stage, *_keyed_parts(parts, upstream, inputs))


def _keyed_parts(parts: tuple, upstream: str | None, inputs: dict[str, str] | None) -> tuple:
    head = (upstream,) if upstream is not None else ()
    return (*head, *parts, {"inputs": dict(inputs)}) if inputs else (*head, *parts)


INPUTS = "inputs.json"  # the digests of the files an artifact was made from (md.pipeline.inputs)


@dataclass(frozen=True)
class Artifact:
    stage: str
    key: str
    dir: Path
    parts: tuple = field(default=(), compare=False, repr=False)
    inputs: dict = field(default_factory=dict, compare=False, repr=False)
    settings: str = field(default="", compare=False, repr=False)  # the key without the inputs

    @classmethod
    def of(cls, root: str | Path, stage: str, *parts: Any, upstream: Artifact | None = None,
           inputs: dict[str, str] | None = None) -> Artifact:
        """The folder for `stage` given the settings (plain values), the upstream artifact and
        the digests of the files it reads (md.pipeline.inputs.digests), keyed by `stage_key`.
        Pure: nothing is created or written (see `prepare`)."""
        full = _keyed_parts(parts, upstream.key if upstream is not None else None, inputs)
        settings = content_hash(stage, upstream.settings if upstream else None, *parts)
        key = stage_key(stage, *parts, upstream=upstream.key if upstream else None, inputs=inputs)
        return cls(stage, key, Path(root) / stage / key, full, dict(inputs or {}), settings)

    def prepare(self) -> Artifact:
        """Create the folder, its `config.json` and `inputs.json` (once, atomically) before the
        stage writes."""
        manifest = self.dir / "config.json"
        if not manifest.exists():
            write_text(manifest, json.dumps(list(self.parts), indent=2, sort_keys=True, default=str))
        if self.inputs and not (self.dir / INPUTS).exists():
            write_text(self.dir / INPUTS, json.dumps({"settings": self.settings,
                                                      "inputs": self.inputs}, indent=1))
        return self

    def changed_inputs(self) -> str | None:
        """Why this artifact is new when one with the same settings exists: the input files whose
        contents differ from what that one was made from (or None: no such artifact)."""
        for sibling in sorted(self.dir.parent.glob(f"*/{INPUTS}"), key=_age, reverse=True):
            try:
                made = json.loads(sibling.read_text())
            except (OSError, ValueError):
                continue
            if made.get("settings") != self.settings or sibling.parent == self.dir:
                continue
            before = made.get("inputs") or {}
            changed = sorted(k for k in {*before, *self.inputs} if before.get(k) != self.inputs.get(k))
            if changed:
                return (f"{', '.join(changed[:3])}{' ...' if len(changed) > 3 else ''} changed "
                        f"since {sibling.parent} was made from it")
        return None

    def file(self, name: str) -> Path:
        return self.dir / name

    def has(self, name: str) -> bool:
        """True once the stage wrote `name` and sealed it, and it still matches its manifest."""
        return (self.dir / name).exists() and self.problem(name) is None

    def problem(self, name: str) -> str | None:
        """What is wrong with `name` (missing, not in the manifest, cut, changed), or None."""
        return manifest_problem(self.dir, name)

    def seal(self, *names: str) -> None:
        """Record the finished outputs `names` in `manifest.json`: written last, atomically."""
        entries = dict(_read_manifest(self.dir))
        entries.update({name: file_facts(self.dir / name) for name in names})
        write_text(self.dir / MANIFEST, json.dumps(entries, indent=1, sort_keys=True))

    def lock(self):
        """An exclusive lock for making this artifact (md.fsio.file_lock)."""
        from md.fsio import file_lock

        return file_lock(self.dir / ".lock", f"the {self.stage} artifact {self.dir}")


def _age(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


MANIFEST = "manifest.json"
_checked: dict[tuple[str, int, int], dict] = {}  # (path, size, mtime) -> facts, per process


def file_facts(path: Path) -> dict[str, Any]:
    """Records (lines), bytes and SHA-256 of a file, as a manifest records them."""
    stat = path.stat()
    memo = (str(path), stat.st_size, stat.st_mtime_ns)
    if memo not in _checked:
        digest, records = hashlib.sha256(), 0
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
                records += block.count(b"\n")
        _checked[memo] = {"bytes": stat.st_size, "records": records, "sha256": digest.hexdigest()}
    return _checked[memo]


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        entries = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return entries if isinstance(entries, dict) else {}


def manifest_problem(folder: Path, name: str) -> str | None:
    """Whether `folder/name` is what its folder's manifest recorded; None when it is."""
    path = folder / name
    if not path.is_file():
        return f"{path} is missing" if not path.exists() else f"{path} is not a file"
    expected = _read_manifest(folder).get(name)
    if not isinstance(expected, dict):
        return (f"{path} has no entry in {folder / MANIFEST} (a job stopped before finishing it, "
                "or it was made by an older md)")
    found = file_facts(path)
    if found["bytes"] != expected.get("bytes") or found["records"] != expected.get("records"):
        return (f"{path} holds {found['records']} records ({found['bytes']} bytes); its "
                f"manifest says {expected.get('records')} ({expected.get('bytes')} bytes)")
    if found["sha256"] != expected.get("sha256"):
        return f"{path} was changed after it was written (its checksum differs from the manifest)"
    return None


def check_beside(path: str | Path) -> None:
    """Refuse a file given by hand that sits in a sealed folder but does not match its manifest."""
    from md.errors import MDError

    path = Path(path)
    if (path.parent / MANIFEST).exists():
        why = manifest_problem(path.parent, path.name)
        if why is not None:
            raise MDError(f"{why}; rerun the stage that wrote it (or pass an intact file)")
