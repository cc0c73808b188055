"""Every conf/experiment/*.yaml composes with every stage, its sweep grid names real options,
its header documents its command, its settings survive composition, and bad keys fail cleanly.

The slow test runs each experiment for real in fast-dev mode: its command with every grid
axis narrowed to one tiny value (tiny student, synthetic data, simulated teacher, a few steps).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cli_run import md_here
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf

from md.config.checks import check_config
from md.config.targets import check_targets

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "conf"
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))
# Every primary config built on base.yaml (the ones that can take experiment=...).
STAGES = sorted(p.stem for p in CONF.glob("*.yaml")
                if "- base" in p.read_text() and p.stem != "base")


def _compose(stage: str, overrides: list[str]):
    """(task config, hydra config) as `python -m md.<stage> <overrides>` would see them."""
    full = compose(stage, overrides=overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(full)  # ${hydra:...} interpolations resolve as in a run
    return OmegaConf.masked_copy(full, [k for k in full if k != "hydra"]), full.hydra


def _header(name: str) -> str:
    return "".join(line for line in (CONF / "experiment" / f"{name}.yaml").open()
                   if line.startswith("#"))


def _stages_of(name: str) -> list[str]:
    """The stages the header's commands run this experiment with."""
    found = re.findall(rf"python -m md\.(\w+) (?:-m )?experiment={name}\b", _header(name))
    return sorted(set(found))


def _leaves(node, prefix=""):
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


