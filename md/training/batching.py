"""Tokenise MixedExamples, group them into batches of similar length, collate with prompt masking.

Decoder models see `prompt + "\\n" + target + eos` with the prompt's labels set to -100, so only
the reasoning path and answer carry loss; the prompt is tokenised exactly as inference
tokenises it (`md.models.prompting.prompt_ids`: special tokens included, or through the chat
template). Encoder-decoder models map the prompt to the target. MixedExample.input already
holds the task prompt (md.prompts).

Batches come from `LengthGroupedSampler`: an endless, seeded stream in which batch k is a pure
function of (seed, k), so a resumed run continues at batch `global_step * accumulation`. Within
each chunk of `mega` batches, examples are sorted by length, which cuts padding; `collate`
reports the padding waste of every batch (1 - real tokens / padded tokens).

    items, stats = encode(examples, weights, tokenizer, seq2seq=False, max_length=512)
    sampler = LengthGroupedSampler(lengths(items, seq2seq=False), batch_size=8, seed=0)
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from md.models.prompting import prompt_ids
from md.models.whitespace import escape, needs_escape
from md.training.loss import IGNORE, METHOD_IDS
from md.types import MixedExample


@dataclass(frozen=True)
class Encoded:
    """One tokenised example. labels: decoder, aligned with input_ids; seq2seq, the target ids."""

    input_ids: list[int]
    labels: list[int]
    weight: float
    method: int


def lengths(items: Sequence[Encoded], seq2seq: bool) -> list[int]:
    """Tokens per example that padding depends on (encoder + decoder for seq2seq)."""
    return [len(it.input_ids) + (len(it.labels) if seq2seq else 0) for it in items]


def target_text(target: str) -> str:
    """The target as appended after the prompt: on a new line unless it starts with whitespace."""
    return target if target[:1].isspace() else "\n" + target


def encode(
    examples: Sequence[MixedExample], weights: Sequence[float], tokenizer, seq2seq: bool,
    max_length: int, chat: bool = False,
) -> tuple[list[Encoded], dict[str, int]]:
    """Tokenise examples; returns the items and counts of truncated and dropped examples.

    chat: prompts go through the tokenizer's chat template (md.models.prompting), as at inference.
    """
    if not examples:
        return [], {"truncated": 0, "dropped": 0}
    prompts = prompt_ids(tokenizer, [e.input for e in examples], chat)
    # a tokenizer that loses newlines (T5) learns programs in an escaped form (md.models.whitespace)
    raw = [escape(e.target) for e in examples] if needs_escape(tokenizer) else [e.target for e in examples]
    texts = [t.strip() if seq2seq else target_text(t) for t in raw]
    targets = tokenizer(texts, add_special_tokens=False).input_ids
    eos = tokenizer.eos_token_id
    items, stats = [], {"truncated": 0, "dropped": 0}
    for ex, w, prompt, target in zip(examples, weights, prompts, targets, strict=True):
        if not seq2seq and prompt and prompt[-1] == eos:
            prompt = prompt[:-1]  # a tokenizer that appends eos would end the sequence early
        target = target + [eos]
        if seq2seq:
            ids, labels = prompt[:max_length], target[:max_length]
            cut = len(prompt) > max_length or len(target) > max_length
        else:
            ids = (prompt + target)[:max_length]
            labels = ([IGNORE] * len(prompt) + target)[:max_length]
            cut = len(prompt) + len(target) > max_length
        if all(t == IGNORE for t in labels):
            stats["dropped"] += 1  # the prompt alone fills max_length: nothing to learn from
            continue
        stats["truncated"] += int(cut)
        items.append(Encoded(ids, labels, float(w), METHOD_IDS.get(ex.method, METHOD_IDS["label"])))
    return items, stats


class LengthGroupedSampler:
    """Endless seeded batches of similar-length examples; this rank's share from batch `start`."""

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int = 0, start: int = 0,
                 rank: int = 0, world_size: int = 1, mega: int = 64):
        assert batch_size >= 1 and len(lengths) > 0, "need a positive batch size and some examples"
        self.lengths, self.batch_size, self.seed = list(lengths), batch_size, seed
        self.start, self.rank, self.world_size, self.mega = start, rank, world_size, mega
        self._cache: tuple[int, list[list[int]]] = (-1, [])
        self.per_epoch = len(self.epoch(0))

    def epoch(self, e: int) -> list[list[int]]:
        """All batches of epoch e: shuffle, sort each chunk of `mega` batches by length, shuffle."""
        if self._cache[0] == e:
            return self._cache[1]
        rng = random.Random(self.seed * 1_000_003 + e)
        order = list(range(len(self.lengths)))
        rng.shuffle(order)
        chunk, batches = self.batch_size * self.mega, []
        for c in range(0, len(order), chunk):
            part = sorted(order[c : c + chunk], key=lambda i: -self.lengths[i])
            batches += [part[j : j + self.batch_size] for j in range(0, len(part), self.batch_size)]
        rng.shuffle(batches)
        self._cache = (e, batches)
        return batches

    def batch(self, k: int) -> list[int]:
        """Global batch k (all ranks together)."""
        return self.epoch(k // self.per_epoch)[k % self.per_epoch]

    def __iter__(self) -> Iterator[list[int]]:
        j = self.start
        while True:
            yield self.batch(j * self.world_size + self.rank)
            j += 1


def eval_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Fixed batches for validation: sorted by length, so padding is minimal and order is stable."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[j : j + batch_size] for j in range(0, len(order), batch_size)]


def _pad(rows: list[list[int]], value: int) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows], dtype=torch.long)


def collate(items: Sequence[Encoded], pad_id: int, seq2seq: bool) -> dict:
    """Right-padded tensors: input_ids / attention_mask (B, T), labels (B, T) or (B, T_target)."""
    input_ids = _pad([it.input_ids for it in items], pad_id)  # (B, T)
    lens = torch.tensor([len(it.input_ids) for it in items])
    attention_mask = (torch.arange(input_ids.shape[1])[None, :] < lens[:, None]).long()  # (B, T)
    labels = _pad([it.labels for it in items], IGNORE)  # (B, T) decoder, (B, T_target) seq2seq
    real, padded = int(lens.sum()), input_ids.numel()
    if seq2seq:
        real += sum(len(it.labels) for it in items)
        padded += labels.numel()
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "labels": labels,
        "weights": torch.tensor([it.weight for it in items], dtype=torch.float32),  # (B,)
        "methods": torch.tensor([it.method for it in items], dtype=torch.long),  # (B,)
        "n_tokens": real,
        "pad_waste": 1.0 - real / padded,
    }
