"""JSON Lines, the one hand-off format between stages.

Writes are atomic (a temp file in the same folder, fsync, then rename), so a killed stage never
leaves a half-written artifact that a rerun would mistake for a finished one. Reads stream, and
a malformed line raises `JsonlError` naming the file and the 1-based line number.

    from md import jsonl
    jsonl.write("out/thoughts.jsonl", thoughts)            # dataclasses or dicts
    for t in jsonl.read("out/thoughts.jsonl", Thought): ...
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar, overload

from md.errors import MDError
from md.types import from_dict, to_dict

R = TypeVar("R")


class JsonlError(MDError):
    """A record that cannot be read; the message names the file and line."""


def write(path: str | os.PathLike, records: Iterable[Any]) -> int:
    """Write records (dataclasses or dicts) atomically; returns how many were written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for record in records:
                row = to_dict(record) if dataclasses.is_dataclass(record) else record
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@overload
def read(path: str | os.PathLike) -> Iterator[dict[str, Any]]: ...
@overload
def read(path: str | os.PathLike, cls: type[R]) -> Iterator[R]: ...


def read(path, cls=None):
    """Stream records; with `cls`, each line is rebuilt as that dataclass. Blank lines are skipped."""
    path = Path(path)
    if not path.exists():
        raise JsonlError(f"{path}: no such file")
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise JsonlError(f"{path}:{lineno}: malformed JSON ({e.msg} at column {e.colno})") from None
            if cls is None:
                yield row
                continue
            if not isinstance(row, dict):
                raise JsonlError(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")
            try:
                yield from_dict(cls, row)
            except (TypeError, ValueError) as e:
                raise JsonlError(f"{path}:{lineno}: not a valid {cls.__name__} record ({e})") from None


def read_all(path: str | os.PathLike, cls: type[R]) -> list[R]:
    """`read` into a list."""
    return list(read(path, cls))
