"""The contract with the studio's other parts (uploads, conversion queue): `authorize` gates a
route of theirs exactly like the studio's own, raising aiohttp's own 401/403 classes, and
`record` writes to the same audit log."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from vrculture.server.app import create_app
from vrculture.server.studio.audit import record
from vrculture.server.studio.auth import authorize

from .conftest import Curator, create

PROBE = "/studio/api/exhibitions/{exhibition}/probe"
seen: list[type[BaseException]] = []


async def probe(request: web.Request) -> web.Response:
    exhibition_id = request.match_info["exhibition"]
    try:
        curator = await authorize(request, exhibition_id)
    except web.HTTPException as error:
        seen.append(type(error))
        raise
    await record(request, curator, exhibition_id, "upload", {"file": "vas.glb"})
    return web.json_response({"curator": curator})


@pytest.fixture
async def client(aiohttp_client, config, clock):
    app = create_app(config, clock=clock)
    app.router.add_put(PROBE, probe)  # as setup_studio_uploads(app, authorize=...) would
    return await aiohttp_client(app, cookie_jar=aiohttp.DummyCookieJar())


async def test_authorize_gates_another_parts_route(client, alice: Curator, bob: Curator):
    seen.clear()
    assert (await create(alice)).status == 201
    path = PROBE.format(exhibition="sjostad")
    nobody = await client.put(path, headers={"Origin": alice.origin})
    assert nobody.status == 401
    assert (await bob.request("PUT", path)).status == 403
    assert (await alice.request("PUT", path, csrf=None)).status == 403
    assert (await alice.request("PUT", path, origin="https://evil.example")).status == 403
    assert seen == [web.HTTPUnauthorized, web.HTTPForbidden, web.HTTPForbidden,
                    web.HTTPForbidden]
    missing = await alice.request("PUT", PROBE.format(exhibition="nothing"))
    assert missing.status == 404
    done = await alice.request("PUT", path)
    assert done.status == 200 and (await done.json()) == {"curator": "alice"}
    audit = await (await alice.request("GET", "/studio/api/audit?exhibition=sjostad")).json()
    assert audit["entries"][0]["action"] == "upload"
    assert audit["entries"][0]["detail"] == {"file": "vas.glb"}
