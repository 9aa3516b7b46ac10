"""`vrculture serve` from a plain `pip install vrculture` (no `mqtt` extra, so no paho-mqtt):
the server starts and answers when the settings have no [mqtt] table. It once failed at
start-up, importing the MQTT bridge to ask whether a bridge was configured."""

from __future__ import annotations

import sys

import pytest

from vrculture.cli import EXIT_USAGE, main
from vrculture.server.app import create_app

from .serve_process import logging_restored


@pytest.fixture
def without_paho(monkeypatch):
    """paho-mqtt not installed: `import paho...` raises ImportError, as in a fresh venv."""
    for name in list(sys.modules):
        if name == "paho" or name.startswith("paho.") or name == "vrculture.server.mqtt_bridge":
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "paho", None)


async def test_serves_without_the_mqtt_extra(without_paho, aiohttp_client, config, clock):
    assert config.mqtt is None
    client = await aiohttp_client(create_app(config, watch_interval=0.2, clock=clock))
    response = await client.get("/healthz")
    assert response.status == 200


def test_simulate_over_mqtt_without_the_extra_says_what_to_install(without_paho, tmp_path,
                                                                     capsys):
    """`vrculture simulate --mqtt` needs paho-mqtt too: a usage error naming the extra, before
    anything is sent, instead of a ModuleNotFoundError traceback."""
    code = main(["simulate", "--url", "http://127.0.0.1:9", "--data", str(tmp_path),
                 "--duration", "1", "--mqtt", "mqtt://127.0.0.1:1883"])
    assert code == EXIT_USAGE
    assert "pip install 'vrculture[mqtt]'" in capsys.readouterr().err


@pytest.fixture
def without_redis(monkeypatch):
    for name in list(sys.modules):
        if name == "redis" or name.startswith("redis."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "redis", None)


@pytest.fixture(name="logging_restored")
def _logging_restored():
    with logging_restored():
        yield


def test_serve_with_redis_url_without_the_extra_says_what_to_install(
        without_redis, logging_restored, tmp_path, bundle, capsys):
    code = main(["serve", str(bundle), "--port", "0", "--data", str(tmp_path / "data"),
                 "--redis-url", "redis://127.0.0.1:9/0"])
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "pip install 'vrculture[redis]'" in err
    assert "exhibition(s) on" not in err
