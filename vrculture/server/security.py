"""Who may embed the viewer, call the API from a browser and open WebSockets.

One list of allowed origins (ServerConfig.allowed_origins) drives all three: CSP
`frame-ancestors` on the embed pages, CORS on the API, and the Origin check on WebSockets
(shared with the rooms module through `is_origin_allowed`).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import ipaddress
import os
import re
import socket
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from vrculture.server import appkeys
from vrculture.server.config import ServerConfig

# Assets are public and immutable: any page may fetch them (a museum's CMS, Europeana, ...).
PUBLIC_PREFIXES = ("/bundles/", "/static/", "/vendor/", "/vrculture-embed.js", "/oembed")
EMBED_PREFIX = "/embed/"

HARDENING_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
PUBLIC_CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Content-Length, Content-Range, Accept-Ranges",
}
# Everything the middleware would add to a reply under PUBLIC_PREFIXES: the file routes fold
# these into their cached per-file headers and mark the reply, so that the middleware does no
# per-request work for the bundle files (the bulk of all requests).
PUBLIC_ASSET_HEADERS = {
    **PUBLIC_CORS_HEADERS, **HARDENING_HEADERS, "Content-Security-Policy": "frame-ancestors 'self'",
}
# Marks a reply whose headers already hold PUBLIC_ASSET_HEADERS.
SECURED = web.ResponseKey("vrculture_secured", bool)
# RFC 6750's b64token, ASCII only: our tokens are `secrets.token_urlsafe` with a prefix.
_B64TOKEN = re.compile(r"[A-Za-z0-9._~+/-]{1,512}=*")


def bearer_token(request: web.Request) -> str | None:
    """The token of `Authorization: Bearer <token>`, or None when the header is absent, names
    another scheme or holds what cannot be a token: aiohttp passes non-UTF-8 header bytes on as
    lone surrogates, which would fail later when the token is hashed."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip(" \t")
    if scheme.lower() != "bearer" or _B64TOKEN.fullmatch(token) is None:
        return None
    return token


ALLOWED_HOSTS = web.AppKey("vrculture_allowed_hosts", frozenset)
WILDCARD_BINDS = ("", "0.0.0.0", "::", "[::]")


def allowed_hosts(config: ServerConfig) -> frozenset[str]:
    """The host names the Host header may carry (lower case, no port, IPv6 without brackets).
    Configured ones, else localhost, 127.0.0.1, ::1, the public URL's host and the bind host;
    bound to all interfaces, also this machine's addresses and name (what LAN visitors type)."""
    if config.allowed_hosts:
        return frozenset(_bare(h) for h in config.allowed_hosts)
    hosts = {"localhost", "127.0.0.1", "::1"}
    if config.public_url:
        public = urlsplit(config.public_url).hostname
        if public:
            hosts.add(_bare(public))
    if config.host in WILDCARD_BINDS:
        from vrculture.server.tls import lan_addresses

        hosts.update(lan_addresses())
        name = socket.gethostname().lower()
        hosts.update({name, f"{name}.local"} if name else set())
    elif config.host:
        hosts.add(_bare(config.host))
    return frozenset(hosts)


def _bare(host: str) -> str:
    return host.strip().lower().rstrip(".").removeprefix("[").removesuffix("]")


def host_of(header: str) -> str | None:
    """The host name of a Host header without its port, or None if it is malformed."""
    header = header.strip()
    if header.startswith("["):  # [v6] or [v6]:port
        name, bracket, rest = header[1:].partition("]")
        if not bracket:  # "[::1": no URL can be built from it
            return None
        port = rest.removeprefix(":")
        try:
            ipaddress.IPv6Address(name)
        except ValueError:
            return None
        return name.lower() if (rest == "" or (rest.startswith(":") and port.isdigit())) else None
    name, _, port = header.partition(":")
    if port and not port.isdigit():
        return None
    return _bare(name) or None


@web.middleware
async def known_hosts_only(request: web.Request, handler) -> web.StreamResponse:
    """421 for a Host this server does not answer to. A page served under an attacker's name
    that resolves here (DNS rebinding) could otherwise read our pages and open rooms, and the
    name would be echoed in oEmbed's provider_url."""
    hosts: frozenset[str] = request.app[ALLOWED_HOSTS]
    if "*" not in hosts:
        # request.host comes from an absolute-form target (`GET http://x/ HTTP/1.1`) when one
        # is sent, else from the Host header; links are built from it, so check both.
        names = {host_of(request.headers.get("Host", "")), host_of(request.host)}
        if not names <= hosts:
            raise web.HTTPMisdirectedRequest(
                text="unknown host name: use one this server is configured for "
                     "(vrculture serve --allowed-host)\n")
    return await handler(request)


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origins(request: web.Request, config: ServerConfig) -> set[str]:
    """The origins this server itself is reached at."""
    origins = {f"{request.scheme}://{request.host}".lower()}
    if config.public_url:
        public = _origin_of(config.public_url)
        if public:
            origins.add(public)
    return origins


