"""Published teacher outputs as thoughts: no model is asked, nothing is paid.

Reads the files in their original formats, from a folder laid out like
../shared/data/teacher_outputs (one subfolder per method and dataset):

    pot_codex_<dataset>/*.jsonl   Program of Thoughts (Chen et al.): JSON lines, `{"demonstration"}`
                                  header lines between records of {"question", "passage",
                                  "generated": [program, ...], "answer"}. Each program is a sample.
    palm_cot_<dataset>/train_CoT_<k>.json, test_CoT_<k>.json
                                  Distilling Step-by-Step (Hsieh et al.): JSON lists of raw PaLM
                                  completions, row r of the concatenated train (test) files being
                                  row r of <data.path>/distilling_step_by_step_split/<dataset>_
                                  train.json (test), whose "input" is Body + "\\n" + Question. Each
                                  text is cut as that repository's parser cuts it:
                                  `output.split("Q:")[0]` (the completion runs on into a new "Q:").

Records are mapped to the project's problems by question text and checked against them: a PoT
record whose gold answer differs, or a method whose files hold fewer than half of the requested
problems (another dataset, another split, a missing file), is refused in one line that names
the files. How many samples a question has is whatever the files hold: a problem missing
from a file has none of that method, and vote, types, λ and mix all take per-question counts.

    python -m md.extract data=svamp data.path=../shared/data/svamp \\
        teacher=published teacher.path=../shared/data/teacher_outputs
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from md.answers import is_correct
from md.errors import MDError
from md.jsonl import loads as json_loads
from md.teacher.alignment import check_aligned
from md.teacher.base import TeacherFields
from md.types import Problem, Thought

MIN_ALIGNED = 0.5  # below this share of requested problems found, a file is refused
_WS = re.compile(r"\s+")


def text_key(text: str) -> str:
    """Question text compared loosely: whitespace runs and case do not matter."""
    return _WS.sub(" ", text).strip().lower()


@dataclass(eq=False, kw_only=True)
class PublishedTeacher(TeacherFields):
    """Thoughts from published files; `thoughts_for(problems)` replaces any request."""

    recorded: ClassVar[bool] = True
    path: str
    dataset: str
    data_path: str | None = None
    model: str = "published"
    n: int = 1  # a question has as many samples as the files hold (this is only the most common)
    cacheable: bool = False

    def __post_init__(self):
        self.params = {"path": str(self.path), "dataset": self.dataset}

    def check_ready(self) -> None:
        pot = f"pot_codex_{self.dataset}/*.jsonl"
        cot = f"palm_cot_{self.dataset}/*_CoT_*.json"
        if not self.sources():
            raise MDError(f"teacher.path={self.path}: no {pot} or {cot} there; point teacher.path "
                          "at a folder laid out like ../shared/data/teacher_outputs")
        root = Path(self.path)
        for method, pattern in (("PoT", pot), ("CoT", cot)):
            if not sorted(root.glob(pattern)):  # Mixed Distillation needs both kinds of thought
                raise MDError(f"teacher.path={self.path}: no {pattern} (the {method} outputs) "
                              "there, only the other method's; Mixed Distillation needs both: "
                              "add the missing files")

    def sources(self) -> list[Path]:
        root = Path(self.path)
        return (sorted(root.glob(f"pot_codex_{self.dataset}/*.jsonl"))
                + sorted(root.glob(f"palm_cot_{self.dataset}/*_CoT_*.json")))

    def thoughts_for(self, problems: list[Problem]) -> list[Thought]:
        """Every published sample of `problems`, in problem order, then method, then sample."""
        self.check_ready()
        by_text = {text_key(p.question): p for p in problems}
        copies = Counter(text_key(p.question) for p in problems)  # a dataset may repeat a question
        found: dict[tuple[str, str], list[str]] = {}
        hits: dict[str, int] = {}
        files: dict[str, list[str]] = {}
        for method, file, records in self._records():
            files.setdefault(method, []).append(str(file))
            check_aligned(method, records)
            seen: Counter = Counter()
            for where, text, samples, gold in records:
                problem = by_text.get(text_key(text))
                if problem is None:
                    continue
                check_record(where, problem, gold, seen, copies)
                key = (problem.id, method)
                hits[method] = hits.get(method, 0) + (key not in found)
                found.setdefault(key, []).extend(samples)
        for method, names in files.items():
            if hits.get(method, 0) < MIN_ALIGNED * len(problems):
                raise MDError(f"{', '.join(names)}: only {hits.get(method, 0)} of the "
                              f"{len(problems)} {self.dataset} problems found by question text; "
                              "the files were made for another dataset or split (check "
                              "teacher.path and data)")
        return [Thought(p.id, method, i, text, self.model, self.params, {})
                for p in problems for method in ("cot", "pot")
                for i, text in enumerate(found.get((p.id, method), ()))]

    def _records(self) -> Iterator[tuple[str, Path, list[tuple]]]:
        """(method, file, records) of every published file of this dataset."""
        root = Path(self.path)
        for file in sorted(root.glob(f"pot_codex_{self.dataset}/*.jsonl")):
            yield "pot", file, pot_records(file)  # one file over the whole dataset
        cot = root / f"palm_cot_{self.dataset}"
        for split in ("train", "test"):  # the files' own split, not necessarily the data's
            files = sorted(cot.glob(f"{split}_CoT_*.json"), key=_part)
            if files:
                yield "cot", cot / f"{split}_CoT_*.json", cot_records(files, self._inputs(split))

    def _inputs(self, split: str) -> Path:
        """The split file the CoT rows are aligned through, in the dataset's folder (data.path,
        else the data cache: MD_DATA_CACHE)."""
        from md.data.common import data_dir

        name = f"distilling_step_by_step_split/{self.dataset}_{split}.json"
        return data_dir(self.dataset, self.data_path, [name]) / name


def _part(file: Path) -> int:
    """train_CoT_1.json -> 1: the files of a split concatenate in part order."""
    tail = file.stem.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def pot_records(file: Path) -> list[tuple[str, str, list[str], Any]]:
    """(file:line, question text, programs, gold answer) of a PoT-repository JSONL file."""
    out = []
    for line, raw in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            r = json_loads(raw)
            if "demonstration" in r:  # a few-shot prompt header between runs
                continue
            programs = r["generated"]
            if not isinstance(programs, list) or not all(isinstance(g, str) for g in programs):
                raise TypeError(f'"generated" is {type(programs).__name__} {programs!r:.40}, '
                                "not a list of program strings")
            text = _join(str(r.get("passage") or ""), str(r["question"]))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise MDError(f"{file}:{line}: not a PoT output record ({type(e).__name__}: {e}); "
                          'expected {"question", "passage", "generated": [...], "answer"}') from None
        out.append((f"{file}:{line}", text, programs, r.get("answer")))
    return out


def cot_records(files: list[Path], inputs: Path) -> list[tuple[str, str, list[str], Any]]:
    """(file[row], question text, [completion cut at "Q:"], None) of concatenated CoT list files."""
    completions: list[str] = []
    wheres: list[str] = []
    for file in files:
        try:
            part = json_loads(file.read_text(encoding="utf-8"))
        except ValueError as e:
            raise MDError(f"{file}: not JSON ({e}); expected a list of completion strings") from None
        if not isinstance(part, list) or not all(isinstance(c, str) for c in part):
            raise MDError(f"{file}: expected a JSON list of completion strings")
        completions += part
        wheres += [f"{file}[{row}]" for row in range(len(part))]
    rows = []
    for line, raw in enumerate(inputs.read_text(encoding="utf-8").splitlines(), start=1):
        if raw.strip():
            try:
                rows.append((line, str(json_loads(raw)["input"])))
            except (ValueError, KeyError, TypeError) as e:
                raise MDError(f"{inputs}:{line}: not a split record ({type(e).__name__}: {e}); "
                              'expected {"input": ..., "label": ...}') from None
    if len(rows) != len(completions):
        names = " + ".join(f.name for f in files)
        raise MDError(f"{names} hold {len(completions)} completions but {inputs} has {len(rows)} "
                      "rows; they do not align (a file is missing or from another split)")
    return [(where, _join(*text.split("\n", 1)) if "\n" in text else text,
             [completion.split("Q:")[0].strip()], None)
            for where, (_, text), completion in zip(wheres, rows, completions, strict=True)]


def check_record(where: str, problem: Problem, gold: Any, seen: Counter, copies: Counter) -> None:
    """Refuse a record whose gold is not its problem's, or a question one file holds twice."""
    if gold is not None and not is_correct(gold, problem.answer):
        raise MDError(f"{where}: the record's answer {gold!r} is not the gold answer "
                      f"{problem.answer!r} of {problem.id}; the file does not belong to this "
                      "dataset version")
    key = text_key(problem.question)
    seen[key] += 1
    if seen[key] > copies[key]:
        raise MDError(f"{where}: a second record for the question of {problem.id} in one file; a "
                      "duplicated record would count its samples twice: remove the copy")


def _join(body: str, question: str) -> str:
    from md.data.svamp import join

    return join(body, question)


def build_published_teacher(path: str, dataset: str, data_path: str | None = None,
                            mode: str = "online") -> PublishedTeacher:
    """Builder for conf/teacher/published.yaml."""
    if mode != "online":
        raise MDError("teacher=published has no batch mode; drop teacher.mode=batch")
    return PublishedTeacher(path=str(path), dataset=str(dataset),
                            data_path=str(data_path) if data_path else None)
