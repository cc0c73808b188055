"""The Faithful-CoT panel as a teacher: six OpenAI models' own CoT and programs, nothing asked.

Lyu et al. ("Faithful Chain-of-Thought Reasoning", 2023) published one greedy few-shot chain of
thought and one pure-Python program per question from each of six models, for every SVAMP and
ASDiv question (StrategyQA: the CoT only). Read as one teacher they give a question six CoT and
six PoT samples from teachers of very different strength, so the vote, the types and λ of §3 run
on real data. The folder is read in the source's own layout (../shared/data/README.md §5d):

    <DATASET>/test.jsonl                         the source's questions {"id", "question", "answer"}
    <DATASET>/<model>_COT/predictions.jsonl      {"id", "answer", "completion", ...}: a CoT
    <DATASET>/<model>_noNL/predictions.jsonl     the same, the completion a program setting `answer`
    solver_prefix.txt                            the preamble the programs assume (teacher.preamble;
                                                 they leave the answer in `answer`)

Records are matched to the project's problems (SVAMP: source id k is SVAMP.json[k]; ASDiv and
StrategyQA: by question text) and each matched row's gold answer is checked against the
problem's: a row that disagrees, or a source that finds fewer than half of the requested
problems, is refused in one line naming the file and row. Each thought records the model that
wrote it; `teacher.models` picks a subset (sample index = the model's place in that list).

    python -m md.mix data=svamp data.path=../shared/data/svamp teacher=faithful_cot
    python -m md.mix data=svamp data.path=../shared/data/svamp teacher=faithful_cot \\
        'teacher.models=[gpt-3.5-turbo]'                      # the paper's teacher alone
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from md.answers import is_correct, normalize
from md.errors import MDError
from md.teacher.base import TeacherFields
from md.teacher.published import MIN_ALIGNED, text_key
from md.types import Problem, Thought

# the source's file prefix of each model -> the model's name
MODELS = {"code001": "code-davinci-001", "code002": "code-davinci-002",
          "text002": "text-davinci-002", "text003": "text-davinci-003",
          "gpt-3.5-turbo": "gpt-3.5-turbo", "gpt4": "gpt-4"}
FOLDERS = {"svamp": "SVAMP", "asdiv": "ASDiv", "strategyqa": "StrategyQA"}
PROMPTS = {"cot": "COT", "pot": "noNL"}  # the source's prompt names: few-shot CoT, pure Python


@dataclass(eq=False, kw_only=True)
class FaithfulCotTeacher(TeacherFields):
    """The panel's recorded thoughts; `thoughts_for(problems)` replaces any request."""

    recorded: ClassVar[bool] = True
    path: str
    dataset: str
    models: tuple[str, ...]  # model names (MODELS' values), in sample order
    data_path: str | None = None
    model: str = ""  # the panel as the bill and the run plan name it (set from `models`)
    n: int = 1  # one sample per model and method (only the per-model count)
    cacheable: bool = False

    def __post_init__(self):
        self.model = ", ".join(self.models)
        self.params = {"path": str(self.path), "dataset": self.dataset}

    def folder(self) -> Path:
        return Path(self.path) / FOLDERS[self.dataset]

    def check_ready(self) -> None:
        questions = self.folder() / "test.jsonl"
        if not questions.is_file():
            raise MDError(f"teacher.path={self.path}: no {FOLDERS[self.dataset]}/test.jsonl there; "
                          "point teacher.path at the faithful_cot folder (../shared/data/"
                          "teacher_outputs/faithful_cot, README §5d)")

    async def aclose(self) -> None:
        return None

    def thoughts_for(self, problems: list[Problem]) -> list[Thought]:
        """One CoT and one program per selected model for each of `problems`, in problem order,
        then method, then model."""
        self.check_ready()
        matched = self._match(problems)
        out = []
        for method, prompt in PROMPTS.items():
            for i, name in enumerate(self.models):
                file = self.folder() / f"{_prefix(name)}_{prompt}" / "predictions.jsonl"
                if method == "pot" and not file.is_file() and self.dataset == "strategyqa":
                    continue  # the source's StrategyQA "programs" are Datalog: not brought
                texts = _completions(file, set(matched))
                params = {**self.params, "prompt": prompt}
                out += [Thought(pid, method, i, _clean(texts[sid], method), name, params, {})
                        for sid, pid in matched.items()]
        order = {p.id: k for k, p in enumerate(problems)}
        return sorted(out, key=lambda t: (order[t.problem_id], t.method, t.sample_index))

    def _match(self, problems: list[Problem]) -> dict[int, str]:
        """source id -> problem id for every requested problem the source holds, gold checked."""
        file = self.folder() / "test.jsonl"
        by_id = {p.id: p for p in problems}
        key_of = self._keys(problems)
        matched: dict[int, str] = {}
        for line, record in _jsonl(file, ("id", "question", "answer")):
            problem = by_id.get(key_of(record))
            if problem is None:
                continue
            gold = _gold(record["answer"])
            if not is_correct(gold, problem.answer):
                raise MDError(f"{file}:{line}: the source's answer {record['answer']!r} is not the "
                              f"gold answer {problem.answer!r} of {problem.id}; the files do not "
                              "belong to this dataset version (check teacher.path and data.path)")
            matched[int(record["id"])] = problem.id
        if len(matched) < MIN_ALIGNED * len(problems):
            raise MDError(f"{file}: only {len(matched)} of the {len(problems)} {self.dataset} "
                          "problems found in it; the files were made for another dataset (check "
                          "teacher.path and data)")
        return matched

    def _keys(self, problems: list[Problem]):
        """How a source record names a problem id: SVAMP by position in SVAMP.json, the others
        by question text (called once per record, in file order)."""
        if self.dataset == "svamp":
            ids = _svamp_ids(self.data_path)
            return lambda r: ids[r["id"]] if isinstance(r["id"], int) and 0 <= r["id"] < len(ids) else None
        by_text: dict[str, list[str]] = {}
        for p in problems:  # a question asked twice (StrategyQA has one) is two problems
            by_text.setdefault(text_key(p.question), []).append(p.id)

        def next_of(record) -> str | None:  # each source record takes the next unmatched problem
            ids = by_text.get(text_key(str(record["question"])))
            return ids.pop(0) if ids else None
        return next_of


