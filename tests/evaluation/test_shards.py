"""Sharded evaluation: two shards merged give exactly the metrics of one unsharded run.

A real (tiny, random) HF student samples in every run, with per-question seeding; the shards
are evaluated with md.stages.evaluate.run into their own folders, as two SLURM array jobs would, and
merged by md.pipeline.evaluation.merge_shards with the real sandbox.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from md.config import wiring
from md.config.builders import test_problems as load_test_problems
from md.errors import MDError
from md.evaluation import shards
from md.inference.hf import HFGenerator
from md.pipeline.evaluation import merge_shards
from md.settings import CurveSettings, InferenceSettings
from md.stages.evaluate import Students
from md.stages.evaluate import run as evaluate

REPO = Path(__file__).resolve().parents[2]
SETTINGS = InferenceSettings(paths=3, temperature=0.9, curves=CurveSettings(draws=5), seed=0)


def compose_eval():
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return compose("evaluate", overrides=[
            "data=synthetic", "data.max_test=5", "inference.paths=3", "inference.temperature=0.9",
            "inference.curves.draws=5", "logger=none", "out_dir=see-the-call"])


@pytest.fixture(scope="module")
def student(tiny_llama):
    model, tok = tiny_llama
    return HFGenerator(model, tok, batch_size=8, max_new_tokens=12, seed_per_prompt=0,
                       progress=False)


def test_two_shards_merged_equal_the_unsharded_run(tmp_path, sandbox, student):
    cfg = compose_eval()
    problems = load_test_problems(cfg)
    whole = evaluate(problems, Students.one(student), sandbox, SETTINGS, tmp_path / "whole")
    dirs = []
    for k in (1, 0):  # shards finish in any order
        part = shards.select(problems, k, 2)
        evaluate(part, Students.one(student), sandbox, SETTINGS, tmp_path / f"shard{k}")
        shards.mark(tmp_path / f"shard{k}", k, 2)
        dirs.append(tmp_path / f"shard{k}")
    merged = merge_shards(wiring.evaluation(cfg), dirs, tmp_path / "merged")

    assert merged.pop("merged_shards") == [str(d) for d in dirs]
    whole.pop("student_base")  # how a live run's student was loaded and sampled; a merge
    whole.pop("engine")        # loads and samples none
    assert merged == whole
    for name in ("predictions.jsonl", "curves.json"):
        assert (tmp_path / "merged" / name).read_text() == (tmp_path / "whole" / name).read_text()
    texts = [p["text"] for line in (tmp_path / "whole" / "predictions.jsonl").open()
             for p in json.loads(line)["paths"]]
    assert len(set(texts)) > len(problems)  # not vacuous: the sampled paths differ


def test_a_missing_or_duplicated_shard_is_refused(tmp_path, sandbox, student):
    cfg = compose_eval()
    part = shards.select(load_test_problems(cfg), 0, 2)
    evaluate(part, Students.one(student), sandbox, SETTINGS, tmp_path / "a")
    shards.mark(tmp_path / "a", 0, 2)
    with pytest.raises(MDError, match=r"shards 0..K-1 of one run, got shards \[0\]"):
        merge_shards(wiring.evaluation(cfg), [tmp_path / "a"], tmp_path / "m")
    with pytest.raises(MDError, match="are both shard 0"):
        merge_shards(wiring.evaluation(cfg), [tmp_path / "a", tmp_path / "a"], tmp_path / "m")
    with pytest.raises(MDError, match="not a finished evaluation shard"):
        merge_shards(wiring.evaluation(cfg), [tmp_path / "a", tmp_path / "nothing"], tmp_path / "m")
    with pytest.raises(MDError, match="need 0 <= shard < shards"):
        shards.select([1, 2], 2, 2)
