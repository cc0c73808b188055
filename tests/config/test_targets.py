"""md.config.targets: builder-signature checks, stable hashes, flattening; md.pipeline.artifacts folders."""

from __future__ import annotations

import json

import pytest
from omegaconf import OmegaConf

from md.config.targets import check_targets, flatten, to_plain
from md.errors import MDError
from md.pipeline.artifacts import Artifact, content_hash


def build_thing(size: int, lora_r: int = 8):  # a builder with flat arguments
    return size, lora_r


def test_misspelled_builder_key_is_one_clear_line():
    cfg = OmegaConf.create({"student": {"_target_": f"{__name__}.build_thing", "size": 1, "lora_rr": 4}})
    with pytest.raises(MDError, match=r"^student\.lora_rr is not an option of .*build_thing; did you mean lora_r\?$"):
        check_targets(cfg)


def test_known_keys_and_unimportable_target():
    check_targets(OmegaConf.create({"s": {"_target_": f"{__name__}.build_thing", "size": 1, "name": "x"}}))
    with pytest.raises(MDError, match=r"s\._target_: cannot import md\.nope\.build"):
        check_targets(OmegaConf.create({"s": {"_target_": "md.nope.build"}}))


def test_hash_ignores_key_order_but_not_values():
    assert content_hash({"a": 1, "b": 2}) == content_hash(to_plain(OmegaConf.create({"b": 2, "a": 1})))
    assert content_hash({"a": 1}) != content_hash({"a": 2})


def test_flatten():
    assert flatten({"loss": {"name": "fixed", "lambda": 0.5}, "seed": 0}) == {"loss.name": "fixed", "loss.lambda": 0.5, "seed": 0}


def test_artifact_folder_is_addressed_by_config(tmp_path):
    a = Artifact.of(tmp_path, "mix", {"k": 1})
    assert Artifact.of(tmp_path, "mix", {"k": 1}).dir == a.dir
    assert Artifact.of(tmp_path, "mix", {"k": 2}).dir != a.dir
    assert not a.dir.exists()  # computing a key touches nothing on disk
    a.prepare()
    assert json.loads((a.dir / "config.json").read_text()) == [{"k": 1}]
    assert not a.has("mixed.jsonl")


def test_a_target_that_moved_is_told_its_new_spelling():
    cfg = OmegaConf.create({"logger": {"_target_": "md.loggers.csv_logger"}})
    with pytest.raises(MDError, match=r"logger._target_: md.loggers moved to md.tracking.loggers; "
                                      r"write _target_: md.tracking.loggers.csv_logger"):
        check_targets(cfg)