def _prefix(name: str) -> str:
    return next(k for k, v in MODELS.items() if v == name)


def _clean(text: str, method: str) -> str:
    """CoT without the blank lines the completion ends in; a program as written, outer blank
    lines cut (a leading space of the first line would be an indentation error)."""
    return text.strip() if method == "cot" else text.strip("\n")


def _gold(answer: Any) -> Any:
    """The source's gold answer: SVAMP writes "#### 51", ASDiv "9", StrategyQA a bool."""
    return normalize(answer.lstrip("#").strip()) if isinstance(answer, str) else normalize(answer)


def _jsonl(file: Path, keys: tuple[str, ...]):
    """(line, record) of a JSON-lines file whose records must hold `keys`; one-line errors."""
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise MDError(f"{file}: cannot read it ({e.strerror}); check teacher.path and "
                      "teacher.models") from None
    for line, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            missing = [k for k in keys if k not in record]
        except (ValueError, TypeError):
            missing = None
        if missing is None or missing:
            raise MDError(f"{file}:{line}: not a Faithful-CoT record; expected the keys "
                          f"{', '.join(keys)}")
        yield line, record


def _completions(file: Path, wanted: set) -> dict[int, str]:
    """source id -> completion of a predictions file; every wanted id must be there."""
    texts = {}
    for line, record in _jsonl(file, ("id", "completion")):
        if not isinstance(record["completion"], str):
            raise MDError(f"{file}:{line}: the completion is not text")
        texts[record["id"]] = record["completion"]
    missing = sorted(wanted - set(texts))
    if missing:
        raise MDError(f"{file}: no record for {len(missing)} of the source's questions (first: id "
                      f"{missing[0]}); the file is cut short or from another dataset")
    return texts


def _svamp_ids(data_path: str | None) -> list[str]:
    """SVAMP.json's IDs in file order: the source numbers its SVAMP questions by that order."""
    from md.data.common import data_dir, read_json

    records = read_json(data_dir("svamp", data_path, ["SVAMP.json"]) / "SVAMP.json", list)
    return [str(r.get("ID")) if isinstance(r, dict) else "" for r in records]


def model_names(models) -> tuple[str, ...]:
    """teacher.models as model names; the source's prefixes (gpt4, code002) are accepted too."""
    names = []
    for m in models or ():
        name = MODELS.get(str(m), str(m))
        if name not in MODELS.values():
            raise MDError(f"teacher.models: unknown model {m!r}; choose from "
                          f"{', '.join(MODELS.values())}")
        if name in names:
            raise MDError(f"teacher.models: {name} is listed twice; list each model once")
        names.append(name)
    if not names:
        raise MDError("teacher.models is empty; list at least one model, e.g. [gpt-3.5-turbo]")
    return tuple(names)


def build_faithful_cot_teacher(path: str, dataset: str, models, data_path: str | None = None,
                               preamble: str | None = None, answer_variable: str | None = None,
                               mode: str = "online") -> FaithfulCotTeacher:
    """Builder for conf/teacher/faithful_cot.yaml (`preamble` and `answer_variable` are the
    pipeline's, md.sandbox.preamble: the environment the programs run in; the thoughts
    themselves do not depend on them)."""
    if mode != "online":
        raise MDError("teacher=faithful_cot has no batch mode; drop teacher.mode=batch")
    if dataset not in FOLDERS:
        raise MDError(f"teacher=faithful_cot has outputs for data={'|'.join(FOLDERS)} only, not "
                      f"data={dataset}; use teacher=openai or another teacher for it")
    return FaithfulCotTeacher(path=str(path), dataset=str(dataset), models=model_names(models),
                              data_path=str(data_path) if data_path else None)
