"""A museum serves vrculture under a path of its own site (public_url = …/vr, a proxy that
strips /vr): every page gets that base, and the URLs the server writes carry it."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest

from vrculture.server.app import create_app
from vrculture.server.basepath import BasePathError, base_path_of, with_base
from vrculture.server.config import ServerConfig
from vrculture.server.settings import ConfigError, load_config

WEB = Path(__file__).resolve().parents[2] / "web"
PUBLIC = "https://museum.example/vr"
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@pytest.mark.parametrize(("public_url", "expected"), [
    (None, "/"), ("https://museum.example", "/"), ("https://museum.example/", "/"),
    (PUBLIC, "/vr/"), (PUBLIC + "/", "/vr/"), ("http://m.example:8443/a/b-c_d.e", "/a/b-c_d.e/"),
])
def test_the_base_path_is_the_public_urls_path_ending_in_a_slash(public_url, expected):
    assert base_path_of(public_url) == expected


@pytest.mark.parametrize("public_url", [
    "https://m.example/vr?x=1", "https://m.example/vr#top", "https://m.example/a/../b",
    "https://m.example/v r", "https://m.example/%2e%2e", 'https://m.example/"><script>',
    "https://m.example//vr",
])
def test_a_path_that_cannot_be_a_base_is_refused_at_start_up(public_url):
    with pytest.raises(BasePathError):
        base_path_of(public_url)
    with pytest.raises(ConfigError, match="public_url"):
        load_config(environ={}, overrides={"public_url": public_url})


def test_the_base_goes_first_into_the_head():
    page = b'<!doctype html>\n<html>\n<head lang="x">\n<meta charset="utf-8"></head></html>'
    assert with_base(page, "/vr/") == (
        b'<!doctype html>\n<html>\n<head lang="x">\n'
        b'  <base href="/vr/">\n<meta charset="utf-8"></head></html>')
    assert with_base(b"<!DOCTYPE html><p>x", "/").startswith(b'<!DOCTYPE html>\n  <base href="/">')


@pytest.mark.parametrize(("path", "page"), [
    ("/", "index.html"), ("/exhibitions/demo", "exhibition.html"),
    ("/exhibitions/demo/objects/bowl", "exhibition.html"), ("/embed/demo", "embed.html"),
    ("/embed/demo/bowl", "embed.html"),
])
async def test_every_viewer_page_gets_the_public_base_and_keeps_its_script_hashes(
        aiohttp_client, config: ServerConfig, clock, path: str, page: str):
    config.web_dir = WEB
    config.public_url = PUBLIC
    client = await aiohttp_client(create_app(config, watch_interval=3600, clock=clock))
    response = await client.get(path)
    assert response.status == 200
    served = await response.text()
    head = served.index("<head>") + len("<head>")
    assert served[head:].lstrip().startswith('<base href="/vr/">')
    assert served.count("<base href") == 1
    inline = INLINE.findall(served)
    assert inline == INLINE.findall((WEB / page).read_text(encoding="utf-8"))
    policy = response.headers["Content-Security-Policy"]
    assert all(_sha256(script) in policy for script in inline)
    assert "base-uri 'self'" in policy


async def test_a_pages_etag_follows_its_base(aiohttp_client, config: ServerConfig, clock):
    root = await aiohttp_client(create_app(config, watch_interval=3600, clock=clock))
    first = await root.get("/exhibitions/demo")
    config.public_url = PUBLIC
    under = await aiohttp_client(create_app(config, watch_interval=3600, clock=clock))
    second = await under.get("/exhibitions/demo")
    assert first.headers["ETag"] != second.headers["ETag"]
    again = await under.get("/exhibitions/demo", headers={"If-None-Match": second.headers["ETag"]})
    assert again.status == 304
    stale = await under.get("/exhibitions/demo", headers={"If-None-Match": first.headers["ETag"]})
    assert stale.status == 200 and '<base href="/vr/">' in await stale.text()


def test_web_writes_no_root_relative_urls():
    """A root-relative URL in web/ would leave the base path behind: everything is relative
    (to the <base> or to import.meta.url) or built with web/js/base.js."""
    root_relative = re.compile(
        r"""(?:href|src)=["']/(?!/)|"(?:three|three/addons/)":\s*"/|from\s+['"]/|"""
        r"""import\(\s*['"`]/|fetch\(\s*['"`]/|(?:assign|replace)\(\s*['"`]/|"""
        r"""new (?:URL|Worker|WebSocket|EventSource)\(\s*['"`]/|(?:href|src)\s*=\s*['"`]/|"""
        r"""href:\s*['"`]/""")
    found = []
    for path in sorted(WEB.rglob("*")):
        if path.suffix not in (".html", ".js", ".css") or path.name == "README.md":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith(("//", "*", "/*")):
                continue
            if root_relative.search(line):
                found.append(f"{path.relative_to(WEB)}:{number}: {line.strip()}")
    assert found == []
