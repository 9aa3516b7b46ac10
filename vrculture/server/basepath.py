"""The public base path: where this server's root appears on the visitors' side.

A museum may run vrculture under a path of its own site (`public_url =
"https://museum.example/vr"`), behind a reverse proxy that strips that prefix
(nginx `location /vr/ { proxy_pass http://127.0.0.1:8080/; }`). The server's routes stay
where they are (`/exhibitions/{id}`, `/api/…`); what changes is every URL the visitor's
browser is given:

- the HTML pages get `<base href="/vr/">` as the first element of their <head>, and web/
  writes only relative URLs, which the browser resolves against it (documents) or against
  `import.meta.url` (modules and workers);
- redirects, `Location` headers and cookies' `Path` carry the prefix.

The <base> element is markup, not a script: the pages' inline scripts, allowed by hash
(security.inline_script_hashes), stay byte for byte what the file holds.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from vrculture.server import appkeys
from vrculture.server.config import ServerConfig

# A base path is plain segments (no query, fragment, dot segments or escapes): it goes into
# HTML, headers and cookies as it is.
_SEGMENT = r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*"
BASE_PATH = re.compile(rf"(?:/{_SEGMENT})*/?")
_HEAD = re.compile(rb"<head(?:\s[^>]*)?>", re.IGNORECASE)
_DOCTYPE = re.compile(rb"\s*<!doctype[^>]*>", re.IGNORECASE)


class BasePathError(ValueError):
    """public_url names a path that cannot be a base path."""


def base_path_of(public_url: str | None) -> str:
    """'/' or '/vr/': the path part of public_url, always ending in a slash."""
    if not public_url:
        return "/"
    parts = urlsplit(public_url)
    if parts.query or parts.fragment:
        raise BasePathError(f"public_url {public_url!r}: no query or fragment, please")
    path = parts.path or "/"
    if BASE_PATH.fullmatch(path) is None or any(s in (".", "..") for s in path.split("/")):
        raise BasePathError(
            f"public_url {public_url!r}: its path must be plain segments such as /vr")
    return path.rstrip("/") + "/"


def base_path(config: ServerConfig) -> str:
    return base_path_of(config.public_url)


def request_base_path(request: web.Request) -> str:
    return base_path(request.app[appkeys.CONFIG])


def public_path(request: web.Request, path: str) -> str:
    """A server path (`/studio/`) as the visitor's browser must ask for it (`/vr/studio/`)."""
    return request_base_path(request) + path.lstrip("/")


def with_base(page: bytes, base: str) -> bytes:
    """The page with `<base href>` as the first element of its <head> (the first <base> is
    the one that counts: markup injected later cannot move it). A page that leaves out its
    <head> tag gets the element where the parser opens the head implicitly."""
    match = _HEAD.search(page) or _DOCTYPE.match(page)
    at = match.end() if match else 0
    element = f'\n  <base href="{html.escape(base)}">'.encode()
    return page[:at] + element + page[at:]


@lru_cache(maxsize=64)
def _page_body(path: Path, _mtime_ns: int, _size: int, base: str) -> tuple[bytes, str]:
    body = with_base(path.read_bytes(), base)
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def page_response(request: web.Request, path: Path, *, cache_control: str) -> web.Response:
    """An HTML page of web/ with the base injected: its ETag is the served body's, so a
    changed public_url never meets a stale copy."""
    try:
        st = os.stat(path)
    except OSError:
        raise web.HTTPNotFound() from None
    body, etag = _page_body(path, st.st_mtime_ns, st.st_size, request_base_path(request))
    headers = {"ETag": etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding"}
    if etag in {t.strip() for t in request.headers.get("If-None-Match", "").split(",")}:
        return web.Response(status=304, headers=headers)
    response = web.Response(body=body, content_type="text/html", charset="utf-8",
                            headers=headers)
    response.enable_compression()
    return response
