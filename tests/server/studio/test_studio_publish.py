"""Publishing from the studio: the real builder and `publishing.publish`, visitors seeing the
new version, who published each version and when, and rolling back to any kept version."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PIL import Image

from vrculture.server.studio.exhibitions import studio_root

from .conftest import START

PAINTING = """
# Added by hand beside the studio's texts.
[[objects]]
id = "portratt"
source = "sources/portratt.png"
title = { sv = "Porträtt", en = "Portrait" }
rights = "CC0-1.0"
height_m = 0.5
"""


def add_painting(folder: Path) -> None:
    Image.new("RGB", (64, 48), (180, 40, 30)).save(folder / "sources" / "portratt.png")
    with open(folder / "collection.toml", "a", encoding="utf-8") as f:
        f.write(PAINTING)


async def public_title(client, exhibition_id: str, expected: str) -> None:
    """Wait (on state) until visitors are served the version with this English title."""
    async with asyncio.timeout(30):
        while True:
            response = await client.get(f"/api/exhibitions/{exhibition_id}")
            if response.status == 200 and (await response.json())["title"].get("en") == \
                    expected:
                return
            await asyncio.sleep(0.05)


async def test_publish_edit_publish_and_roll_back(alice, exhibition, config, client, clock):
    add_painting(studio_root(config.data_dir) / exhibition)
    first = await alice.request("POST", "/studio/api/exhibitions/sjostad/publish")
    assert first.status == 201, await first.text()
    v1 = (await first.json())["version"]
    await public_title(client, "sjostad", "The lake town")

    clock.now += 600
    _, version = await read_version(alice)
    edit = await alice.request("PATCH", "/studio/api/exhibitions/sjostad",
                               json={"title": {"en": "The town by the lake"}},
                               **{"If-Match": version})
    assert edit.status == 200
    second = await alice.request("POST", "/studio/api/exhibitions/sjostad/publish")
    assert second.status == 201
    v2 = (await second.json())["version"]
    assert v2 != v1 and (await second.json())["previous"] == v1
    await public_title(client, "sjostad", "The town by the lake")

    listed = await (await alice.request(
        "GET", "/studio/api/exhibitions/sjostad/publications")).json()
    assert listed["current"] == v2
    assert [(v["version"], v["by"], v["at"], v["current"]) for v in listed["versions"]] == [
        (v2, "alice", START + 600, True), (v1, "alice", START, False)]

    clock.now += 60
    back = await alice.request("POST", "/studio/api/exhibitions/sjostad/rollback",
                               json={"version": v1})
    assert back.status == 200, await back.text()
    assert (await back.json()) == {"exhibition": "sjostad", "version": v1, "previous": v2}
    await public_title(client, "sjostad", "The lake town")
    audit = await (await alice.request("GET", "/studio/api/audit?exhibition=sjostad")).json()
    assert [(e["action"], e["detail"].get("version")) for e in audit["entries"][:2]] == [
        ("rollback", v1), ("publish", v2)]


async def read_version(curator):
    response = await curator.request("GET", "/studio/api/exhibitions/sjostad")
    return await response.json(), response.headers["ETag"]


async def test_rollback_refuses_unknown_and_malformed_versions(alice, exhibition):
    for version, status in (("0123456789abcdef", 404), ("../../etc", 422), ("", 422)):
        response = await alice.request("POST", "/studio/api/exhibitions/sjostad/rollback",
                                       json={"version": version})
        assert response.status == status, version
    assert (await alice.request("POST", "/studio/api/exhibitions/sjostad/rollback",
                                json={"v": 1})).status == 422


async def test_a_collection_that_does_not_build_is_not_published(alice, exhibition, config):
    folder = studio_root(config.data_dir) / exhibition
    with open(folder / "collection.toml", "a", encoding="utf-8") as f:
        f.write(PAINTING)  # its source file is missing
    response = await alice.request("POST", "/studio/api/exhibitions/sjostad/publish")
    assert response.status == 422
    body = await response.json()
    assert body["code"] == "build_failed"
    assert str(config.data_dir) not in body["message"]  # no host paths
    assert not (config.data_dir / "exhibitions" / "sjostad").exists()
