"""Sharded evaluation: shard k of K evaluates every K-th test question; a merge votes them all.

    python -m md.evaluate -m student_dir=S inference.shards=4 inference.shard=0,1,2,3  # K jobs
    python -m md.evaluate student_dir=S merge_shards=[DIR0,DIR1,DIR2,DIR3]              # merge

A 7B student's GSM8K evaluation is 1,319 questions x 20 paths per method: split over a SLURM
array, each job takes questions shard, shard + K, ... and writes an ordinary evaluation folder
plus `shard.json`. The merge reads the shards' judged paths back (md.evaluation.reuse: finished
folders only) and scores them together, so metrics, curves and adaptive consistency are those
of one run over every question. Sharding turns on per-question seeding (each question's paths
come from their own generator call, seeded from the seed and the prompt), which is what makes
the merged result identical to an unsharded run with inference.seed_per_question=true, for HF
generate. vLLM on a GPU seeds each prompt too, but its bf16 kernels depend on the batch a prompt
shares: its shards are identical to an unsharded run only with VLLM_BATCH_INVARIANT=1 (slower).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from md.errors import MDError
from md.evaluation.reuse import saved_paths
from md.fsio import write_text
from md.types import Problem, ReasoningPath

T = TypeVar("T")
MARKER = "shard.json"


def select(items: Sequence[T], shard: int, shards: int) -> list[T]:
    """Shard `shard` of `shards`: items shard, shard + shards, ..."""
    if shards < 1 or not 0 <= shard < shards:
        raise MDError(f"inference.shard={shard} of inference.shards={shards}: need "
                      "0 <= shard < shards (shards >= 1)")
    return list(items[shard::shards])


def mark(out_dir: str | Path, shard: int, shards: int) -> None:
    """Say which shard an evaluation folder holds (written after its metrics.json)."""
    write_text(Path(out_dir) / MARKER, json.dumps({"shard": shard, "shards": shards}))


def merge(dirs: Sequence[str | Path], problems: Sequence[Problem], n: int,
          temperature: float) -> list[list[ReasoningPath]]:
    """Every question's judged paths, in test order, from the K shard folders of one run."""
    found: dict[int, Path] = {}
    counts = set()
    for d in map(Path, dirs):
        try:
            info = json.loads((d / MARKER).read_text())
            info = {"shard": int(info["shard"]), "shards": int(info["shards"])}
        except (OSError, ValueError, TypeError, KeyError):
            raise MDError(f"{d}: not a finished evaluation shard (no readable {MARKER}); "
                          "run md.evaluate inference.shards=K inference.shard=k into it") from None
        if info["shard"] in found:
            raise MDError(f"{d} and {found[info['shard']]} are both shard {info['shard']}")
        found[info["shard"]] = d
        counts.add(info["shards"])
    if len(counts) != 1 or set(found) != set(range(next(iter(counts)))):
        raise MDError(f"merge_shards needs shards 0..K-1 of one run, got shards "
                      f"{sorted(found)} of K = {sorted(counts)}")
    shards = counts.pop()
    merged: list[list[ReasoningPath]] = [[] for _ in problems]
    for k, d in found.items():
        for i, paths in zip(range(k, len(problems), shards),
                            saved_paths(d, select(problems, k, shards), n, temperature,
                                        fix="evaluate that shard again"),
                            strict=True):
            merged[i] = paths
    return merged
