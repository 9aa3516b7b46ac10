"""`create_app(config)`: the aiohttp application with every part of the server wired in."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from aiohttp import web

from vrculture.server import api, appkeys, feeds, forwarded, oembed, openapi, search, viewer
from vrculture.server.admin import setup_admin
from vrculture.server.config import ServerConfig
from vrculture.server.expect import use_expect_continue
from vrculture.server.figures import setup as setup_figures
from vrculture.server.labels import add_routes as add_label_routes
from vrculture.server.ngsi_ld import add_routes as add_ngsi_ld_routes
from vrculture.server.pubsub import LocalPubSub
from vrculture.server.registry import BundleRegistry
from vrculture.server.rooms import HUB, setup_rooms
from vrculture.server.security import (
    ALLOWED_HOSTS,
    allowed_hosts,
    known_hosts_only,
    security_headers,
)
from vrculture.server.store_choice import server_store
from vrculture.server.store_interface import DataStore
from vrculture.server.studio.routes import setup_studio
from vrculture.server.supervision import start_supervised

log = logging.getLogger(__name__)

WATCH_INTERVAL = web.AppKey("vrculture_watch_interval", float)
MAX_BODY_BYTES = 1 << 20  # the largest request body any route accepts (a batch of readings)


def _make_pubsub(config: ServerConfig):
    if config.redis_url:
        from vrculture.server.pubsub_redis import RedisPubSub

        return RedisPubSub(config.redis_url)
    return LocalPubSub()


def create_app(config: ServerConfig, *, watch_interval: float = 2.0,
               clock: Callable[[], float] = time.time) -> web.Application:
    # keepalive_timeout doubles as the request-head timeout: aiohttp closes a connection that
    # has not delivered a complete request head that long after it opened (or after the last
    # response), so half-sent requests (slowloris) are not held for minutes.
    # The forwarded-address middleware first: every other part sees the visitor's address.
    app = web.Application(middlewares=[*forwarded.middlewares(config.trusted_proxies),
                                       known_hosts_only, security_headers],
                          client_max_size=MAX_BODY_BYTES,
                          handler_args={"keepalive_timeout": config.header_timeout})
    registry = BundleRegistry(config.bundles, config.data_dir)
    registry.scan()  # serve what is there from the first request on
    store = server_store(config, clock)  # SQLite in data_dir, or PostgreSQL with `database`

    app[appkeys.CONFIG] = config
    app[ALLOWED_HOSTS] = allowed_hosts(config)
    app[appkeys.EXHIBITIONS] = registry
    app[appkeys.PUBSUB] = _make_pubsub(config)
    app[appkeys.FEED_STORE] = store
    app[appkeys.GUIDE_CODES] = store
    app[WATCH_INTERVAL] = watch_interval
    app[appkeys.CLOCK] = clock

    viewer.add_routes(app)
    add_label_routes(app)
    api.add_routes(app)
    search.setup(app)
    oembed.add_routes(app)
    feeds.setup(app)
    add_ngsi_ld_routes(app)
    openapi.add_routes(app)
    setup_admin(app)
    setup_studio(app)
    _add_mqtt_bridge(app, config)

    setup_rooms(app)  # after the keys above: the rooms read them
    use_expect_continue(app)  # after every route

    app.cleanup_ctx.append(_background)
    setup_figures(app)  # after _background: its task runs while the store is open
    return app


async def _background(app: web.Application):
    """Open the database, then keep polling the data folder for published bundles and new
    guide codes until shutdown."""
    store: DataStore = app[appkeys.FEED_STORE]
    registry: BundleRegistry = app[appkeys.EXHIBITIONS]
    await store.open()
    registry.notify()  # listeners (search index, feed kinds) see the initial bundles

    async def watch() -> None:  # supervised: a failure is logged and the watch restarted
        while True:
            await asyncio.sleep(app[WATCH_INTERVAL])
            if await asyncio.to_thread(registry.scan):
                log.info("exhibitions now: %s", ", ".join(e.id for e in registry.all()))
                registry.notify()
            await store.refresh_guide_codes()
            if HUB in app:  # a revoked guide code ends its guide's rights at once
                await app[HUB].end_revoked_guides(store)

    task = start_supervised("vrculture-watch", watch)
    bridge_task = _start_mqtt_bridge(app)
    yield
    for background in (bridge_task, task):
        if background is None:
            continue
        background.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await background
    await app[appkeys.PUBSUB].close()
    await store.close()
    registry.close()  # its versions may be pruned by the next publish


def _add_mqtt_bridge(app: web.Application, config: ServerConfig) -> None:
    """The MQTT bridge, when [mqtt] is configured (paho-mqtt comes with the `mqtt` extra)."""
    if config.mqtt is None:
        return
    from vrculture.server.mqtt_bridge import MQTT_BRIDGE, MqttBridge

    bridge = MqttBridge(app, config.mqtt, app[appkeys.CLOCK])
    app[MQTT_BRIDGE] = bridge
    app[appkeys.MQTT_REPORT] = bridge.report


def _start_mqtt_bridge(app: web.Application) -> asyncio.Task[None] | None:
    if app[appkeys.CONFIG].mqtt is None:  # the bridge module needs paho (the `mqtt` extra)
        return None
    from vrculture.server.mqtt_bridge import MQTT_BRIDGE

    return app[MQTT_BRIDGE].start() if MQTT_BRIDGE in app else None
