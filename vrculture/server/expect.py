"""`Expect: 100-continue` for every request, refusing any other expectation with a JSON 417.

aiohttp's own handler answers an unknown expectation with a text that quotes the header; a
non-UTF-8 byte in it (aiohttp passes such bytes on as lone surrogates) made that reply fail to
encode: a 500 with a traceback, on any path. The handler runs before any middleware, so it is
replaced on the routes themselves, and on the routes aiohttp makes up for a 404 or 405.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.web_urldispatcher import UrlMappingMatchInfo

from vrculture.server.jsonreply import JSONError


async def expect_continue(request: web.Request) -> None:
    if request.version < (1, 1):  # HTTP/1.0 has no 100 Continue: ignored, as aiohttp does
        return
    if request.headers.get("Expect", "").lower() != "100-continue":
        raise JSONError(417, "expectation_failed", "only 'Expect: 100-continue' is understood")
    await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    request.writer.output_size = 0  # the 100 is not part of the response's size


def _replace_default(route: Any) -> None:
    handler = getattr(route, "_expect_handler", None)
    if handler is not None and handler.__module__ == "aiohttp.web_urldispatcher":
        route._expect_handler = expect_continue


def use_expect_continue(app: web.Application) -> None:
    """Every route added so far, and those of 404/405 answers, use `expect_continue`."""
    for route in app.router.routes():
        _replace_default(route)
    resolve = app.router.resolve

    async def resolve_then_replace(request: web.Request) -> UrlMappingMatchInfo:
        match_info = await resolve(request)
        if "Expect" in request.headers:  # only then is the handler called
            _replace_default(match_info.route)
        return match_info

    app.router.resolve = resolve_then_replace  # type: ignore[method-assign]
