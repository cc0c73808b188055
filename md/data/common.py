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
from md.jsonl import loads
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
    folders = [f for f in files if (folder / f).is_dir()]
    if folders:
        raise MDError(f"{dataset}: {folder / folders[0]} is a folder, not a file; data.path must "
                      f"hold the files {', '.join(files)}")
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
    *,
    solution: Solution | None = None,
    meta: dict | None = None,
    numeric: bool = False,
) -> Problem:
    """Build a Problem with its gold answer normalised; an unreadable gold is an MDError.

    numeric: the benchmark's answers are numbers (GSM8K, SVAMP), so a text answer means a
    corrupt or wrong file, not a text gold answer.
    """
    why = question_problem(question)
    if why is not None:  # it would be sent to a teacher (paid) and trained on
        raise MDError(f"{where}: problem {pid}'s question {why}; fix or remove that record")
    answer = normalize(raw_answer)
    if answer is None:
        raise MDError(f"{where}: problem {pid} has an answer that cannot be read: {raw_answer!r}")
    if numeric and not isinstance(answer, float):
        raise MDError(f"{where}: problem {pid} has answer {raw_answer!r}, which is not a number "
                      f"({dataset} answers are numbers); is this the right file?")
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
        data = loads(read_text(file))
    except json.JSONDecodeError as e:
        raise MDError(f"{file}: malformed JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(data, kind):
        raise MDError(f"{file}: expected a JSON {kind.__name__}")
    return data


def read_text(file: Path) -> str:
    """A data file's text; MDError names the file when it is not UTF-8 (binary, wrong file)."""
    try:
        return file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        line = file.read_bytes()[: e.start].count(b"\n") + 1
        raise MDError(f"{file}:{line}: not UTF-8 text (a binary or wrongly encoded file); "
                      "is this the right file?") from None


def record_error(e: Exception) -> str:
    """What is wrong with a record, for the loaders' one-line errors: `missing "answer"`."""
    if isinstance(e, KeyError):
        return f"missing {json.dumps(str(e.args[0]))}"
    return str(e)


def question_problem(question: object) -> str | None:
    """Why `question` cannot be sent to a teacher or a student, or None when it can."""
    if not isinstance(question, str):
        return f"is {type(question).__name__} {question!r:.40}, not text"
    if not question.strip():
        return "is empty or only whitespace"
    if "\x00" in question:
        return "holds a NUL character (a binary or corrupted file?)"
    return None
