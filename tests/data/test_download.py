"""The online path: download into the cache from a real local HTTP server, fail fast when offline."""

from __future__ import annotations

import functools
import http.server
import shutil
import socket
import threading
import time

import pytest

from md import data
from md.data import download
from md.errors import MDError


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mirror(tmp_path, shared_data):
    """A raw.githubusercontent.com stand-in on 127.0.0.1 serving the SVAMP sources."""
    root = tmp_path / "mirror"
    for src in download.SOURCES["svamp"]:
        target = root / src.repo / src.commit / src.remote
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shared_data / "svamp" / src.local, target)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_fills_the_cache_then_loads(mirror, tmp_path, monkeypatch):
    root, url = mirror
    monkeypatch.setenv("MD_DATA_URL", url)
    monkeypatch.setenv("MD_DATA_CACHE", str(tmp_path / "cache"))
    train = data.load("svamp", "train")  # path=None: download
    assert len(train) == 700 and train[0].id == "chal-1"
    assert (tmp_path / "cache" / "svamp" / "reasoning_teacher_split" / "svamp__default.json").is_file()
    shutil.rmtree(root)  # the mirror is gone: the cache alone must serve the next load
    assert len(data.load("svamp", "test")) == 300


def test_corrupt_download_is_rejected_and_not_cached(mirror, tmp_path, monkeypatch):
    root, url = mirror
    src = download.SOURCES["svamp"][0]
    (root / src.repo / src.commit / src.remote).write_text("<html>rate limited</html>")
    monkeypatch.setenv("MD_DATA_URL", url)
    monkeypatch.setenv("MD_DATA_CACHE", str(tmp_path / "cache"))
    with pytest.raises(MDError, match="not the expected file"):
        data.load("svamp", "train")
    assert not (tmp_path / "cache" / "svamp" / "SVAMP.json").exists()


@pytest.mark.parametrize("name", ["gsm8k", "svamp", "asdiv", "strategyqa"])
def test_offline_fails_fast_with_the_fix(name, tmp_path, monkeypatch):
    monkeypatch.setenv("MD_DATA_URL", f"http://127.0.0.1:{_unused_port()}")
    monkeypatch.setenv("MD_DATA_CACHE", str(tmp_path / "cache"))
    start = time.monotonic()
    with pytest.raises(MDError) as e:
        data.load(name, "test")
    assert time.monotonic() - start < 5
    msg = str(e.value)
    assert "\n" not in msg and "could not download" in msg and "data.path=" in msg


def test_blob_sha1_matches_git():
    # `printf 'hello\n' | git hash-object --stdin`
    assert download.git_blob_sha1(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"
