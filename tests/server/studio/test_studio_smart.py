"""Smart exhibits in the studio: one of the builder's kinds written to collection.toml, its feed
created in the real feed store with a token shown once and stored only as a hash, readings
posted through the real feed API showing up for members, validation, 409 and removal."""

from __future__ import annotations

import logging
import sqlite3
import tomllib

import pytest

from vrculture.server import appkeys
from vrculture.server.studio.exhibitions import studio_root

from .conftest import START

SMART = "/studio/api/exhibitions/sjostad/smart"
LIGHTS = {"id": "gatubelysning", "kind": "street-lighting", "goal": "climate",
          "title": {"sv": "Gatubelysning", "en": "Street lighting"},
          "feed": "parkbelysning"}
READING = {"t": START - 10, "lamp": "L1", "presence": True, "level": 80, "power_w": 30}


async def listed(curator):
    response = await curator.request("GET", SMART)
    assert response.status == 200, await response.text()
    return await response.json(), response.headers["ETag"]


async def add(curator, body=LIGHTS):
    _, version = await listed(curator)
    return await curator.request("POST", SMART, json=body, **{"If-Match": version})


async def test_the_kinds_are_the_builders(alice, exhibition):
    body, _ = await listed(alice)
    assert body["kinds"] == ["street-lighting", "smart-bin", "eye-tracking-screening", "gauge"]
    assert body["smart_exhibits"] == []


async def test_add_shows_the_token_once_and_stores_only_its_hash(alice, exhibition, config,
                                                                 client, caplog):
    caplog.set_level(logging.DEBUG)
    response = await add(alice)
    assert response.status == 201, await response.text()
    body = await response.json()
    token = body["created"]["token"]
    assert body["created"]["feed"] == "parkbelysning" and len(token) >= 32
    assert [s["id"] for s in body["smart_exhibits"]] == ["gatubelysning"]

    # the collection holds the exhibit as the builder reads it
    folder = studio_root(config.data_dir) / exhibition
    written = tomllib.loads((folder / "collection.toml").read_text(encoding="utf-8"))
    assert written["smart_exhibits"] == [{
        "id": "gatubelysning", "kind": "street-lighting",
        "title": {"sv": "Gatubelysning", "en": "Street lighting"}, "goal": "climate",
        "feeds": ["parkbelysning"]}]

    # never again: not in the list, the audit log, the log, nor the database in clear
    again, _ = await listed(alice)
    audit = await (await alice.request("GET", "/studio/api/audit?exhibition=sjostad")).text()
    assert token not in str(again) and token not in audit
    assert token not in caplog.text
    feed = await client.app[appkeys.FEED_STORE].feed("parkbelysning")
    assert feed is not None and feed.exhibition == exhibition
    assert feed.kind == "street-lighting" and token not in feed.token_hash
    with sqlite3.connect(config.data_dir / "vrculture.sqlite3") as db:
        dump = "\n".join(db.iterdump())
    assert token not in dump and feed.token_hash in dump


async def test_readings_posted_with_the_token_show_up_for_members(alice, bob, exhibition,
                                                                  client):
    token = (await (await add(alice)).json())["created"]["token"]
    readings = f"{SMART}/gatubelysning/readings"
    empty = await (await alice.request("GET", readings)).json()
    assert empty["feeds"] == {"parkbelysning": {"registered": True, "readings": []}}

    wrong = await client.post("/api/feeds/parkbelysning/readings", json=READING,
                              headers={"Authorization": "Bearer " + "x" * 43})
    assert wrong.status == 401
    posted = await client.post("/api/feeds/parkbelysning/readings", json=READING,
                               headers={"Authorization": f"Bearer {token}"})
    assert posted.status == 201, await posted.text()

    shown = await (await alice.request("GET", readings)).json()
    [reading] = shown["feeds"]["parkbelysning"]["readings"]
    assert reading["lamp"] == "L1" and reading["level"] == 80
    refused = await bob.request("GET", readings)
    assert refused.status == 403
    unknown = await alice.request("GET", f"{SMART}/nothing/readings")
    assert unknown.status == 404


