"""The adaptive extraction loop: ask every open prompt for its next round, judge it, close the
prompts the rule says are settled (md.teacher.adaptive), until none is open.

Each round is an ordinary request run (`ask`: online with the budget cap, or one Batch API job),
committed to the cache as it arrives. A rerun after kill -9 replays the rounds from the cache:
the samples already paid for are judged again (cheap, deterministic), so the same prompts close
at the same rounds and only what was never answered is asked for.

    counts, result = run_rounds(prompt_list, cache, n=20, rule=rule, judge=judge, ask=ask)
    # counts[prompt key] = samples taken (their indices are 0..count-1)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tqdm import tqdm

from md.settings import AdaptiveSampling
from md.teacher import plan as planning
from md.teacher.adaptive import settled
from md.teacher.cache import Cache
from md.teacher.engine import FillResult
from md.types import JudgedThought, Thought

Judge = Callable[[list[Thought]], list[JudgedThought]]
Ask = Callable[[list, float], FillResult]  # (requests, dollars spent so far) -> their result


def run_rounds(prompt_list: Sequence[planning.Prompt], teacher, cache: Cache, n: int,
               rule: AdaptiveSampling, judge: Judge, ask: Ask,
               progress: bool = True) -> tuple[dict[str, int], FillResult]:
    """Samples taken per prompt key, and the summed request results (stopped: why it ended)."""
    judged: dict[str, list[JudgedThought]] = {pr.key: [] for pr in prompt_list}
    key_of = {(pr.problem.id, pr.method): pr.key for pr in prompt_list}
    open_prompts = list(prompt_list)
    total = FillResult()
    bar = tqdm(total=len(open_prompts), unit="prompt", desc="adaptive: settled",
               disable=not progress)
    while open_prompts:
        upto = {pr.key: min(n, len(judged[pr.key]) + rule.round_size) for pr in open_prompts}
        result = ask(planning.plan(open_prompts, teacher, cache, n, upto), total.spent_usd)
        _add(total, result)
        if result.stopped:
            break
        new = list(planning.thoughts(open_prompts, teacher, cache, n, upto))
        new = [t for t in new if t.sample_index >= len(judged[key_of[t.problem_id, t.method]])]
        for j in judge(new):
            judged[key_of[j.problem_id, j.method]].append(j)
        still = [pr for pr in open_prompts if not settled(rule, judged[pr.key], n)]
        bar.update(len(open_prompts) - len(still))
        open_prompts = still
    bar.close()
    return {k: len(v) for k, v in judged.items()}, total


def _add(total: FillResult, r: FillResult) -> None:
    total.requests_sent += r.requests_sent
    total.samples += r.samples
    total.prompt_tokens += r.prompt_tokens
    total.completion_tokens += r.completion_tokens
    total.spent_usd += r.spent_usd
    total.failed_lines += r.failed_lines
    total.stopped, total.error, total.pending = r.stopped, r.error, r.pending
