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
