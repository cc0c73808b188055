"""Helpers shared by the benchmark loaders: where the files are, and how a record becomes a Problem.

A loader is given `path` (a folder holding the benchmark's original files) or None. With None the
original public files are downloaded once into a cache (see `md.data.download`). Either way a
missing file is one `MDError` line that names the folder and says how to set `data.path=...`.
"""

from __future__ import annotations

import json
from pathlib import Path

from md.answers import normalize
from md.errors import MDError
from md.types import Problem, Solution

SPLITS = ("train", "test")


def check_split(dataset: str, split: str) -> None:
    """Reject a split name other than train/test with a clear line."""
    if split not in SPLITS:
        raise MDError(f"{dataset}: unknown split {split!r}; use one of {', '.join(SPLITS)}")


def data_dir(dataset: str, path: str | None, files: list[str]) -> Path:
    """The folder holding `files` of `dataset`: the user's `path`, or the download cache.

    Raises MDError naming the expected location when a file is missing.
    """
    if path is None:
        from md.data import download  # lazy: only the online path needs urllib and the cache

        folder = download.fetch(dataset)
    else:
        folder = Path(path).expanduser()
    missing = [f for f in files if not (folder / f).is_file()]
    if missing:
        raise MDError(
            f"{dataset}: expected {', '.join(missing)} in {folder}, not found; set "
            f"data.path=<folder holding {', '.join(files)}> (see conf/data/{dataset}.yaml), "
            f"or data.path=null to download them"
        )
    return folder


def make_problem(
    dataset: str,
    split: str,
    pid: str,
    question: str,
    raw_answer: object,
    where: str,
    solution: Solution | None = None,
    meta: dict | None = None,
) -> Problem:
    """Build a Problem with its gold answer normalised; an unreadable gold is an MDError."""
    answer = normalize(raw_answer)
    if answer is None:
        raise MDError(f"{where}: problem {pid} has an answer that cannot be read: {raw_answer!r}")
    return Problem(
        id=pid,
        dataset=dataset,
        split=split,
        question=" ".join(str(question).split()),  # sources carry stray newlines / double spaces
        answer=answer,
        solution=solution,
        meta=meta or {},
    )


def read_json(file: Path, kind: type):
    """A JSON file's content, which must be of `kind` (list or dict); MDError names the file."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise MDError(f"{file}: malformed JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(data, kind):
        raise MDError(f"{file}: expected a JSON {kind.__name__}")
    return data
