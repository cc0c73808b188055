"""What produced a run, recorded beside its numbers: `<run dir>/provenance.json`.

md's version, the git commit of its source (and whether the tree had uncommitted changes), the
Python and key library versions, the device, and for a run trained on teacher thoughts the
model that was asked and the dated models that answered (aliases move: the paper's June 2023
gpt-3.5-turbo snapshot was retired in September 2024). The same facts go into the run's W&B
config under `provenance.*`, and md.report names the teacher under each table.

    write("runs/x/2026-12-02_12-00-00", teacher=served_by("artifacts/extract/<key>/thoughts.jsonl"))
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from md.fsio import write_text

FILE = "provenance.json"
LIBRARIES = ("torch", "transformers", "peft", "lightning", "bitsandbytes", "hydra-core",
             "openai", "wandb", "vllm")


def collect() -> dict[str, Any]:
    """md's version and source commit, Python, the key libraries, the device."""
    import md

    return {"md": md.__version__, "git": _git(Path(md.__file__).resolve().parent.parent),
            "python": platform.python_version(), "libraries": _libraries(),
            "device": _device(), "command": " ".join(sys.argv)}


def served_by(thoughts: str | Path) -> dict[str, Any]:
    """The teacher of a thoughts file: the model asked, and the dated models (with system
    fingerprints) that answered, with how many thoughts each."""
    asked: Counter = Counter()
    served: Counter = Counter()
    with open(thoughts, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            asked[record.get("model", "?")] += 1
            who = record.get("served") or {}
            if who.get("model"):
                fingerprint = who.get("system_fingerprint")
                served[who["model"] + (f" ({fingerprint})" if fingerprint else "")] += 1
    return {"asked": sorted(asked), "served": dict(sorted(served.items()))}


def write(folder: str | Path, teacher: dict[str, Any] | None = None) -> Path:
    """`collect()` (and the teacher, when the run has one) into `folder`/provenance.json."""
    facts = collect()
    if teacher:
        facts["teacher"] = teacher
    path = Path(folder) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(facts, indent=1, sort_keys=True))
    return path


def _git(source: Path) -> dict[str, Any] | None:
    """{commit, dirty} of the checkout md runs from; None for an installed wheel."""
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "-C", str(source), *args], capture_output=True,
                                 text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    if not (source / ".git").exists():
        return None
    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return None if commit is None else {"commit": commit, "dirty": bool(status)}


def _libraries() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def _device() -> dict[str, Any]:
    try:
        import torch

        if torch.cuda.is_available():
            names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            return {"kind": "cuda", "devices": names, "cuda": torch.version.cuda}
    except ImportError:
        pass
    return {"kind": "cpu", "cpu": _cpu_name(), "cores": _cores()}


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cores() -> int | None:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
