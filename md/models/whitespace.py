"""Programs that survive any student tokenizer: a reversible escape of newlines and indentation.

T5's SentencePiece tokenizer normalises whitespace: "\\n" becomes a space and runs of spaces
collapse to one, so a multi-line PoT program trained or decoded through it comes back as one
line and fails with SyntaxError. For such tokenizers (found by a round-trip probe,
`needs_escape`), training targets are escaped and decoded completions unescaped, identically
in training and inference:

    "x = 1\\nif x:\\n    y = 2"  ->  "x = 1 NEWLINE if x: NEWLINE SPACE4 y = 2"

A newline becomes the word NEWLINE and each run of spaces that whitespace normalisation would
lose (an indentation, or two or more spaces) becomes SPACE<k>; both are plain letters, which
every tokenizer keeps, and they need no new vocabulary (so LoRA students can learn them too).
`unescape` undoes it exactly, eating the one space a tokenizer puts around each marker. What
it does not keep: trailing spaces at the end of a line (meaningless in Python), tabs (four
spaces each), and a text that already contains NEWLINE or SPACE<k> as whole words is
unescaped like a marker. Tokenizers
that round-trip whitespace (GPT-2, LLaMA, Mistral BPE) are left alone.
"""

from __future__ import annotations

import re

NEWLINE = "NEWLINE"
SPACE = "SPACE"
PROBE = "a = 1\nif a:\n    b = 2  # two  spaces"
_RUNS = re.compile(r" {2,}")
_MARKER = re.compile(rf" ?\b(?:{NEWLINE}|{SPACE}(\d+))\b ?")


def needs_escape(tokenizer) -> bool:
    """Whether `tokenizer` loses newlines or runs of spaces (decode(encode(x)) != x)."""
    ids = tokenizer(PROBE, add_special_tokens=False)["input_ids"]
    return tokenizer.decode(ids, skip_special_tokens=True) != PROBE


def escape(text: str) -> str:
    """Newlines and whitespace runs as NEWLINE / SPACE<k> words (see the module docstring)."""
    lines = []
    for line in text.replace("\t", "    ").split("\n"):
        line = line.rstrip(" ")
        body = line.lstrip(" ")
        indent = len(line) - len(body)
        body = _RUNS.sub(lambda m: f" {SPACE}{len(m.group(0))} ", body)
        lines.append(f"{SPACE}{indent} {body}" if indent else body)
    return _RUNS.sub(" ", f" {NEWLINE} ".join(lines)).strip()


def unescape(text: str) -> str:
    """The text `escape` was given (up to trailing spaces), from what a tokenizer decoded."""

    def marker(m: re.Match) -> str:
        return "\n" if m.group(1) is None else " " * int(m.group(1))

    return _MARKER.sub(marker, text)
