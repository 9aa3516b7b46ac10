"""Redis pub/sub behind the keys.PubSub interface: several server processes share rooms and feeds.

One connection publishes; one pub/sub connection carries every subscription of this process and
a reader task hands each message to the local subscribers of its channel. redis-py resubscribes
by itself after a reconnect; while Redis is away, publishes fail (logged) and the rooms of this
process go on working for its own visitors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable

import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from vrculture.server.keys import Subscriber
from vrculture.server.pubsub import deliver
from vrculture.server.supervision import start_supervised

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0


class RedisPubSub:
    def __init__(self, url: str) -> None:
        self._redis = redis.from_url(url)
        self._pubsub = self._redis.pubsub()
        self._subscribers: dict[str, list[Subscriber]] = defaultdict(list)
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def publish(self, channel: str, payload: bytes) -> None:
        try:
            await self._redis.publish(channel, payload)
        except RedisError as exc:  # never the URL: it may hold a password
            log.warning("publishing on %s failed: %s", channel, type(exc).__name__)

    async def publish_local(self, channel: str, payload: bytes) -> None:
        await self._deliver(channel, payload)

    async def subscribe(
        self, channel: str, callback: Subscriber
    ) -> Callable[[], Awaitable[None]]:
        async with self._lock:
            first = channel not in self._subscribers
            self._subscribers[channel].append(callback)
            if first:
                await self._pubsub.subscribe(channel)
            if self._reader is None:
                self._reader = start_supervised("redis-pubsub-reader", self._read)

        async def unsubscribe() -> None:
            async with self._lock:
                callbacks = self._subscribers.get(channel)
                if not callbacks or callback not in callbacks:
                    return
                callbacks.remove(callback)
                if not callbacks:
                    del self._subscribers[channel]
                    with contextlib.suppress(RedisError):
                        await self._pubsub.unsubscribe(channel)

        return unsubscribe

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except asyncio.CancelledError:
                raise
            except (RedisConnectionError, OSError, RuntimeError) as exc:
                log.warning("redis pub/sub connection lost (%s); retrying", type(exc).__name__)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"]
            if isinstance(channel, bytes):
                channel = channel.decode("utf-8", "replace")
            await self._deliver(channel, message["data"])

    async def _deliver(self, channel: str, payload: bytes) -> None:
        await deliver(self._subscribers.get(channel, ()), channel, payload)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        self._subscribers.clear()
        with contextlib.suppress(RedisError, OSError):
            await self._pubsub.aclose()
        with contextlib.suppress(RedisError, OSError):
            await self._redis.aclose()
