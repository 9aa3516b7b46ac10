"""JSON replies with a strong ETag, If-None-Match revalidation and gzip for larger bodies."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiohttp import web

from vrculture.server.assets import accepted_encoding, compress, etag_matches_weakly

GZIP_FROM_BYTES = 1024


def encode(payload: Any) -> bytes:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (input checks refuse them; rows stored before those checks may
        # hold one): ASCII JSON escapes it as \udXXX, which every reader can parse.
        return json.dumps(payload, separators=(",", ":")).encode("ascii")


def json_reply(
    request: web.Request,
    payload: Any = None,
    *,
    body: bytes | None = None,
    status: int = 200,
    cache_control: str = "no-cache",
    etag: bool = True,
) -> web.Response:
    """Reply with `payload` (or already encoded `body`)."""
    if body is None:
        body = encode(payload)
    headers = {"Content-Type": "application/json", "Cache-Control": cache_control}
    tag = None
    if etag and status == 200:
        tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers["ETag"] = tag
    encoding = None
    if len(body) >= GZIP_FROM_BYTES:
        headers["Vary"] = "Accept-Encoding"
        encoding = accepted_encoding(request.headers.get("Accept-Encoding", ""))
    if tag and encoding:
        headers["ETag"] = tag[:-1] + f'-{encoding}"'
    if tag and etag_matches_weakly(request.headers.get("If-None-Match", ""), headers["ETag"]):
        return web.Response(status=304, headers=headers)
    if encoding:
        headers["Content-Encoding"] = encoding
        body = compress(body, encoding)
    return web.Response(status=status, body=body, headers=headers)


class JSONError(web.HTTPError):
    """An HTTP error whose body is `{"type": "error", "code", "message"}` (DESIGN.md §3)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.status_code = status  # per instance: one class for every 4xx/5xx we answer
        body = {"type": "error", "code": code, "message": message, **extra}
        super().__init__(
            text=encode(body).decode("utf-8"),
            content_type="application/json",
            headers=headers,
        )
        self.code = code
