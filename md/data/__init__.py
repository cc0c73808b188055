"""Benchmark loaders (GSM8K, SVAMP, ASDiv, StrategyQA) and the synthetic generator, one interface.

    from md import data
    problems = data.load("gsm8k", "train", path="../shared/data/gsm8k")
    subset = data.select(problems, fraction=0.2)     # the paper's training-set-size sweep (Fig. 5)

    python -m md.data data=svamp data.path=../shared/data/svamp    # counts and answer types

Every loader is `load(split, path=None, **own_options) -> list[Problem]` with split "train" or
"test"; path None downloads the original public files once (md.data.download), except for
"synthetic", which is generated. Config: conf/data/<name>.yaml, whose `_target_` is the loader
that runs (point it at your own function to plug in a dataset). Its generic keys
(`GENERIC_KEYS`: train_fraction, max_train, max_test) are not loader options; `load_split`
applies them after loading.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from md.data import asdiv, gsm8k, strategyqa, svamp, synthetic
from md.data.checks import check_problems, warn_overlap
from md.errors import MDError
from md.types import Problem

LOADERS: dict[str, Callable[..., list[Problem]]] = {
    "gsm8k": gsm8k.load,
    "svamp": svamp.load,
    "asdiv": asdiv.load,
    "strategyqa": strategyqa.load,
    "synthetic": synthetic.load,
}
GENERIC_KEYS = ("train_fraction", "max_train", "max_test")


Loader = Callable[..., list[Problem]]


def load(dataset: str | Loader, split: str, path: str | None = None, **opts) -> list[Problem]:
    """One split of `dataset` (a name of LOADERS, or a loader itself: the data group's
    `_target_`, so a loader of your own plugs in), with the loader's own options."""
    if callable(dataset):
        loader, name = dataset, getattr(dataset, "__module__", "data")
    elif dataset in LOADERS:
        loader, name = LOADERS[dataset], dataset
    else:
        raise MDError(f"unknown dataset {dataset!r}; use one of {', '.join(LOADERS)} (data=<name>)")
    try:
        problems = loader(split, path, **opts)
    except TypeError as e:  # an unknown option reached the loader: say which, not a traceback
        if "unexpected keyword" not in str(e):
            raise
        raise MDError(f"data={name}: {e.args[0].split('() ')[-1]}; see conf/data/{name}.yaml") from None
    check_problems(problems, name, split)
    if split == "test":
        _warn_if_test_in_train(loader, path, name, problems, opts)
    return problems


def _warn_if_test_in_train(loader: Loader, path: str | None, name: str, test: list[Problem],
                           opts: dict) -> None:
    """One warning line when the test split shares questions with the train split."""
    try:
        train = loader("train", path, **opts)
    except MDError:  # a loader without a train split: nothing to compare against
        return
    warn_overlap(train, test, name)


def select(problems: list[Problem], fraction: float = 1.0, limit: int | None = None,
           seed: int = 0) -> list[Problem]:
    """A deterministic subset, in the original order: a seeded `fraction`, then at most `limit`.

    Subsets are nested: with the same seed, the 20% subset lies inside the 40% one, so the
    training-set-size sweep only ever adds problems.
    """
    if not 0.0 < fraction <= 1.0:
        raise MDError(f"data.train_fraction must be in (0, 1], got {fraction}")
    if limit is not None and limit < 0:
        raise MDError(f"a problem limit must be >= 0 or null, got {limit}")
    order = list(range(len(problems)))
    random.Random(seed).shuffle(order)
    keep = round(fraction * len(problems))
    if limit is not None:
        keep = min(keep, limit)
    chosen = sorted(order[:keep])
    return [problems[i] for i in chosen]


def load_split(dataset: str | Loader, split: str, path: str | None = None, *,
               train_fraction: float = 1.0, max_train: int | None = None,
               max_test: int | None = None, name: str | None = None, **opts) -> list[Problem]:
    """`load`, then the generic keys: train gets `select(train_fraction, max_train)`; test the
    first `max_test` problems after a seeded shuffle (the same `select`, fraction 1).
    name: how errors call the dataset (default: `dataset` when it is a name)."""
    problems = load(dataset, split, path, **opts)
    name = name or (dataset if isinstance(dataset, str) else getattr(dataset, "__module__", "data"))
    chosen = (select(problems, train_fraction, max_train) if split == "train"
              else select(problems, 1.0, max_test))
    if not chosen:
        where = f" in data.path={path}" if path else ""
        raise MDError(f"data={name}: the {split} split has 0 problems{where} ({len(problems)} before "
                      "data.train_fraction / data.max_train / data.max_test); check the files and "
                      "those settings")
    return chosen


def answer_type(answer: object) -> str:
    """'int', 'float', 'bool' or 'text': how a normalised gold answer is typed in the stats."""
    if isinstance(answer, bool):
        return "bool"
    if isinstance(answer, float):
        return "int" if answer.is_integer() else "float"
    return "text"
