"""Training checkpoints that a kill cannot corrupt, and a resume that never trusts a bad one.

Lightning writes `.ckpt` files through a CheckpointIO plugin; `AtomicCheckpointIO` writes each
one with `md.fsio.atomic_open` (temp file, fsync, rename), so `last.ckpt` is always either the
previous complete checkpoint or the new complete one. A checkpoint damaged some other way (a
copy cut short, a full disk on another tool's write) is caught on resume: `intact_checkpoint`
checks the file's zip structure and CRCs (torch.save writes a zip) and falls back to the newest
intact checkpoint beside it, saying so.

    trainer = L.Trainer(..., plugins=[AtomicCheckpointIO()])
    trainer.fit(module, ckpt_path=intact_checkpoint("runs/x/checkpoints/last.ckpt"))
"""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from md.errors import MDError
from md.fsio import atomic_open


class AtomicCheckpointIO(TorchCheckpointIO):
    """torch.save into a temp file beside the target, fsync, then rename over it."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options=None) -> None:
        if storage_options is not None:
            raise TypeError("AtomicCheckpointIO takes no storage_options")
        with atomic_open(path, "wb") as f:
            torch.save(checkpoint, f)


def damage(path: str | Path) -> str | None:
    """Why the checkpoint at `path` cannot be trusted, or None if it reads back whole."""
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        return str(e) or type(e).__name__
    return f"bad CRC in {bad}" if bad else None


_STEP = re.compile(r"step(\d+)")


def newest_first(paths) -> list[Path]:
    """Checkpoints by training step, newest first: `last.ckpt` (rewritten at every save, so
    never behind a numbered one), then `step000300.ckpt`, `step000200.ckpt` ... by the step in
    the name. Never by file time: a copied or future-dated old checkpoint must not win."""
    def step(p: Path) -> tuple[int, int]:
        found = _STEP.search(p.stem)
        return (1, 0) if p.name == "last.ckpt" else (0, int(found.group(1)) if found else -1)

    return sorted((Path(p) for p in paths), key=step, reverse=True)


def resume_from(ckpt_path: str | None, folder: str | Path) -> Path | None:
    """The checkpoint a run resumes from: None (a fresh start), `ckpt_path` checked by
    `intact_checkpoint`, or for `auto` the newest intact checkpoint in `folder` (the run's own
    checkpoints/), None when there is none."""
    if not ckpt_path:
        return None
    if ckpt_path != "auto":
        return intact_checkpoint(ckpt_path)
    folder = Path(folder)
    found = newest_first(folder.glob("*.ckpt")) if folder.is_dir() else []
    for candidate in found:
        why = damage(candidate)
        if why is None:
            print(f"resuming from {candidate} (train.ckpt_path=auto)", file=sys.stderr)
            return candidate
        print(f"warning: {candidate} is damaged ({why}); skipped it", file=sys.stderr)
    if found:
        print(f"warning: no intact checkpoint in {folder}; training from the start",
              file=sys.stderr)
    return None


def intact_checkpoint(path: str | Path) -> Path:
    """`path` if intact; else the newest intact `.ckpt` in its folder (with a warning line)."""
    path = Path(path)
    if not path.is_file():
        raise MDError(f"train.ckpt_path={path}: no such checkpoint file")
    why = damage(path)
    if why is None:
        return path
    others = newest_first(p for p in path.parent.glob("*.ckpt") if p != path)
    for other in others:
        if damage(other) is None:
            print(f"warning: {path} is truncated or corrupt ({why}); resuming from {other} "
                  "instead, the newest intact checkpoint", file=sys.stderr)
            return other
    raise MDError(f"train.ckpt_path={path} is truncated or corrupt ({why}) and no intact "
                  f"checkpoint is beside it in {path.parent}; start without train.ckpt_path")
