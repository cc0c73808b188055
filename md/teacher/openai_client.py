"""A teacher behind any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp server).

Uses the official `openai` async client with its own retries turned off: this module retries
429, 408/409, 5xx, timeouts, dropped connections and malformed bodies itself, with exponential
backoff and full jitter, and waits at least what a `Retry-After` / `retry-after-ms` header asks.
The API key is read from the environment variable named by `api_key_env`, only when a request
must really be sent (a dry run or a fully cached rerun needs no key), and is never logged.

Real servers differ from OpenAI's API, and the client copes without server-specific flags:
a server that answers fewer choices than `n` (llama.cpp, Ollama, `transformers serve`) has what
came kept and cached, the rest asked for one request each, and is remembered for the rest of
the process (one warning line); stop strings returned inside the text are cut client-side;
samples that repeat each other at T>0 get one warning with the duplicate rate; a response with
no `usage` has its tokens estimated and marked `"estimated": 1` in the thoughts' usage.

    python -m md.extract data=gsm8k teacher=openai                 # needs OPENAI_API_KEY
    python -m md.extract teacher=openai_compatible teacher.base_url=http://localhost:8000/v1
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import httpx2
import openai

from md.errors import MDError
from md.teacher import dialect
from md.teacher.base import (
    TEACHER_MODES,
    Completion,
    Request,
    TeacherFields,
    cut_at_stop,
    estimate_tokens,
    missing_key,
    price_of,
)
from md.teacher.cache import request_tag
from md.teacher.retry import TRANSIENT, backoff, describe, retryable

T = TypeVar("T")
log = logging.getLogger(__name__)
IGNORES_N: set[str] = set()  # servers seen answering fewer choices than n (vLLM honours n)
for _name in ("httpx", "httpx2", "openai", "aiohttp"):  # one INFO line per request otherwise
    logging.getLogger(_name).setLevel(logging.WARNING)


@dataclass
class SampleQuality:
    """Samples received per prompt in one run, to notice a server that decodes greedily at T>0
    (e.g. `transformers serve` when the model's generation config lacks do_sample)."""

    seen: dict[str, list[int]] = field(default_factory=dict)

    def add(self, key: str, texts: tuple[str, ...]) -> None:
        self.seen.setdefault(key, []).extend(hash(t) for t in texts)

    def duplicate_rate(self) -> float | None:
        """Share of samples that repeat an earlier sample of the same prompt (None: too few)."""
        groups = [g for g in self.seen.values() if len(g) > 1]
        total = sum(len(g) for g in groups)
        return sum(len(g) - len(set(g)) for g in groups) / total if total else None

    def duplicate_warning(self, temperature: float) -> str | None:
        rate = self.duplicate_rate()
        if temperature <= 0 or rate is None or rate < 0.5:
            return None
        return (f"{rate:.0%} of the samples repeat another sample of the same prompt at "
                f"temperature {temperature}: the server may be decoding greedily (transformers "
                "serve does when the model's generation_config has no do_sample=true)")


@dataclass(eq=False, kw_only=True)
class OpenAITeacher(TeacherFields):
    batch_api: ClassVar[bool] = True  # body(): one Batch API line per request
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    require_key: bool = True
    concurrency: int = 16
    max_n_per_request: int = 128  # 1 for servers that ignore `n` (llama.cpp)
    max_retries: int = 8
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    timeout_s: float = 120.0
    batch_discount: float = 0.5  # the Batch API bills half price
    http_backend: str = "aiohttp"
    retries_done: int = 0
    quality: SampleQuality = field(default_factory=SampleQuality, repr=False)
    _client: Any = field(default=None, repr=False)

    def __post_init__(self):
        if self.server in IGNORES_N:  # learnt earlier in this process
            self.max_n_per_request = 1

    def check_ready(self) -> None:
        """Fail early, in one line, if no key is set (never echoes the key itself)."""
        if self.require_key and not os.environ.get(self.api_key_env):
            raise MDError(missing_key(self.model, self.api_key_env))

    @property
    def client(self) -> openai.AsyncOpenAI:
        if self._client is None:
            self.check_ready()
            key = os.environ.get(self.api_key_env) or "unused"  # local servers accept any key
            self._client = openai.AsyncOpenAI(api_key=key, base_url=self.base_url,
                                              max_retries=0, timeout=self.timeout_s,
                                              http_client=http_client(self.http_backend,
                                                                      self.timeout_s))
        return self._client

    @property
    def server(self) -> str:
        return self.base_url or "https://api.openai.com/v1"

    async def aclose(self) -> None:
        warning = self.quality.duplicate_warning(self.params.get("temperature") or 0.0)
        if warning:
            log.warning("%s: %s", self.server, warning)
        self.quality = SampleQuality()  # one warning per run of requests
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def complete(self, reqs: list[Request]) -> list[Completion]:
        return list(await asyncio.gather(*(self._one(r) for r in reqs)))

    def body(self, req: Request, online: bool = True) -> dict[str, Any]:
        """The chat-completions request body (online=False: a line of a Batch API input file),
        in the dialect this model was found to take (md.teacher.dialect)."""
        params = dialect.speak(self.params, self.server, self.model)
        body = {"model": self.model, "messages": list(req.messages), **params}
        if self.asked_n(req) > 1:
            body["n"] = self.asked_n(req)
        if online and self.recover_in_flight:  # see md.teacher.recover
            body["store"] = True
            body["metadata"] = {"md_request": request_tag(req.prompt_key, req.indices)}
        return {k: v for k, v in body.items() if v is not None}

    async def _one(self, req: Request) -> Completion:
        asked = self.asked_n(req)

        async def call() -> Completion:
            # client.post (the SDK's documented raw route) skips the SDK's per-call typed
            # transform of the params and pydantic parsing, which dominate CPU at high concurrency;
            # auth, HTTP errors and status mapping are the SDK's as usual.
            resp = await self.client.post("/chat/completions", body=self.body(req),
                                          cast_to=httpx2.Response)
            await resp.aread()
            return parse_completion(json.loads(resp.content), asked, self.params.get("stop"))

        comp = await self.retrying(call)
        if asked > 1 and len(comp.texts) < asked:
            self.server_ignores_n(len(comp.texts), asked)
        self.quality.add(req.prompt_key, comp.texts)
        if not comp.usage:  # the server sent no token counts: estimate them, and say so
            prompt = "".join(m["content"] for m in req.messages)
            comp = Completion(comp.texts, {
                "prompt_tokens": estimate_tokens(prompt),  # billed once per request
                "completion_tokens": sum(estimate_tokens(t) for t in comp.texts),
                "estimated": 1}, comp.served)
        return comp

    def asked_n(self, req: Request) -> int:
        """How many choices one request asks for (1 once the server is known to ignore `n`)."""
        return len(req.indices) if self.max_n_per_request > 1 else 1

    def server_ignores_n(self, got: int, asked: int) -> None:
        """Remember (for this process) that the server answers fewer choices than `n`."""
        if self.max_n_per_request > 1:
            IGNORES_N.add(self.server)
            self.max_n_per_request = 1
            log.warning("%s returned %d choice(s) for n=%d: it ignores n; the missing samples "
                        "are asked for one request each (teacher.supports_n=false says so up "
                        "front)", self.server, got, asked)

    async def retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        """Await `call()`, retrying transient failures; MDError once retries run out. A 400
        about a parameter the model does not take is learnt once (md.teacher.dialect) and the
        request sent again at once; any other 400 is one line, no retry."""
        attempt, learnt = 0, 0
        while True:
            try:
                return await call()
            except openai.BadRequestError as e:
                if learnt < len(dialect.PARAMS) and dialect.learn(e.body, self.server, self.model):
                    learnt += 1
                    continue
                raise MDError(describe(e, self)) from None
            except (openai.APIStatusError, *TRANSIENT) as e:
                if not retryable(e):
                    raise MDError(describe(e, self)) from None
                if attempt == self.max_retries:
                    raise MDError(f"teacher request failed {attempt + 1} times, giving up: "
                                  f"{describe(e, self)}") from None
                self.retries_done += 1
                await asyncio.sleep(backoff(attempt, e, self.backoff_s, self.max_backoff_s))
                attempt += 1


def http_client(backend: str, timeout_s: float):
    """The HTTP transport under the openai client. aiohttp (openai's own `DefaultAioHttpClient`)
    scales to high concurrency; httpx's pool rescans every connection per request."""
    if backend == "httpx":
        return None  # the openai default
    if backend != "aiohttp":
        raise MDError(f"teacher.http_backend must be 'aiohttp' or 'httpx', got {backend!r}")
    try:
        return openai.DefaultAioHttpClient(timeout=timeout_s)
    except RuntimeError:  # aiohttp not installed: fall back to the default transport
        return None


def parse_completion(body: Any, expected: int, stop: list[str] | None = None) -> Completion:
    """Texts in choice order from a chat-completion JSON body, each cut at its first stop string
    (OpenAI's semantics: the stop is not part of the text; some servers return it).

    At most `expected` texts; fewer is allowed (servers that ignore `n`). ValueError (retried)
    if the body is malformed or holds no choice. usage is {} when the server sends none."""
    try:
        choices = sorted(body["choices"], key=lambda c: c.get("index") or 0)[:expected]
        texts = tuple(cut_at_stop(str(c["message"].get("content") or ""), stop) for c in choices)
        u = body.get("usage") or {}
        usage = ({"prompt_tokens": int(u.get("prompt_tokens") or 0),
                  "completion_tokens": int(u.get("completion_tokens") or 0)}
                 if u.get("prompt_tokens") or u.get("completion_tokens") else {})
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        raise ValueError(f"malformed chat completion body ({type(e).__name__}: {e})") from None
    if not texts:
        raise ValueError(f"expected {expected} choices, got none")
    served = {k: str(body[k]) for k in ("model", "system_fingerprint") if body.get(k)}
    return Completion(texts, usage, served)


def build_openai_teacher(model: str, *, temperature: float = 0.7, top_p: float = 1.0,
                         max_tokens: int = 512, stop: list[str] | None = None, n: int = 20,
                         base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                         require_key: bool = True, concurrency: int = 16,
                         supports_n: bool = True, max_retries: int = 8, backoff_s: float = 1.0,
                         max_backoff_s: float = 60.0, timeout_s: float = 120.0,
                         budget_usd: float | None = None, mode: str = "online",
                         prices: dict[str, Any] | None = None,
                         batch_discount: float = 0.5,
                         http_backend: str = "aiohttp",
                         recover_in_flight: bool = False) -> OpenAITeacher:
    """Builder for conf/teacher/openai.yaml and openai_compatible.yaml (flat arguments)."""
    if mode not in TEACHER_MODES:
        raise MDError(f"teacher.mode must be 'online' or 'batch', got {mode!r}")
    price_in, price_out = price_of(prices, model)
    params = {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens,
              "stop": list(stop) if stop else None}
    return OpenAITeacher(
        model=model, params=params, base_url=base_url, api_key_env=api_key_env,
        require_key=require_key, n=n, budget_usd=budget_usd, mode=mode,
        concurrency=concurrency, max_n_per_request=128 if supports_n else 1,
        max_retries=max_retries, backoff_s=backoff_s, max_backoff_s=max_backoff_s,
        timeout_s=timeout_s, price_in_per_1m=price_in, price_out_per_1m=price_out,
        batch_discount=batch_discount, http_backend=http_backend,
        recover_in_flight=recover_in_flight)
