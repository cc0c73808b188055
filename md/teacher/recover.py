"""Recover requests that were in flight when a run died, so a rerun does not send them again.

A request's answer normally lives only in the process that sent it; after `kill -9` the rerun
would have to pay for it again. With `teacher.recover_in_flight=true` every online request is
sent with `store: true` and a `metadata.md_request` tag (OpenAI stored chat completions), and the
cache records the tag before the request leaves. On the next run, each tag still recorded is
looked up with `GET /chat/completions?metadata[md_request]=<tag>`; a stored answer goes into the
cache and the request is not sent again. A tag the server does not know (not stored yet, or an
endpoint without stored completions, such as vLLM) is simply sent again.
"""

from __future__ import annotations

import asyncio
import json

from md.teacher.cache import Cache

TAG = "md_request"


def recover_in_flight(teacher, cache: Cache) -> int:
    """Pull stored answers of requests left in flight by an earlier run; returns how many."""
    rows = cache.in_flight()
    if not rows:
        return 0
    teacher.check_ready()
    return asyncio.run(_recover(teacher, cache, rows))


async def _recover(teacher, cache: Cache, rows) -> int:
    import httpx2

    from md.teacher.openai_client import parse_completion

    found = 0
    try:
        for tag, key, indices in rows:
            async def lookup(tag=tag):
                resp = await teacher.client.get("/chat/completions", cast_to=httpx2.Response,
                                                options={"params": {f"metadata[{TAG}]": tag}})
                await resp.aread()
                return json.loads(resp.content)

            listing = await teacher.retrying(lookup)
            for item in listing.get("data") or []:
                try:
                    comp = parse_completion(item, len(indices))
                except ValueError:
                    continue
                cache.put(key, teacher.model, indices, comp.texts, comp.usage,
                          comp.served)
                found += 1
                break
    finally:
        await teacher.aclose()
    return found
