"""The studio's events carried between server processes (`serve --workers N`, through Redis).

Each process converts the uploads it finished, so a curator's page may be connected to another
process than the one converting its objects. Every event a process publishes also goes out on
the shared pub/sub channel `studio:<exhibition>`; a process that serves that exhibition's pages
follows the channel and publishes what others sent in its own hub. With one process (the
in-process pub/sub) it hears only its own events, which it ignores.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from vrculture.server.keys import PubSub
from vrculture.server.studio.progress import ProgressHub

log = logging.getLogger(__name__)

OUTBOX = 1024  # events waiting to go out; beyond, dropped (pages re-read on their next reset)
KINDS = frozenset({"queued", "converting", "done", "failed", "upload"})
MAX_PAYLOAD = 64 * 1024


def channel_of(exhibition_id: str) -> str:
    return f"studio:{exhibition_id}"


class EventRelay:
    def __init__(self, hub: ProgressHub, pubsub: PubSub) -> None:
        self.hub = hub
        self.pubsub = pubsub
        self._outbox: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(OUTBOX)
        self._followed: dict[str, Callable[[], Awaitable[None]] | None] = {}
        hub.listeners.append(self._send)

    def _send(self, exhibition_id: str, kind: str, data: dict[str, Any]) -> None:
        payload = json.dumps({"origin": self.hub.boot, "exhibition": exhibition_id,
                              "kind": kind, "data": data}, ensure_ascii=False).encode()
        try:
            self._outbox.put_nowait((channel_of(exhibition_id), payload))
        except asyncio.QueueFull:
            log.warning("studio events: the relay is behind; an event of %s was dropped",
                        exhibition_id)

    async def run(self) -> None:
        """Send the events in the order they were published (supervised: runs until shutdown)."""
        while True:
            channel, payload = await self._outbox.get()
            await self.pubsub.publish(channel, payload)

    async def follow(self, exhibition_id: str) -> None:
        """Hear the other processes' events of this exhibition from now on (once)."""
        if exhibition_id in self._followed:
            return
        self._followed[exhibition_id] = None  # before the await: a second caller returns
        self._followed[exhibition_id] = await self.pubsub.subscribe(
            channel_of(exhibition_id), self._received)

    async def _received(self, channel: str, payload: bytes) -> None:
        try:
            message = json.loads(payload) if len(payload) <= MAX_PAYLOAD else None
        except ValueError:
            message = None
        if not isinstance(message, dict) or message.get("origin") == self.hub.boot:
            return
        exhibition_id, kind, data = (message.get("exhibition"), message.get("kind"),
                                     message.get("data"))
        if not isinstance(exhibition_id, str) or channel != channel_of(exhibition_id) \
                or kind not in KINDS or not isinstance(data, dict):
            log.warning("studio events: ignored a malformed message on %s", channel)
            return
        self.hub.publish(exhibition_id, str(kind), data, relayed=True)

    async def close(self) -> None:
        for unsubscribe in self._followed.values():
            if unsubscribe is not None:
                await unsubscribe()
        self._followed.clear()
