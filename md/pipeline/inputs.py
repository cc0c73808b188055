"""The contents of the files a stage reads, as short digests for its artifact key.

An artifact keyed by paths and settings alone outlives an edit of its inputs: fix a gold answer
in place and extract, execute and mix were reused with the old answer. Every option of the data
and teacher groups that names an existing file or folder contributes the SHA-256 of each file
(a folder: every file under it), so an input edited in place is a new artifact. Digests are
computed once per file per process (md.pipeline.artifacts.file_facts remembers them by path,
size and mtime), so asking for several stages' keys reads each file once.

    digests({"data": {"path": "../shared/data/gsm8k"}})
    # {'data.path/test.jsonl': '5c1e...', 'data.path/train.jsonl': '9a04...'}
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from md.pipeline.artifacts import file_facts

DIGEST_CHARS = 16


def digests(groups: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """`{"<group>.<option>[/<file in a folder>]": digest}` for every option naming a path."""
    found: dict[str, str] = {}
    for group, options in groups.items():
        for option, value in sorted(options.items()):
            if not isinstance(value, str) or not value.strip():
                continue
            path = Path(value).expanduser()
            for name, file in _files(path):
                found[f"{group}.{option}{name}"] = file_facts(file)["sha256"][:DIGEST_CHARS]
    return found


def _files(path: Path) -> list[tuple[str, Path]]:
    """("", path) for a file; ("/<relative name>", file) for each file under a folder (hidden
    names and caches left out); nothing for a value that is not a path."""
    try:
        if path.is_file():
            return [("", path)]
        if not path.is_dir():
            return []
        files = sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path))
    except OSError:  # unreadable: the stage that reads it says so in its own words
        return []
    return [(f"/{p.relative_to(path).as_posix()}", p) for p in files]


def _hidden(file: Path, root: Path) -> bool:
    return any(part.startswith(".") or part == "__pycache__"
               for part in file.relative_to(root).parts)
