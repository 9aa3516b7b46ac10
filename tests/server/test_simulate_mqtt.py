"""`vrculture simulate --mqtt`: the demo's sensors as ChirpStack uplinks through a real Mosquitto
(started on a free port as in test_mqtt_bridge.py) into the server's history."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from vrculture.cli.simulate import _simulate
from vrculture.cli.simulate_mqtt import chirpstack_uplink, uplink_topic
from vrculture.server.app import create_app
from vrculture.server.config import ServerConfig
from vrculture.server.mqtt_bridge import MQTT_BRIDGE
from vrculture.server.mqtt_decode import decode
from vrculture.server.mqtt_settings import MqttFeed

from .test_mqtt_bridge import PASSWORD, USER, Broker, broker, pytestmark, until  # noqa: F401

DEMO_FEEDS = ("street-lights", "bins", "temperature")  # the conftest bundle's feeds
NOW = datetime(2026, 12, 7, 7, 10, tzinfo=ZoneInfo("Europe/Stockholm")).timestamp()


def _feed(feed: str) -> MqttFeed:
    # The replay runs hours in a second: the flood limit is the demo's, set high.
    return MqttFeed(feed, uplink_topic(feed), "chirpstack", max_per_second=100_000,
                    burst=100_000)


def test_an_uplink_decodes_back_to_the_reading() -> None:
    reading = {"t": NOW, "lamp": "lamp-2", "presence": True, "level": 100.0}
    payload = json.dumps(chirpstack_uplink("street-lights", reading)).encode()
    decoded = decode(payload, _feed("street-lights"))
    assert decoded.pop("t") == datetime.fromtimestamp(NOW, ZoneInfo("UTC")).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")
    assert decoded == {"lamp": "lamp-2", "presence": True, "level": 100.0}


async def test_simulated_uplinks_reach_the_history_of_every_feed(
    aiohttp_client: Any, config: ServerConfig, broker: Broker, tmp_path: Path  # noqa: F811
) -> None:
    config.mqtt = broker.settings([_feed(f) for f in DEMO_FEEDS])
    client = await aiohttp_client(create_app(config, watch_interval=0.2, clock=lambda: NOW))
    await asyncio.wait_for(client.app[MQTT_BRIDGE].subscribed.wait(), 15)
    mqtt_url = f"mqtt://{quote(USER)}:{quote(PASSWORD)}@127.0.0.1:{broker.port}"
    args = argparse.Namespace(
        url=str(client.make_url("")).rstrip("/"), duration=1.5, speed=3600 * 16, token=[],
        data=config.data_dir, exhibition=[], seed=7, insecure=False, mqtt=mqtt_url)
    assert await _simulate(args, clock=lambda: NOW) == 0
    stats = client.app[MQTT_BRIDGE].stats
    # Every published uplink was acknowledged by the broker; wait until the bridge stored them.
    await until(lambda: all(stats.get(f, {}).get("stored", 0) > 0 for f in DEMO_FEEDS))
    for feed in DEMO_FEEDS:
        history = await (await client.get(f"/api/feeds/{feed}/readings")).json()
        assert history["readings"], feed
        newest = max(datetime.fromisoformat(r["t"]) for r in history["readings"])
        assert newest.timestamp() <= NOW + args.duration + 0.01
    refusals = ("too_large", "limited", "unreadable")
    assert not any(counts[r] for counts in stats.values() for r in refusals), stats
