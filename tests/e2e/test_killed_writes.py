"""Writes killed half-way leave nothing behind for good: a killed atomic write's temp file and a
killed adapter merge's hidden model copy are removed at the next start, never a live writer's.

Before, `kill -9` during md.fsio.atomic_open left `.<name>.<random>.tmp` beside the file forever,
and a killed merge left a whole hidden copy of the model (27 GB for a 7B in fp32) in the model
cache. Each test kills a real writer process with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from md.fsio import write_text
from md.inference.merged import sweep_unfinished

REPO = Path(__file__).resolve().parents[2]
WRITER = """
import sys, time
from md.fsio import atomic_open
with atomic_open(sys.argv[1]) as f:
    f.write("half of it"); f.flush()
    print("writing", flush=True)
    time.sleep(600)
"""
MERGER = """
import sys, time, tempfile
from pathlib import Path
from md.fsio import file_lock
target = Path(sys.argv[1])
with file_lock(target.parent / f".{target.name}.lock", "merging"):
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    (tmp / "model.safetensors").write_bytes(b"w" * 1000)
    print("merging", flush=True)
    time.sleep(600)
"""


def start(code: str, *args: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.stdout.readline().strip() in ("writing", "merging")
    return proc


def kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_killed_atomic_write_leaves_its_temp_file_only_until_the_next_write(tmp_path):
    live = start(WRITER, str(tmp_path / "b.json"))
    try:
        dead = start(WRITER, str(tmp_path / "a.json"))
        kill(dead)
        assert len(hidden(tmp_path)) == 2  # the dead writer's temp file and the live one's
        write_text(tmp_path / "c.json", "{}")  # the next write in that folder
        (left,) = hidden(tmp_path)
        assert left.startswith(".b.json.")  # the live writer's file is left alone
    finally:
        kill(live)
    write_text(tmp_path / "a.json", "{}")
    assert hidden(tmp_path) == [] and (tmp_path / "a.json").read_text() == "{}"


def test_a_killed_merge_leaves_its_model_copy_only_until_the_next_start(tmp_path):
    merged = tmp_path / "merged"
    merged.mkdir()
    live = start(MERGER, str(merged / "base-lora-2222"))
    try:
        dead = start(MERGER, str(merged / "base-lora-1111"))
        kill(dead)
        assert sum(n.endswith(".lock") for n in hidden(merged)) == 2
        assert len(hidden(merged)) == 4
        assert sweep_unfinished(merged) == 1
        left = [n for n in hidden(merged) if not n.endswith(".lock")]
        assert len(left) == 1 and left[0].startswith(".base-lora-2222.")  # still being merged
    finally:
        kill(live)
    assert sweep_unfinished(merged) == 1
    assert [n for n in hidden(merged) if not n.endswith(".lock")] == []
