"""`create_app(config)`: the aiohttp application with every part of the server wired in."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from vrculture.server import api, appkeys, feeds, forwarded, oembed, openapi, search, viewer
from vrculture.server.admin import setup_admin
from vrculture.server.config import ServerConfig
from vrculture.server.pubsub import LocalPubSub
from vrculture.server.registry import BundleRegistry
from vrculture.server.rooms import setup_rooms
from vrculture.server.security import security_headers
from vrculture.server.storage import AsyncStore

log = logging.getLogger(__name__)

WATCH_INTERVAL = web.AppKey("vrculture_watch_interval", float)
MAX_BODY_BYTES = 1 << 20  # the largest request body any route accepts (a batch of readings)


def _make_pubsub(config: ServerConfig):
    if config.redis_url:
        from vrculture.server.pubsub_redis import RedisPubSub

        return RedisPubSub(config.redis_url)
    return LocalPubSub()


def create_app(config: ServerConfig, *, watch_interval: float = 2.0) -> web.Application:
    # The forwarded-address middleware first: every other part sees the visitor's address.
    app = web.Application(middlewares=[*forwarded.middlewares(config.trusted_proxies),
                                       security_headers], client_max_size=MAX_BODY_BYTES)
    registry = BundleRegistry(config.bundles, config.data_dir)
    registry.scan()  # serve what is there from the first request on
    store = AsyncStore(config.data_dir)

    app[appkeys.CONFIG] = config
    app[appkeys.EXHIBITIONS] = registry
    app[appkeys.PUBSUB] = _make_pubsub(config)
    app[appkeys.FEED_STORE] = store
    app[appkeys.GUIDE_CODES] = store
    app[WATCH_INTERVAL] = watch_interval

    viewer.add_routes(app)
    api.add_routes(app)
    search.setup(app)
    oembed.add_routes(app)
    feeds.setup(app)
    openapi.add_routes(app)
    setup_admin(app)

    setup_rooms(app)  # after the keys above: the rooms read them

    app.cleanup_ctx.append(_background)
    return app


async def _background(app: web.Application):
    """Open the database, then keep polling the data folder for published bundles and new
    guide codes until shutdown."""
    store: AsyncStore = app[appkeys.FEED_STORE]
    registry: BundleRegistry = app[appkeys.EXHIBITIONS]
    await store.open()
    registry.notify()  # listeners (search index, feed kinds) see the initial bundles

    async def watch() -> None:
        while True:
            await asyncio.sleep(app[WATCH_INTERVAL])
            try:
                if await asyncio.to_thread(registry.scan):
                    log.info("exhibitions now: %s", ", ".join(e.id for e in registry.all()))
                    registry.notify()
                await store.refresh_guide_codes()
            except Exception:  # a watcher that dies silently would freeze the exhibitions
                log.exception("refreshing exhibitions or guide codes failed")

    task = asyncio.create_task(watch(), name="vrculture-watch")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await app[appkeys.PUBSUB].close()
    await store.close()
