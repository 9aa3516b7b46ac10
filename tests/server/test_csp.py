"""The viewer pages' Content-Security-Policy: scripts from this server or by hash only."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from vrculture.server.app import create_app
from vrculture.server.config import ServerConfig

WEB = Path(__file__).resolve().parents[2] / "web"


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _directives(policy: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in policy.split(";")) if d}


async def test_the_real_pages_allow_their_own_inline_scripts_by_hash(aiohttp_client, config,
                                                                     clock):
    config.web_dir = WEB
    client = await aiohttp_client(create_app(config, watch_interval=3600, clock=clock))
    for path, page, embed in [("/exhibitions/demo", "exhibition.html", False),
                              ("/embed/demo", "embed.html", True), ("/", "index.html", False)]:
        response = await client.get(path)
        assert response.status == 200
        policy = _directives(response.headers["Content-Security-Policy"])
        html = (WEB / page).read_text(encoding="utf-8")
        inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.S)
        # no eval: the transcoder that needs it runs in a worker with its own policy
        assert policy["script-src"][:2] == ["'self'", "'wasm-unsafe-eval'"]  # see page_policy
        assert sorted(policy["script-src"][2:]) == sorted(_sha256(s) for s in inline)
        # 'self', not 'none': the server's own <base> (basepath.py) comes first in <head>, and
        # the first <base> is the only one a browser uses
        assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'self'"]
        served = await response.text()
        head = served.index("<head>") + len("<head>")
        assert served[head:].lstrip().startswith('<base href="/">')
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", served, re.S) == inline
        assert policy["worker-src"] == ["'self'"]  # no Blob workers, which inherit it
        assert ("https://museum.example" in policy["frame-ancestors"]) is embed
        if page != "index.html":
            assert any('type="importmap"' in html.split(s)[0][-40:] for s in inline)


async def test_the_hash_follows_the_page_when_it_changes(aiohttp_client, config: ServerConfig,
                                                        clock):
    page = config.web_dir / "exhibition.html"
    page.write_text('<script type="importmap">{"imports": {}}</script>', encoding="utf-8")
    client = await aiohttp_client(create_app(config, watch_interval=3600, clock=clock))
    first = (await client.get("/exhibitions/demo")).headers["Content-Security-Policy"]
    assert _sha256('{"imports": {}}') in first
    page.write_text('<script type="importmap">{"imports": {"a": "/b"}}</script>',
                    encoding="utf-8")
    second = (await client.get("/exhibitions/demo")).headers["Content-Security-Policy"]
    assert _sha256('{"imports": {"a": "/b"}}') in second
    assert _sha256('{"imports": {}}') not in second


async def test_json_and_assets_keep_their_own_policy(client):
    api = await client.get("/api/exhibitions")
    assert api.headers["Content-Security-Policy"] == "frame-ancestors 'self'"


async def test_the_transcoder_worker_has_its_own_narrow_policy(aiohttp_client, config, clock):
    """The Basis transcoder needs eval, so it runs in a worker served from its own URL with a
    policy of its own (a Blob worker would inherit the page's, which refuses eval)."""
    client = await aiohttp_client(create_app(config, watch_interval=3600, clock=clock))
    response = await client.get("/vendor/basis_worker.js")
    assert response.status == 200
    assert response.content_type in {"text/javascript", "application/javascript"}
    policy = _directives(response.headers["Content-Security-Policy"])
    assert policy == {"default-src": ["'none'"],
                      "script-src": ["'unsafe-eval'", "'wasm-unsafe-eval'"]}
    assert "BASIS" in await response.text()  # the transcoder's glue is in it
    again = await client.get("/vendor/basis_worker.js",
                             headers={"If-None-Match": response.headers["ETag"]})
    assert again.status == 304
