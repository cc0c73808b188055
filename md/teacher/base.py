"""What every teacher shares: the request a teacher answers, its completion, keys and prices.

A `Request` asks one teacher for some samples of one (problem, method) prompt; `indices` are the
sample indices it fills (0..n-1 minus those already cached). Its `prompt_key` hashes the model,
the messages and the sampling parameters (never `n`), so together with a sample index it names
one thought for ever: raising n from 10 to 20 later only asks for samples 10..19.

Teachers are plain objects with this duck-typed surface (no base class to inherit):

    model: str, params: dict, n: int, budget_usd: float | None, mode: "online" | "batch",
    concurrency: int, batch_size: int, max_n_per_request: int, cacheable: bool,
    price_in_per_1m: float, price_out_per_1m: float,
    check_ready() -> None                      # MDError if it cannot run (no API key, ...)
    async complete(reqs) -> list[Completion]   # one completion per request, in order
    async aclose() -> None
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from md.types import Problem

CHARS_PER_TOKEN = 4.0  # rough English/code average; dry-run estimates say "about"

TEACHER_MODES = ("online", "batch")  # teacher.mode: one request per prompt, or the Batch API


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
