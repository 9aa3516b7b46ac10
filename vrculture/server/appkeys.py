"""The aiohttp application's typed keys: what `app[KEY]` holds, checked by the type checker.

Kept apart from `keys` (the protocols the server's sides share) because these name concrete
classes, and `registry` itself imports `keys`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from vrculture.server.config import ServerConfig
from vrculture.server.keys import GuideCodes, PubSub
from vrculture.server.registry import BundleRegistry
from vrculture.server.store_interface import DataStore

CONFIG = web.AppKey("vrculture_config", ServerConfig)
EXHIBITIONS = web.AppKey("vrculture_exhibitions", BundleRegistry)
PUBSUB = web.AppKey("vrculture_pubsub", PubSub)
FEED_STORE = web.AppKey("vrculture_feed_store", DataStore)
GUIDE_CODES = web.AppKey("vrculture_guide_codes", GuideCodes)
# The wall clock (epoch seconds): readings are checked against it, the store stamps its writes
# with it, sessions and figures run on it. Injectable (create_app(clock=...)) for tests.
CLOCK: web.AppKey[Callable[[], float]] = web.AppKey("vrculture_clock")
# The MQTT bridge's state for the curator's health details (set only when [mqtt] is configured).
MQTT_REPORT: web.AppKey[Callable[[], dict[str, Any]]] = web.AppKey("vrculture_mqtt_report")
# Called with (feed id, the newly stored readings) after each commit, by every ingest path.
READINGS_STORED: web.AppKey[list[Callable[[str, list[dict[str, Any]]], None]]] = web.AppKey(
    "vrculture_readings_stored")
