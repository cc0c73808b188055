"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and the throughput benchmark.

It implements enough of /v1/chat/completions, /v1/files (+ content download) and /v1/batches
for the official `openai` client, which uses its own HTTP stack (patching httpx would not
intercept it). Replies are a pure function of the request (messages, choice index), so a test
knows exactly which thoughts to expect. Faults can be injected: `faults` is a queue applied to
the next chat requests, `always` a fault that never clears:

    "429" (with Retry-After: retry_after), "500", "timeout" (sleeps timeout_sleep before
    answering), "malformed" (200 with a body that is not JSON), "bad_shape" (200, no choices),
    "surrogate" (200, each text ending in a lone surrogate, legal in JSON).

Quirks of real self-hosted servers can be switched on: `max_choices=1` ignores `n` (llama.cpp,
Ollama, `transformers serve`), `echo_stop=True` returns the first stop string and a made-up next
question inside the text, `usage=False` sends no token counts; `agree=True` makes every sample
of a prompt state the same answer (a confident teacher, for adaptive sampling).

    server = FakeOpenAI(latency=0.05).start()     # server.url -> http://127.0.0.1:PORT/v1
    ...; server.stop()
    python tests/helpers/openai_server.py --latency 0.05   # standalone, prints its URL
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections import Counter

from aiohttp import web


def reply_text(messages: list, index: int, agree: bool = False) -> str:
    """The deterministic completion for a prompt and choice index (agree: every sample of a
    prompt states the same answer, as a confident teacher does)."""
    digest = hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()
    answer = int(digest[:6], 16) % 97 + (0 if agree else index)
    return f"Reply {digest[:12]} #{index}. The answer is {answer}."


def request_id(body: dict) -> str:
    """Names one logical request: its messages and how many samples it asked for."""
    return hashlib.sha256(json.dumps([body.get("messages"), body.get("n", 1)],
                                     sort_keys=True).encode()).hexdigest()[:16]


FINGERPRINT = "fp_md_fake_1"  # what OpenAI calls the backend configuration that answered


def dated(alias: str) -> str:
    """The dated snapshot an alias resolves to, as OpenAI answers (gpt-4o -> gpt-4o-2024-08-06)."""
    return f"{alias}-2026-01-15"


