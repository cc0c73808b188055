"""Batching (md/training/batching.py): prompt masking, seq2seq targets, resumable length-grouped batches."""

from __future__ import annotations

import random

import pytest

from md.mixing.examples import demo_examples
from md.models.tokenizer import train_tokenizer
from md.stages.train import split
from md.training.batching import (
    LengthGroupedSampler,
    collate,
    encode,
    eval_batches,
    lengths,
    target_text,
)
from md.training.loss import IGNORE, METHOD_IDS

EXAMPLES = demo_examples(n_questions=10, seed=2)
TEXTS = [e.input for e in EXAMPLES] + [e.target for e in EXAMPLES]


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer(TEXTS, vocab_size=400)


def test_decoder_items_mask_the_prompt_and_end_with_eos(tok):
    ex = EXAMPLES[1]  # a PoT example
    (item,), stats = encode([ex], [0.3], tok, seq2seq=False, max_length=512)
    prompt = tok(ex.input).input_ids  # exactly what inference feeds the model
    target = tok(target_text(ex.target), add_special_tokens=False).input_ids + [tok.eos_token_id]
    assert item.input_ids == prompt + target
    assert item.labels == [IGNORE] * len(prompt) + target
    assert item.weight == 0.3 and item.method == METHOD_IDS["pot"]
    assert stats == {"truncated": 0, "dropped": 0}
    assert tok.decode(target, skip_special_tokens=True) == "\n" + ex.target


def test_seq2seq_items_map_prompt_to_target(tok):
    ex = EXAMPLES[0]
    (item,), _ = encode([ex], [1.0], tok, seq2seq=True, max_length=512)
    assert item.input_ids == tok(ex.input).input_ids
    assert item.labels == tok(ex.target, add_special_tokens=False).input_ids + [tok.eos_token_id]


def test_truncation_keeps_the_prompt_and_drops_prompt_only_items(tok):
    ex = EXAMPLES[0]
    n_prompt = len(tok(ex.input).input_ids)
    (item,), stats = encode([ex], [1.0], tok, seq2seq=False, max_length=n_prompt + 3)
    assert len(item.input_ids) == n_prompt + 3 and sum(t != IGNORE for t in item.labels) == 3
    assert stats["truncated"] == 1
    items, stats = encode([ex], [1.0], tok, seq2seq=False, max_length=n_prompt)
    assert items == [] and stats["dropped"] == 1


def test_collate_pads_and_reports_waste(tok):
    items, _ = encode(EXAMPLES[:3], [1.0, 0.5, 1.0], tok, seq2seq=False, max_length=512)
    batch = collate(items, pad_id=tok.pad_token_id, seq2seq=False)
    b, t = batch["input_ids"].shape
    assert (b, t) == (3, max(len(i.input_ids) for i in items)) == tuple(batch["labels"].shape)
    assert batch["attention_mask"].sum().item() == sum(len(i.input_ids) for i in items)
    assert (batch["labels"][batch["attention_mask"] == 0] == IGNORE).all()
    assert batch["pad_waste"] == pytest.approx(1 - batch["n_tokens"] / (b * t))
    assert batch["weights"].tolist() == [1.0, 0.5, 1.0]


def test_sampler_is_deterministic_resumable_and_sharded():
    lens = [random.Random(i).randint(5, 200) for i in range(50)]
    full = LengthGroupedSampler(lens, batch_size=4, seed=7, mega=3)
    stream = [b for b, _ in zip(full, range(40), strict=False)]  # 40 batches: 3+ epochs
    assert [b for b, _ in zip(LengthGroupedSampler(lens, 4, seed=7, mega=3), range(40), strict=False)] == stream
    resumed = LengthGroupedSampler(lens, 4, seed=7, start=25, mega=3)
    assert [b for b, _ in zip(resumed, range(15), strict=False)] == stream[25:]
    epoch = stream[: full.per_epoch]
    assert sorted(i for b in epoch for i in b) == list(range(50))  # each example once per epoch
    ranks = [LengthGroupedSampler(lens, 4, seed=7, rank=r, world_size=2, mega=3) for r in (0, 1)]
    r0, r1 = ([b for b, _ in zip(s, range(10), strict=False)] for s in ranks)
    assert r0 == stream[0:20:2] and r1 == stream[1:20:2]


def test_length_grouping_cuts_padding_waste():
    rng = random.Random(0)
    lens = [rng.randint(20, 400) for _ in range(2000)]

    def waste(batches):
        return 1 - sum(sum(lens[i] for i in b) for b in batches) / sum(
            max(lens[i] for i in b) * len(b) for b in batches)

    grouped = LengthGroupedSampler(lens, batch_size=8, seed=0).epoch(0)
    order = list(range(len(lens)))
    rng.shuffle(order)
    shuffled = [order[j : j + 8] for j in range(0, len(order), 8)]
    assert waste(grouped) < 0.05 < 0.3 < waste(shuffled)
    assert waste(eval_batches(lens, 8)) < 0.01


def test_split_keeps_a_questions_paths_together():
    train, val = split(demo_examples(n_questions=200), val_fraction=0.1)
    assert 0 < len(val) < len(train)
    assert not {e.problem_id for e in train} & {e.problem_id for e in val}
    assert lengths([], seq2seq=False) == []