@pytest.fixture
def hydra_ctx():
    """Hydra initialised for one test: a module-wide one would still hold Hydra's global state
    when the slow fast-dev runs of this module initialise it for themselves (make test-all)."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        yield


def test_there_is_one_experiment_per_paper_result():
    assert {"table1", "table2_ood", "table3_paths", "fig5_train_size", "lambda_sweep",
            "fig1_types", "smoke"} <= set(EXPERIMENTS)
    assert {"train", "evaluate", "mix", "extract", "execute"} <= set(STAGES)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_header_names_the_package_command_and_group(name):
    text = (CONF / "experiment" / f"{name}.yaml").read_text()
    assert text.startswith("# @package _global_\n")
    assert _stages_of(name), f"{name}.yaml: no `python -m md.<stage> experiment={name}` in header"
    assert OmegaConf.load(CONF / "experiment" / f"{name}.yaml").experiment_name == name


@pytest.mark.parametrize("stage", STAGES)
def test_every_experiment_composes_with_every_stage(hydra_ctx, stage):
    for name in EXPERIMENTS:
        cfg, _ = _compose(stage, [f"experiment={name}"])
        check_targets(cfg)  # every `_target_` node only has keys its builder takes
        OmegaConf.to_container(cfg, resolve=True)  # and every interpolation resolves
        assert cfg.experiment_name == name


def _check_job(stage: str, overrides: list[str], tmp: Path) -> None:
    """Every composition check `python -m md.<stage> -m OVERRIDES` runs on a job before Hydra
    starts it (md.config.checks.check_config: targets, knobs, each settings class's values...);
    MDError on the first problem. The folders are tmp's, so nothing is written to the checkout."""
    cfg, hydra = _compose(stage, [*overrides, f"paths.artifacts={tmp / 'art'}",
                                  f"paths.runs={tmp / 'runs'}"])
    check_config(cfg, dict(hydra.runtime.choices), None)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_grid_value_is_a_valid_override(hydra_ctx, name, tmp_path):
    """Each value of hydra.sweeper.params passes the checks its job would meet (a typo like
    mix=lable, or loss.lambda=1.5, fails here, not in job 17)."""
    checked = 0
    for stage in _stages_of(name):
        _, hydra = _compose(stage, [f"experiment={name}"])
        for key, values in (hydra.sweeper.params or {}).items():
            for value in _sweep_values(key, values):
                _check_job(stage, [f"experiment={name}", f"{key}={value}"], tmp_path)
                checked += 1
    assert checked or not _has_grid(name)  # not vacuous where the experiment has a grid


def _has_grid(name: str) -> bool:
    return "params:" in (CONF / "experiment" / f"{name}.yaml").read_text()


@pytest.mark.parametrize("key, value, says", [("loss.lambda", "1.5", "loss.lambda=1.5"),
                                              ("mix", "lable", "Could not find 'mix/lable'")])
def test_a_bad_grid_value_fails_the_grid_check(hydra_ctx, tmp_path, key, value, says):
    """The grid test's check is the real one: a value no job could run with is refused."""
    with pytest.raises(Exception, match=re.escape(says)):
        _check_job("train", ["experiment=demo", f"{key}={value}"], tmp_path)


def _sweep_values(key: str, values) -> list[str]:
    """The values of one grid axis as Hydra reads them (a list value, `[a,b],[c]`, is one value)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    override = OverridesParser.create().parse_override(f"{key}={values}")
    return list(override.sweep_string_iterator()) if override.is_sweep_override() else [str(values)]


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_settings_are_not_overridden_by_the_stage_config(hydra_ctx, name):
    """A value an experiment sets must be the value the stage runs with (a primary config
    listing `_self_` after `base` would silently put its own defaults back)."""
    raw = OmegaConf.to_container(OmegaConf.load(CONF / "experiment" / f"{name}.yaml"))
    raw.pop("defaults", None)
    raw.pop("hydra", None)
    for stage in _stages_of(name):
        cfg, _ = _compose(stage, [f"experiment={name}"])
        for key, value in _leaves(raw):
            if isinstance(value, str) and "${" in value:  # an interpolation: what it resolves to
                expected = OmegaConf.merge(cfg, OmegaConf.from_dotlist([f"{key}={value}"]))
                value = OmegaConf.select(expected, key)
            assert OmegaConf.select(cfg, key) == value, f"md.{stage} experiment={name}: {key}"


def _md(stage: str, *args: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "WANDB_MODE": "offline", "HF_HUB_OFFLINE": "1",
           "MD_RUNS": str(cwd / "runs"), "MD_ARTIFACTS": str(cwd / "artifacts")}
    return subprocess.run([sys.executable, "-m", f"md.{stage}", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("bad", ["trainer.max_stepz=1", "studentt=x", "experiment=tabel1"])
def test_an_unknown_key_or_option_is_one_clear_error(tmp_path, bad):
    out = md_here(tmp_path, "-m", "experiment=smoke", bad)
    assert out.returncode != 0
    assert bad.split("=")[0].split(".")[-1] in out.stderr or "tabel1" in out.stderr
    assert "Traceback" not in out.stderr


# Fast-dev mode: what `experiment=smoke` sets, as overrides any experiment can take.
# The job folder is just its number: every override in its name would pass 255 characters.
FAST = ["student=tiny-llama", "data=synthetic", "teacher=simulated", "trainer=cpu", "logger=none",
        "data.max_train=24", "data.max_test=4", "teacher.n=4", "trainer.max_steps=3",
        "trainer.enable_progress_bar=false", "inference.paths=2", "inference.max_new_tokens=32",
        "inference.curves.draws=2", "hydra.sweep.subdir=${hydra:job.num}"]
FAST_TRAIN = ["train.batch_size=4", "train.warmup_steps=1", "train.max_length=256"]
# One tiny value per grid axis, so each experiment is one job.
NARROW = {"student": "tiny-llama", "teacher": "simulated", "data": "synthetic", "mix": "md", "loss.lambda": "0.5",
          "data.train_fraction": "0.5", "seed": "0"}
# Grids over a real teacher's own settings, which the simulated teacher of fast-dev mode lacks:
# composed and checked above; tests/test_teacher_faithful_cot.py runs them on the real data.
REAL_TEACHER_GRID = {"fig1_panel": "teacher.models"}


def _narrowed(name: str, stage: str) -> list[str]:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        _, hydra = _compose(stage, [f"experiment={name}"])
    return [f"{key}={NARROW[key]}" for key in (hydra.sweeper.params or {})]


@pytest.fixture(scope="module")
def fast_student(tmp_path_factory) -> Path:
    """One smoke-trained student (for the experiments that only evaluate or mix)."""
    tmp = tmp_path_factory.mktemp("student")
    out = _md("train", "experiment=smoke", *FAST, *FAST_TRAIN, f"hydra.run.dir={tmp / 'run'}", cwd=tmp)
    assert out.returncode == 0, out.stderr[-3000:]
    return tmp / "run" / "student"


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_each_experiment_runs_in_fast_dev_mode(tmp_path, name, fast_student):
    """The experiment's own command, every grid axis narrowed to one tiny value: one real job."""
    if name in REAL_TEACHER_GRID:
        pytest.skip(f"its grid is over {REAL_TEACHER_GRID[name]}, a real teacher's setting")
    for stage in _stages_of(name):
        work = tmp_path / stage  # its own runs/ and artifacts/, so its jobs can be counted
        work.mkdir()
        extra = FAST_TRAIN if stage == "train" else []
        if stage == "evaluate":
            # -m escapes interpolations given as overrides, so name the one job's folder itself
            extra = [f"student_dir={fast_student}", f"out_dir={work / 'eval'}"]
        out = _md(stage, "-m", f"experiment={name}", *FAST, *_narrowed(name, stage), *extra,
                  cwd=work)
        assert out.returncode == 0, f"md.{stage} experiment={name}:\n{out.stderr[-3000:]}"
        # sweeps land in runs/<name>/multirun_<time>/<job>/; the demo's in runs/demo/<job>/
        jobs = [p.parent for p in (work / "runs" / name).rglob(".hydra")]
        assert len(jobs) == 1, jobs  # narrowed to one job, in the experiment's own folder
        if stage == "mix":  # the pipeline's own artifacts: extract -> execute -> mix
            assert list((work / "artifacts").glob("mix/*/stats.json"))
        elif stage == "evaluate":
            assert "accuracy" in json.loads((work / "eval" / "metrics.json").read_text())
        else:
            assert (jobs[0] / "student" / "md_student.json").exists(), list(jobs[0].iterdir())
