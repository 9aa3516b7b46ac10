"""Sensor ingest and history against the real app: auth, validation, durability, fan-out;
each on SQLite and on PostgreSQL (the `backend` fixture)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from fixed_clock import FIXED_NOW

from vrculture.server import appkeys
from vrculture.server.store_choice import open_blocking_store

NOW = FIXED_NOW  # the `client` app's clock (conftest.py)


@pytest.fixture
def config(config, backend):
    """The app's settings with the database under test (None: SQLite in the data folder)."""
    config.database = backend
    return config


@pytest.fixture
def tokens(config):
    store = open_blocking_store(config)
    try:
        yield {
            "street-lights": store.add_feed("street-lights"),  # kind from the manifest
            "bins": store.add_feed("bins", kind="smart-bin"),
            "screening": store.add_feed("screening", kind="eye-tracking-screening"),
            "temperature": store.add_feed("temperature"),  # gauge -40..50 °C from the manifest
            "orphan": store.add_feed("orphan"),  # no kind anywhere
        }
    finally:
        store.close()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def lamp(t: float = NOW - 60, **fields):
    return {"t": t, "lamp": "L1", "presence": True, "level": 80, "power_w": 24.5, **fields}


async def post(client, feed, body, token):
    return await client.post(f"/api/feeds/{feed}/readings", json=body, headers=_auth(token))


async def test_one_reading_is_stored_and_published(client, tokens):
    received: list[dict] = []
    pubsub = client.app[appkeys.PUBSUB]
    await pubsub.subscribe("feed:street-lights", lambda ch, data: received.append(json.loads(data)))
    response = await post(client, "street-lights", lamp(), tokens["street-lights"])
    assert response.status == 201, await response.text()
    assert await response.json() == {"stored": 1, "duplicates": 0}
    assert received and received[0]["type"] == "reading"
    assert received[0]["feed"] == "street-lights"
    assert received[0]["reading"]["lamp"] == "L1"
    assert received[0]["reading"]["t"].endswith("Z")
    latest = await client.app[appkeys.FEED_STORE].latest_readings(["street-lights", "bins"])
    assert set(latest) == {"street-lights"}


async def test_batch_with_duplicates_is_idempotent(client, tokens):
    batch = {"readings": [lamp(NOW - 30), lamp(NOW - 20), lamp(NOW - 30)]}
    first = await post(client, "street-lights", batch, tokens["street-lights"])
    assert await first.json() == {"stored": 2, "duplicates": 1}
    again = await post(client, "street-lights", batch, tokens["street-lights"])
    assert again.status == 200
    assert await again.json() == {"stored": 0, "duplicates": 3}
    whole = int(NOW) - 50
    await post(client, "street-lights", lamp(whole), tokens["street-lights"])
    iso = await post(client, "street-lights",
                     lamp(time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(whole))),
                     tokens["street-lights"])
    assert (await iso.json())["duplicates"] == 1  # the same instant written as ISO-8601


async def test_history_oldest_first_with_since_and_limit(client, tokens):
    batch = {"readings": [lamp(NOW - 100 + i, level=i) for i in range(10)]}
    await post(client, "street-lights", batch, tokens["street-lights"])
    response = await client.get("/api/feeds/street-lights/readings", params={"limit": "3"})
    body = await response.json()
    assert body["kind"] == "street-lighting"
    assert [r["level"] for r in body["readings"]] == [7, 8, 9]
    since = await client.get("/api/feeds/street-lights/readings",
                             params={"since": str(NOW - 100 + 4), "limit": "2"})
    assert [r["level"] for r in (await since.json())["readings"]] == [5, 6]
    for bad in ({"limit": "0"}, {"limit": "5000"}, {"since": "yesterday"}):
        assert (await client.get("/api/feeds/street-lights/readings", params=bad)).status == 400
    assert (await client.get("/api/feeds/unknown/readings")).status == 404


async def test_authentication(client, tokens):
    body = lamp()
    missing = await client.post("/api/feeds/street-lights/readings", json=body)
    assert missing.status == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = await post(client, "street-lights", body, tokens["bins"])  # another feed's token
    assert wrong.status == 401
    assert (await wrong.json())["code"] == "invalid_token"
    unknown = await post(client, "nobody", body, tokens["bins"])
    assert unknown.status == 401
    basic = await client.post("/api/feeds/street-lights/readings", json=body,
                              headers={"Authorization": "Basic eDp5"})
    assert basic.status == 401


async def test_rotation_invalidates_the_old_token(client, tokens, config):
    new = await client.app[appkeys.FEED_STORE].rotate_feed_token("bins")
    reading = {"t": NOW - 5, "bin": "B1", "fill_pct": 40, "compactions": 1, "emptied": False}
    assert (await post(client, "bins", reading, tokens["bins"])).status == 401
    assert (await post(client, "bins", reading, new)).status == 201


