"""Judge PaLM-540B's few-shot CoT rationales for SVAMP (Distilling Step-by-Step) against gold.

This is the real-data check of `md.answers`: the strict extractor plus `is_correct` must give the
teacher accuracy recomputed in ../shared/data/README.md (train 74.4%, test 77.5%).

    .venv/bin/python -m pytest tests/answers/test_palm_cot.py -q -s
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from md.answers import extract_cot_answer, extract_cot_answers, is_correct


def _json_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def svamp(shared_data: Path) -> dict[str, list]:
    """Gold rows and PaLM rationales per split, aligned row by row."""
    rows = json.loads((shared_data / "svamp" / "SVAMP.json").read_text())
    perm = np.random.RandomState(0).permutation(1000)  # the split's seed-0 permutation
    cot = shared_data / "teacher_outputs" / "palm_cot_svamp"
    train = [*json.loads((cot / "train_CoT_0.json").read_text()),
             *json.loads((cot / "train_CoT_1.json").read_text())]
    return {
        "train_gold": [rows[i] for i in perm[:800]],
        "test_gold": [rows[i] for i in perm[800:]],
        "train_cot": train,
        "test_cot": json.loads((cot / "test_CoT_0.json").read_text()),
    }


@pytest.mark.parametrize("split", ["train", "test"])
def test_split_maps_row_k_to_svamp_perm_k(svamp, shared_data: Path, split: str) -> None:
    """Row k of the distilling-step-by-step split is SVAMP.json[perm[k]] (checks every row)."""
    path = shared_data / "svamp" / "distilling_step_by_step_split" / f"svamp_{split}.json"
    shipped = _json_lines(path)
    gold = svamp[f"{split}_gold"]
    assert len(shipped) == len(gold) == len(svamp[f"{split}_cot"])
    for row, item in zip(shipped, gold, strict=True):
        assert row["input"] == item["Body"] + "\n" + item["Question"]
        assert row["label"] == item["Equation"]


@pytest.mark.parametrize(
    ("split", "expected", "band"), [("train", 0.744, 0.010), ("test", 0.775, 0.015)]
)
def test_palm_cot_accuracy_matches_published_recount(svamp, split, expected, band) -> None:
    cots, gold = svamp[f"{split}_cot"], svamp[f"{split}_gold"]
    right = sum(is_correct(extract_cot_answer(c), g["Answer"]) for c, g in zip(cots, gold, strict=True))
    print(f"\nPaLM CoT SVAMP {split}: {right}/{len(cots)} = {right / len(cots):.2%} (strict)")
    assert abs(right / len(cots) - expected) <= band


def test_flexible_never_below_strict_and_strict_mostly_found(svamp) -> None:
    cots = svamp["train_cot"] + svamp["test_cot"]
    gold = [g["Answer"] for g in svamp["train_gold"] + svamp["test_gold"]]
    both = [extract_cot_answers(c) for c in cots]
    strict = sum(is_correct(a.strict, g) for a, g in zip(both, gold, strict=True))
    flexible = sum(is_correct(a.flexible, g) for a, g in zip(both, gold, strict=True))
    found = sum(a.strict is not None for a in both)
    print(f"\nstrict {strict}/1000, flexible {flexible}/1000, strict found {found}/1000")
    assert flexible >= strict
    assert found >= 980  # 987 rationales state "The answer is" before the next "Q:"
