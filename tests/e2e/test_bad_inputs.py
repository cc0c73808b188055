"""Bad files and bad places are one line too, and nothing already done is lost.

Each case feeds a real entry point a broken file or an unusable folder and asserts one `error:`
line that names the file (and line) or the key, no traceback; checkpoints and manifests are
written so that a kill cannot leave a half-written file that a later run trusts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from cli_run import md, md_here, one_error_line
from train_settings import run

from md.errors import MDError
from md.fsio import write_text
from md.mixing.examples import demo_examples
from md.models import build_student, save_student
from md.training.checkpoints import AtomicCheckpointIO, damage, intact_checkpoint

EXAMPLES = demo_examples(n_questions=8, seed=2)
TEXTS = [e.input for e in EXAMPLES] + [e.target for e in EXAMPLES]
TINY = {"model_type": "llama", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
        "num_attention_heads": 2, "num_key_value_heads": 1}


def gsm8k_folder(tmp_path: Path, shared_data: Path, train_lines: list[str] | bytes) -> Path:
    folder = tmp_path / "gsm8k"
    folder.mkdir()
    shutil.copy(shared_data / "gsm8k" / "test.jsonl", folder / "test.jsonl")
    if isinstance(train_lines, bytes):
        (folder / "train.jsonl").write_bytes(train_lines)
    else:
        (folder / "train.jsonl").write_text("".join(line + "\n" for line in train_lines))
    return folder


# --- bad files -------------------------------------------------------------------------------

def test_binary_data_file_is_named(tmp_path, shared_data):
    folder = gsm8k_folder(tmp_path, shared_data, b"\x89PNG\r\n\x1a\n\x00\xff\xfe binary")
    line = one_error_line(md_here(tmp_path, "data=gsm8k", f"data.path={folder}"))
    assert f"{folder / 'train.jsonl'}:1: not UTF-8 text" in line
    assert not (tmp_path / "art").exists()


def test_record_without_a_field_names_the_field_and_line(tmp_path, shared_data):
    lines = (shared_data / "gsm8k" / "train.jsonl").read_text().splitlines()[:120]
    broken = json.loads(lines[99])
    del broken["answer"]
    lines[99] = json.dumps(broken)
    folder = gsm8k_folder(tmp_path, shared_data, lines)
    line = one_error_line(md_here(tmp_path, "data=gsm8k", f"data.path={folder}"))
    assert line.endswith('train.jsonl:100: not a GSM8K record (missing "answer")'), line


def test_empty_training_split_is_refused(tmp_path, shared_data):
    folder = gsm8k_folder(tmp_path, shared_data, [])
    line = one_error_line(md_here(tmp_path, "data=gsm8k", f"data.path={folder}"))
    assert "data=gsm8k: the train split has 0 problems" in line
    assert not (tmp_path / "art").exists()


def test_svamp_text_answer_is_refused(tmp_path, shared_data):
    folder = tmp_path / "svamp"
    shutil.copytree(shared_data / "svamp", folder)
    records = json.loads((folder / "SVAMP.json").read_text())
    split = json.loads((folder / "reasoning_teacher_split" / "svamp__default.json").read_text())
    index = split["train"][0]
    records[index]["Answer"] = "abc"
    (folder / "SVAMP.json").write_text(json.dumps(records))
    line = one_error_line(md_here(tmp_path, "data=svamp", f"data.path={folder}"))
    assert f"record {index}: problem {records[index]['ID']} has answer 'abc', which is not a number" in line


def test_truncated_safetensors_in_evaluate_is_named(tmp_path):
    student = build_student(name="tiny", tiny=TINY, vocab_size=300, lora_r=4,
                            tokenizer_texts=TEXTS, workdir=str(tmp_path / "build"))
    folder = save_student(student, tmp_path / "student")
    for victim in (folder / "adapter_model.safetensors", folder / "base" / "model.safetensors"):
        good = victim.read_bytes()
        victim.write_bytes(good[: len(good) // 2])
        line = one_error_line(md_here(tmp_path, f"student_dir={folder}", "data.max_test=2",
                                 stage="evaluate"))
        assert f"{victim}: truncated or corrupt" in line
        victim.write_bytes(good)


# --- bad places ------------------------------------------------------------------------------

def test_artifacts_path_that_is_a_file(tmp_path):
    file = tmp_path / "artifacts.txt"
    file.write_text("not a folder")
    line = one_error_line(md_here(tmp_path, artifacts=file))
    assert f"paths.artifacts {file}: {file} is a file, not a folder" in line


def read_only(folder: Path) -> list[str]:
    """A command prefix that makes `folder` read-only for the command (root ignores chmod)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return []
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True) \
        if shutil.which("unshare") else None
    if probe is None or probe.returncode != 0:
        pytest.skip("running as root without mount namespaces: cannot make a folder read-only")
    q = str(folder)
    script = f'mount --bind "{q}" "{q}" && mount -o remount,ro,bind "{q}" && exec "$@"'
    return ["unshare", "--mount", "sh", "-c", script, "sh"]


