"""A LoRA student as one plain model folder: its adapter merged into a full copy of the base.

vLLM's CPU build serves LoRA adapters through kernels ~10x slower than the base model's own
matmuls (measured: 57 against 550 tokens/s on SmolLM2-135M), so on a CPU the adapter is folded
into the weights once (peft's merge_and_unload, in fp32) and the merged folder is what vLLM
loads. The copy is cached under the model cache (`MD_MODEL_CACHE`, default ~/.cache/md/models)
by a hash of the adapter's files and the base's path: the same student is merged once, a
retrained one gets a new copy. It is written to a temporary folder and renamed into place, under
a lock, so a killed merge leaves nothing that looks finished and two jobs do not merge twice;
the hidden temporary copies of merges that were killed are removed at the next start
(`sweep_unfinished`), those still being merged (their lock held) never.

    folder = merged_student("~/.cache/md/models/SmolLM2-...", "runs/x/student")
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from md.fsio import file_lock
from md.models.packaged import cache_root

DONE = ".md-merged"  # written last: a folder without it is an unfinished merge


def merge_key(base: str | Path, adapter_dir: str | Path) -> str:
    """The adapter's bytes (config and weights) and the base it was trained on."""
    digest = hashlib.sha256(str(Path(base).expanduser().resolve()).encode())
    for name in sorted(os.listdir(adapter_dir)):
        if name.startswith("adapter_") and (Path(adapter_dir) / name).is_file():
            digest.update(name.encode())
            with open(Path(adapter_dir) / name, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def merged_student(base: str | Path, adapter_dir: str | Path, cache_dir: str | None = None) -> Path:
    """The folder of base + adapter merged (made on first use), with the student's tokenizer."""
    target = cache_root(cache_dir) / "merged" / f"{Path(base).name}-lora-{merge_key(base, adapter_dir)}"
    if (target / DONE).is_file():
        return target
    sweep_unfinished(target.parent)
    with file_lock(target.parent / f".{target.name}.lock", f"merging {adapter_dir}"):
        if (target / DONE).is_file():  # another job merged it while this one waited
            return target
        print(f"merging the LoRA adapter {adapter_dir} into a copy of its base, once: {target}")
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            _merge(base, adapter_dir, tmp)
            (tmp / DONE).write_text(f"{base}\n{adapter_dir}\n")
            shutil.rmtree(target, ignore_errors=True)  # a killed merge's leftovers
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target


def sweep_unfinished(folder: Path) -> int:
    """Remove the hidden temporary folders (`.<name>.<random>`) of merges that were killed: those
    whose merge lock (`.<name>.lock`) no process holds. The number removed."""
    import fcntl

    removed = 0
    for tmp in Path(folder).glob(".*"):
        name = tmp.name[1:].rsplit(".", 1)[0]
        if not tmp.is_dir() or tmp.suffix == ".lock" or not name:
            continue
        with open(Path(folder) / f".{name}.lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a merge of that name is running
            try:
                shutil.rmtree(tmp, ignore_errors=True)
                removed += 1
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    return removed


def _merge(base: str | Path, adapter_dir: str | Path, out: Path) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    merged = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    merged.save_pretrained(out, safe_serialization=True)
    tok_from = adapter_dir if (Path(adapter_dir) / "tokenizer_config.json").is_file() else base
    AutoTokenizer.from_pretrained(tok_from).save_pretrained(out)
