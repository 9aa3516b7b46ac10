"""In-process fan-out: the default for a single server process (see keys.PubSub)."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable

from vrculture.server.keys import Subscriber

log = logging.getLogger(__name__)


async def deliver(callbacks: Iterable[Subscriber], channel: str, payload: bytes) -> None:
    """Hand a message to this process's subscribers of its channel, in order."""
    for callback in list(callbacks):
        try:
            result = callback(channel, payload)
            if inspect.isawaitable(result):
                await result
        except Exception:  # one faulty subscriber must not starve the others
            log.exception("subscriber of %s failed", channel)


class LocalPubSub:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscriber]] = defaultdict(list)

    async def publish(self, channel: str, payload: bytes) -> None:
        await deliver(self._subscribers.get(channel, ()), channel, payload)

    async def publish_local(self, channel: str, payload: bytes) -> None:
        await self.publish(channel, payload)  # one process: local is everywhere

    async def subscribe(
        self, channel: str, callback: Subscriber
    ) -> Callable[[], Awaitable[None]]:
        self._subscribers[channel].append(callback)

        async def unsubscribe() -> None:
            callbacks = self._subscribers.get(channel)
            if callbacks and callback in callbacks:
                callbacks.remove(callback)
                if not callbacks:
                    del self._subscribers[channel]

        return unsubscribe

    async def close(self) -> None:
        self._subscribers.clear()
        await asyncio.sleep(0)