async def test_a_gauge_needs_its_range_and_its_feed_gets_it(alice, exhibition, client):
    gauge = {"id": "luft", "kind": "gauge", "goal": "social", "title": {"sv": "Luft"},
             "gauge": {"unit": "µg/m³", "min": 0, "max": 50}}
    response = await add(alice, gauge)
    assert response.status == 201, await response.text()
    feed = await client.app[appkeys.FEED_STORE].feed("luft")
    assert feed is not None and (feed.unit, feed.min, feed.max) == ("µg/m³", 0, 50)
    without = await add(alice, {**gauge, "id": "luft2", "feed": "luft2", "gauge": None})
    assert without.status == 422


BAD = {
    "unknown kind": ({"kind": "rocket"}, "kind"),
    "unknown goal": ({"goal": "fame"}, "goal"),
    "hostile id": ({"id": "../x"}, "id"),
    "id with a newline": ({"id": "gatu\n"}, "id"),
    "hostile feed": ({"feed": "a/b"}, "feed"),
    "no title": ({"title": {}}, "title"),
    "blank title": ({"title": {"sv": "  "}}, "title"),
    "foreign language": ({"title": {"de": "x"}}, "title.de"),
    "long title": ({"title": {"sv": "x" * 201}}, "title.sv"),
    "gauge on lights": ({"gauge": {"unit": "W", "min": 0, "max": 1}}, "gauge"),
    "unknown field": ({"token": "mine"}, "token"),
}


@pytest.mark.parametrize("case", BAD)
async def test_invalid_exhibits_are_refused_and_no_feed_is_made(alice, exhibition, client,
                                                                config, case):
    change, field = BAD[case]
    toml = studio_root(config.data_dir) / exhibition / "collection.toml"
    before = toml.read_bytes()
    response = await add(alice, {**LIGHTS, **change})
    assert response.status == 422, await response.text()
    assert (await response.json())["field"] == field
    assert toml.read_bytes() == before
    assert await client.app[appkeys.FEED_STORE].feeds() == []


async def test_a_taken_feed_or_stale_version_changes_nothing(alice, exhibition, client,
                                                             config):
    store = client.app[appkeys.FEED_STORE]
    await store.add_feed("parkbelysning", kind="street-lighting")
    toml = studio_root(config.data_dir) / exhibition / "collection.toml"
    before = toml.read_bytes()
    taken = await add(alice)
    assert taken.status == 409 and (await taken.json())["code"] == "feed_exists"
    assert toml.read_bytes() == before

    _, version = await listed(alice)
    fresh = await add(alice, {**LIGHTS, "feed": "annan"})
    assert fresh.status == 201
    stale = await alice.request("POST", SMART, json={**LIGHTS, "id": "tva", "feed": "tredje"},
                                **{"If-Match": version})
    assert stale.status == 409 and (await stale.json())["changed_by"] == "alice"
    assert await store.feed("tredje") is None
    twice = await add(alice, {**LIGHTS, "feed": "fjarde"})
    assert twice.status == 409 and (await twice.json())["code"] == "exists"
    assert await store.feed("fjarde") is None


async def test_remove_takes_the_exhibit_and_its_feed_but_not_a_tour_stop(alice, exhibition,
                                                                         client, config):
    added = await add(alice)
    tour = await alice.request(
        "POST", "/studio/api/exhibitions/sjostad/tours", **{"If-Match": added.headers["ETag"]},
        json={"id": "ljus", "title": {"sv": "Ljus"},
              "stops": [{"object": "gatubelysning", "narration": {"sv": "Se lamporna."}}]})
    assert tour.status == 201, await tour.text()
    blocked = await alice.request("DELETE", f"{SMART}/gatubelysning",
                                  **{"If-Match": tour.headers["ETag"]})
    assert blocked.status == 409 and (await blocked.json())["code"] == "in_a_tour"
    untoured = await alice.request("DELETE", "/studio/api/exhibitions/sjostad/tours/ljus",
                                   **{"If-Match": tour.headers["ETag"]})
    removed = await alice.request("DELETE", f"{SMART}/gatubelysning",
                                  **{"If-Match": untoured.headers["ETag"]})
    assert removed.status == 200, await removed.text()
    assert (await removed.json())["smart_exhibits"] == []
    assert await client.app[appkeys.FEED_STORE].feed("parkbelysning") is None
    log = await (await alice.request("GET", "/studio/api/audit?exhibition=sjostad")).json()
    assert [e["action"] for e in log["entries"][:2]] == ["remove_smart_exhibit", "delete_tour"]
