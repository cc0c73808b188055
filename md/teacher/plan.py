"""What an extraction will ask the teacher, what it is estimated to cost, and the thoughts it made.

`plan` turns problems into one prompt per (problem, method) and, for each, the requests that
fill the sample indices the cache does not hold yet (split by how many samples the endpoint
returns per request). `estimate` prices those requests for the dry run. `thoughts` reads the
finished samples back from the cache as `md.types.Thought` records, in problem order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from md.teacher import prompts
from md.teacher.base import Request, cost_usd, estimate_tokens, prompt_key
from md.teacher.cache import Cache
from md.types import REASONING_METHODS, Problem, Thought


@dataclass(frozen=True)
class Prompt:
    problem: Problem
    method: str
    messages: tuple[dict[str, str], ...]
    key: str


@dataclass(frozen=True)
class Estimate:
    requests: int
    samples: int
    prompt_tokens: int
    completion_tokens: int
    completion_tokens_max: int
    usd: float
    usd_max: float

    def lines(self, model: str) -> list[str]:
        return [
            f"teacher {model}: {self.requests} requests for {self.samples} samples not cached yet",
            f"estimated tokens: about {self.prompt_tokens:,} prompt + {self.completion_tokens:,} "
            f"completion (at most {self.completion_tokens_max:,} if every sample hits max_tokens)",
            f"estimated cost: about ${self.usd:.2f} (at most ${self.usd_max:.2f})",
        ]


def prompts_for(problems: list[Problem], teacher) -> list[Prompt]:
    out = []
    for p in problems:
        for method in REASONING_METHODS:
            messages = prompts.build_messages(p, method)
            out.append(Prompt(p, method, messages, prompt_key(teacher.model, messages,
                                                              teacher.params)))
    return out


def plan(prompt_list: list[Prompt], teacher, cache: Cache, n: int,
         upto: dict[str, int] | None = None) -> list[Request]:
    """Requests for every sample index in 0..n-1 (or 0..upto[key]-1) the cache does not hold."""
    per = max(1, int(teacher.max_n_per_request))
    reqs = []
    for pr in prompt_list:
        missing = cache.missing(pr.key, upto.get(pr.key, n) if upto else n)
        for i in range(0, len(missing), per):
            reqs.append(Request(pr.problem, pr.method, pr.messages, pr.key,
                                tuple(missing[i:i + per])))
    return reqs


def typical_completion_tokens(method: str, question: str) -> int:
    """About how long one answer runs: twice our exemplars' reasoning plus the question's length
    (longer questions take more steps). On SVAMP this overshoots PaLM's CoT (~40 tokens) and
    Codex's PoT (~32 tokens) in ../shared/data by about half: budgets should err high."""
    fam = prompts.MATH_COT if method == "cot" else prompts.MATH_POT
    exemplar = sum(estimate_tokens(ex[1]) for ex in fam) / len(fam)
    return int(2 * exemplar) + estimate_tokens(question)


def estimate(reqs: list[Request], teacher, discount: float = 1.0) -> Estimate:
    samples = sum(len(r.indices) for r in reqs)
    prompt = sum(r.prompt_tokens_est for r in reqs)
    typical = sum(typical_completion_tokens(r.method, r.problem.question) * len(r.indices)
                  for r in reqs)
    worst = samples * int(teacher.params.get("max_tokens") or 0)
    return Estimate(len(reqs), samples, prompt, typical, worst,
                    cost_usd(teacher, prompt, typical, discount),
                    cost_usd(teacher, prompt, worst, discount))


def estimate_unplanned(prompt_list: list[Prompt], teacher, cache: Cache, n: int,
                       discount: float = 1.0) -> Estimate:
    """What `estimate(plan(prompt_list, teacher, cache, n))` says, counted instead of built: a
    dry run's memory and time grow with the prompts, never with n (plan() makes n indices)."""
    per = max(1, int(teacher.max_n_per_request))
    max_tokens = int(teacher.params.get("max_tokens") or 0)
    requests = samples = prompt = typical = 0
    for pr in prompt_list:
        missing = n - cache.held(pr.key, n)
        if missing <= 0:
            continue
        asks = -(-missing // per)
        requests += asks
        samples += missing
        prompt += asks * estimate_tokens("".join(m["content"] for m in pr.messages))
        typical += missing * typical_completion_tokens(pr.method, pr.problem.question)
    worst = samples * max_tokens
    return Estimate(requests, samples, prompt, typical, worst,
                    cost_usd(teacher, prompt, typical, discount),
                    cost_usd(teacher, prompt, worst, discount))


def thoughts(prompt_list: list[Prompt], teacher, cache: Cache, n: int,
             counts: dict[str, int] | None = None) -> Iterator[Thought]:
    """Every cached thought of the plan (samples 0..n-1, or 0..counts[key]-1 when adaptive
    sampling stopped a prompt early); raises KeyError naming the first missing one."""
    params = {**teacher.params, "n": n}
    for pr in prompt_list:
        for i in range(counts.get(pr.key, n) if counts else n):
            hit = cache.get(pr.key, i)
            if hit is None:
                raise KeyError(f"{pr.problem.id}/{pr.method}/{i}")
            yield Thought(pr.problem.id, pr.method, i, hit[0], teacher.model, params, hit[1],
                          hit[2])