@pytest.mark.slow  # each in a mount namespace of its own (unshare), a process per case
@pytest.mark.parametrize("which", ["artifacts", "runs"])
def test_read_only_folders_are_one_line(tmp_path, which):
    folder = tmp_path / which
    wrap = read_only(folder)
    out = md(tmp_path, wrap=wrap, **{which: folder})
    line = one_error_line(out)
    key = "paths.artifacts" if which == "artifacts" else "the run folder"
    assert line.startswith(f"error: {key} ") and f"cannot write in {folder}" in line, line
    assert "Unable to configure handler" not in out.stderr


# --- checkpoints -----------------------------------------------------------------------------

def test_atomic_checkpoint_write_killed_midway_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "last.ckpt"
    AtomicCheckpointIO().save_checkpoint({"step": 1}, path)
    real_save = torch.save

    def dying_save(obj, f, *a, **k):
        f.write(b"PK\x03\x04 half a checkpoint")
        raise KeyboardInterrupt("killed")  # what a signal mid-write looks like to Python

    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        AtomicCheckpointIO().save_checkpoint({"step": 2}, path)
    monkeypatch.setattr(torch, "save", real_save)
    assert torch.load(path, weights_only=False) == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]  # no temp file left behind


def test_manifest_write_that_fails_leaves_no_file(tmp_path):
    target = tmp_path / "config.json"
    with pytest.raises(TypeError):
        write_text(target, 123)  # type: ignore[arg-type]  (the write itself fails)
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_truncated_last_checkpoint_falls_back_to_the_newest_intact_one(tmp_path, capsys):
    student = build_student(name="tiny", tiny=TINY, vocab_size=300, lora_r=4,
                            tokenizer_texts=TEXTS, workdir=str(tmp_path / "student"))
    run(EXAMPLES, student, out_dir=tmp_path / "first", max_steps=4, batch_size=4,
        val_fraction=0.0, ckpt_every=2, log_every_n_steps=1)
    ckpts = tmp_path / "first" / "checkpoints"
    last = ckpts / "last.ckpt"
    last.write_bytes(last.read_bytes()[:1000])
    assert damage(last) is not None and damage(ckpts / "step000004.ckpt") is None
    assert intact_checkpoint(last) == ckpts / "step000004.ckpt"
    assert "last.ckpt is truncated or corrupt" in capsys.readouterr().err
    student = build_student(name="tiny", tiny=TINY, vocab_size=300, lora_r=4,
                            tokenizer_texts=TEXTS, workdir=str(tmp_path / "student"))
    result = run(EXAMPLES, student, out_dir=tmp_path / "resumed", max_steps=6, batch_size=4,
                 val_fraction=0.0, ckpt_every=2, log_every_n_steps=1, ckpt_path=str(last))
    assert result.metrics["step"] == 6  # resumed at step 4, trained 2 more
    for ckpt in ckpts.glob("*.ckpt"):
        ckpt.write_bytes(b"garbage")
    with pytest.raises(MDError, match="no intact checkpoint is beside it"):
        intact_checkpoint(last)
