"""Studio exhibitions: collection folders the builder reads, edited through tomlkit (the
curator's comments and order kept), versions and conflicts, missing translations, the audit
log, and hostile ids, paths and texts."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from vrculture.exhibition.collection import load_collection
from vrculture.server.studio.exhibitions import studio_root

from .conftest import START, create

HAND_WRITTEN = """\
# Sjöstads museum: the spring exhibition.
[exhibition]
id = "var"
default_language = "sv"
languages = ["sv", "en"]
title = "Vårens utställning"   # English title still to come
description = { sv = "Om våren.", en = "About spring." }

# The vase first: it is on the poster.
[[objects]]
id = "vas"
source = "sources/vas.glb"
title = { sv = "Vas" }
rights = "PDM-1.0"
creator = "Okänd"   # unknown maker

[[objects]]
id = "stol"
source = "sources/stol.glb"
title = { sv = "Stol", en = "Chair" }
rights = "CC-BY-4.0"
"""


@pytest.fixture
def hand_written(config) -> Path:
    folder = studio_root(config.data_dir) / "var"
    (folder / "sources").mkdir(parents=True)
    (folder / "collection.toml").write_text(HAND_WRITTEN, encoding="utf-8")
    return folder


async def read(curator, exhibition_id: str = "sjostad"):
    response = await curator.request("GET", f"/studio/api/exhibitions/{exhibition_id}")
    assert response.status == 200, await response.text()
    return await response.json(), response.headers["ETag"]


async def test_create_writes_a_collection_the_builder_reads(alice, config):
    response = await create(alice, description={"sv": "Om staden"},
                            credit={"sv": "Sjöstads museum", "en": "Sjöstad museum"})
    assert response.status == 201, await response.text()
    body = await response.json()
    assert response.headers["ETag"] == body["version"]
    folder = studio_root(config.data_dir) / "sjostad"
    assert (folder / "sources").is_dir()
    umask = os.umask(0)
    os.umask(umask)
    assert (folder / "collection.toml").stat().st_mode & 0o777 == 0o666 & ~umask
    collection, issues = load_collection(folder)
    assert collection.id == "sjostad" and collection.languages == ["sv", "en"]
    assert not issues.errors
    assert body["missing_translations"] == [
        {"where": "exhibition", "field": "description", "languages": ["en"]}]
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no leftovers
    again = await create(alice)
    assert again.status == 409


@pytest.mark.parametrize("bad", ["", "A", "../x", "a/b", ".hidden", "x" * 65, "ä", "a b",
                                 "a\x00", None, 5])
async def test_create_refuses_hostile_ids(alice, config, bad):
    response = await create(alice, exhibition_id=bad)
    assert response.status == 422
    assert not (config.data_dir / "x").exists()


@pytest.mark.parametrize(("field", "value"), [
    ("languages", []), ("languages", ["sv", "sv"]), ("languages", ["svenska!"]),
    ("languages", "sv"), ("title", {}), ("title", {"de": "Titel"}),
    ("title", {"sv": "a\x07b"}), ("title", {"sv": "x" * 201}), ("title", {"sv": "\ud800"}),
    ("title", "Sjöstaden"), ("description", {"sv": 5}), ("titel", {"sv": "typo"}),
])
async def test_create_checks_every_field(alice, field, value):
    response = await create(alice, **{field: value})
    assert response.status == 422, (field, value)
    assert (await alice.request("GET", "/studio/api/exhibitions/sjostad")).status == 404


async def test_edit_needs_the_version_and_reports_who_changed_it_since(alice, bob, exhibition,
                                                                       clock):
    await alice.request("POST", "/studio/api/exhibitions/sjostad/members",
                        json={"curator": "bob"})
    _, version = await read(alice)
    path = "/studio/api/exhibitions/sjostad"
    unversioned = await alice.request("PATCH", path, json={"title": {"en": "Lake town"}})
    assert unversioned.status == 428
    clock.now += 60
    first = await bob.request("PATCH", path, json={"title": {"en": "Lake town"}},
                              **{"If-Match": version})
    assert first.status == 200, await first.text()
    assert first.headers["ETag"] != version
    stale = await alice.request("PATCH", path, json={"title": {"en": "Other"}},
                                **{"If-Match": version})
    assert stale.status == 409
    conflict = await stale.json()
    assert conflict["changed_by"] == "bob" and "bob" in conflict["message"]
    assert conflict["changed_at"] == START + 60
    body, _ = await read(alice)
    assert body["title"] == {"sv": "Sjöstaden", "en": "Lake town"}  # bob's change kept
    fresh = await alice.request("PATCH", path, json={"title": {"en": "Other"}},
                                **{"If-Match": first.headers["ETag"]})
    assert fresh.status == 200


async def test_the_audit_log_records_every_change_with_the_injected_clock(alice, exhibition,
                                                                          clock):
    _, version = await read(alice)
    clock.now += 3600
    await alice.request("PATCH", "/studio/api/exhibitions/sjostad",
                        json={"description": {"en": "About the town"}},
                        **{"If-Match": version})
    clock.now += 1
    await alice.request("POST", "/studio/api/exhibitions/sjostad/members",
                        json={"curator": "carol"})
    response = await alice.request("GET", "/studio/api/audit?exhibition=sjostad")
    assert response.status == 200
    entries = (await response.json())["entries"]
    assert [(e["action"], e["curator"], e["at"]) for e in entries] == [
        ("add_member", "alice", START + 3601), ("edit_exhibition", "alice", START + 3600),
        ("create", "alice", START)]
    assert entries[1]["detail"] == {"description": {"en": "About the town"}}
    assert entries[0]["detail"] == {"curator": "carol"}
    for query in ("", "?exhibition=", "?exhibition=../x"):
        assert (await alice.request("GET", f"/studio/api/audit{query}")).status == 400
    assert (await alice.request("GET", "/studio/api/audit?exhibition=none")).status == 404


async def test_a_hand_written_collection_opens_and_keeps_its_comments_and_order(
        alice, bob, hand_written):
    listed = await (await bob.request("GET", "/studio/api/exhibitions")).json()
    assert [e["id"] for e in listed["exhibitions"]] == ["var"]  # no members yet: open to all
    body, version = await read(alice, "var")
    assert body["title"] == {"sv": "Vårens utställning"}
    assert [o["id"] for o in body["objects"]] == ["vas", "stol"]
    assert {"where": "exhibition", "field": "title", "languages": ["en"]} in \
        body["missing_translations"]
    assert {"where": "objects/vas", "field": "title", "languages": ["en"]} in \
        body["missing_translations"]
    response = await alice.request(
        "PATCH", "/studio/api/exhibitions/var/objects/vas",
        json={"title": {"en": "Vase"}, "date": "1780-talet", "creator": None},
        **{"If-Match": version})
    assert response.status == 200, await response.text()
    after = await response.json()
    assert not [m for m in after["missing_translations"] if m["where"] == "objects/vas"]
    text = (hand_written / "collection.toml").read_text(encoding="utf-8")
    expected = HAND_WRITTEN.replace('title = { sv = "Vas" }', 'title = {sv = "Vas", en = "Vase"}') \
        .replace('creator = "Okänd"   # unknown maker\n', 'date = "1780-talet"\n')
    assert text == expected  # only what changed, changed
    assert "# The vase first: it is on the poster." in text
    assert "# English title still to come" in text
    # The first curator to change it became its member: now it is theirs.
    assert (await bob.request("GET", "/studio/api/exhibitions/var")).status == 403
    version = response.headers["ETag"]
    title = await alice.request("PATCH", "/studio/api/exhibitions/var",
                                json={"title": {"en": "The spring exhibition"}},
                                **{"If-Match": version})
    assert title.status == 200
    text = (hand_written / "collection.toml").read_text(encoding="utf-8")
    assert "# Sjöstads museum: the spring exhibition." in text
    assert 'title = {sv = "Vårens utställning", en = "The spring exhibition"}   # English ' \
        'title still to come' in text
    assert text.index("[exhibition]") < text.index('id = "vas"') < text.index('id = "stol"')
    audit = await (await alice.request("GET", "/studio/api/audit?exhibition=var")).json()
    assert [e["action"] for e in audit["entries"]] == ["edit_exhibition", "edit_object",
                                                       "claim"]
    collection, issues = load_collection(hand_written)
    assert collection.title == {"sv": "Vårens utställning", "en": "The spring exhibition"}


@pytest.mark.parametrize(("body", "status"), [
    ({"rights": "all mine"}, 422), ({"rights": None}, 422), ({"title": {"sv": None}}, 422),
    ({"title": {"fi": "Maljakko"}}, 422), ({"creator": "a\nb"}, 422), ({"date": "x" * 101}, 422),
    ({"source": "../../etc/passwd"}, 422), ({"creator": ["x"]}, 422),
    ({"title": {"en": "Vase"}, "rights": "CC0-1.0"}, 200),
])
async def test_object_fields_are_checked(alice, hand_written, body, status):
    _, version = await read(alice, "var")
    before = (hand_written / "collection.toml").read_bytes()
    response = await alice.request("PATCH", "/studio/api/exhibitions/var/objects/vas",
                                   json=body, **{"If-Match": version})
    assert response.status == status, await response.text()
    if status != 200:
        assert (hand_written / "collection.toml").read_bytes() == before


@pytest.mark.parametrize("path", [
    "/studio/api/exhibitions/..%2F..%2Fetc", "/studio/api/exhibitions/.var",
    "/studio/api/exhibitions/VAR", "/studio/api/exhibitions/var%00",
    "/studio/api/exhibitions/var/objects/..%2Fx", "/studio/api/exhibitions/var/objects/nope",
])
async def test_hostile_ids_in_paths_are_404(alice, hand_written, path):
    _, version = await read(alice, "var")
    method = "PATCH" if "/objects/" in path else "GET"
    response = await alice.request(method, path, json={"creator": "x"},
                                   **{"If-Match": version})
    assert response.status == 404, await response.text()


async def test_a_symlinked_folder_is_never_opened(alice, config, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "collection.toml").write_text(HAND_WRITTEN, encoding="utf-8")
    root = studio_root(config.data_dir)
    root.mkdir(parents=True)
    (root / "linked").symlink_to(outside)
    assert (await alice.request("GET", "/studio/api/exhibitions/linked")).status == 404
    listed = await (await alice.request("GET", "/studio/api/exhibitions")).json()
    assert listed["exhibitions"] == []


async def test_an_unreadable_collection_is_a_clear_422(alice, config):
    folder = studio_root(config.data_dir) / "broken"
    folder.mkdir(parents=True)
    (folder / "collection.toml").write_text("[exhibition\nid = ", encoding="utf-8")
    response = await alice.request("GET", "/studio/api/exhibitions/broken")
    assert response.status == 422
    assert "collection.toml" in (await response.json())["message"]


async def test_two_saves_of_the_same_version_at_once_keep_one_and_refuse_the_other(
        alice, sign_in, exhibition):
    await alice.request("POST", "/studio/api/exhibitions/sjostad/members",
                        json={"curator": "bob"})
    bob = await sign_in("bob")
    _, version = await read(alice)
    path = "/studio/api/exhibitions/sjostad"
    answers = await asyncio.gather(
        alice.request("PATCH", path, json={"title": {"en": "Alice's"}}, **{"If-Match": version}),
        bob.request("PATCH", path, json={"title": {"en": "Bob's"}}, **{"If-Match": version}))
    assert sorted(a.status for a in answers) == [200, 409]
    winner = "Alice's" if answers[0].status == 200 else "Bob's"
    body, _ = await read(alice)
    assert body["title"]["en"] == winner


async def test_a_change_made_on_disk_is_a_conflict_too(alice, hand_written):
    _, version = await read(alice, "var")
    toml = hand_written / "collection.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("Om våren.", "Om våren!"),
                    encoding="utf-8")
    response = await alice.request("PATCH", "/studio/api/exhibitions/var",
                                   json={"title": {"en": "Spring"}}, **{"If-Match": version})
    assert response.status == 409
    body = await response.json()
    assert "changed on disk" in body["message"] and body["changed_by"] is None
    assert "Om våren!" in toml.read_text(encoding="utf-8")
