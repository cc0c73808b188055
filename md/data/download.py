"""Fetch a benchmark's original public files once, into a local cache, when `data.path` is null.

    python -m md.data data=gsm8k            # downloads into ~/.cache/md/data/gsm8k/ on first use

Files come from raw GitHub URLs pinned at the commits listed in ../shared/data/README.md and are
checked against their git blob SHA-1 (`git hash-object`), so a proxy's HTML error page or a
truncated transfer is never cached. Each file is written atomically (temp file, then rename).

Environment:
  MD_DATA_CACHE    cache root (default ~/.cache/md/data); files land in <root>/<dataset>/.
  MD_DATA_URL      URL base (default https://raw.githubusercontent.com); a mirror must keep the
                   <owner>/<repo>/<commit>/<path> layout. Tests point it at 127.0.0.1.
  MD_DATA_TIMEOUT  seconds per request (default 10): offline machines must fail fast, with the
                   one-line fix (set data.path) rather than a long hang.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import NamedTuple

from md.errors import MDError


class Source(NamedTuple):
    local: str  # path inside the cache folder (the same layout as ../shared/data/<dataset>/)
    repo: str
    commit: str
    remote: str  # path inside the repository
    blob_sha1: str  # git hash-object of the file at that commit


_GSM = ("openai/grade-school-math", "3101c7d5072418e28b9008a6636bde82a006892c")
_SVAMP = ("arkilpatel/SVAMP", "689d7ccac74b9983a2ac7cc3b264f441b99e7c53")
_RT = ("itsnamgyu/reasoning-teacher", "a2ca4d28d3bbabbd77106b76d06885d1a5eac0d9")
_ASDIV = ("chaochun/nlu-asdiv-dataset", "883f90a9a65bf00304ba8f37423910fe743abc47")
_SQA = ("eladsegal/strategyqa", "1ba1e97452e189569357876f2854b01357ffbe37")

SOURCES: dict[str, list[Source]] = {
    "gsm8k": [
        Source("train.jsonl", *_GSM, "grade_school_math/data/train.jsonl",
               "7d97154b91aef28d01c3301741c81ce90039a4b1"),
        Source("test.jsonl", *_GSM, "grade_school_math/data/test.jsonl",
               "e4c2ff4942b9a78bd74f04141224c11e28d12dc9"),
    ],
    "svamp": [
        Source("SVAMP.json", *_SVAMP, "SVAMP.json", "aad093525105c6331581d7082250b9c22578271e"),
        Source("reasoning_teacher_split/svamp__default.json", *_RT,
               "data/split/svamp__default.json", "3d1ebf9b36a7cf75ee4343cd07093dece096429f"),
    ],
    "asdiv": [
        Source("ASDiv.xml", *_ASDIV, "dataset/ASDiv.xml", "092be2256db15f64a11b2d95d958027c8e7fa432"),
    ],
    "strategyqa": [
        Source("train.json", *_SQA, "data/strategyqa/train.json",
               "df79706e10671bebebb87a610fdd434576c27a18"),
        Source("dev.json", *_SQA, "data/strategyqa/dev.json",
               "32932a11f4d7033bb700cacf5826d85607ba868c"),
    ],
}


def cache_dir(dataset: str) -> Path:
    """Where `dataset`'s downloaded files live."""
    root = os.environ.get("MD_DATA_CACHE") or Path.home() / ".cache" / "md" / "data"
    return Path(root).expanduser() / dataset


def git_blob_sha1(data: bytes) -> str:
    """The SHA-1 git gives a file with this content (`git hash-object`)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def fetch(dataset: str) -> Path:
    """Download whatever of `dataset` is not cached yet; return the cache folder."""
    if dataset not in SOURCES:
        raise MDError(f"{dataset}: no download source is known; set data.path=/folder/with/its/files")
    folder = cache_dir(dataset)
    check_cache_root(folder)
    for src in SOURCES[dataset]:
        target = folder / src.local
        if not target.is_file():
            _save(target, _get(dataset, src))
    return folder


def check_cache_root(folder: Path) -> None:
    """Refuse, before any download, a cache folder that a file stands in the way of (it would
    fail only after the download, and read like a network error)."""
    for part in (folder, *folder.parents):
        if part.exists():
            if not part.is_dir():
                raise MDError(f"MD_DATA_CACHE: {part} is a file, not a folder, so the data cache "
                              f"{folder} cannot be made there; point MD_DATA_CACHE at a folder "
                              "(or unset it for ~/.cache/md/data)")
            return


def url_of(src: Source) -> str:
    base = os.environ.get("MD_DATA_URL", "https://raw.githubusercontent.com").rstrip("/")
    return f"{base}/{src.repo}/{src.commit}/{src.remote}"


def _get(dataset: str, src: Source) -> bytes:
    url = url_of(src)
    timeout = float(os.environ.get("MD_DATA_TIMEOUT", "10"))
    fix = (f"download it yourself and set data.path=<folder holding {src.local}> "
           f"(see conf/data/{dataset}.yaml)")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = response.read()
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        raise MDError(f"{dataset}: could not download {url} ({reason}); offline? {fix}") from None
    if git_blob_sha1(data) != src.blob_sha1:
        raise MDError(f"{dataset}: {url} returned {len(data)} bytes that are not the expected "
                      f"file (git blob {src.blob_sha1[:10]}); {fix}")
    return data


def _save(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
