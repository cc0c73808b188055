"""`python -m md.data`: the per-split counts and answer-type table, and its one-line errors."""

from __future__ import annotations

import subprocess
import sys
from functools import partial

from md.data import answer_type, load_split
from md.data.__main__ import run


def _cli(*overrides: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "md.data", *overrides], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_stats_command_prints_the_table(shared_data, tmp_path):
    done = _cli("data=svamp", f"data.path={shared_data / 'svamp'}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "svamp"
    assert lines[1].split() == ["split", "problems", "int", "float", "bool", "text"]
    assert lines[2].split() == ["train", "700", "700", "0", "0", "0"]
    assert lines[3].split() == ["test", "300", "300", "0", "0", "0"]
    assert list(tmp_path.iterdir()) == [], "a read-only report leaves no outputs/ folder"


def test_stats_command_missing_path_is_one_error_line(tmp_path):
    done = _cli("data=gsm8k", f"data.path={tmp_path / 'nowhere'}", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and done.stderr.startswith("error: gsm8k: expected")
    assert "data.path=" in done.stderr and "Traceback" not in done.stderr


def test_stats_of_asdiv_and_synthetic(shared_data):
    table = run("asdiv", partial(load_split, "asdiv", path=str(shared_data / "asdiv"),
                                 test_size=695, seed=0))
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines()[2:]}
    assert rows["train"] == ["1520", "1395", "46", "4", "75"]
    assert rows["test"] == ["695", "629", "23", "1", "42"]
    table = run("synthetic", partial(load_split, "synthetic", n_train=100, n_test=50,
                                     train_fraction=0.5))
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines()[2:]}
    assert rows["train"][0] == "50" and rows["test"][0] == "50"
    assert int(rows["test"][4]) > 0  # compare templates give text answers


def test_answer_types():
    assert [answer_type(a) for a in (3.0, 2.5, True, "neither day")] == ["int", "float", "bool", "text"]


def test_every_data_config_composes_and_calls_its_loader():
    from hydra import compose, initialize_config_dir
    from hydra.utils import call, get_method
    from omegaconf import OmegaConf

    from md.config.cli import CONFIG_DIR
    from md.data import GENERIC_KEYS, LOADERS

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        for name in LOADERS:
            cfg = OmegaConf.to_container(compose("data_stats", overrides=[f"data={name}"]).data)
            assert cfg["name"] == name and cfg["path"] is None
            assert get_method(cfg["_target_"]) is LOADERS[name]
            assert all(cfg[k] in (1.0, None) for k in GENERIC_KEYS)
        cfg = compose("data_stats", overrides=["data.n_test=5", "data.max_test=3"]).data
        loader_cfg = {k: v for k, v in cfg.items() if k not in ("name", *GENERIC_KEYS)}
        assert len(call(loader_cfg, split="test")) == 5  # what a pipeline calling _target_ gets
