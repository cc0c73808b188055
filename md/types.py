"""The records that flow between the stages, as frozen dataclasses.

Every stage reads and writes these through `md.jsonl`, so a record's fields are the hand-off
contract: a stage may add fields downstream, never change what an upstream field means.

    problems ──extract──▶ Thought ──execute──▶ JudgedThought ──mix──▶ MixedExample
             ──train──▶ adapter ──infer/evaluate──▶ Prediction

An `Answer` is a normalised answer value (see `md.answers.normalize`): a float for numbers,
a bool for yes/no questions, a lower-cased str for text answers ("neither day").
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

Answer = float | bool | str
Method = Literal["cot", "pot"]
PathMethod = Literal["cot", "pot", "label"]  # a label-fine-tuned student writes bare answers
REASONING_METHODS: tuple[Method, ...] = ("cot", "pot")


@dataclass(frozen=True)
class Step:
    """One operation of a synthetic problem's gold solution: `out = op(*args)`.

    `op` is one of add, sub, mul, div, cmp. Arguments name quantities in `Solution.values`
    or outputs of earlier steps. `cmp` compares two quantities and yields the *label* of the
    larger one (or the "neither" label when equal), which is how text answers arise.
    """

    op: str
    args: tuple[str, ...]
    out: str


@dataclass(frozen=True)
class Solution:
    """The gold solution structure of a synthetic problem (absent for real benchmarks).

    values: the named quantities stated in the question, e.g. {"start": 151, "bought": 23}.
    steps:  the operations, in order; the last step's `out` is the answer.
    labels: text labels for `cmp` results, e.g. {"monday": "monday", "neither": "neither day"}.
    tags:   what kind of reasoning the template needs, e.g. ("inverse",), ("compare",),
            ("large_numbers",), ("multi_step",), ("fraction",), ("more_fewer",). The
            simulated teacher's error model keys on them.
    """

    values: dict[str, float]
    steps: tuple[Step, ...]
    labels: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Problem:
    """A benchmark question with its gold answer. `id` is stable across runs and machines."""

    id: str
    dataset: str
    split: str
    question: str
    answer: Answer
    solution: Solution | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Thought:
    """One sampled teacher completion for one problem and one method (CoT text or PoT code)."""

    problem_id: str
    method: Method
    sample_index: int
    text: str
    model: str  # the model asked for (teacher.model), an alias such as gpt-3.5-turbo
    params: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)
    # what answered, as the API says: the dated `model` an alias resolved to (aliases move:
    # gpt-3.5-turbo-0613, the paper's, was retired in 2024) and the `system_fingerprint`
    served: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class JudgedThought:
    """A thought after judging: its answer (CoT parsed, PoT executed) and whether it is right.

    status: "ok" | "error" | "timeout" (PoT execution) | "no_answer" (no answer found).
    """

    problem_id: str
    method: Method
    sample_index: int
    text: str
    status: str
    answer: Answer | None
    correct: bool
    error: str | None = None


@dataclass(frozen=True)
class MixedExample:
    """One training example: input to target, with the loss weight of its question's type.

    method is "cot", "pot" or "label" (label fine-tuning: question to answer).
    qtype is the paper's type 1-3 (1: only PoT right, 2: only CoT right, 3: both); 0 when the
    data-mix does not type questions (cot, pot and label distillation).
    weight is the method's weight in its question's loss (1, or 1-λ / λ for type 3); share
    splits it over the question's kept paths of that method (1/m for m paths, times one
    dataset-wide constant), so Eq. 2-4 hold exactly whatever the path counts (md.stages.mix.build).
    """

    problem_id: str
    method: str
    input: str
    target: str
    weight: float
    qtype: int
    lam: float | None = None
    share: float = 1.0


@dataclass(frozen=True)
class ReasoningPath:
    """One sampled student reasoning path at inference time."""

    method: PathMethod
    text: str
    status: str
    answer: Answer | None
    greedy: bool = False  # decoded at temperature 0 (the greedy single path), not sampled


@dataclass(frozen=True)
class Prediction:
    """Everything sampled for one test question, and what each inference method voted."""

    problem_id: str
    gold: Answer
    paths: tuple[ReasoningPath, ...]
    votes: dict[str, Answer | None] = field(default_factory=dict)
    correct: dict[str, bool] = field(default_factory=dict)


R = TypeVar("R")


def to_dict(record: Any) -> dict[str, Any]:
    """A record as a JSON-ready dict (tuples become lists)."""
    return dataclasses.asdict(record)


def from_dict(cls: type[R], data: dict[str, Any]) -> R:
    """Rebuild a record from `to_dict` output; unknown keys are an error, missing ones use defaults."""
    return _build(cls, data)


_NESTED = {"solution": Solution, "paths": ReasoningPath, "steps": Step}


def _build(cls: type[R], data: dict[str, Any]) -> R:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"{cls.__name__} has no field(s) {sorted(unknown)}")
    kwargs = {}
    for key, value in data.items():
        nested = _NESTED.get(key)
        if nested is not None and isinstance(value, dict):
            value = _build(nested, value)
        elif nested is not None and isinstance(value, (list, tuple)):
            value = tuple(_build(nested, v) if isinstance(v, dict) else v for v in value)
        elif key in ("args", "tags") and isinstance(value, (list, tuple)):
            value = tuple(value)
        kwargs[key] = value
    return cls(**kwargs)
