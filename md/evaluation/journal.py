"""What an evaluation has sampled, appended chunk by chunk, so a killed evaluation resumes where
it stopped instead of sampling everything again (and a finished one, rerun, samples nothing).

    journal = Journal(out_dir / NAME, students_and_settings, question_ids)
    texts = journal.run("cot", prompts, lambda part: gen.sample(part, n, t), chunk=60)

The first line is the manifest: the key. Every further line is one finished chunk of one phase
(sampled CoT, sampled PoT, greedy CoT, ...): where it starts, the completions, and the torch RNG
state after it; each line is flushed and fsynced as its chunk ends. On a rerun the phases'
finished chunks are read back, the RNG state of the last one restored, and sampling continues
with the next chunk: the calls made are exactly those an uninterrupted run makes, so the
resumed evaluation equals it byte for byte (with or without `inference.seed_per_question`; on
a GPU, CUDA's RNG too). A journal made with other settings is named in one line and sampling
starts over; a line cut by the kill, and anything after a line out of order, is dropped. The journal stays after the evaluation, its last line marking it finished: a
rerun with the same students and settings scores it again without generating anything, and
md.train (rerun in its run folder, a relaunched sweep) skips it altogether.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

NAME = "sampling.jsonl"


class Journal:
    def __init__(self, path: str | Path, *key_parts: Any, every: int = 64):
        """key_parts: plain values that determine the samples (hashed into the manifest);
        every: about how many prompts a chunk holds (what a kill can cost, per phase)."""
        blob = json.dumps(list(key_parts), sort_keys=True, default=str).encode()
        self.path, self.key = Path(path), hashlib.sha256(blob).hexdigest()[:16]
        self.every = every
        self.done: dict[str, list[Any]] = {}
        self._rng: str | None = None
        self._loaded = False

    def run(self, phase: str, prompts: Sequence[str], call: Callable[[Sequence[str]], list],
            chunk: int) -> list:
        """call(prompts) chunk by chunk, skipping the chunks already recorded for `phase`."""
        self._load()
        out = list(self.done.get(phase, []))[: len(prompts)]
        if self._rng is not None and len(out) < len(prompts):
            _set_rng(self._rng)  # continue the random stream where the killed run left it
            self._rng = None
        for start in range(len(out), len(prompts), max(1, chunk)):
            part = list(call(prompts[start : start + chunk]))
            self._append({"phase": phase, "start": start, "texts": part, "rng": _get_rng()})
            out += part
        return out

    def finish(self) -> None:
        """Mark the evaluation whole (metrics.json written): a rerun can skip it entirely."""
        self._append({"finished": True})

    def finished(self) -> bool:
        """Whether this journal (same key) recorded a whole evaluation."""
        try:
            lines = self.path.read_bytes().rstrip(b"\n").split(b"\n")
            return json.loads(lines[0]).get("key") == self.key and \
                json.loads(lines[-1]).get("finished") is True
        except (OSError, ValueError, AttributeError):
            return False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if not self.path.is_file():
            return
        lines = self.path.read_bytes().split(b"\n")
        try:
            head = json.loads(lines[0])
        except ValueError:
            head = {}
        if head.get("key") != self.key:
            print(f"evaluate: {self.path} was sampled with other settings (students, inference "
                  "or test questions); sampling from the start", file=sys.stderr)
            self.path.unlink()
            return
        kept = [lines[0]]
        for raw in lines[1:]:
            try:
                record = json.loads(raw)
            except ValueError:
                break  # the line the kill cut short
            if not isinstance(record, dict):
                break
            if record.get("finished"):
                continue  # rerun: scored again, and marked again at the end
            done = self.done.setdefault(str(record.get("phase")), [])
            if record.get("start") != len(done) or not isinstance(record.get("texts"), list):
                break
            done += record["texts"]
            self._rng = record["rng"]
            kept.append(raw)
        self._write(b"\n".join(kept) + b"\n")  # drop a cut tail, so appends continue cleanly
        count = sum(len(v) for v in self.done.values())
        if count:
            print(f"evaluate: resuming from {self.path}: {count} prompts' completions already "
                  f"sampled ({', '.join(f'{k} {len(v)}' for k, v in self.done.items())})",
                  file=sys.stderr)

    def _append(self, record: dict) -> None:
        if not self.path.exists():
            self._write(json.dumps({"key": self.key}).encode() + b"\n")
        with self.path.open("ab") as f:
            f.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")
            f.flush()
            os.fsync(f.fileno())

    def _write(self, data: bytes) -> None:
        from md.fsio import atomic_open

        with atomic_open(self.path, "wb") as f:
            f.write(data)


def _get_rng() -> str:
    import torch

    state = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return base64.b64encode(buffer.getvalue()).decode()


def _set_rng(encoded: str) -> None:
    import torch

    state = torch.load(io.BytesIO(base64.b64decode(encoded)), weights_only=True)
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
