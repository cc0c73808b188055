"""Teacher client throughput: requests/s at concurrency 1, 16 and 64 against a local server.

Starts the test suite's OpenAI-compatible server (tests/helpers/openai_server.py, so run this from a
checkout) in its own process with a fixed latency per request (50 ms by default), then drives the
real extraction engine (`md.teacher.engine.fill`: the official openai async client, retries,
SQLite cache commits, progress off) at each concurrency. Ideal throughput is concurrency/latency
(320 req/s at 16); the issue's target is >= 60 % of it at 16.

    python -m md.bench.teacher                      # --latency 0.05 --concurrency 1 16 64
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from md.teacher.base import Request
from md.teacher.cache import Cache
from md.teacher.engine import fill
from md.teacher.openai_client import build_openai_teacher
from md.types import Problem

SERVER = Path(__file__).resolve().parents[2] / "tests" / "helpers" / "openai_server.py"


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    if not SERVER.exists():
        raise SystemExit(f"{SERVER} not found: run the benchmark from a checkout of the repo")
    proc = subprocess.Popen([sys.executable, str(SERVER), "--latency", str(latency), "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise SystemExit("the local server did not start")
    return proc, url


def requests_for(count: int, tag: str) -> list[Request]:
    out = []
    for i in range(count):
        p = Problem(f"{tag}-{i}", "bench", "train", f"question {tag} {i}", 0.0)
        messages = ({"role": "user", "content": f"Question: {p.question}\nAnswer:"},)
        out.append(Request(p, "cot", messages, f"{tag}-{i}", (0,)))
    return out


def measure(url: str, concurrency: int, count: int, cache: Cache, backend: str) -> float:
    """Requests per second for `count` uncached single-sample requests."""
    teacher = build_openai_teacher(model="bench", base_url=url, concurrency=concurrency,
                                   max_tokens=16, prices={"bench": {"input": 0, "output": 0}},
                                   http_backend=backend)
    reqs = requests_for(count, f"c{concurrency}-{time.time_ns()}")
    start = time.perf_counter()
    result = fill(reqs, teacher, cache, progress=False)
    elapsed = time.perf_counter() - start
    assert result.requests_sent == count and result.stopped is None, result
    return count / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description="teacher client throughput against a local server")
    ap.add_argument("--latency", type=float, default=0.05, help="server latency per request (s)")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    ap.add_argument("--seconds", type=float, default=3.0, help="target duration per setting")
    ap.add_argument("--http-backend", default="aiohttp", choices=["aiohttp", "httpx"])
    args = ap.parse_args()
    os.environ.setdefault("OPENAI_API_KEY", "bench")
    proc, url = start_server(args.latency)
    try:
        with tempfile.TemporaryDirectory() as tmp, Cache(Path(tmp) / "cache.sqlite") as cache:
            measure(url, 4, 20, cache, args.http_backend)  # warm-up: imports, connection pool
            print(f"latency {args.latency * 1000:.0f} ms per request; server: {url}; "
                  f"http backend: {args.http_backend}; cpus: {os.cpu_count()}, "
                  f"load average: {os.getloadavg()[0]:.1f}")
            print(f"{'concurrency':>11} {'requests':>8} {'req/s':>8} {'ideal':>8} {'of ideal':>8}")
            for c in args.concurrency:
                ideal = c / args.latency
                count = max(20, int(ideal * args.seconds))
                rate = measure(url, c, count, cache, args.http_backend)
                print(f"{c:>11} {count:>8} {rate:>8.1f} {ideal:>8.0f} {rate / ideal:>8.0%}")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
