"""GSM8K (Cobbe et al., 2021): grade-school math word problems, 7,473 train / 1,319 test.

    python -m md.data data=gsm8k data.path=/path/to/grade_school_math/data

Files: <path>/train.jsonl and <path>/test.jsonl from openai/grade-school-math, one
`{"question", "answer"}` per line. The answer is a rationale whose last line is `#### <number>`;
the gold is that number with thousands commas removed. The source has no ids, so a problem's id
is `gsm8k-<split>-<0-based line index>`, which is stable for the pinned files.
"""

from __future__ import annotations

import json

from md.data.common import check_split, data_dir, make_problem, read_text, record_error
from md.errors import MDError
from md.jsonl import loads
from md.types import Problem

FILES = ["train.jsonl", "test.jsonl"]


def load(split: str, path: str | None = None) -> list[Problem]:
    """Load one split of GSM8K from `path` (None: download the original files once)."""
    check_split("gsm8k", split)
    file = data_dir("gsm8k", path, FILES) / f"{split}.jsonl"
    problems = []
    for index, line in enumerate(read_text(file).splitlines()):
        where = f"{file}:{index + 1}"
        try:
            record = loads(line)
            question, rationale = record["question"], record["answer"]
        except json.JSONDecodeError as e:
            raise MDError(f"{where}: malformed JSON ({e.msg} at column {e.colno})") from None
        except (KeyError, TypeError) as e:
            raise MDError(f"{where}: not a GSM8K record ({record_error(e)})") from None
        if not isinstance(rationale, str) or "####" not in rationale:
            raise MDError(f"{where}: the answer has no '#### <number>' line")
        gold = rationale.rsplit("####", 1)[1].strip().replace(",", "")
        problems.append(make_problem("gsm8k", split, f"gsm8k-{split}-{index}", question, gold,
                                     where, numeric=True))
    return problems