def completion(body: dict, max_choices: int | None = None, echo_stop: bool = False,
               usage: bool = True, agree: bool = False) -> dict:
    n = min(int(body.get("n") or 1), max_choices or 1_000_000)
    first = int(str((body.get("metadata") or {}).get("md_request", ":0")).split(":")[-1]
                .split(",")[0] or 0)  # the sample index of choice 0, when the client says it
    texts = [reply_text(body.get("messages", []), first + i, agree) for i in range(n)]
    if echo_stop and body.get("stop"):
        texts = [f"{t}{body['stop'][0]} Made-up next question?" for t in texts]
    prompt_tokens = len(json.dumps(body.get("messages", []))) // 4
    return {"id": f"chatcmpl-{request_id(body)}", "object": "chat.completion",
            "created": int(time.time()), "model": dated(body.get("model", "?")),
            "system_fingerprint": FINGERPRINT,
            "choices": [{"index": i, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": t}}
                        for i, t in enumerate(texts)],
            **({"usage": {"prompt_tokens": prompt_tokens,
                          "completion_tokens": sum(len(t) // 4 for t in texts),
                          "total_tokens": prompt_tokens + sum(len(t) // 4 for t in texts)}}
               if usage else {})}


def refusal(param: str | None) -> dict:
    """OpenAI's 400 error for a parameter this model does not take (its current wording)."""
    if param == "max_tokens":
        return {"message": "Unsupported parameter: 'max_tokens' is not supported with this "
                "model. Use 'max_completion_tokens' instead.", "type": "invalid_request_error",
                "param": "max_tokens", "code": "unsupported_parameter"}
    if param is not None:
        return {"message": f"Unsupported value: '{param}' does not support this value with this "
                "model. Only the default value is supported.", "type": "invalid_request_error",
                "param": param, "code": "unsupported_value"}
    return {"message": "Invalid 'messages': the request is malformed.",
            "type": "invalid_request_error", "param": "messages", "code": None}


class FakeOpenAI:
    def __init__(self, latency: float = 0.0, retry_after: str = "0", timeout_sleep: float = 2.0,
                 batch_polls: int = 1):
        self.latency, self.retry_after, self.timeout_sleep = latency, retry_after, timeout_sleep
        self.batch_polls = batch_polls  # retrieves before a batch completes
        self.faults: list[str] = []
        self.always: str | None = None
        self.requests: list[dict] = []  # every chat body received, faults included
        self.answered: list[dict] = []  # chat bodies answered 200 with a good body
        self.stored: list[tuple[dict, dict]] = []  # (metadata, completion) of store=true calls
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}
        self.hold_batches = False  # keep batches in_progress until released
        self.fail_batch_create = False
        self.lose_batch_create = 0  # this many creates make the batch, then answer 500
        self.foreign_batches = 0  # batches of other jobs on the account, made after a lost create
        self.counts: Counter = Counter()  # endpoint -> calls
        self.max_choices: int | None = None  # 1: ignore n, as llama.cpp and transformers serve
        self.echo_stop = False  # return the stop string (and what follows) inside the text
        self.usage = True  # False: no usage block, as some servers
        self.agree = False  # True: all samples of a prompt give the same answer
        # params a model refuses, answered 400 as OpenAI does: "max_tokens" (reasoning models
        # take max_completion_tokens), "temperature" (only the default), ...
        self.refuse: set[str] = set()
        self.reject_all = False  # every chat request is a 400 nothing can fix

    # --- chat -----------------------------------------------------------------------------
    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.counts["chat"] += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        refused = next((k for k in sorted(self.refuse) if k in body), None)
        if refused is not None or self.reject_all:
            return web.json_response({"error": refusal(refused)}, status=400)
        fault = self.faults.pop(0) if self.faults else self.always
        if fault == "429":
            return web.json_response({"error": {"message": "rate limited", "type": "requests"}},
                                     status=429, headers={"retry-after": self.retry_after})
        if fault == "500":
            return web.json_response({"error": {"message": "boom"}}, status=500)
        if fault == "timeout":
            await asyncio.sleep(self.timeout_sleep)
        if fault == "malformed":
            return web.Response(text='{"choices": [', content_type="application/json")
        if fault == "bad_shape":
            return web.json_response({"object": "chat.completion", "choices": []})
        self.answered.append(body)
        reply = completion(body, self.max_choices, self.echo_stop, self.usage, self.agree)
        if fault == "surrogate":  # legal JSON ("\\ud800"), but no valid text: a lone surrogate
            for choice in reply["choices"]:
                choice["message"]["content"] += "\ud800"
        if body.get("store"):  # OpenAI stored completions, listed by metadata
            self.stored.append((body.get("metadata") or {}, reply))
        return web.json_response(reply)

    async def list_stored(self, request: web.Request) -> web.Response:
        self.counts["list_stored"] += 1
        want = {k[len("metadata["):-1]: v for k, v in request.query.items()
                if k.startswith("metadata[")}
        data = [c for meta, c in self.stored if all(meta.get(k) == v for k, v in want.items())]
        return web.json_response({"object": "list", "data": data, "has_more": False})

    # --- files ----------------------------------------------------------------------------
    async def upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        data = form["file"].file.read()
        fid = f"file-{len(self.files)}"
        self.files[fid] = data
        self.counts["upload"] += 1
        return web.json_response(self._file(fid, form.get("purpose", "batch")))

    def _file(self, fid: str, purpose: str = "batch") -> dict:
        return {"id": fid, "object": "file", "bytes": len(self.files[fid]), "created_at": 0,
                "filename": f"{fid}.jsonl", "purpose": purpose, "status": "processed"}

    async def content(self, request: web.Request) -> web.Response:
        fid = request.match_info["fid"]
        if fid not in self.files:
            return web.json_response({"error": {"message": "no such file"}}, status=404)
        return web.Response(body=self.files[fid], content_type="application/octet-stream")

    # --- batches --------------------------------------------------------------------------
    async def create_batch(self, request: web.Request) -> web.Response:
        self.counts["batch_create"] += 1
        if self.fail_batch_create:
            return web.json_response({"error": {"message": "batch service down"}}, status=500)
        body = await request.json()
        bid = f"batch_{len(self.batches):04d}"
        self.batches[bid] = {"id": bid, "object": "batch", "endpoint": body["endpoint"],
                             "completion_window": body["completion_window"],
                             "input_file_id": body["input_file_id"], "status": "validating",
                             "created_at": int(time.time()), "output_file_id": None,
                             "error_file_id": None, "metadata": body.get("metadata"),
                             "request_counts": {"total": 0, "completed": 0, "failed": 0},
                             "_polls": 0}
        if self.lose_batch_create > 0:
            self.lose_batch_create -= 1
            for _ in range(self.foreign_batches):  # newer: they page before ours
                fid = f"file-other-{len(self.batches)}"
                self.batches[f"batch_{len(self.batches):04d}"] = {
                    "id": f"batch_{len(self.batches):04d}", "object": "batch",
                    "input_file_id": fid, "status": "completed", "_polls": 0}
            return web.json_response({"error": {"message": "gateway timeout"}}, status=500)
        return web.json_response(self._public(bid))

    async def get_batch(self, request: web.Request) -> web.Response:
        bid = request.match_info["bid"]
        batch = self.batches[bid]
        batch["_polls"] += 1
        if batch["status"] != "completed" and not self.hold_batches:
            batch["status"] = "in_progress"
            if batch["_polls"] >= self.batch_polls:
                self._finish(batch)
        return web.json_response(self._public(bid))

    async def list_batches(self, request: web.Request) -> web.Response:
        """As the API pages them: newest first, `limit` (at most 100) per page after `after`."""
        self.counts["batch_list"] += 1
        newest_first = list(reversed(self.batches))
        after = request.query.get("after")
        start = newest_first.index(after) + 1 if after else 0
        limit = min(int(request.query.get("limit", 20)), 100)
        page = newest_first[start : start + limit]
        return web.json_response({"object": "list", "has_more": start + limit < len(newest_first),
                                  "first_id": page[0] if page else None,
                                  "last_id": page[-1] if page else None,
                                  "data": [self._public(b) for b in page]})

    def _finish(self, batch: dict) -> None:
        out = []
        for line in self.files[batch["input_file_id"]].decode().splitlines():
            row = json.loads(line)
            self.answered.append(row["body"])
            out.append(json.dumps({"id": f"req-{len(out)}", "custom_id": row["custom_id"],
                                   "response": {"status_code": 200,
                                                "body": completion(row["body"], agree=self.agree)},
                                   "error": None}))
        fid = f"file-{len(self.files)}"
        self.files[fid] = ("\n".join(out) + "\n").encode()
        batch.update(status="completed", output_file_id=fid,
                     request_counts={"total": len(out), "completed": len(out), "failed": 0})

    def _public(self, bid: str) -> dict:
        return {k: v for k, v in self.batches[bid].items() if not k.startswith("_")}

    # --- lifecycle ------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(client_max_size=256 * 1024**2)
        app.add_routes([web.post("/v1/chat/completions", self.chat),
                        web.get("/v1/chat/completions", self.list_stored),
                        web.post("/v1/files", self.upload),
                        web.get("/v1/files/{fid}/content", self.content),
                        web.post("/v1/batches", self.create_batch),
                        web.get("/v1/batches", self.list_batches),
                        web.get("/v1/batches/{bid}", self.get_batch)])
        return app

    def start(self, port: int = 0) -> FakeOpenAI:
        """Serve on 127.0.0.1 (a free port by default) from a background thread."""
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.runner = web.AppRunner(self.app(), access_log=None)
            self.loop.run_until_complete(self.runner.setup())
            site = web.TCPSite(self.runner, "127.0.0.1", port)
            self.loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        assert ready.wait(10), "server did not start"
        self.url = f"http://127.0.0.1:{self.port}/v1"
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--port", type=int, default=8000)
    args = ap.parse_args()
    server = FakeOpenAI(latency=args.latency).start(args.port)
    print(server.url, flush=True)
    threading.Event().wait()
