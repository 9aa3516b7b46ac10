"""WebSocket rooms: presence, avatars, guided tours and live readings (docs/rooms-protocol.md)."""

from __future__ import annotations

from aiohttp import web

from vrculture.server import appkeys
from vrculture.server.rooms.handler import HUB, rooms_websocket
from vrculture.server.rooms.hub import RoomsHub
from vrculture.server.rooms.sync import RoomsSync


def setup_rooms(app: web.Application) -> None:
    """Add `GET /ws/rooms/{exhibition}` and start/stop the rooms' tick loop with the app."""
    app.router.add_get("/ws/rooms/{exhibition}", rooms_websocket, name="rooms")

    async def start(app: web.Application) -> None:
        config = app[appkeys.CONFIG]
        hub = RoomsHub(config.rooms, app[appkeys.EXHIBITIONS], app[appkeys.PUBSUB],
                       app.get(appkeys.FEED_STORE))
        if config.redis_url:  # other processes share these rooms
            hub.sync = RoomsSync(app[appkeys.PUBSUB])
        app[HUB] = hub
        await hub.start()

    async def stop(app: web.Application) -> None:
        hub = app.get(HUB)
        if hub is not None:
            await hub.stop()

    app.on_startup.append(start)
    # on_shutdown: close the sockets before cleanup contexts close the pub/sub and the store.
    app.on_shutdown.append(stop)


__all__ = ["setup_rooms", "HUB"]
