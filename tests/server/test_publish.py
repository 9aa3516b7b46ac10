"""Publishing into the data folder while the server runs; the registry's validation."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest

from vrculture.server.app import create_app
from vrculture.server.config import ServerConfig
from vrculture.server.publishing import PublishError, publish, rollback
from vrculture.server.registry import BundleError, load_bundle

from .bundle_factory import make_bundle


async def _wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def _title(client, exhibition: str) -> str | None:
    response = await client.get(f"/api/exhibitions/{exhibition}")
    return (await response.json())["title"]["sv"] if response.status == 200 else None


async def test_publish_while_serving_then_rollback(aiohttp_client, tmp_path, web_dir):
    data = tmp_path / "data"
    config = ServerConfig(bundles=[], data_dir=data, web_dir=web_dir)
    client = await aiohttp_client(create_app(config, watch_interval=0.1))
    assert await _title(client, "gallery") is None

    first = publish(make_bundle(tmp_path / "v1", "gallery", title_sv="Första"), data)
    assert first.previous is None
    await _wait_for(lambda: _is(client, "Första"))
    # A visitor who loaded v1's manifest keeps fetching v1's files while v2 goes live.
    manifest = await (await client.get("/api/exhibitions/gallery")).json()
    old_level = manifest["objects"][0]["levels"][0]["url"]

    second = publish(make_bundle(tmp_path / "v2", "gallery", title_sv="Andra",
                                 objects=[{"id": "new", "title": {"sv": "Ny"}}]), data)
    assert second.previous == first.version
    await _wait_for(lambda: _is(client, "Andra"))
    assert (data / "exhibitions/gallery/versions" / first.version).is_dir()  # kept
    search = await (await client.get("/api/search", params={"q": "ny"})).json()
    assert [h["object"] for h in search["results"]] == ["new"]
    assert (await client.get(f"/bundles/gallery/{old_level}")).status == 404

    rollback(data, "gallery")
    await _wait_for(lambda: _is(client, "Första"))
    assert (await client.get(f"/bundles/gallery/{old_level}")).status == 200


async def _is(client, title):
    return await _title(client, "gallery") == title


async def test_a_broken_republish_keeps_the_last_good_version(aiohttp_client, tmp_path, web_dir):
    data = tmp_path / "data"
    publish(make_bundle(tmp_path / "v1", "gallery", title_sv="Bra"), data)
    client = await aiohttp_client(create_app(
        ServerConfig(data_dir=data, web_dir=web_dir), watch_interval=0.1))
    assert await _title(client, "gallery") == "Bra"
    # Simulate a hand-made broken version (publish itself refuses broken bundles).
    broken = data / "exhibitions/gallery/versions/broken"
    broken.mkdir()
    (broken / "exhibition.json").write_text("{")
    tmp_link = data / "exhibitions/gallery/.tmp"
    os.symlink("versions/broken", tmp_link)
    os.replace(tmp_link, data / "exhibitions/gallery/current")

    async def broken_version_seen() -> bool:  # the watcher has read the broken version
        health = await (await client.get("/healthz")).json()
        return health["bundles_failing"] == 1  # the messages: /api/admin/health (test_admin.py)

    await _wait_for(broken_version_seen)
    assert await _title(client, "gallery") == "Bra"


def test_publish_refuses_an_invalid_bundle(tmp_path):
    bundle = make_bundle(tmp_path / "b")
    manifest = json.loads((bundle / "exhibition.json").read_text())
    manifest["objects"][0]["levels"][0]["url"] = "objects/angel/missing.glb"
    (bundle / "exhibition.json").write_text(json.dumps(manifest))
    with pytest.raises(PublishError, match="missing.glb"):
        publish(bundle, tmp_path / "data")
    assert not (tmp_path / "data/exhibitions/demo/current").exists()


def test_publish_refuses_symlinks_out_of_the_bundle(tmp_path):
    bundle = make_bundle(tmp_path / "b")
    (tmp_path / "secret").write_text("x")
    os.symlink(tmp_path / "secret", bundle / "objects" / "leak.txt")
    with pytest.raises(PublishError, match="outside the bundle"):
        publish(bundle, tmp_path / "data")


def test_rollback_without_previous(tmp_path):
    publish(make_bundle(tmp_path / "b"), tmp_path / "data")
    with pytest.raises(PublishError):
        rollback(tmp_path / "data", "demo")


def test_old_versions_are_pruned(tmp_path):
    data = tmp_path / "data"
    for i in range(4):
        publish(make_bundle(tmp_path / f"v{i}", "gallery", title_sv=f"v{i}"), data)
    versions = list((data / "exhibitions/gallery/versions").iterdir())
    assert len(versions) == 2


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda m: m.pop("rooms"), "'rooms' is a required property"),
    (lambda m: m.update(schema_version=2), "schema_version"),
    (lambda m: m["objects"][0].update(id="Bad Id"), "objects/0/id"),
    (lambda m: m.update(architecture={"url": "../../etc/passwd", "bytes": 1}), "architecture"),
])
def test_load_bundle_names_the_field(tmp_path, mutate, message):
    bundle = make_bundle(tmp_path / "b")
    manifest = json.loads((bundle / "exhibition.json").read_text())
    mutate(manifest)
    (bundle / "exhibition.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=message.replace("/", ".")):
        load_bundle(bundle)


def test_two_bundles_one_server(tmp_path):
    from vrculture.server.registry import BundleRegistry

    a = make_bundle(tmp_path / "a", "first")
    b = make_bundle(tmp_path / "b", "second")
    duplicate = make_bundle(tmp_path / "c", "first", title_sv="Dubblett")
    registry = BundleRegistry([a, b, duplicate], None)
    registry.scan()
    assert [e.id for e in registry.all()] == ["first", "second"]
    assert registry.get("first").root == Path(a).resolve()


def test_a_bundle_broken_in_place_keeps_its_last_good_version_until_it_is_gone(tmp_path):
    import shutil

    from vrculture.server.registry import BundleRegistry

    bundle = make_bundle(tmp_path / "b", "gallery")
    registry = BundleRegistry([bundle], None)
    registry.scan()
    (bundle / "exhibition.json").write_text('{"half": ')  # a rebuild caught half-way
    registry.scan()
    assert registry.get("gallery") is not None
    assert any("not valid JSON" in e for e in registry.errors.values())
    shutil.rmtree(bundle)
    registry.scan()
    assert registry.get("gallery") is None
