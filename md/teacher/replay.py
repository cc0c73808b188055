"""A teacher that replays thoughts from a JSONL file of `md.types.Thought` (no model is called).

Use it to rerun the pipeline on thoughts someone already paid for, or on thoughts converted from
a published teacher output. Each request is answered by the file's thought with the same
problem id, method and sample index; a missing one is an MDError that says how many are missing
and how to fix it (fewer samples with teacher.n, or a fuller file).

    python -m md.extract data=svamp teacher=replay teacher.path=/data/svamp_thoughts.jsonl
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from md import jsonl
from md.errors import MDError
from md.teacher.alignment import Questions
from md.teacher.base import Completion, Request, TeacherFields
from md.types import REASONING_METHODS, Thought


@dataclass(eq=False, kw_only=True)
class ReplayTeacher(TeacherFields):
    path: str
    model: str = "replay"
    batch_size: int = 1024
    cacheable: bool = False  # the file is the cache
    _thoughts: dict[tuple[str, str, int], Thought] | None = field(default=None, repr=False)
    _rows: dict[tuple[str, str, int], int] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self.params = {"path": str(self.path)}

    def check_ready(self) -> None:
        if not Path(self.path).is_file():
            raise MDError(f"teacher=replay: no thoughts file at {self.path}; set "
                          "teacher.path=/path/to/thoughts.jsonl (records of md.types.Thought)")

    def load(self) -> dict[tuple[str, str, int], Thought]:
        """The file's thoughts by (problem id, method, sample); a record that cannot be one of
        them (another method, a duplicate) is refused with its record number."""
        if self._thoughts is None:
            self.check_ready()
            thoughts, rows = {}, {}
            for row, t in enumerate(jsonl.read(self.path, Thought), start=1):
                key = (t.problem_id, t.method, t.sample_index)
                if t.method not in REASONING_METHODS or not isinstance(t.text, str):
                    raise MDError(f"{self.path} record {row}: method {t.method!r} with text of type "
                                  f"{type(t.text).__name__}; a thought is a cot or pot text")
                if key in thoughts:
                    raise MDError(f"{self.path} record {row}: a second {t.method} thought "
                                  f"#{t.sample_index} for problem {t.problem_id} (first: record "
                                  f"{rows[key]}); remove the duplicate")
                thoughts[key], rows[key] = t, row
            self._thoughts, self._rows = thoughts, rows
        return self._thoughts

    async def complete(self, reqs: list[Request]) -> list[Completion]:
        thoughts = self.load()
        keys = [(r.problem.id, r.method, i) for r in reqs for i in r.indices]
        missing = [k for k in keys if k not in thoughts]
        if missing:
            pid, method, index = missing[0]
            raise MDError(f"teacher=replay: {self.path} has no {method} thought #{index} for "
                          f"problem {pid} ({len(missing)} missing in this batch); lower teacher.n "
                          "or replay a file with all the problems of this dataset")
        self._check_aligned(reqs, thoughts)
        out = []
        for r in reqs:
            found = [thoughts[(r.problem.id, r.method, i)] for i in r.indices]
            usage = {"prompt_tokens": sum(t.usage.get("prompt_tokens", 0) for t in found),
                     "completion_tokens": sum(t.usage.get("completion_tokens", 0) for t in found)}
            out.append(Completion(tuple(t.text for t in found), usage))
        return out


    def _check_aligned(self, reqs: list[Request], thoughts: dict) -> None:
        """Refuse a thought that answers another problem of the batch than the one it is filed
        under (a file of another dataset version, or ids shifted)."""
        problems = list({r.problem.id: r.problem for r in reqs}.values())
        index = Questions([p.question for p in problems])
        position = {p.id: i for i, p in enumerate(problems)}
        for r in reqs:
            for i in r.indices:
                key = (r.problem.id, r.method, i)
                other = index.owner(thoughts[key].text, position[r.problem.id])
                if other is not None:
                    raise MDError(f"{self.path} record {self._rows[key]}: the {r.method} thought "
                                  f"of problem {r.problem.id} shares no number with its question "
                                  f"but fits problem {problems[other].id}; the file does not line "
                                  "up with these problems (another dataset version, or ids "
                                  "shifted): replay a file extracted for them")


def build_replay_teacher(path: str, n: int = 20, budget_usd: float | None = None,
                         mode: str = "online") -> ReplayTeacher:
    """Builder for conf/teacher/replay.yaml."""
    if mode != "online":
        raise MDError("teacher=replay has no batch mode; drop teacher.mode=batch")
    return ReplayTeacher(path=str(path), n=n, budget_usd=budget_usd)
