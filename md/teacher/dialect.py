"""The request parameters a teacher model takes, learnt from its first 400.

OpenAI's current reasoning models refuse `max_tokens` (they take `max_completion_tokens`) and
some refuse any non-default `temperature` or `top_p`; older models and other servers take them
all. md sends what the config says; when a model answers 400 about one of these parameters,
`learn` records the change for that server and model (for this process), says so in one line,
and the request is sent again, as is every later one:

    warning: api.openai.com: model 'o3-mini' takes max_completion_tokens, not max_tokens;
             sending max_completion_tokens=512 from now on

The cache keys keep the configured parameters (md.teacher.base.prompt_key), so a sample is
named by what the user asked for, whatever the wire format. Any other 400 is not learnt: the
client reports it in one line and does not retry.
"""

from __future__ import annotations

import sys
from typing import Any

# sampling parameters a model may refuse outright (then its default is used)
DROPPABLE = ("temperature", "top_p", "stop", "presence_penalty", "frequency_penalty")
PARAMS = ("max_tokens", *DROPPABLE)
_RENAMED: set[tuple[str, str]] = set()  # (server, model) that take max_completion_tokens
_DROPPED: dict[tuple[str, str], set[str]] = {}  # (server, model) -> params it refuses


def speak(params: dict[str, Any], server: str, model: str) -> dict[str, Any]:
    """`params` as this server's model takes them."""
    key = (server, model)
    out = {k: v for k, v in params.items() if k not in _DROPPED.get(key, ())}
    if key in _RENAMED and "max_tokens" in out:
        out["max_completion_tokens"] = out.pop("max_tokens")
    return out


def learn(error_body: Any, server: str, model: str) -> bool:
    """Record what a 400 says this model does not take; False when it is not about that."""
    error = error_body.get("error", error_body) if isinstance(error_body, dict) else {}
    param, message = error.get("param"), str(error.get("message") or "")
    key = (server, model)  # requests in flight may all fail at once: one learns, all resend
    if param == "max_tokens" and "max_completion_tokens" in message:
        if key not in _RENAMED:
            _RENAMED.add(key)
            _say(f"{server}: model {model!r} takes max_completion_tokens, not max_tokens; "
                 "sending max_completion_tokens from now on")
        return True
    refused = error.get("code") in ("unsupported_value", "unsupported_parameter")
    if param in DROPPABLE and refused:
        if param not in _DROPPED.setdefault(key, set()):
            _DROPPED[key].add(param)
            _say(f"{server}: model {model!r} does not take {param} (it answered: "
                 f"{message[:120]}); sending no {param} from now on, so its default applies")
        return True
    return False


def _say(line: str) -> None:
    print(f"warning: {line}", file=sys.stderr)
