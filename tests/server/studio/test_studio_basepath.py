"""The studio under a museum's base path (public_url = …/vr behind a proxy that strips /vr):
its redirects, its cookie's Path and its pages' <base> carry the prefix."""

from __future__ import annotations

import aiohttp

from vrculture.server.app import create_app
from vrculture.server.studio.sessions import COOKIE

from .conftest import PASSWORDS, sign_in_response


async def _client(aiohttp_client, config, clock, public_url: str | None):
    config.public_url = public_url
    return await aiohttp_client(create_app(config, clock=clock, watch_interval=0.1),
                                cookie_jar=aiohttp.DummyCookieJar())


async def test_redirects_and_the_cookie_carry_the_base(aiohttp_client, config, clock):
    client = await _client(aiohttp_client, config, clock, "https://museum.example/vr")
    home = await client.get("/studio/", allow_redirects=False)
    assert home.status == 303 and home.headers["Location"] == "/vr/studio/sign-in"
    bare = await client.get("/studio", allow_redirects=False)
    assert bare.status == 308 and bare.headers["Location"] == "/vr/studio/"
    page = await client.get("/studio/sign-in")
    assert '<base href="/vr/">' in await page.text()
    assert "base-uri 'self'" in page.headers["Content-Security-Policy"]
    signed = await sign_in_response(client, "alice", PASSWORDS["alice"])
    assert signed.status == 201, await signed.text()
    assert signed.cookies[COOKIE]["path"] == "/vr/studio"
    session = signed.cookies[COOKIE].value
    out = await client.delete("/studio/api/session", headers={
        "Cookie": f"{COOKIE}={session}", "Origin": str(client.make_url("")).rstrip("/"),
        "X-CSRF-Token": (await signed.json())["csrf_token"]})
    assert out.status in (200, 204), await out.text()
    assert out.cookies[COOKIE]["path"] == "/vr/studio"  # the cleared cookie is the same one


async def test_at_the_root_nothing_changes(aiohttp_client, config, clock):
    client = await _client(aiohttp_client, config, clock, None)
    home = await client.get("/studio/", allow_redirects=False)
    assert home.headers["Location"] == "/studio/sign-in"
    bare = await client.get("/studio", allow_redirects=False)
    assert bare.headers["Location"] == "/studio/"
