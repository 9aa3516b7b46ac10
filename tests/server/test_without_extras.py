"""`vrculture serve` from a plain `pip install vrculture` (no `mqtt` extra, so no paho-mqtt):
the server starts and answers when the settings have no [mqtt] table. It once failed at
start-up, importing the MQTT bridge to ask whether a bridge was configured."""

from __future__ import annotations

import logging
import sys

import pytest

from vrculture.cli import EXIT_USAGE, main
from vrculture.server.app import create_app
from vrculture.server.connections import RepeatFilter


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


@pytest.fixture
def logging_restored():
    """`serve` run in this process configures logging for good (as in test_cli.py): undo it."""
    access = logging.getLogger("aiohttp.access")
    level = access.level
    yield
    access.setLevel(level)
    for handler in logging.getLogger().handlers:
        for repeat in [f for f in handler.filters if isinstance(f, RepeatFilter)]:
            handler.removeFilter(repeat)


def test_serve_with_redis_url_without_the_extra_says_what_to_install(
        without_redis, logging_restored, tmp_path, bundle, capsys):
    code = main(["serve", str(bundle), "--port", "0", "--data", str(tmp_path / "data"),
                 "--redis-url", "redis://127.0.0.1:9/0"])
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "pip install 'vrculture[redis]'" in err
    assert "exhibition(s) on" not in err
