"""StrategyQA (Geva et al., 2021): yes/no questions that need implicit multi-hop reasoning.

    python -m md.data data=strategyqa data.path=/path/to/strategyqa

Files: <path>/train.json (2,061) and <path>/dev.json (229) from eladsegal/strategyqa, an
unofficial 90/10 split of the official labelled train set (the official test set has no public
labels). As in the paper, dev serves as the test split. Each record is
{"qid", "question", "answer": bool, "facts", "decomposition", ...}; the id is the qid, and the
gold is a bool. The facts are kept in `meta["facts"]` (the gold evidence, never shown to the
student; a simulated teacher may use them).
"""

from __future__ import annotations

from md.data.common import check_split, data_dir, make_problem, read_json, record_error
from md.errors import MDError
from md.types import Problem

FILES = {"train": "train.json", "test": "dev.json"}


def load(split: str, path: str | None = None) -> list[Problem]:
    """Load one split of StrategyQA (test = the dev file)."""
    check_split("strategyqa", split)
    file = data_dir("strategyqa", path, list(FILES.values())) / FILES[split]
    records = read_json(file, list)
    problems = []
    for index, r in enumerate(records):
        where = f"{file} record {index}"
        try:
            if not isinstance(r["answer"], bool):
                raise MDError(f"{where}: answer {r['answer']!r} is not true/false")
            problems.append(make_problem("strategyqa", split, r["qid"], r["question"], r["answer"],
                                         where, meta={"facts": list(r.get("facts") or [])}))
        except (KeyError, TypeError, AttributeError) as e:
            raise MDError(f"{where}: not a StrategyQA record ({record_error(e)})") from None
    return problems
