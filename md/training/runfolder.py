"""A run folder belongs to one training config, and one job trains in it at a time.

Before, a finished run folder reused with another config (another λ, another step count)
auto-resumed the other config's checkpoint and `trained.json` then vouched for a hybrid student;
two `md.train` in one folder both trained in full. Now the first job writes `run.json` (its
training key and the settings behind it) before it trains, and a job with another key is one
line naming what differs, before any work:

    error: the run folder runs/x was used for another config (loss.lambda: 0.5 here, 0.25 there);
    give this run its own folder (hydra.run.dir=...), or delete run.json and trained.json in it
    to train this config there

The key is the student's (md.pipeline.job.key, over settings); a folder recorded by an older md,
whose key hashed the whole config, is named as such rather than compared option by option.

`hold(run_dir)` is an exclusive lock (md.fsio.file_lock) for the job's lifetime: a second job
in the same folder waits, then finds the student trained.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from md.errors import MDError
from md.fsio import file_lock, write_text

RUN_RECORD = "run.json"
LOCK = ".train.lock"
KEYED_BY = "settings"  # md.pipeline.job.key; older records hashed the whole composed config


def claim(run_dir: Path, key: str, settings: dict[str, Any]) -> None:
    """Record `key` as the run folder's config, or refuse a folder recorded for another one.
    settings: what the key is made of, by group (md.pipeline.job.record), recorded flat
    (`loss.lambda`) so that a refusal names the options that differ."""
    settings = flatten(settings)
    record_path = run_dir / RUN_RECORD
    try:
        record = json.loads(record_path.read_text())
    except FileNotFoundError:
        record = _older_record(run_dir, key)
        if record is None:
            write_text(record_path, json.dumps({"key": key, "keyed_by": KEYED_BY,
                                                "settings": settings}, indent=1, sort_keys=True,
                                               default=str))
            return
    except (OSError, ValueError):
        record = {}
    if record.get("key") == key:
        return
    before = record.get("settings") if isinstance(record.get("settings"), dict) else {}
    diff = [f"{k}: {settings.get(k)!r} here, {before.get(k)!r} there"
            for k in sorted({*settings, *before}) if settings.get(k) != before.get(k)]
    shown = "; ".join(diff[:3]) + (f"; and {len(diff) - 3} more" if len(diff) > 3 else "")
    what = shown if before else "its record names another training key"
    if record.get("keyed_by") != KEYED_BY:  # a key of an older md, not comparable with this one
        what = "recorded by an older md, which keyed the student by its whole config"
    raise MDError(f"the run folder {run_dir} was used for another config ({what}); give this run "
                  f"its own folder (hydra.run.dir=...), or delete {RUN_RECORD} and trained.json "
                  "in it to train this config there")


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """`{"a": {"b": 1}}` -> `{"a.b": 1}`."""
    if not isinstance(node, dict):
        return {prefix: node} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in node.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        flat.update(flatten(value, name) if isinstance(value, dict) and value else {name: value})
    return flat


def _older_record(run_dir: Path, key: str) -> dict | None:
    """A folder trained before run.json existed: its trained.json's key, when it is another."""
    try:
        trained = json.loads((run_dir / "trained.json").read_text())
    except (OSError, ValueError):
        return None
    return None if trained.get("key") in (None, key) else {"key": trained.get("key")}


def hold(run_dir: Path):
    """One job at a time in `run_dir`; the other processes of a DDP job (LOCAL_RANK > 0) are
    rank 0's and do not take it."""
    import contextlib

    if os.environ.get("LOCAL_RANK", "0") != "0" or os.environ.get("NODE_RANK", "0") != "0":
        return contextlib.nullcontext()
    return file_lock(run_dir / LOCK, f"the student of the run folder {run_dir}")
