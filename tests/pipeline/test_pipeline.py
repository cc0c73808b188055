"""md.pipeline in-process: artifact keys and reuse, the README's central promise.

A λ sweep (`python -m md.train -m loss=fixed loss.lambda=0,0.5,1`) extracts, executes and mixes
once and trains one student per λ: here three jobs' configs are composed as Hydra composes them,
each runs the pipeline and a one-step training, and the artifact folders are counted. Keys
depend on what changes the output (teacher.temperature) and not on how it is fetched
(teacher.budget_usd).
"""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir

from md import jsonl, pipeline
from md.config import builders, groups, wiring
from md.config.targets import call
from md.stages import train
from md.types import MixedExample, Problem

REPO = Path(__file__).resolve().parents[2]
SMALL = ["data=synthetic", "data.n_train=30", "data.n_test=4", "teacher=simulated", "teacher.n=4",
         "student=tiny-llama", "student.finetune=full", "logger=none", "trainer.max_steps=1",
         "trainer.enable_progress_bar=false", "train.batch_size=4", "execute.workers=1"]


def compose_train(artifacts: Path, *overrides: str):
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return compose("train", overrides=[*SMALL, f"paths.artifacts={artifacts}", *overrides])


def folders(artifacts: Path, stage: str) -> list[Path]:
    return sorted(p for p in (artifacts / stage).glob("*") if p.is_dir())


def test_a_lambda_sweep_reuses_the_thoughts_the_judging_and_the_mix(tmp_path):
    artifacts = tmp_path / "artifacts"
    seen = []
    for lam in (0.0, 0.5, 1.0):
        cfg = compose_train(artifacts, "loss=fixed", f"loss.lambda={lam}")
        plan = wiring.plan(cfg)
        expected_missing = "extract" if lam == 0.0 else None
        assert pipeline.first_missing_stage(plan) == expected_missing
        mixed = pipeline.mixed(plan)
        seen.append((mixed, mixed.stat().st_mtime_ns))
        examples = jsonl.read_all(mixed, MixedExample)
        texts = [e.input for e in examples] + [e.target for e in examples]
        student = call(cfg.student, tokenizer_texts=texts, workdir=str(tmp_path / f"s{lam}"))
        settings = groups.train(cfg)
        assert settings.loss.lambda_ == lam and settings.loss.mode == "fixed"
        result = train.run(examples, student, settings, out_dir=tmp_path / f"run{lam}")
        assert result.metrics["step"] == 1
    for stage in ("extract", "execute", "mix"):
        assert len(folders(artifacts, stage)) == 1, stage
    assert len({m for m, _ in seen}) == 1 and len({t for _, t in seen}) == 1  # never rewritten


def test_the_extract_key_follows_what_changes_the_thoughts(tmp_path):
    def key(*overrides: str) -> str:
        cfg = compose_train(tmp_path, "teacher=openai_compatible", *overrides)
        return pipeline.extract_artifact(wiring.plan(cfg)).key

    base = key()
    assert key("teacher.temperature=0.3") != base
    assert key("teacher.budget_usd=5") == base
    assert key("teacher.concurrency=4") == base
    assert key("data.max_test=2") == base  # test-only selection: the training thoughts are the same
    assert key("data.n_train=31") != base
    assert not list(tmp_path.iterdir())  # computing keys touches nothing on disk


def test_downstream_keys_follow_their_own_settings_only(tmp_path):
    def keys(*overrides: str) -> tuple[str, str, str]:
        plan = wiring.plan(compose_train(tmp_path, *overrides))
        return (pipeline.extract_artifact(plan).key, pipeline.execute_artifact(plan).key,
                pipeline.mix_artifact(plan).key)

    base = keys()
    assert keys("loss=fixed", "loss.lambda=0.25") == base  # the loss is the student's, not the mix's
    assert keys("execute.timeout_s=2")[0] == base[0] and keys("execute.timeout_s=2")[1] != base[1]
    assert keys("execute.workers=2") == base  # how many workers judge changes no verdict
    other_mix = keys("mix=cot")
    assert other_mix[:2] == base[:2] and other_mix[2] != base[2]


def own_loader(split: str, path: str | None = None, size: int = 3) -> list[Problem]:
    """A user's loader, named by the data group's _target_."""
    return [Problem(f"own-{split}-{i}", "own", split, f"What is {i} + 1?", float(i + 1))
            for i in range(size)]


def test_the_data_groups_target_is_the_loader_that_runs(tmp_path):
    cfg = compose_train(tmp_path, "data._target_=tests.pipeline.test_pipeline.own_loader", "~data.n_train",
                        "~data.n_test", "~data.seed", "+data.size=5", "data.max_test=2")
    train_set = wiring.plan(cfg).train_problems()
    assert [p.id for p in train_set] == [f"own-train-{i}" for i in range(5)]
    assert len(builders.test_problems(cfg)) == 2  # the generic keys still apply after loading
