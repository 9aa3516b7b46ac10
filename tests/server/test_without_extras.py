"""`vrculture serve` from a plain `pip install vrculture` (no `mqtt` extra, so no paho-mqtt):
the server starts and answers when the settings have no [mqtt] table. It once failed at
start-up, importing the MQTT bridge to ask whether a bridge was configured."""

from __future__ import annotations

import sys

import pytest

from vrculture.server.app import create_app


@pytest.fixture
def without_paho(monkeypatch):
    """paho-mqtt not installed: `import paho...` raises ImportError, as in a fresh venv."""
    for name in list(sys.modules):
        if name == "paho" or name.startswith("paho.") or name == "vrculture.server.mqtt_bridge":
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "paho", None)


async def test_serves_without_the_mqtt_extra(without_paho, aiohttp_client, config):
    assert config.mqtt is None
    client = await aiohttp_client(create_app(config, watch_interval=0.2))
    response = await client.get("/healthz")
    assert response.status == 200
