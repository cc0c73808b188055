"""Which failed teacher requests to retry, how long to wait, and how to say what went wrong.

Retried: 408, 409, 429 and 5xx answers, timeouts, dropped connections and bodies that are not a
well-formed chat completion. Waits are exponential backoff with full jitter (AWS style), but
never shorter than a `retry-after-ms` / `retry-after` header asks (up to 10 minutes). Messages
name the endpoint and the status, never the API key.
"""

from __future__ import annotations

import random

import openai

MAX_RETRY_AFTER_S = 600.0  # a server asking for longer is treated as asking for this

# Worth another try: the server or the network may recover.
TRANSIENT = (openai.APITimeoutError, openai.APIConnectionError, openai.APIResponseValidationError,
             ValueError)  # ValueError: a body that is not JSON, or has no usable choices


def retryable(e: Exception) -> bool:
    """True for failures a later attempt may not see (never for 400/401/403/404/422)."""
    if isinstance(e, openai.APIStatusError):
        return e.status_code in (408, 409, 429) or e.status_code >= 500
    return True


def backoff(attempt: int, e: Exception, base: float, cap: float) -> float:
    """Full-jitter exponential backoff, but never shorter than the server's Retry-After."""
    delay = random.uniform(0, min(cap, base * 2**attempt))
    response = getattr(e, "response", None)
    headers = response.headers if response is not None else {}
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            asked = float(headers.get(name)) / scale
        except (TypeError, ValueError):
            continue
        asked = min(max(asked, 0.0), MAX_RETRY_AFTER_S)
        return asked + random.uniform(0, 0.1 * asked)
    return delay


def describe(e: Exception, teacher) -> str:
    """One line about a failed request; names the endpoint, never the key."""
    where = teacher.base_url or "api.openai.com"
    if isinstance(e, openai.AuthenticationError):
        return f"{where} rejected the API key in {teacher.api_key_env} (401); check that variable"
    if isinstance(e, openai.NotFoundError):
        return f"{where} does not know model {teacher.model!r} (404); check teacher.model"
    if isinstance(e, openai.APIStatusError):
        return f"{where} answered HTTP {e.status_code}: {str(e.message)[:200]}"
    return f"{where}: {type(e).__name__}: {str(e)[:200]}"
