"""Shared fixtures: where the real benchmark files live, and an offline W&B.

The real data sits in ../shared/data beside the checkout (see its README); set MD_SHARED_DATA
to point elsewhere. Tests that need it skip when it is absent, unless MD_REQUIRE_SHARED_DATA=1
(CI sets it), in which case they fail: CI must never go green by skipping the real-data checks.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("WANDB_MODE", "offline")  # an API key with no network hangs wandb ~100 s
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _shared_data_dir() -> Path:
    return Path(os.environ.get("MD_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real benchmark files and teacher outputs (../shared/data)."""
    path = _shared_data_dir()
    if not (path / "README.md").exists():
        if os.environ.get("MD_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(f"real data expected at {path} (set MD_SHARED_DATA)")
        pytest.skip(f"real data not found at {path}; set MD_SHARED_DATA to run this test")
    return path


def pytest_collection_modifyitems(config, items):
    """Skip `gpu`-marked tests cleanly on machines without CUDA."""
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except Exception:
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


# --- shared fixtures ----------------------------------------------------------------------------

CONFIG_DIR = str(REPO / "conf")


def compose_config(name: str, *overrides: str, hydra_config: bool = False):
    """The composed config of `python -m md.<name> OVERRIDES`, as the entry point sees it."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(name, overrides=list(overrides), return_hydra_config=hydra_config)


@pytest.fixture
def composed():
    """compose_config as a fixture: `composed("train", "mix=cot")`."""
    return compose_config


@pytest.fixture(scope="session")
def sandbox():
    """One real sandbox (md.sandbox.Sandbox: isolated, privilege-dropped workers) for the
    session: starting its workers costs more than most tests that use it."""
    from md.sandbox import Sandbox

    with Sandbox(workers=2, timeout_s=1.0, memory_mb=256) as sb:
        yield sb


@pytest.fixture
def fake_openai(monkeypatch):
    """Start the fault-injecting OpenAI-compatible server (tests/helpers/openai_server.py) on 127.0.0.1:
    `server = fake_openai(batch_polls=2)`; OPENAI_API_KEY is set for the test, and every server
    started is stopped after it."""
    from openai_server import FakeOpenAI

    started = []

    def start(key: str = "sk-test", **options):
        monkeypatch.setenv("OPENAI_API_KEY", key)
        agree = options.pop("agree", False)
        server = FakeOpenAI(**options)
        server.agree = agree or server.agree
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def tiny_llama():
    """A random 2-layer LLaMA and its tokenizer, built in code (md.models.tiny_student), shared."""
    from md.models.tiny_student import tiny_student

    return tiny_student(hidden=32, layers=1, seed=0)
