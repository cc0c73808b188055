"""Every dotted `md.…` name the docs mention exists: module docstrings and comments, the
README, experiments/ and the config comments, so a move or a rename cannot leave a stale pointer
behind (as `md.mix.build` for what is now `md.stages.mix.build` once did)."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

from md.config.targets import MOVED

REPO = Path(__file__).resolve().parent.parent
NAME = re.compile(r"(?<![\w./-])md(?:\.[A-Za-z_]\w*)+")
SOURCES = sorted([*(REPO / "md").rglob("*.py"), *(REPO / "conf").rglob("*.yaml"),
                  REPO / "README.md", *(REPO / "experiments").glob("*")])


def exists(dotted: str) -> bool:
    """`dotted` is a module, or an attribute reachable from one (a class's instance attribute
    counts when its class sets it, `self.<name> =`, or declares it as a field)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if hasattr(obj, attr):
                obj = getattr(obj, attr)
            elif inspect.isclass(obj) and (attr in getattr(obj, "__annotations__", {}) or
                                           f"self.{attr} =" in inspect.getsource(obj)):
                return True
            else:
                return False
        return True
    return False


def mentions() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for file in SOURCES:
        if file.is_file() and file.suffix in {".py", ".md", ".yaml"}:
            for name in NAME.findall(file.read_text()):
                found.setdefault(name.rstrip("."), []).append(str(file.relative_to(REPO)))
    return found


MENTIONS = mentions()


def test_the_docs_mention_md_names():
    assert len(MENTIONS) > 50  # not vacuous: the docs point into the code


@pytest.mark.parametrize("name", sorted(MENTIONS))
def test_a_dotted_name_in_the_docs_exists(name):
    if name in MOVED:  # the old names md.config.targets maps to their new spelling
        assert MENTIONS[name] == ["md/config/targets.py"] and exists(MOVED[name])
        return
    assert exists(name), f"{name} (in {', '.join(sorted(set(MENTIONS[name])))}) does not exist"


def test_the_docs_say_what_vllm_does_not_reproduce():
    """HF generate resumes and shards byte-identically; vLLM's bf16 kernels depend on the batch,
    so every place that promises identical samples says when vLLM keeps that promise."""
    for doc in ("README.md", "experiments/README.md", "md/evaluation/shards.py",
                "conf/inference/default.yaml"):
        assert "VLLM_BATCH_INVARIANT=1" in (REPO / doc).read_text(), doc
