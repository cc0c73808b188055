"""md.pipeline.job: the student's key is made of settings, through the one key function.

Before, md.train keyed a trained student by a hash of the whole DictConfig less a deny-list: a
new top-level key (a note, a group added to base.yaml) changed every student's key, so every
finished run trained again, while an edited training file changed nothing, so a stale student
was kept. Here the configs are composed as Hydra composes them and only the key is computed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from md.config import wiring
from md.pipeline import job as jobs
from md.pipeline import mix_artifact
from md.pipeline.artifacts import stage_key
from md.training.runfolder import flatten

REPO = Path(__file__).resolve().parents[2]
SMALL = ["data.n_train=12", "data.n_test=2", "teacher.n=2", "trainer.max_steps=1"]


def job_of(tmp_path, *overrides: str) -> jobs.Job:
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=[*SMALL, f"paths.artifacts={tmp_path / 'art'}",
                                          *overrides])
    return wiring.job(cfg, tmp_path / "run")


def test_the_students_key_is_the_mix_key_the_student_and_the_training_settings(tmp_path):
    job = job_of(tmp_path)
    assert jobs.key(job) == stage_key("train", jobs.plain(job.student), jobs.plain(job.train),
                                      upstream=mix_artifact(job.training_set).key)


@pytest.mark.parametrize("other", [
    "+notes=a new top-level key",        # the DictConfig hash changed with it
    "inference.paths=7",                 # how the student is sampled, not how it is trained
    "logger=csv",
    "extract.progress=false",
    "teacher.budget_usd=5",              # how the teacher is paid, not what it answers
    "train.evaluate_after=false",
])
def test_what_does_not_change_the_student_keeps_its_key(tmp_path, other):
    assert jobs.key(job_of(tmp_path, other)) == jobs.key(job_of(tmp_path))


@pytest.mark.parametrize("other", ["loss=fixed", "trainer.max_steps=2", "student.finetune=lora",
                                   "teacher.n=3", "mix=cot", "seed=1"])
def test_what_changes_the_student_changes_its_key(tmp_path, other):
    assert jobs.key(job_of(tmp_path, other)) != jobs.key(job_of(tmp_path))


def test_the_record_names_options_as_the_config_does(tmp_path):
    flat = flatten(jobs.record(job_of(tmp_path, "loss=fixed", "loss.lambda=0.25")))
    assert flat["loss.lambda"] == 0.25 and flat["loss.mode"] == "fixed"
    assert flat["trainer.max_steps"] == 1 and flat["teacher.n"] == 2
    assert "teacher.budget_usd" not in flat and "extract.progress" not in flat  # not in the key


def test_given_examples_are_keyed_by_their_contents(tmp_path):
    examples = tmp_path / "mixed.jsonl"
    row = {"problem_id": "p0", "method": "cot", "input": "Q: 1+1?", "target": "2. The answer is 2."}
    examples.write_text(json.dumps(row) + "\n")
    job = job_of(tmp_path, f"train.examples={examples}")
    assert job.training_set is None
    before = jobs.key(job)
    examples.write_text(json.dumps({**row, "target": "3. The answer is 3."}) + "\n")
    assert jobs.key(job) != before  # the same path, edited in place: another student
    assert "train.examples" in jobs.record(job)["inputs"]
