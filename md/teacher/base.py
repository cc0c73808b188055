"""What every teacher shares: the request a teacher answers, its completion, keys and prices.

A `Request` asks one teacher for some samples of one (problem, method) prompt; `indices` are the
sample indices it fills (0..n-1 minus those already cached). Its `prompt_key` hashes the model,
the messages and the sampling parameters (never `n`), so together with a sample index it names
one thought for ever: raising n from 10 to 20 later only asks for samples 10..19.

What the stages ask of a teacher is the `Teacher` Protocol below; the five teachers of
md/teacher/ share its fields through one dataclass, `TeacherFields`, and override only the
defaults that differ (a teacher of one's own may also just have the attributes):

    model: str, params: dict, n: int, budget_usd: float | None, mode: "online" | "batch",
    concurrency: int, batch_size: int, max_n_per_request: int, cacheable: bool,
    price_in_per_1m: float, price_out_per_1m: float, recover_in_flight: bool,
    batch_discount: float,
    recorded: bool        # its thoughts come from files (thoughts_for), nothing is requested
    batch_api: bool       # it speaks the OpenAI Batch API (teacher.mode=batch)
    check_ready() -> None                      # MDError if it cannot run (no API key, ...)
    async complete(reqs) -> list[Completion]   # one completion per request, in order
    thoughts_for(problems) -> list[Thought]    # a recorded teacher's samples
    async aclose() -> None
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from md.errors import MDError
from md.types import Problem, Thought

CHARS_PER_TOKEN = 4.0  # rough English/code average; dry-run estimates say "about"

TEACHER_MODES = ("online", "batch")  # teacher.mode: one request per prompt, or the Batch API


class Teacher(Protocol):
    """What the stages (md.stages.extract, md.evaluation.few_shot) ask of a teacher."""

    model: str
    params: dict[str, Any]  # the sampling parameters, part of every prompt key
    n: int                  # samples per (question, method)
    budget_usd: float | None
    mode: str               # TEACHER_MODES
    concurrency: int        # requests in flight at once
    batch_size: int         # requests handed to complete() at a time
    max_n_per_request: int  # samples one request may ask for
    cacheable: bool         # whether its answers are worth keeping in the cache
    price_in_per_1m: float
    price_out_per_1m: float
    recover_in_flight: bool  # tag requests so a rerun can fetch answers lost in flight
    batch_discount: float   # the share of the price the Batch API bills
    recorded: bool          # its thoughts come from files: thoughts_for, no requests
    batch_api: bool         # it speaks the OpenAI Batch API (teacher.mode=batch)

    def check_ready(self) -> None: ...

    async def complete(self, reqs: list[Request]) -> list[Completion]: ...

    def thoughts_for(self, problems: list[Problem]) -> list[Thought]: ...

    async def aclose(self) -> None: ...


@dataclass(eq=False, kw_only=True)
class TeacherFields:
    """The fields every teacher of md/teacher/ shares, with the common defaults; a teacher
    redeclares only a default of its own. Keyword-only, so a subclass may add required fields."""

    model: str
    params: dict[str, Any] = field(default_factory=dict)
    n: int = 20
    budget_usd: float | None = None
    mode: str = "online"
    concurrency: int = 1
    batch_size: int = 1
    max_n_per_request: int = 1_000_000
    cacheable: bool = True
    price_in_per_1m: float = 0.0
    price_out_per_1m: float = 0.0
    recover_in_flight: bool = False
    batch_discount: float = 1.0
    recorded: ClassVar[bool] = False
    batch_api: ClassVar[bool] = False

    def check_ready(self) -> None:
        return None

    async def complete(self, reqs: list[Request]) -> list[Completion]:
        raise MDError(f"teacher {self.model!r} takes no requests")

    def thoughts_for(self, problems: list[Problem]) -> list[Thought]:
        raise MDError(f"teacher {self.model!r} holds no recorded thoughts")

    async def aclose(self) -> None:
        return None


def missing_key(teacher: str, key_env: str) -> str:
    """The one wording of a missing API key (preflight and the client alike)."""
    return (f"teacher={teacher} needs an API key: set {key_env} (never put a key in config); or "
            "use teacher=openai_compatible teacher.base_url=<your server>, or teacher=replay "
            "teacher.path=<thoughts.jsonl>")


@dataclass(frozen=True)
class Request:
    """Samples `indices` of one prompt for one problem and method."""

    problem: Problem
    method: str
    messages: tuple[dict[str, str], ...]
    prompt_key: str
    indices: tuple[int, ...]

    @property
    def prompt_tokens_est(self) -> int:
        return estimate_tokens("".join(m["content"] for m in self.messages))


@dataclass(frozen=True)
class Completion:
    """The teacher's texts for a request (one per index) and the request's token usage."""

    texts: tuple[str, ...]
    usage: dict[str, int] = field(default_factory=dict)
    # what the API says answered: the dated `model` an alias resolved to, `system_fingerprint`
    served: dict[str, str] = field(default_factory=dict)


def estimate_tokens(text: str) -> int:
    """About how many tokens `text` is, without a tokenizer (used for estimates only)."""
    return int(len(text) / CHARS_PER_TOKEN) + 1


def prompt_key(model: str, messages: tuple[dict[str, str], ...], params: dict[str, Any]) -> str:
    """The stable cache key of a prompt: model + messages + sampling params (never n)."""
    blob = json.dumps({"model": model, "messages": messages, "params": params}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def cost_usd(teacher: Any, prompt_tokens: int, completion_tokens: int, discount: float = 1.0) -> float:
    """Dollars for the given tokens at the teacher's prices (per million tokens)."""
    dollars = prompt_tokens * teacher.price_in_per_1m + completion_tokens * teacher.price_out_per_1m
    return dollars / 1e6 * discount


def worst_case_usd(teacher: Any, reqs: list[Request], discount: float = 1.0) -> float:
    """The most these requests can cost: every sample runs to max_tokens. Used for the hard cap."""
    max_tokens = int(teacher.params.get("max_tokens") or 0)
    prompt = int(1.5 * sum(r.prompt_tokens_est for r in reqs))  # margin: estimates run low
    completion = sum(len(r.indices) * max_tokens for r in reqs)
    return cost_usd(teacher, prompt, completion, discount)


def price_of(prices: dict[str, Any] | None, model: str) -> tuple[float, float]:
    """(input, output) dollars per million tokens for `model` from a config price table."""
    if not prices:
        return 0.0, 0.0
    entry = prices.get(model)
    if entry is None:  # a dated snapshot ("gpt-3.5-turbo-0125") is priced like its family
        matches = [k for k in prices if model.startswith(k)]
        entry = prices[max(matches, key=len)] if matches else None
    if entry is None:
        from md.errors import MDError

        raise MDError(
            f"no price for model {model!r} in teacher.prices; add "
            f"`teacher.prices.{model}: {{input: ..., output: ...}}` (dollars per 1M tokens)"
        )
    return float(entry["input"]), float(entry["output"])


def cut_at_stop(text: str, stop: list[str] | None) -> str:
    """`text` up to the earliest occurrence of any stop string (OpenAI's semantics: the stop
    itself is not part of the text, though some servers return it)."""
    ends = [i for s in stop or () if s and (i := text.find(s)) >= 0]
    return text[:min(ends)] if ends else text
