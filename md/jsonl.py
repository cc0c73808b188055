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
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar, overload

from md import text
from md.errors import MDError
from md.fsio import atomic_open
from md.types import from_dict, to_dict

R = TypeVar("R")


class JsonlError(MDError):
    """A record that cannot be read; the message names the file and line."""


def write(path: str | os.PathLike, records: Iterable[Any]) -> int:
    """Write records (dataclasses or dicts) atomically; returns how many were written."""
    count = 0
    with atomic_open(path) as f:
        for record in records:
            row = to_dict(record) if dataclasses.is_dataclass(record) else record
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


@overload
def read(path: str | os.PathLike) -> Iterator[dict[str, Any]]: ...
@overload
def read(path: str | os.PathLike, cls: type[R]) -> Iterator[R]: ...


def read(path, cls=None):
    """Stream records; with `cls`, each line is rebuilt as that dataclass. Blank lines are skipped."""
    path = Path(path)
    if not path.exists():
        raise JsonlError(f"{path}: no such file")
    if path.is_dir():
        raise JsonlError(f"{path}: a folder, not a JSONL file")
    with path.open("rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise JsonlError(f"{path}:{lineno}: not UTF-8 text (byte {e.start + 1} of the line); "
                                 "is this the right file?") from None
            if not line.strip():
                continue
            try:
                row = text.loads(line)  # lone surrogates replaced: md.text
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
