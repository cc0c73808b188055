"""ExecResult: what running one program gave, checked field by field as it arrives from a worker."""

from __future__ import annotations

from dataclasses import dataclass

STATUSES = ("ok", "error", "timeout")


@dataclass(frozen=True)
class ExecResult:
    """status "ok" | "error" | "timeout"; answer normalised by md.answers (None when none)."""

    status: str
    answer: float | bool | str | None
    error: str | None
    seconds: float

    @classmethod
    def from_message(cls, message: dict) -> ExecResult:
        """Validate a worker's JSON message; ValueError when it is not one a worker writes."""
        status, answer, error = message.get("status"), message.get("answer"), message.get("error")
        seconds = message.get("seconds")
        if status not in STATUSES:
            raise ValueError(f"bad status {status!r}")
        if isinstance(answer, int) and not isinstance(answer, bool):
            answer = float(answer)
        if answer is not None and not isinstance(answer, (float, bool, str)):
            raise ValueError(f"bad answer type {type(answer).__name__}")
        if error is not None and not isinstance(error, str):
            raise ValueError("bad error")
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
            raise ValueError("bad seconds")
        return cls(status, answer, error[:300] if error else error, float(seconds))

    @classmethod
    def failed(cls, status: str, error: str, seconds: float = 0.0) -> ExecResult:
        return cls(status, None, error, seconds)
