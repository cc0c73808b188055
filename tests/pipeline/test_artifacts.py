"""Artifacts are trusted only when their manifest vouches for them: a thoughts.jsonl or
judged.jsonl cut at a record boundary (which no JSON parser can notice) is named in one line and
made again from what is upstream; given by hand to a stage, it is refused in one line. A
half-saved student is refused before anything loads it; a full disk is one line."""

from __future__ import annotations

import json
import subprocess

import pytest
from cli_run import md_here, one_error_line

from md.pipeline.artifacts import Artifact, manifest_problem

SMOKE = ["experiment=smoke"]


def cut_at_a_record_boundary(path, keep: int) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:keep]))


def test_a_sealed_file_cut_short_or_edited_is_named(tmp_path):
    art = Artifact.of(tmp_path, "mix", {"x": 1}).prepare()
    art.file("mixed.jsonl").write_text('{"a": 1}\n{"a": 2}\n{"a": 3}\n')
    assert not art.has("mixed.jsonl")  # written but not sealed: a killed stage's leftover
    assert "has no entry in" in art.problem("mixed.jsonl")
    art.seal("mixed.jsonl")
    assert art.has("mixed.jsonl")
    cut_at_a_record_boundary(art.file("mixed.jsonl"), 2)
    assert "holds 2 records (18 bytes); its manifest says 3 (27 bytes)" in art.problem("mixed.jsonl")
    art.file("mixed.jsonl").write_text('{"a": 1}\n{"a": 2}\n{"a": 4}\n')  # same size, edited
    assert "changed after it was written" in manifest_problem(art.dir, "mixed.jsonl")


def test_cut_pipeline_artifacts_are_named_and_made_again(tmp_path):
    first = md_here(tmp_path, *SMOKE, stage="mix")
    assert first.returncode == 0, first.stderr[-3000:]
    (judged,) = (tmp_path / "art" / "execute").glob("*/judged.jsonl")
    (thoughts,) = (tmp_path / "art" / "extract").glob("*/thoughts.jsonl")
    whole = {p: p.read_bytes() for p in (judged, thoughts)}
    cut_at_a_record_boundary(judged, 143 * len(judged.read_text().splitlines()) // 192)
    cut_at_a_record_boundary(thoughts, 100 * len(thoughts.read_text().splitlines()) // 192)
    for mix in (tmp_path / "art" / "mix").glob("*/mixed.jsonl"):
        mix.unlink()  # the mix must be made again, from the cut files
    again = md_here(tmp_path, *SMOKE, stage="mix")
    assert again.returncode == 0, again.stderr[-3000:]
    warned = [x for x in again.stderr.splitlines() if x.startswith("warning:") and "not trusted" in x]
    assert len(warned) == 2 and str(judged) in warned[0] and str(thoughts) in warned[1], warned
    assert {p: p.read_bytes() for p in (judged, thoughts)} == whole  # made again, whole


def test_a_cut_file_given_by_hand_is_refused(tmp_path):
    assert md_here(tmp_path, *SMOKE, stage="execute").returncode == 0
    (judged,) = (tmp_path / "art" / "execute").glob("*/judged.jsonl")
    cut_at_a_record_boundary(judged, 10)
    line = one_error_line(md_here(tmp_path, *SMOKE, f"judged={judged}", f"out={tmp_path / 'm'}",
                                  stage="mix"))
    assert str(judged) in line and "holds 10 records" in line
    assert not (tmp_path / "m").exists()


def test_a_half_saved_student_is_refused_in_one_line(tmp_path):
    half = tmp_path / "student"
    (half / "base").mkdir(parents=True)
    (half / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "x"}))
    line = one_error_line(md_here(tmp_path, *SMOKE, f"student_dir={half}", stage="evaluate"))
    assert f"{half} is not a complete student" in line and "md_student.json" in line
    empty = tmp_path / "not-a-student"
    empty.mkdir()
    line = one_error_line(md_here(tmp_path, *SMOKE, f"student_dir={empty}", stage="evaluate"))
    assert f"{empty} is not a complete student" in line


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs: a real filesystem that fills up (ENOSPC). Needs root (CI runs as root)."""
    mount = tmp_path / "full"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({made.stderr.strip()})")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_is_one_line_and_leaves_no_student_to_trust(tmp_path, full_disk):
    from md.errors import MDError
    from md.mixing.examples import demo_examples
    from md.models import build_student
    from md.models.saved import check_folder, save_student

    examples = demo_examples(n_questions=4, seed=1)
    student = build_student(name="tiny", tiny={"model_type": "llama", "hidden_size": 64,
                                               "intermediate_size": 128, "num_hidden_layers": 2,
                                               "num_attention_heads": 2, "num_key_value_heads": 1},
                            vocab_size=300, lora_r=4, workdir=str(tmp_path / "work"),
                            tokenizer_texts=[e.input for e in examples] + [e.target for e in examples])
    with pytest.raises(MDError, match=r"no space left in .*full/student while writing the trained "
                                      r"student \(about [\d.]+ MB needed, [\d.]+ MB free\)"):
        save_student(student, full_disk / "student")
    assert list(full_disk.iterdir()) == []  # written aside and removed: nothing half-written
    save_student(student, tmp_path / "student")  # where there is room: renamed into place, whole
    check_folder(tmp_path / "student")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("student")) == ["student"]


def test_a_full_artifacts_folder_is_one_line(tmp_path, full_disk):
    assert md_here(tmp_path, *SMOKE, stage="extract").returncode == 0
    (thoughts,) = (tmp_path / "art" / "extract").glob("*/thoughts.jsonl")
    (full_disk / "filler").write_bytes(b"x" * 60_000)
    line = one_error_line(md_here(tmp_path, *SMOKE, f"thoughts={thoughts}",
                                  f"judged={full_disk / 'judged.jsonl'}", stage="execute"))
    assert f"no space left in {full_disk}" in line and "MB free" in line
    assert not (full_disk / "judged.jsonl").exists()
