"""conf/execute.yaml, conf/mix.yaml and the mix group: they compose, map onto MixSettings, and the CLIs work.

They compose the full base config: a group option that conf/base.yaml defaults to and that is
missing fails them, as it would fail every run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_run import md_here

from md import jsonl
from md.config import groups
from md.config.cli import CONFIG_DIR
from md.stages import mix
from md.types import JudgedThought, MixedExample, Thought

REPO = Path(CONFIG_DIR).parent
VARIANTS = ["md", "cot", "pot", "label"]


def compose(name: str, overrides: list[str]):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return hydra_compose(name, overrides=overrides)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_mix_option_composes_and_maps_onto_run(variant):
    cfg = compose("mix", [f"mix={variant}"])
    assert cfg.mix.variant == variant and cfg.judged is None and cfg.out is None
    settings = groups.mix(cfg)  # every key of the group is a MixSettings field
    assert settings.variant == variant
    assert {k: getattr(settings, k) for k in cfg.mix} == dict(cfg.mix)


def test_execute_config_composes():
    cfg = compose("execute", [])
    assert cfg.thoughts is None and cfg.judged is None and cfg.execute.timeout_s > 0


def cli(run_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args, f"hydra.run.dir={run_dir}"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow  # three CLI processes, each judging in a sandbox
def test_clis_judge_and_mix_synthetic_problems(tmp_path):
    from md.data import load

    problems = load("synthetic", "train", None, n_train=6, n_test=2, seed=0)
    thoughts = [Thought(p.id, "cot", 0, f"The answer is {p.answer}.", "hand") for p in problems]
    jsonl.write(tmp_path / "t.jsonl", thoughts)
    data = ["data=synthetic", "data.n_train=6", "data.n_test=2"]
    done = cli(tmp_path, "md.execute", f"thoughts={tmp_path / 't.jsonl'}", f"judged={tmp_path / 'j.jsonl'}", *data)
    assert done.returncode == 0, done.stderr
    judged = jsonl.read_all(tmp_path / "j.jsonl", JudgedThought)
    assert len(judged) == 6 and all(j.status == "ok" for j in judged)
    done = cli(tmp_path, "md.mix", "mix=label", f"judged={tmp_path / 'j.jsonl'}", f"out={tmp_path / 'm'}",
               "logger=wandb", *data)
    assert done.returncode == 0, done.stderr
    assert "~(P∨C)" in done.stdout
    assert len(jsonl.read_all(tmp_path / "m" / mix.MIXED, MixedExample)) == 6
    runs = list((tmp_path / "m" / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(runs) == 1 and b"mix/type2_share" in runs[0].read_bytes()


def test_cli_without_paths_runs_the_pipeline_and_half_given_paths_are_one_error_line(tmp_path):
    data = ["data=synthetic", "data.n_train=12", "data.n_test=2", f"paths.artifacts={tmp_path / 'art'}"]
    done = cli(tmp_path, "md.mix", *data)
    assert done.returncode == 0, done.stderr
    (mixed,) = (tmp_path / "art" / "mix").glob(f"*/{mix.MIXED}")  # extract -> execute -> mix
    assert jsonl.read_all(mixed, MixedExample) and (mixed.parent / mix.STATS_PNG).exists()
    half = md_here(tmp_path, f"judged={tmp_path / 'j.jsonl'}", stage="mix")
    assert half.returncode == 2
    assert half.stderr.strip().splitlines()[-1].startswith("error: no out= given")
