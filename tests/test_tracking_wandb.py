"""W&B offline logging: the run file holds train/loss_cot, train/loss_pot, the flat config, group
and tags; a failed run still ends its W&B run; WANDB_* variables are honoured; a training run
through md.train logs its lineage as artifacts. Run files are read back with wandb_records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
from train_settings import run
from wandb_records import read_wandb_records

from md.bench.examples import demo_examples
from md.errors import MDError
from md.models import build_student
from md.tracking.loggers import ablation_tags, wandb_logger

EXAMPLES = demo_examples(n_questions=8, seed=1)
TINY = {"model_type": "llama", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
        "num_attention_heads": 2, "num_key_value_heads": 1}
def _student(tmp_path):
    texts = [e.input for e in EXAMPLES] + [e.target for e in EXAMPLES]
    return build_student(name="tiny", tiny=TINY, vocab_size=300, lora_r=4, tokenizer_texts=texts,
                         workdir=str(tmp_path / "student"))


def test_offline_run_file_holds_path_losses_config_group_and_tags(tmp_path):
    tags = ablation_tags({"student": "tiny-llama", "data": "synthetic", "mix": "md", "loss": "fixed"}, 0.25)
    logger = wandb_logger(str(tmp_path), group="table2", tags=tags,
                          config={"loss.lambda": 0.25, "student.name": "tiny-llama"})
    run(EXAMPLES, _student(tmp_path), out_dir=tmp_path, max_steps=3, batch_size=4,
        log_every_n_steps=1, val_fraction=0.0, ckpt_every=3, logger=logger)
    assert sys.modules["wandb"].run is None  # run() called wandb.finish()
    (path,) = tmp_path.glob("wandb/offline-run-*/run-*.wandb")
    records = read_wandb_records(path)
    history = [{i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in r.history.item}
               for r in records if r.WhichOneof("record_type") == "history"]
    keys = set().union(*history)
    assert {"train/loss", "train/loss_cot", "train/loss_pot"} <= keys
    assert all(v > 0 for row in history for k, v in row.items() if k.startswith("train/loss"))
    config = {u.key: json.loads(u.value_json) for r in records
              if r.WhichOneof("record_type") == "config" for u in r.config.update}
    assert config["loss.lambda"] == 0.25 and config["student.name"] == "tiny-llama"
    (run_record,) = [r.run for r in records if r.WhichOneof("record_type") == "run"][:1]
    assert run_record.run_group == "table2"
    assert set(run_record.tags) == {"student=tiny-llama", "data=synthetic", "mix=md", "loss=fixed",
                                    "lambda=0.25"}


class Boom(L.Callback):
    def on_train_batch_start(self, trainer, *args):
        raise RuntimeError("boom")


def test_failed_run_still_finishes_wandb(tmp_path):
    logger = wandb_logger(str(tmp_path), group="g")
    logger.experiment  # noqa: B018  (start the W&B run now, as a sweep job would)
    with pytest.raises(RuntimeError, match="boom"):
        run(EXAMPLES, _student(tmp_path), out_dir=tmp_path, max_steps=2, batch_size=4,
            val_fraction=0.0, logger=logger, callbacks=[Boom()])
    assert sys.modules["wandb"].run is None
    (path,) = tmp_path.glob("wandb/offline-run-*/run-*.wandb")
    exits = [r.exit.exit_code for r in read_wandb_records(path) if r.WhichOneof("record_type") == "exit"]
    assert exits == [1]


def test_wandb_environment_variables_reach_wandb_init(tmp_path, monkeypatch):
    """WANDB_MODE/PROJECT/ENTITY are what wandb.init gets, unless the config sets them."""
    monkeypatch.setenv("WANDB_MODE", "online")
    monkeypatch.setenv("WANDB_PROJECT", "distill")
    monkeypatch.setenv("WANDB_ENTITY", "lab")
    logger = wandb_logger(str(tmp_path), group="g")  # nothing is sent until .experiment
    init = logger._wandb_init  # the keyword arguments Lightning passes to wandb.init
    assert (init["mode"], init["project"], init["entity"]) == ("online", "distill", "lab")
    explicit = wandb_logger(str(tmp_path), mode="offline", project="md", entity=None)
    assert (explicit._wandb_init["mode"], explicit._wandb_init["project"]) == ("offline", "md")
    monkeypatch.delenv("WANDB_MODE")
    assert wandb_logger(str(tmp_path))._wandb_init["mode"] == "offline"  # the safe default
    monkeypatch.setenv("WANDB_MODE", "onlne")
    with pytest.raises(MDError, match="WANDB_MODE='onlne'"):
        wandb_logger(str(tmp_path))


def md_train(tmp_path, *args):
    env = {**os.environ, "WANDB_MODE": "offline", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "md.train", *args, f"paths.artifacts={tmp_path / 'art'}",
           f"paths.runs={tmp_path / 'runs'}"]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)


def artifacts_of(records):
    return {r.artifact.name: (r.artifact.type, json.loads(r.artifact.metadata or "{}"))
            for r in records if r.WhichOneof("record_type") == "artifact"
            and r.artifact.type != "run_table"}  # wandb's own wrappers of logged tables


@pytest.mark.slow  # a 2-job sweep through the real CLI
def test_sweep_runs_are_found_by_the_documented_sync_and_show_their_lineage(tmp_path):
    small = ["experiment=smoke", "logger=wandb", "trainer.max_steps=2", "data.max_test=2",
             "inference.paths=1", "inference.max_new_tokens=8", "inference.greedy=false"]
    out = md_train(tmp_path, "-m", *small, "loss=fixed", "loss.lambda=0.25,0.75")
    assert out.returncode == 0, out.stderr[-3000:]
    # the command md/conf/logger/wandb.yaml and the README give: find ... -name 'offline-run-*'
    found = subprocess.run(["find", str(tmp_path / "runs" / "smoke"), "-type", "d", "-name",
                            "offline-run-*"], capture_output=True, text=True).stdout.split()
    assert len(found) == 4, found  # 2 jobs x (train, evaluate)
    runs = {}
    for folder in found:
        (path,) = Path(folder).glob("run-*.wandb")
        records = read_wandb_records(path)
        (meta,) = [r.run for r in records if r.WhichOneof("record_type") == "run"][:1]
        runs[meta.display_name] = (meta.job_type, artifacts_of(records))
        config = {u.key: json.loads(u.value_json) for r in records
                  if r.WhichOneof("record_type") == "config" for u in r.config.update}
        assert config["provenance.md"] and config["provenance.git.commit"]  # what produced it
        assert config["provenance.device.kind"] == "cpu" and config["provenance.libraries.torch"]
    assert len(runs) == 4 and all(len(name) <= 128 for name in runs)  # what differs comes first
    assert {name.split(",")[0] for name in runs} == {
        f"{stage}: loss.lambda={lam}" for lam in (0.25, 0.75) for stage in ("train", "evaluate")}
    for job_type, arts in runs.values():
        kinds = {kind for kind, _ in arts.values()}
        if job_type == "train":
            assert kinds == {"teacher-thoughts", "dataset", "model"}, arts
            (mix_meta,) = [m for k, m in arts.values() if k == "dataset"]
            (student_meta,) = [m for k, m in arts.values() if k == "model"]
            assert mix_meta["thoughts"] in arts and set(student_meta["inputs"]) == {
                n for n, (k, _) in arts.items() if k != "model"}
        else:
            assert job_type == "evaluate" and kinds == {"model", "evaluation"}, arts
    train_students = {n for _, (j, arts) in runs.items() if j == "train"
                      for n, (k, _) in arts.items() if k == "model"}
    eval_students = {n for _, (j, arts) in runs.items() if j == "evaluate"
                     for n, (k, _) in arts.items() if k == "model"}
    assert train_students == eval_students and len(train_students) == 2  # one student per job
