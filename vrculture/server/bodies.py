"""Request bodies read whole and bounded, however the network cuts them up.

`request.content.read(n)` returns what has arrived so far: a body sent in two TCP segments came
out cut in half. Every route that reads a body goes through `iter_body` (streamed: uploads) or
`read_body` / `read_json` (whole, in memory), which read until the end of the body and:
- refuse with 413 at once when Content-Length says the body is over the limit, and as soon as a
  chunked (or longer-than-declared) body passes it while it arrives, without reading the rest;
- refuse with 408 when the client stops sending in the middle of a body for IDLE seconds, so a
  silent client cannot hold a handler (and its memory) forever, and when a body read whole
  (a few hundred KB at most) trickles in for longer than BODY_SECONDS;
- answer 400 when the connection breaks or the framing is invalid mid-body.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import ClientPayloadError, web
from aiohttp.http_exceptions import HttpProcessingError

from vrculture.server.jsonreply import JSONError
from vrculture.server.safejson import JSONInputError, loads

DEFAULT_IDLE_SECONDS = 30.0
DEFAULT_BODY_SECONDS = 120.0  # 256 KB in 120 s is 17 kbit/s: slower is an attack, not a link
# Seconds a client may pause in the middle of a body, and may take for a whole body read into
# memory (settable per app, e.g. by tests).
IDLE_SECONDS = web.AppKey("vrculture_body_idle_seconds", float)
BODY_SECONDS = web.AppKey("vrculture_body_seconds", float)


def too_large(limit: int) -> JSONError:
    return JSONError(413, "too_large", f"the body is limited to {limit} bytes")


async def iter_body(request: web.Request, limit: int) -> AsyncIterator[bytes]:
    """The body's bytes as they arrive, refusing (413) as soon as they pass `limit`."""
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit)
    idle = request.app.get(IDLE_SECONDS, DEFAULT_IDLE_SECONDS)
    received = 0
    while True:
        try:
            async with asyncio.timeout(idle):
                chunk = await request.content.readany()
        except TimeoutError:
            raise JSONError(408, "body_timeout", f"no part of the body arrived for {idle:g} "
                            "seconds; send the whole body without pausing") from None
        except (ConnectionError, ClientPayloadError, HttpProcessingError) as error:
            # Nobody may be left to read this reply; it keeps the traceback out of the log.
            raise JSONError(400, "incomplete_body", "the body ended before its declared end "
                            f"({type(error).__name__})") from None
        if not chunk:
            return
        received += len(chunk)
        if received > limit:
            raise too_large(limit)
        yield chunk


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body (at most `limit` bytes), within BODY_SECONDS."""
    seconds = request.app.get(BODY_SECONDS, DEFAULT_BODY_SECONDS)
    parts: list[bytes] = []
    try:
        async with asyncio.timeout(seconds):
            async for chunk in iter_body(request, limit):
                parts.append(chunk)
    except TimeoutError:
        raise JSONError(408, "body_timeout", f"the body did not arrive within {seconds:g} "
                        "seconds") from None
    return b"".join(parts)


def parse_json(raw: bytes | str) -> Any:
    """A client's JSON document, or the 400/422 JSONError that says what is wrong with it."""
    try:
        return loads(raw)
    except JSONInputError as error:
        if error.where:
            raise JSONError(error.status, error.code, error.message, field=error.where) from None
        raise JSONError(error.status, error.code, error.message) from None


async def read_json(request: web.Request, limit: int) -> Any:
    """The whole body (at most `limit` bytes) parsed as JSON that the server can hold."""
    return parse_json(await read_body(request, limit))