@pytest.mark.parametrize(("feed", "reading", "field"), [
    ("street-lights", lamp(level=101), "level"),
    ("street-lights", lamp(level=-1), "level"),
    ("street-lights", lamp(power_w=-3), "power_w"),
    ("street-lights", lamp(presence="yes"), "presence"),
    ("street-lights", lamp(lamp=""), "lamp"),
    # not printable: DEL, a C1 control, a line separator, a bidi override, a zero-width space
    ("street-lights", lamp(lamp="L\x7f1"), "lamp"),
    ("street-lights", lamp(lamp="L\x851"), "lamp"),
    ("street-lights", lamp(lamp="L\u20281"), "lamp"),
    ("street-lights", lamp(lamp="L\u202e1"), "lamp"),
    ("bins", {"t": NOW, "bin": "B\u200b", "fill_pct": 10, "compactions": 0, "emptied": False},
     "bin"),
    ("street-lights", lamp(colour="red"), "colour"),
    ("street-lights", {k: v for k, v in lamp().items() if k != "level"}, "level"),
    ("street-lights", lamp(t=NOW + 3600), "t"),
    ("street-lights", lamp(t="2026-01-01T10:00:00"), "t"),  # no time zone
    ("street-lights", lamp(t="not a time"), "t"),
    ("street-lights", lamp(t=12), "t"),
    ("street-lights", {k: v for k, v in lamp().items() if k != "t"}, "t"),
    ("bins", {"t": NOW, "bin": "B", "fill_pct": 120, "compactions": 0, "emptied": False},
     "fill_pct"),
    ("bins", {"t": NOW, "bin": "B", "fill_pct": 10, "compactions": 1.5, "emptied": False},
     "compactions"),
    ("bins", {"t": NOW, "bin": "B", "fill_pct": 10, "compactions": -1, "emptied": False},
     "compactions"),
    ("screening", {"t": NOW, "period": "2026-11-27", "sessions": 3, "referred": 4}, "referred"),
    ("screening", {"t": NOW, "period": "2026-11-27", "sessions": -1, "referred": 0}, "sessions"),
    ("temperature", {"t": NOW, "value": 80}, "value"),
    ("temperature", {"t": NOW, "value": 20, "unit": "K"}, "unit"),
])
async def test_out_of_range_or_malformed_fields_are_422_naming_the_field(
    client, tokens, feed, reading, field
):
    response = await post(client, feed, reading, tokens[feed])
    assert response.status == 422, await response.text()
    body = await response.json()
    assert body["field"] == field
    assert field in body["message"]


@pytest.mark.parametrize("field", ["name", "child_id", "age", "birth_date", "personnummer",
                                   "score", "gaze_x", "childName", "pupil"])
async def test_screening_refuses_per_person_fields(client, tokens, field):
    reading = {"t": NOW, "period": "2026-11-27", "sessions": 12, "referred": 2, field: "x"}
    response = await post(client, "screening", reading, tokens["screening"])
    assert response.status == 422
    body = await response.json()
    assert body["code"] == "per_person_field"
    assert body["field"] == field


async def test_screening_aggregates_are_accepted(client, tokens):
    reading = {"t": NOW, "period": "2026-11-27", "sessions": 12, "referred": 2}
    assert (await post(client, "screening", reading, tokens["screening"])).status == 201


async def test_gauge_takes_its_unit_from_the_manifest(client, tokens):
    response = await post(client, "temperature", {"t": NOW, "value": -3.5},
                          tokens["temperature"])
    assert response.status == 201
    history = await (await client.get("/api/feeds/temperature/readings")).json()
    assert history["readings"][-1]["unit"] == "°C"


async def test_batch_error_names_the_index(client, tokens):
    batch = {"readings": [lamp(NOW - 3), lamp(NOW - 2, level=500)]}
    response = await post(client, "street-lights", batch, tokens["street-lights"])
    body = await response.json()
    assert response.status == 422 and body["index"] == 1
    assert body["message"].startswith("readings[1].level")
    history = await (await client.get("/api/feeds/street-lights/readings")).json()
    assert history["readings"] == []  # all or nothing


async def test_feed_without_a_kind_is_409(client, tokens):
    response = await post(client, "orphan", {"t": NOW, "value": 1}, tokens["orphan"])
    assert response.status == 409


async def test_malformed_oversized_and_wrong_type_bodies(client, tokens):
    token = tokens["street-lights"]
    url = "/api/feeds/street-lights/readings"
    headers = {**_auth(token), "Content-Type": "application/json"}
    assert (await client.post(url, data=b"{not json", headers=headers)).status == 400
    assert (await client.post(url, data=b"[1, 2]", headers=headers)).status == 422
    assert (await client.post(url, data=b'{"readings": []}', headers=headers)).status == 422
    assert (await client.post(url, data=b'{"readings": [], "x": 1}',
                              headers=headers)).status == 422
    big = json.dumps({"readings": [lamp(NOW - i, lamp="L" * 60) for i in range(3000)]})
    assert (await client.post(url, data=big, headers=headers)).status == 413
    many = json.dumps({"readings": [lamp(NOW - i) for i in range(1001)]})
    assert (await client.post(url, data=many, headers=headers)).status == 413
    text = await client.post(url, data=b"t=1", headers={**_auth(token),
                                                        "Content-Type": "text/plain"})
    assert text.status == 415

    async def chunks():  # no Content-Length: the limit must still hold
        for _ in range(40):
            yield b" " * 10_000

    chunked = await client.post(url, data=chunks(), headers=headers)
    assert chunked.status == 413


async def test_concurrent_ingest_keeps_every_reading(client, tokens):
    token = tokens["street-lights"]
    results = await asyncio.gather(*[
        post(client, "street-lights", lamp(NOW - 200 + i * 0.5), token) for i in range(40)])
    assert all(r.status == 201 for r in results)
    history = await (await client.get("/api/feeds/street-lights/readings",
                                      params={"limit": "1000"})).json()
    assert len(history["readings"]) == 40


async def test_reading_times_are_checked_against_the_apps_clock(aiohttp_client, config, tokens):
    from vrculture.server.app import create_app

    instant = 2_000_000_000.0  # 2033: the machine's own clock plays no part
    app_clock = [instant - 3600]
    client = await aiohttp_client(create_app(config, clock=lambda: app_clock[0]))
    response = await post(client, "street-lights", lamp(instant), tokens["street-lights"])
    assert response.status == 422 and "future" in (await response.json())["message"]
    app_clock[0] = instant
    response = await post(client, "street-lights", lamp(instant), tokens["street-lights"])
    assert response.status == 201, await response.text()
