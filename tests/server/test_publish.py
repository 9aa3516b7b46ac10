"""Publishing into the data folder while the server runs; the registry's validation."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest
from fixed_clock import FakeClock

from vrculture.server.app import create_app
from vrculture.server.config import ServerConfig
from vrculture.server.publishing import KEEP_VERSIONS, PublishError, publish, rollback, versions
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


async def test_publish_while_serving_then_rollback(aiohttp_client, tmp_path, web_dir, clock):
    data = tmp_path / "data"
    config = ServerConfig(bundles=[], data_dir=data, web_dir=web_dir)
    client = await aiohttp_client(create_app(config, watch_interval=0.1, clock=clock))
    assert await _title(client, "gallery") is None

    first = publish(make_bundle(tmp_path / "v1", "gallery", title_sv="Första"), data,
                    clock=clock)
    assert first.previous is None
    await _wait_for(lambda: _is(client, "Första"))
    # A visitor who loaded v1's manifest keeps fetching v1's files while v2 goes live.
    manifest = await (await client.get("/api/exhibitions/gallery")).json()
    old_level = manifest["objects"][0]["levels"][0]["url"]

    second = publish(make_bundle(tmp_path / "v2", "gallery", title_sv="Andra",
                                 objects=[{"id": "new", "title": {"sv": "Ny"}}]), data,
                                 clock=clock)
    assert second.previous == first.version
    await _wait_for(lambda: _is(client, "Andra"))
    assert (data / "exhibitions/gallery/versions" / first.version).is_dir()  # kept
    search = await (await client.get("/api/search", params={"q": "ny"})).json()
    assert [h["object"] for h in search["results"]] == ["new"]
    assert (await client.get(f"/bundles/gallery/{old_level}")).status == 404

    rollback(data, "gallery", clock=clock)
    await _wait_for(lambda: _is(client, "Första"))
    assert (await client.get(f"/bundles/gallery/{old_level}")).status == 200


async def _is(client, title):
    return await _title(client, "gallery") == title


async def test_a_broken_republish_keeps_the_last_good_version(aiohttp_client, tmp_path, web_dir,
                                                               clock):
    data = tmp_path / "data"
    publish(make_bundle(tmp_path / "v1", "gallery", title_sv="Bra"), data, clock=clock)
    client = await aiohttp_client(create_app(
        ServerConfig(data_dir=data, web_dir=web_dir), watch_interval=0.1, clock=clock))
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
        publish(bundle, tmp_path / "data", clock=FakeClock())
    assert not (tmp_path / "data/exhibitions/demo/current").exists()


def test_publish_refuses_symlinks_out_of_the_bundle(tmp_path):
    bundle = make_bundle(tmp_path / "b")
    (tmp_path / "secret").write_text("x")
    os.symlink(tmp_path / "secret", bundle / "objects" / "leak.txt")
    with pytest.raises(PublishError, match="outside the bundle"):
        publish(bundle, tmp_path / "data", clock=FakeClock())


def test_rollback_without_previous(tmp_path):
    publish(make_bundle(tmp_path / "b"), tmp_path / "data", clock=FakeClock())
    with pytest.raises(PublishError):
        rollback(tmp_path / "data", "demo", clock=FakeClock())


def test_old_versions_are_pruned(tmp_path):
    data = tmp_path / "data"
    for i in range(KEEP_VERSIONS + 2):
        publish(make_bundle(tmp_path / f"v{i}", "gallery", title_sv=f"v{i}"), data,
                clock=FakeClock())
    kept = list((data / "exhibitions/gallery/versions").iterdir())
    assert len(kept) == KEEP_VERSIONS
    for i in range(3):
        publish(make_bundle(tmp_path / f"w{i}", "gallery", title_sv=f"w{i}"), data, keep=2,
                clock=FakeClock())
    assert len(list((data / "exhibitions/gallery/versions").iterdir())) == 2


class Clock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 60.0
        return self.now


def test_the_history_names_who_made_each_version_current_and_when(tmp_path):
    data, clock = tmp_path / "data", Clock(1_780_000_000.0)
    first = publish(make_bundle(tmp_path / "v1", "gallery", title_sv="Ett"), data, by="Anna Öberg",
                    clock=clock)
    second = publish(make_bundle(tmp_path / "v2", "gallery", title_sv="Två"), data, by="Bo",
                     clock=clock)
    publish(make_bundle(tmp_path / "v2", "gallery", title_sv="Två"), data, by="Bo", clock=clock)
    back = rollback(data, "gallery", by="Cecilia", clock=clock)
    assert back.version == first.version and back.previous == second.version
    listed = versions(data, "gallery")
    assert [(v.version, v.current, v.kept) for v in listed] == [
        (first.version, True, True), (second.version, False, True)]
    assert [(e.action, e.at, e.by) for e in listed[0].history] == [
        ("publish", 1_780_000_060.0, "Anna Öberg"), ("rollback", 1_780_000_180.0, "Cecilia")]
    # publishing the current bundle again switches nothing and records nothing
    assert [(e.action, e.by) for e in listed[1].history] == [("publish", "Bo")]


def test_roll_back_to_any_kept_version_but_not_a_pruned_or_made_up_one(tmp_path):
    data = tmp_path / "data"
    done = [publish(make_bundle(tmp_path / f"v{i}", "gallery", title_sv=f"v{i}"), data, keep=3,
                    clock=FakeClock())
            for i in range(5)]
    back = rollback(data, "gallery", done[2].version,
                    clock=FakeClock())  # two versions back, not the previous
    assert back.version == done[2].version and back.previous == done[4].version
    target = os.readlink(data / "exhibitions/gallery/current")
    assert target == f"versions/{done[2].version}"
    assert os.readlink(data / "exhibitions/gallery/previous") == f"versions/{done[4].version}"
    with pytest.raises(PublishError, match="no longer kept"):
        rollback(data, "gallery", done[0].version, clock=FakeClock())
    assert not [v for v in versions(data, "gallery") if v.version == done[0].version][0].kept
    with pytest.raises(PublishError, match="already current"):
        rollback(data, "gallery", done[2].version, clock=FakeClock())
    for bad in ("../../etc", "ABCDEF0123456789", "0" * 17, ""):
        with pytest.raises(PublishError, match="not a version"):
            rollback(data, "gallery", bad, clock=FakeClock())
    with pytest.raises(PublishError, match="no published exhibition"):
        rollback(data, "nowhere", clock=FakeClock())


@pytest.mark.parametrize("by", ["", "a\nb", "x" * 101, "bell\x07", "\ud800"])
def test_a_publisher_name_that_is_not_one_line_of_text_is_refused(tmp_path, by):
    with pytest.raises(PublishError, match="publisher name"):
        publish(make_bundle(tmp_path / "v1", "gallery"), tmp_path / "data", by=by,
                clock=FakeClock())
    assert not (tmp_path / "data/exhibitions/gallery/current").exists()


def test_files_a_new_version_shares_with_the_last_are_linked_not_copied(tmp_path):
    data = tmp_path / "data"
    objects = [{"id": "angel", "title": {"sv": "Ängel"}}]
    first = publish(make_bundle(tmp_path / "v1", "gallery", title_sv="Ett", objects=objects), data,
                    clock=FakeClock())
    second = publish(make_bundle(tmp_path / "v2", "gallery", title_sv="Två", objects=objects), data,
                     clock=FakeClock())
    old, new = first.path / "objects/angel", second.path / "objects/angel"
    shared = [p.name for p in new.iterdir()]
    assert shared and all((old / name).stat().st_ino == (new / name).stat().st_ino
                          for name in shared)
    # what changed is a copy of its own: the manifest differs
    assert (first.path / "exhibition.json").stat().st_ino != (
        second.path / "exhibition.json").stat().st_ino
    # pruning the versions that shared the files leaves the current one whole
    publish(make_bundle(tmp_path / "v3", "gallery", title_sv="Tre", objects=objects), data, keep=1,
            clock=FakeClock())
    source = make_bundle(tmp_path / "v4", "gallery", title_sv="Fyra", objects=objects)
    fourth = publish(source, data, keep=1, clock=FakeClock())  # `previous` (v3) stays; v1 and v2 go
    assert not first.path.exists() and not second.path.exists()
    assert load_bundle(data / "exhibitions/gallery/current").version[:16] == fourth.version
    for name in shared:
        path = fourth.path / "objects/angel" / name
        assert path.read_bytes() == (source / "objects/angel" / name).read_bytes()
        assert path.stat().st_nlink == 2  # v3 and v4


def test_a_damaged_history_file_reads_as_no_history_and_is_replaced(tmp_path):
    data = tmp_path / "data"
    first = publish(make_bundle(tmp_path / "v1", "gallery", title_sv="Ett"), data, by="Anna",
                    clock=FakeClock())
    (data / "exhibitions/gallery/history.json").write_text("{not json", encoding="utf-8")
    assert versions(data, "gallery")[0].history == []
    publish(make_bundle(tmp_path / "v2", "gallery", title_sv="Två"), data, by="Bo",
            clock=FakeClock())
    listed = versions(data, "gallery")
    assert [e.by for e in listed[0].history] == ["Bo"]
    assert listed[1].version == first.version and listed[1].kept
    body = json.loads((data / "exhibitions/gallery/history.json").read_text(encoding="utf-8"))
    assert body["format"] == 1 and len(body["entries"]) == 1


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
