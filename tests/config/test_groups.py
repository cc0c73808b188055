"""md.config.groups: each config group once into its md.settings dataclass, checked on the way."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from md.config import groups
from md.errors import MDError
from md.settings import (
    ExtractSettings,
    InferenceSettings,
    MixSettings,
    SandboxSettings,
    TrainSettings,
)
from md.training.module import build_trainer

REPO = Path(__file__).resolve().parents[2]


def compose_train(*overrides: str):
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return compose("train", overrides=list(overrides))


def test_groups_become_their_settings_with_the_yaml_values():
    cfg = compose_train("mix=cot", "inference.curves.draws=7", "inference.adaptive.rule=fixed")
    assert groups.mix(cfg) == MixSettings(variant="cot", paths_per_question=4)
    inf = groups.inference(cfg)
    assert isinstance(inf, InferenceSettings) and inf.curves.draws == 7 and inf.adaptive.rule == "fixed"
    train = groups.train(compose_train("loss=fixed", "loss.lambda=0.25"))
    # the default student, tiny-llama, brings its own schedule (conf/student/tiny-llama.yaml)
    assert (train.loss.mode, train.loss.lambda_, train.max_steps) == ("fixed", 0.25, 1500)
    assert groups.extract(cfg).adaptive is None
    rule = groups.extract(compose_train("extract.adaptive.enabled=true")).adaptive
    assert rule.paths_per_question == cfg.mix.paths_per_question and rule.round_size == 4


def test_any_lightning_trainer_argument_passes_and_reaches_the_trainer(tmp_path):
    def trainer(*overrides: str):
        s = groups.train(compose_train(*overrides))
        return build_trainer(tmp_path, s.trainer_args(), has_val=True, val_every=10,
                             ckpt_every=10, keep_checkpoints=1, logger=None, callbacks=())

    t = trainer("+trainer.limit_val_batches=0.5", "+trainer.profiler=simple", "+trainer.num_nodes=1")
    assert t.limit_val_batches == 0.5 and type(t.profiler).__name__ == "SimpleProfiler"
    assert t.num_nodes == 1
    assert trainer("+trainer.fast_dev_run=true").fast_dev_run is True


@pytest.mark.parametrize("override, says", [
    ("+trainer.max_step=5", "trainer.max_step is not an argument of lightning.Trainer; did you mean max_steps?"),
    ("+trainer.max_epochs=2", "trainer.max_epochs is set by md.train itself"),
    ("+train.batch_sise=2", "train.batch_sise is not an option; did you mean batch_size?"),
])
def test_a_wrong_key_is_one_line_that_says_which(override, says):
    with pytest.raises(MDError, match=says.replace("?", r"\?")):
        groups.train(compose_train(override))


def test_settings_without_a_trainer_group_train_on_the_cpu_defaults():
    args = TrainSettings(trainer={"max_steps": 3}).trainer_args()
    assert args["max_steps"] == 3 and args["accelerator"] == "cpu" and not args["enable_progress_bar"]


def test_the_dataclass_defaults_are_the_yaml_defaults():
    """So a script's `MixSettings()` trains on what `python -m md.train` would: only the
    differences md.settings documents (a test run has no warmup; the trainer group and the cache
    path live in YAML; vLLM's engine settings default in md.inference.vllm_engine) are allowed."""
    cfg = compose_train()
    assert groups.mix(cfg) == MixSettings()
    assert groups.sandbox(cfg) == SandboxSettings()
    # a student without a schedule or sampling of its own (tiny-llama brings batch 16, 1,500
    # steps and 10 paths per method)
    real = compose_train("student=smollm2-135m")
    yaml_inf = groups.inference(real)
    assert dataclasses.replace(yaml_inf, vllm={}) == dataclasses.replace(InferenceSettings(), vllm={})
    assert groups.inference(cfg) == dataclasses.replace(yaml_inf, paths=10)
    yaml_train = groups.train(real)
    assert dataclasses.replace(yaml_train, trainer={}, warmup_steps=0) == TrainSettings(trainer={})
    assert dataclasses.replace(groups.extract(cfg), cache_path=None) == ExtractSettings()


def test_adaptive_sampling_values_are_checked_even_when_it_is_off():
    with pytest.raises(MDError, match=r"extract.adaptive.rule='foo': must be one of unchangeable, beta"):
        groups.extract(compose_train("extract.adaptive.rule=foo"))
