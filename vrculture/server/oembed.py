"""oEmbed (https://oembed.com): a museum CMS or an aggregator such as Europeana gives us the URL
of an exhibition or of one object and gets back the iframe that embeds it."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import web

from vrculture.server import appkeys
from vrculture.server.config import ServerConfig
from vrculture.server.jsonreply import JSONError, json_reply
from vrculture.server.keys import LoadedExhibition
from vrculture.server.params import whole_number

DEFAULT_WIDTH, DEFAULT_HEIGHT = 800, 600
MIN_SIZE, MAX_SIZE = 100, 4096
MAX_URL_CHARS = 512  # our own URLs are short; longer ones would not fit a request line encoded
_EMBEDDABLE = re.compile(
    r"^/(?:exhibitions|embed)/(?P<exhibition>[a-z0-9][a-z0-9_-]{0,63})"
    r"(?:(?:/objects)?/(?P<object>[a-z0-9][a-z0-9_-]{0,63}))?/?$"
)


def base_url(request: web.Request, config: ServerConfig) -> str:
    """Where visitors reach us: --public-url behind a proxy, else the request's own origin."""
    if config.public_url:
        return config.public_url.rstrip("/")
    return f"{request.scheme}://{request.host}"


def _text(texts: dict[str, str], lang: str) -> str:
    return texts.get(lang) or next(iter(texts.values()), "")


def _size(request: web.Request, name: str, default: int) -> int:
    value = request.query.get(name)
    if value is None:
        return default
    pixels = whole_number(value)
    if pixels is None:
        raise JSONError(400, "invalid_query", f"{name}: a whole number of pixels", field=name)
    return max(MIN_SIZE, min(default, pixels, MAX_SIZE))


def _target(request: web.Request, config: ServerConfig) -> tuple[LoadedExhibition, dict | None]:
    url = request.query.get("url")
    if not url or len(url) > MAX_URL_CHARS:
        raise JSONError(400, "invalid_query", "url: the exhibition or object URL to embed",
                        field="url")
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[::1/x": a bracketed host that is not an IPv6 address
        raise JSONError(400, "invalid_query", "url: not a valid URL", field="url") from None
    ours = {urlsplit(base_url(request, config)).netloc.lower(), request.host.lower()}
    if parts.scheme not in ("http", "https") or parts.netloc.lower() not in ours:
        raise JSONError(404, "not_ours", "this URL is not served by this server")
    base_path = urlsplit(base_url(request, config)).path.rstrip("/")
    path = parts.path[len(base_path):] if parts.path.startswith(base_path) else parts.path
    match = _EMBEDDABLE.fullmatch(path)
    if not match:
        raise JSONError(404, "not_embeddable", "not an exhibition or object URL")
    exhibition = request.app[appkeys.EXHIBITIONS].get(match["exhibition"])
    if exhibition is None:
        raise JSONError(404, "unknown_exhibition", f"no exhibition {match['exhibition']!r}")
    queried = parse_qs(parts.query).get("object")
    object_id = match["object"] or (queried[0] if queried else None)
    if object_id is None:
        return exhibition, None
    for record in exhibition.manifest["objects"]:
        if record["id"] == object_id:
            return exhibition, record
    raise JSONError(404, "unknown_object", f"no object {object_id!r} in {exhibition.id!r}")


async def oembed(request: web.Request) -> web.Response:
    config: ServerConfig = request.app[appkeys.CONFIG]
    if request.query.get("format", "json") != "json":
        raise JSONError(501, "format_not_supported", "format: only json is offered")
    exhibition, record = _target(request, config)
    width = _size(request, "maxwidth", DEFAULT_WIDTH)
    height = _size(request, "maxheight", DEFAULT_HEIGHT)
    manifest = exhibition.manifest
    lang = request.query.get("lang") or manifest["default_language"]
    base = base_url(request, config)
    src = f"{base}/embed/{exhibition.id}" + (f"/{record['id']}" if record else "")
    title = _text(record["title"] if record else manifest["title"], lang)
    iframe = (
        f'<iframe src="{html.escape(src)}" width="{width}" height="{height}" '
        f'title="{html.escape(title)}" style="border:0" loading="lazy" '
        f'allow="xr-spatial-tracking; fullscreen" allowfullscreen></iframe>'
    )
    reply: dict[str, Any] = {
        "version": "1.0",
        "type": "rich",
        "title": title,
        "provider_name": "vrculture",
        "provider_url": base + "/",
        "html": iframe,
        "width": width,
        "height": height,
    }
    if record and "creator" in record:
        reply["author_name"] = record["creator"]
    return json_reply(request, reply)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/oembed", oembed, name="oembed")
