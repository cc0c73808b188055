"""Print a dataset's size per split and the types of its gold answers.

    python -m md.data data=gsm8k data.path=/work/shared/data/gsm8k
    python -m md.data                                  # the synthetic default
    python -m md.data data=asdiv data.path=... data.train_fraction=0.2

The counts are after the generic keys (train_fraction, max_train, max_test), i.e. what a run
with the same data config would use.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import partial

from md.config.builders import load_problems
from md.config.cli import stage_main
from md.data import answer_type
from md.data.common import SPLITS
from md.types import Problem

TYPES = ("int", "float", "bool", "text")


def stats_table(name: str, counts: dict[str, Counter]) -> str:
    """A small fixed-width table: one row per split, total then one column per answer type."""
    header = f"{'split':<6} {'problems':>8} " + " ".join(f"{t:>6}" for t in TYPES)
    rows = [f"{name}", header]
    for split, c in counts.items():
        rows.append(f"{split:<6} {sum(c.values()):>8} " + " ".join(f"{c[t]:>6}" for t in TYPES))
    return "\n".join(rows)


def run(name: str, load: Callable[[str], list[Problem]]) -> str:
    """Load both splits with `load(split)` and tabulate them."""
    counts = {split: Counter(answer_type(p.answer) for p in load(split)) for split in SPLITS}
    return stats_table(name, counts)


@stage_main("data_stats")
def main(cfg) -> None:
    print(run(cfg.data.name, partial(load_problems, cfg.data)))


if __name__ == "__main__":
    main()
