"""md installs like a library: the wheel carries the configs, runs from any folder, and a
user's own config folder is searched first.

The wheel is built from this checkout and installed, without its dependencies, into a fresh
virtual environment that reuses this one's installed packages (torch included) through a .pth
line; the checkout itself is not on that environment's path, so what runs is what the wheel
holds."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import yaml
from cli_run import md_here

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the md wheel installed; returns its bin folder."""
    tmp = tmp_path_factory.mktemp("install")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp / "dist",
                    str(REPO)], check=True, capture_output=True, timeout=600)
    (wheel,) = (tmp / "dist").glob("mixed_distillation-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "md/conf/train.yaml" in names and "md/conf/student/codellama-7b.yaml" in names
    assert not any(n.startswith("conf/") for n in names)  # the top-level conf/ lands inside md
    assert any(n.endswith("licenses/LICENSE") for n in names)
    env = tmp / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", env], check=True)
    site = Path(subprocess.run([env / "bin" / "python", "-c", "import sysconfig; print("
                                "sysconfig.get_paths()['purelib'])"], check=True,
                               capture_output=True, text=True).stdout.strip())
    (site / "reuse.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # torch & co.
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-m", "pip", "--python", env / "bin" / "python", "install",
                    "-q", "--no-deps", "--no-index", "--ignore-installed", wheel], check=True,
                   capture_output=True, timeout=300, cwd=tmp, env=clean)
    return env / "bin"


def run_installed(bin_dir: Path, *cmd: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OPENAI_API_KEY")}
    return subprocess.run([str(bin_dir / cmd[0]), *cmd[1:]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow  # builds and installs a wheel
@pytest.mark.parametrize("overrides", [(), ("student=codellama", "data=gsm8k")])
def test_the_installed_wheel_composes_from_an_empty_folder(installed, tmp_path, overrides):
    where = run_installed(installed, "python", "-c", "import md; print(md.__file__)", cwd=tmp_path)
    assert "site-packages" in where.stdout and str(REPO) not in where.stdout, where.stdout
    out = run_installed(installed, "python", "-m", "md.train", "--cfg", "job", *overrides,
                        cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    cfg = yaml.safe_load(out.stdout)
    assert cfg["student"]["name"] == ("codellama-7b" if overrides else "tiny-llama")
    script = run_installed(installed, "md-train", "--cfg", "job", *overrides, cwd=tmp_path)
    assert script.returncode == 0 and yaml.safe_load(script.stdout) == cfg  # the console script
    assert not any(tmp_path.iterdir())  # --cfg job writes nothing


def test_a_checkout_reads_the_top_level_conf():
    """In a checkout (editable install, or the checkout on the path) the configs are conf/ at
    the top, the folder the wheel ships as md/conf."""
    import md
    from md.config.cli import CONFIG_DIR

    assert (REPO / "conf" / "base.yaml").is_file() and not (REPO / "md" / "conf").exists()
    assert Path(md.__file__).resolve().parent == REPO / "md"
    assert Path(CONFIG_DIR) == md.CONFIG_DIR == REPO / "conf"


def test_a_users_config_folder_is_searched_first(tmp_path):
    mine = tmp_path / "my-conf"
    (mine / "student").mkdir(parents=True)
    tiny = (REPO / "conf" / "student" / "tiny-llama.yaml").read_text()
    (mine / "student" / "my-model.yaml").write_text(tiny.replace("name: tiny-llama", "name: mine"))
    for how in ({"env": {"MD_CONFIG_DIR": str(mine)}}, {"args": ("--config-dir", str(mine))}):
        out = md_here(tmp_path, *how.get("args", ()), "--cfg", "job", "student=my-model",
                      env=how.get("env"))
        assert out.returncode == 0, out.stderr[-2000:]
        assert yaml.safe_load(out.stdout)["student"]["name"] == "mine"
    line = md_here(tmp_path, "--cfg", "job", env={"MD_CONFIG_DIR": str(tmp_path / "nope")})
    assert line.returncode == 2 and "$MD_CONFIG_DIR=" in line.stderr and "no such folder" in line.stderr