def is_origin_allowed(request: web.Request, config: ServerConfig | None = None) -> bool:
    """True if the request's Origin is this server, an allowed origin, or absent.

    A missing Origin means a non-browser client (a sensor, a load generator); browsers always
    send one on WebSocket and cross-origin requests, which is what this check is about.
    """
    if config is None:
        config = request.app[appkeys.CONFIG]
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    origin = origin.strip().rstrip("/").lower()
    if origin in own_origins(request, config):
        return True
    allowed = {o.lower() for o in config.allowed_origins}
    return "*" in allowed or origin in allowed


def frame_ancestors(config: ServerConfig, *, embed: bool) -> str:
    if not embed:
        return "frame-ancestors 'self'"
    if "*" in config.allowed_origins:
        return "frame-ancestors *"
    return " ".join(["frame-ancestors 'self'", *config.allowed_origins])


class _InlineScripts(HTMLParser):
    """Collects the exact text of every inline <script> (import maps included)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and not any(name == "src" for name, _ in attrs):
            self._current = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.scripts.append("".join(self._current))
            self._current = None


@functools.lru_cache(maxsize=32)
def _script_hashes(path: Path, _mtime_ns: int, _size: int) -> tuple[str, ...]:
    parser = _InlineScripts()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return tuple(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode() + "'"
        for s in parser.scripts
    )


def inline_script_hashes(path: Path) -> tuple[str, ...]:
    """CSP sources ('sha256-...') of a page's inline scripts, computed when the page changes."""
    try:
        st = os.stat(path)
    except OSError:
        return ()
    return _script_hashes(path, st.st_mtime_ns, st.st_size)


# The policy of the worker scripts we serve (the Basis transcoder): emscripten's embind builds
# functions with `new Function` and the transcoder compiles WebAssembly; it loads and fetches
# nothing (the page posts it the WASM binary).
WORKER_POLICY = "default-src 'none'; script-src 'unsafe-eval' 'wasm-unsafe-eval'"


def page_policy(config: ServerConfig, *, embed: bool, script_hashes: tuple[str, ...]) -> str:
    """The full CSP of a viewer page: scripts only from this server or the page's own inline
    scripts by hash (the import map and the manifest preload), no eval, no plugins, no
    <base> but ours (basepath.with_base).
    Injected markup can thus run neither inline scripts nor event handlers nor scripts from
    elsewhere, nor turn strings into code.

    'wasm-unsafe-eval': the meshopt decoder compiles its WebAssembly module on the page.
    Workers only from this server (no Blob URLs, which would inherit this policy): the meshopt
    decoder's worker is web/js/meshopt-worker.js, and the Basis transcoder's, which needs eval,
    is served with WORKER_POLICY (viewer.basis_worker_file)."""
    return "; ".join([
        frame_ancestors(config, embed=embed),
        " ".join(["script-src 'self' 'wasm-unsafe-eval'", *script_hashes]),
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",  # the <base> the server injects (basepath.py), nothing elsewhere
    ])


def _cors_headers(request: web.Request, config: ServerConfig) -> dict[str, str]:
    path = request.path
    if path.startswith(PUBLIC_PREFIXES):
        return dict(PUBLIC_CORS_HEADERS)
    if path.startswith("/api/") and "Origin" in request.headers and is_origin_allowed(
        request, config
    ):
        return {
            "Access-Control-Allow-Origin": request.headers["Origin"].strip().rstrip("/"),
            "Vary": "Origin",
        }
    return {}


@web.middleware
async def security_headers(request: web.Request, handler) -> web.StreamResponse:
    """CORS (with preflight), CSP frame-ancestors and a few hardening headers on every reply."""
    config: ServerConfig = request.app[appkeys.CONFIG]
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        cors = _cors_headers(request, config)
        if not cors:
            raise web.HTTPForbidden(text="origin not allowed")
        cors.update({
            "Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Authorization, Content-Type, Range, If-None-Match",
            "Access-Control-Max-Age": "600",
        })
        return web.Response(status=204, headers=cors)
    try:
        response = await handler(request)
    except web.HTTPException as error:
        response = error
        _decorate(request, config, response)
        raise
    _decorate(request, config, response)
    return response


def _decorate(request: web.Request, config: ServerConfig, response: web.StreamResponse) -> None:
    if response.prepared:  # streamed replies set their headers before they started
        return
    if response.get(SECURED, False):  # a file reply carrying precomputed headers
        return
    headers = response.headers
    for name, value in _cors_headers(request, config).items():
        if name == "Vary" and "Vary" in headers:
            headers["Vary"] = f"{headers['Vary']}, {value}"
        else:
            headers.setdefault(name, value)
    for name, value in HARDENING_HEADERS.items():
        headers.setdefault(name, value)
    embed = request.path.startswith(EMBED_PREFIX)
    headers.setdefault("Content-Security-Policy", frame_ancestors(config, embed=embed))
