"""JSON Lines, the one hand-off format between stages.

Writes are atomic (a temp file in the same folder, fsync, then rename), so a killed stage never
leaves a half-written artifact that a rerun would mistake for a finished one. Reads stream, and
a malformed line raises `JsonlError` naming the file and the 1-based line number.

Text enters md through here, and is made safe once: JSON may legally hold a lone surrogate
("\\ud800"), which Python decodes into a str no UTF-8 writer accepts, so it crashed whatever
wrote it later (SQLite, a JSONL file), far from where it came in; an answer already paid for
was lost when the teacher cache refused it. `loads` (every reader of JSON from outside) and
`clean` (the teacher cache) replace each lone half by U+FFFD.

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
                row = loads(line)  # lone surrogates replaced (below)
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


REPLACEMENT = "\ufffd"


def clean(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (valid text comes back unchanged)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return "".join(REPLACEMENT if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


def clean_all(value: Any) -> Any:
    """`clean` applied to every string inside a decoded JSON value (keys included)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [clean_all(v) for v in value]
    if isinstance(value, dict):
        return {clean(k): clean_all(v) for k, v in value.items()}
    return value


def loads(raw: str | bytes) -> Any:
    """json.loads, with lone surrogates replaced (a JSON text can only hold one escaped, so a
    line without a `\\u` escape costs nothing extra)."""
    value = json.loads(raw)
    text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
    return clean_all(value) if "\\u" in text or "\\U" in text else value
