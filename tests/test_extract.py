"""`python -m md.extract` end to end: offline run, dry run, no-key error; every teacher config
composes and builds (its keys are the builder's arguments)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_run import md_here
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from md import jsonl
from md.config.cli import CONFIG_DIR
from md.config.targets import check_targets
from md.types import Thought

REPO = Path(__file__).resolve().parent.parent
TEACHERS = ("openai", "openai_compatible", "simulated", "replay", "hf")


def extract(tmp_path: Path, *overrides: str, key: str | None = None):
    """`python -m md.extract OVERRIDES` (in this process: cli_run.md_here), no key unless given."""
    return md_here(tmp_path, *overrides, "extract.progress=false", stage="extract",
                   env={"OPENAI_API_KEY": key} if key else None)


def test_offline_simulated_run(tmp_path):
    r = extract(tmp_path, "data=synthetic", "teacher=simulated", "data.n_train=40")
    assert r.returncode == 0, r.stderr
    (out,) = (tmp_path / "art" / "extract").glob("*/thoughts.jsonl")  # hash-addressed folder
    thoughts = jsonl.read_all(out, Thought)
    assert len(thoughts) == 40 * 2 * 8 and f"640 thoughts (80 requests sent, $0.0000 spent) -> {out}" in r.stdout


def test_dry_run_needs_no_key_and_real_run_without_key_is_one_line(tmp_path):
    args = ("data=synthetic", "teacher=openai", "data.n_train=10")
    dry = extract(tmp_path, *args, "extract.dry_run=true")
    assert dry.returncode == 0, dry.stderr
    assert "20 requests for 400 samples" in dry.stdout and "estimated cost: about $" in dry.stdout
    assert "teacher.budget_usd" not in dry.stdout  # no cap: nothing to say about one
    capped = extract(tmp_path, *args, "extract.dry_run=true", "teacher.budget_usd=0.001")
    assert "teacher.budget_usd=$0.001 is below this estimate: the extraction would stop after " \
           "about" in capped.stdout and "raise teacher.budget_usd to about $" in capped.stdout
    r = extract(tmp_path, *args)
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.strip().splitlines() if not ln.startswith("plan: ")]
    assert len(lines) == 1 and lines[0].startswith("error: teacher=openai needs an API key: set OPENAI_API_KEY")


@pytest.mark.parametrize("name", TEACHERS)
def test_every_teacher_config_composes(name, tmp_path):
    extra = {"replay": ["teacher.path=" + str(tmp_path / "x.jsonl")], "hf": []}.get(name, [])
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("extract", overrides=[f"teacher={name}", *extra])
    check_targets(cfg.teacher)
    assert cfg.extract.cache_path.endswith("teacher_cache.sqlite")
    if name in ("openai", "openai_compatible", "simulated", "replay"):
        t = instantiate(cfg.teacher, _convert_="all")
        assert t.n == cfg.teacher.n and t.budget_usd is None
    if name == "openai":
        assert (cfg.teacher.model, cfg.teacher.temperature, cfg.teacher.n) == ("gpt-3.5-turbo",
                                                                                0.7, 20)
