"""A real model server started by a test on 127.0.0.1 (`transformers serve`, vLLM's OpenAI server):
free port, start, wait until `/models` answers, stop, with the server's log kept in a file."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(cmd: list[str], port: int, log: Path, what: str, *, timeout_s: float,
            env: dict | None = None) -> Iterator[str]:
    """Run `cmd` (a server listening on `port`) until the block ends; yields its /v1 URL once
    `/models` gets any HTTP answer. The test fails with the log's tail if the server exits or
    does not answer within `timeout_s`."""
    with log.open("w") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.time() + timeout_s
        while True:
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2).read()
                break
            except urllib.error.HTTPError:  # any HTTP answer: the server is up (transformers
                break                       # 5.19's serve answers /models with a 500 offline)
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail(f"{what} did not start: {log.read_text()[-3000:]}")
                time.sleep(1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def extract_through(tmp_path: Path, url: str, model: Path, log: Path, *, n: int, problems: int):
    """`md.extract` from the server at `url` (teacher=openai_compatible, stop at a space):
    (the finished process, its thoughts, the server's chat-completion requests)."""
    from cli_run import md

    from md import jsonl
    from md.types import Thought

    out = md(tmp_path, "data=synthetic", "teacher=openai_compatible", f"teacher.base_url={url}",
             f"teacher.model={model}", f"teacher.n={n}", f"extract.max_problems={problems}",
             "teacher.max_tokens=32", "teacher.stop=[' ']", stage="extract", timeout=1800)
    assert out.returncode == 0, out.stderr[-3000:]
    (path,) = (tmp_path / "art" / "extract").glob("*/thoughts.jsonl")
    thoughts = jsonl.read_all(path, Thought)
    assert len(thoughts) == problems * 2 * n
    assert all(" " not in t.text for t in thoughts) and any(t.text for t in thoughts)
    posts = [ln for ln in log.read_text().splitlines() if "POST /v1/chat/completions" in ln]
    return out, thoughts, posts
