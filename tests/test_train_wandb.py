"""W&B offline logging: the run file holds train/loss_cot, train/loss_pot, the flat config, group
and tags; a failed run still ends its W&B run. The .wandb file is read back with wandb's protobuf
records (wandb 0.31 ships no Python reader, so the small log-format reader lives here)."""

from __future__ import annotations

import json
import struct
import sys

import lightning as L
import pytest

from md.bench.examples import demo_examples
from md.loggers import ablation_tags, wandb_logger
from md.models import build_student
from md.train import run

EXAMPLES = demo_examples(n_questions=8, seed=1)
TINY = {"model_type": "llama", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
        "num_attention_heads": 2, "num_key_value_heads": 1}
BLOCK, HEADER = 32768, 7  # leveldb-log blocks; 7-byte file header and record headers


def read_wandb_records(path):
    """Protobuf `Record`s of an offline .wandb file (leveldb log format: FULL/FIRST/MIDDLE/LAST)."""
    from wandb.proto import wandb_internal_pb2 as pb

    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B transaction log"
    pos, buf, records = HEADER, b"", []
    while pos + HEADER <= len(data):
        if BLOCK - pos % BLOCK < HEADER:  # a block tail too short for a header is padding
            pos += BLOCK - pos % BLOCK
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + HEADER])
        chunk, pos = data[pos + HEADER : pos + HEADER + length], pos + HEADER + length
        buf = chunk if kind in (1, 2) else buf + chunk
        if kind in (1, 4):
            record = pb.Record()
            record.ParseFromString(buf)
            records.append(record)
    return records


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
