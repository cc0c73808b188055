"""What a job's W&B run records about the data it was made from: the mix statistics (type
shares, mean λ, examples) and the teacher's bill (requests, tokens, dollars; paid or cached).

    log_inputs(run, mix=pipeline.mix_stats(plan), spend=pipeline.teacher_spend(plan),
               paid_here=True)

Summary keys `mix/*` (md.mixing.stats.log_wandb) and `teacher/*`: `teacher/usd` is what THIS job
paid (0 when it reused thoughts an earlier job made), `teacher/usd_at_extraction` what the
thoughts cost when they were made, so a sweep's runs add up to the real bill.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def spend_keys(spend: dict[str, Any], paid_here: bool) -> dict[str, Any]:
    """The `teacher/*` summary keys of a job that made (paid_here) or reused the thoughts."""
    requests = int(spend.get("requests", 0))
    paid = int(spend.get("requests_paid", 0)) if paid_here else 0
    return {"teacher/model": str(spend.get("model", "")),
            "teacher/requests": requests,
            "teacher/requests_paid": paid,
            "teacher/requests_cached": requests - paid,
            "teacher/prompt_tokens": int(spend.get("prompt_tokens", 0)),
            "teacher/completion_tokens": int(spend.get("completion_tokens", 0)),
            "teacher/usd": float(spend.get("usd", 0.0)) if paid_here else 0.0,
            "teacher/usd_at_extraction": float(spend.get("usd", 0.0)),
            "teacher/thoughts": "extracted by this job" if paid_here else "reused"}


def log_inputs(run: Any, *, mix: tuple[dict, Path] | None = None,
               spend: dict[str, Any] | None = None, paid_here: bool = False) -> None:
    """Log the mix statistics and the teacher's bill to `run` (a W&B run; None does nothing)."""
    if run is None:
        return
    if mix is not None:
        from md.mixing.stats import log_wandb

        stats, png = mix
        log_wandb(stats, run, png=png)
    if spend is not None:
        keys = spend_keys(spend, paid_here)
        run.summary.update(keys)
        run.log({k: v for k, v in keys.items() if isinstance(v, (int, float))})


def log_summary(run: Any, keys: dict[str, Any]) -> None:
    """Put `keys` in a W&B run's summary (a relaunched job's results read back from disk)."""
    if run is not None:
        run.summary.update(keys)
