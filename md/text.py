"""Text that enters md from outside (a teacher's answer, a JSON file, a dataset) made safe once.

JSON may legally hold a lone surrogate ("\\ud800"): Python decodes it into a str that cannot be
encoded as UTF-8, so it crashes whatever writes it later (SQLite, a JSONL file), far from where
it came in: an answer already paid for was lost when the teacher cache refused it. Every reader
at the edge passes its text through here, so nothing downstream sees one:

    loads('"a\\\\ud800b"')      # 'a\\ufffdb': the lone half replaced by U+FFFD
    clean("ok")                 # the same object, at the cost of one encode
    question_problem("  ")      # 'is empty or only whitespace'
"""

from __future__ import annotations

import json
from typing import Any

REPLACEMENT = "\ufffd"


def clean(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (valid text comes back unchanged)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return "".join(REPLACEMENT if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


def clean_all(value: Any) -> Any:
    """`clean` applied to every string inside a decoded JSON value (keys included)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [clean_all(v) for v in value]
    if isinstance(value, dict):
        return {clean(k): clean_all(v) for k, v in value.items()}
    return value


def loads(raw: str | bytes) -> Any:
    """json.loads, with lone surrogates replaced (a JSON text can only hold one escaped, so a
    line without a `\\u` escape costs nothing extra)."""
    value = json.loads(raw)
    text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
    return clean_all(value) if "\\u" in text or "\\U" in text else value


def question_problem(question: Any) -> str | None:
    """Why `question` cannot be sent to a teacher or a student, or None when it can."""
    if not isinstance(question, str):
        return f"is {type(question).__name__} {question!r:.40}, not text"
    if not question.strip():
        return "is empty or only whitespace"
    if "\x00" in question:
        return "holds a NUL character (a binary or corrupted file?)"
    return None
