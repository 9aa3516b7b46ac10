"""NGSI-LD notifications from a FIWARE context broker, as readings of a feed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fixed_clock import FakeClock

from vrculture.server import appkeys
from vrculture.server.app import create_app
from vrculture.server.config import ServerConfig
from vrculture.server.settings import ConfigError, load_config
from vrculture.server.storage import Store

NOW = 1_790_000_000.0  # 2026-09-21T14:13:20Z, the server's injected clock
CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"


@pytest.fixture
async def server(aiohttp_client: Any, config: ServerConfig) -> Any:
    config.ngsi_ld = {"lights": {"lamp": "id", "presence": "presence", "level":
                                 "illuminanceLevel", "power_w": "powerConsumption"}}
    store = Store.open(config.data_dir, clock=FakeClock(NOW))
    tokens = {"lights": store.add_feed("lights", kind="street-lighting"),
              "bins": store.add_feed("bins", kind="smart-bin")}
    store.close()
    client = await aiohttp_client(create_app(config, watch_interval=60, clock=lambda: NOW))
    client.tokens = tokens
    return client


def streetlight(lamp: str, observed: str, level: Any = 80) -> dict[str, Any]:
    """An entity as Orion-LD notifies it in the normalized format."""
    return {"id": f"urn:ngsi-ld:Streetlight:{lamp}", "type": "Streetlight",
            "presence": {"type": "Property", "value": True, "observedAt": observed},
            "illuminanceLevel": {"type": "Property", "value": level, "observedAt": observed},
            "powerConsumption": {"type": "Property", "value": 24.5, "unitCode": "WTT",
                                 "observedAt": observed},
            "refStreetlightGroup": {"type": "Relationship",
                                    "object": "urn:ngsi-ld:StreetlightGroup:harbour"}}


def notification(*entities: Any, notified: str = "2026-09-21T14:13:00Z") -> dict[str, Any]:
    return {"id": "urn:ngsi-ld:Notification:5f3c", "type": "Notification",
            "subscriptionId": "urn:ngsi-ld:Subscription:museum-lights",
            "notifiedAt": notified, "data": list(entities)}


async def notify(client: Any, feed: str, body: Any, token: str | None = None,
                 content_type: str = "application/json") -> Any:
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return await client.post(f"/api/ngsi-ld/notify/{feed}", data=json.dumps(body),
                             headers=headers)


async def test_normalized_entities_become_readings_in_history_and_rooms(server: Any) -> None:
    received: list[dict] = []
    await server.app[appkeys.PUBSUB].subscribe(
        "feed:lights", lambda _channel, data: received.append(json.loads(data)))
    body = notification(streetlight("L1", "2026-09-21T14:10:00Z"),
                        streetlight("L2", "2026-09-21T14:11:00.250Z", level=40))
    response = await notify(server, "lights", body, server.tokens["lights"])
    assert response.status == 201, await response.text()
    assert await response.json() == {"stored": 2, "duplicates": 0}
    history = await (await server.get("/api/feeds/lights/readings")).json()
    assert [(r["lamp"], r["level"], r["t"]) for r in history["readings"]] == [
        ("urn:ngsi-ld:Streetlight:L1", 80, "2026-09-21T14:10:00.000Z"),
        ("urn:ngsi-ld:Streetlight:L2", 40, "2026-09-21T14:11:00.250Z"),
    ]
    assert [m["reading"]["lamp"] for m in received] == ["urn:ngsi-ld:Streetlight:L1",
                                                       "urn:ngsi-ld:Streetlight:L2"]
    again = await notify(server, "lights", body, server.tokens["lights"],
                         content_type="application/ld+json")
    assert again.status == 200
    assert await again.json() == {"stored": 0, "duplicates": 2}


async def test_key_values_without_a_mapping_take_attributes_by_name(server: Any) -> None:
    entity = {"id": "urn:ngsi-ld:WasteContainer:B7", "type": "WasteContainer",
              "@context": CONTEXT, "bin": "B7", "fill_pct": 62.5, "compactions": 3,
              "emptied": False}
    response = await notify(server, "bins", notification(entity), server.tokens["bins"])
    assert response.status == 201, await response.text()
    history = await (await server.get("/api/feeds/bins/readings")).json()
    assert history["readings"][0]["t"] == "2026-09-21T14:13:00.000Z"  # notifiedAt
    assert history["readings"][0]["fill_pct"] == 62.5


async def test_only_the_feeds_own_token_is_accepted(server: Any) -> None:
    body = notification(streetlight("L1", "2026-09-21T14:10:00Z"))
    assert (await notify(server, "lights", body)).status == 401
    assert (await notify(server, "lights", body, "vrf_wrong")).status == 401
    assert (await notify(server, "lights", body, server.tokens["bins"])).status == 401
    assert (await notify(server, "Lights!", body, server.tokens["lights"])).status == 404
    history = await (await server.get("/api/feeds/lights/readings")).json()
    assert history["readings"] == []


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"type": "Notification"}, 422, "data"),
    ({"data": []}, 422, "data"),
    ({"data": "L1"}, 422, "data"),
    (notification("L1"), 422, "data"),
    (notification(streetlight("L1", "2026-09-21T14:10:00Z", level="bright")), 422, "level"),
    (notification({"id": "urn:x", "presence": True}), 422, "level"),  # mapped, missing
    (notification(streetlight("L1", "2036-01-01T00:00:00Z")), 422, "t"),  # in the future
    ({"data": [{"id": "urn:x"}] * 1001}, 413, "data"),
])
async def test_bad_notifications_are_refused_and_nothing_is_stored(
    server: Any, body: Any, status: int, field: str
) -> None:
    response = await notify(server, "lights", body, server.tokens["lights"])
    assert response.status == status, await response.text()
    assert (await response.json())["field"] == field
    history = await (await server.get("/api/feeds/lights/readings")).json()
    assert history["readings"] == []


async def test_a_notification_must_be_json(server: Any) -> None:
    response = await notify(server, "lights", {"data": []}, server.tokens["lights"],
                            content_type="text/plain")
    assert response.status == 415


@pytest.mark.parametrize("table", [
    '[ngsi_ld]\ncolour = "red"\n',
    '[ngsi_ld.feeds.Lights]\nlamp = "id"\n',
    '[ngsi_ld.feeds.lights]\nlamp = 3\n',
    '[ngsi_ld.feeds.lights]\n"lamp id" = "id"\n',
    '[ngsi_ld.feeds.lights]\n',
])
def test_bad_ngsi_ld_settings_are_refused(tmp_path: Path, table: str) -> None:
    path = tmp_path / "vr.toml"
    path.write_text(table)
    with pytest.raises(ConfigError, match="ngsi_ld"):
        load_config(path, environ={})


def test_ngsi_ld_settings_are_read(tmp_path: Path) -> None:
    path = tmp_path / "vr.toml"
    path.write_text('[ngsi_ld.feeds.lights]\nlamp = "id"\nlevel = "illuminanceLevel.value"\n')
    assert load_config(path, environ={}).ngsi_ld == {
        "lights": {"lamp": "id", "level": "illuminanceLevel.value"}}
