"""SVAMP (Patel et al., 2021): 1,000 one-unknown arithmetic word problems, split 700 train / 300 test.

    python -m md.data data=svamp data.path=/path/to/svamp

Files: <path>/SVAMP.json (arkilpatel/SVAMP: a list of {"ID", "Body", "Question", "Answer", ...})
and the split <path>/reasoning_teacher_split/svamp__default.json (itsnamgyu/reasoning-teacher:
{"train": [700 indices], "test": [300 indices]}, 0-based positions in SVAMP.json), the 700/300
split of the Ho et al. (2023) distillation line of work. The id is SVAMP's own "ID" (chal-N).

The question is Body + " " + Question. 358 bodies lack final punctuation; 346 of them end in a
conditional ("If there is a discount of 25 dollars on each pack"), which is joined with a comma
and a lower-cased question word ("..., how much ..."); the other 12 get a full stop.
"""

from __future__ import annotations

import re

from md.data.checks import check_indices
from md.data.common import check_split, data_dir, make_problem, read_json, record_error
from md.errors import MDError
from md.types import Problem

SPLIT_FILE = "reasoning_teacher_split/svamp__default.json"
_CLAUSE = ("If ", "When ")  # a body ending in such a clause reads on into the question


def join(body: str, question: str) -> str:
    """Body and Question as one well-punctuated question text."""
    body, question = body.strip(), question.strip()
    if not body or body[-1] in ".?!":
        return f"{body} {question}".strip()
    last_sentence = re.split(r"(?<=[.?!])\s+", body)[-1]
    if last_sentence.startswith(_CLAUSE):
        return f"{body}, {question[:1].lower()}{question[1:]}"
    return f"{body}. {question}"


def load(split: str, path: str | None = None, split_file: str = SPLIT_FILE) -> list[Problem]:
    """Load one split of SVAMP; `split_file` is relative to `path` (or absolute)."""
    check_split("svamp", split)
    folder = data_dir("svamp", path, ["SVAMP.json", split_file])
    records = read_json(folder / "SVAMP.json", list)
    indices = read_json(folder / split_file, dict).get(split)
    if not isinstance(indices, list):
        raise MDError(f"{folder / split_file}: has no {split!r} list of indices")
    check_indices(folder / split_file, split, indices)
    problems = []
    for index in indices:
        if not isinstance(index, int) or not 0 <= index < len(records):
            raise MDError(f"{folder / split_file}: index {index!r} is outside SVAMP.json")
        r = records[index]
        where = f"{folder / 'SVAMP.json'} record {index}"
        try:
            question = join(r["Body"], r["Question"])
            problems.append(make_problem("svamp", split, r["ID"], question, r["Answer"], where,
                                         meta={"type": r.get("Type"), "equation": r.get("Equation")},
                                         numeric=True))
        except (KeyError, TypeError, AttributeError) as e:
            raise MDError(f"{where}: not a SVAMP record ({record_error(e)})") from None
    return problems
