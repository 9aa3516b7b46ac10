"""All rooms of this process: placing visitors, the tick loop and the live readings of feeds."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from vrculture.server.config import RoomSettings
from vrculture.server.keys import ExhibitionRegistry, FeedStore, PubSub
from vrculture.server.rooms.room import Room
from vrculture.server.rooms.sync import RoomsSync
from vrculture.server.rooms.visitor import Visitor
from vrculture.server.supervision import report_failure, start_supervised

log = logging.getLogger(__name__)
ROOM_LIMIT = 2000
Unsubscribe = Callable[[], Awaitable[None]]


class RoomsHub:
    def __init__(self, settings: RoomSettings, registry: ExhibitionRegistry, pubsub: PubSub,
                 feed_store: FeedStore | None = None) -> None:
        self.settings = settings
        self.registry = registry
        self.pubsub = pubsub
        self.feed_store = feed_store
        self.rooms: dict[str, list[Room]] = {}  # exhibition id -> its rooms, in order
        self.sync: RoomsSync | None = None  # Redis scale-out; None in one process
        self._feeds: dict[str, tuple[Unsubscribe, set[str]]] = {}  # feed -> (unsub, exhibitions)
        self._exhibition_feeds: dict[str, set[str]] = {}
        self._feed_lock = asyncio.Lock()
        self._tick_task: asyncio.Task[None] | None = None
        self._flush_wanted = asyncio.Event()
        self._flush_task: asyncio.Task[None] | None = None

    # ----- lifecycle

    async def start(self) -> None:
        if self.sync is not None:
            await self.sync.start()
        self._tick_task = start_supervised("rooms-tick", self._tick_loop)
        self._flush_task = start_supervised("rooms-flush", self._flush_loop)

    async def stop(self) -> None:
        for task in (self._tick_task, self._flush_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        sockets = [v.ws for rooms in self.rooms.values() for room in rooms
                   for v in room.local_visitors() if v.ws is not None and not v.ws.closed]
        closing = [asyncio.ensure_future(ws.close(code=1001, message=b"server shutting down"))
                   for ws in sockets]
        for closer in closing:
            closer.add_done_callback(report_failure)
        if closing:  # concurrently, and without waiting long for clients that do not answer
            await asyncio.wait(closing, timeout=3.0)
        if self.sync is not None:
            await self.sync.stop()
        for unsubscribe, _ in list(self._feeds.values()):
            with contextlib.suppress(Exception):  # the broker may already be gone
                await unsubscribe()
        self._feeds.clear()

    # ----- rooms

    @property
    def capacity(self) -> int:
        # The pose bookkeeping is per pair of visitors (memory ~ 12 bytes x visitors^2): a room
        # holds at most ROOM_LIMIT whatever the setting; more visitors go to overflow rooms.
        return max(1, min(self.settings.capacity, ROOM_LIMIT))

    def manifest_of(self, exhibition: str) -> Callable[[], dict[str, Any] | None]:
        def manifest() -> dict[str, Any] | None:
            loaded = self.registry.get(exhibition)
            return loaded.manifest if loaded is not None else None

        return manifest

    def room_named(self, exhibition: str, name: str) -> Room:
        """The room with this name, created (empty) if it does not exist yet."""
        rooms = self.rooms.setdefault(exhibition, [])
        for room in rooms:
            if room.name == name:
                return room
        room = Room(exhibition, name, self.settings, self.manifest_of(exhibition))
        room.wake = self.want_flush
        rooms.append(room)
        rooms.sort(key=lambda r: room_number(exhibition, r.name))
        return room

    def place(self, exhibition: str, wanted: str | None = None,
              full: frozenset[str] = frozenset()) -> Room:
        """The asked-for room if it has space, else the first with space, else a new overflow.
        `full` names rooms found full elsewhere (other processes) that this one may not hold."""
        rooms = self.rooms.setdefault(exhibition, [])
        capacity = self.capacity
        if wanted is not None and wanted not in full:
            for room in rooms:
                if room.name == wanted and room.count < capacity:
                    return room
        for room in rooms:
            if room.count < capacity and room.name not in full:
                return room
        taken = {room_number(exhibition, r.name) for r in rooms}
        taken |= {room_number(exhibition, name) for name in full}
        number = 1
        while number in taken:
            number += 1
        return self.room_named(exhibition, exhibition if number == 1 else f"{exhibition}-{number}")

    def holds(self, room: Room) -> bool:
        """Whether this room is still live here (and linked to the other processes, if any)."""
        live = room in self.rooms.get(room.exhibition, [])
        return live and (self.sync is None or room.sync is not None)

    async def joined(self, room: Room) -> None:
        if self.sync is not None and room.sync is None:
            await self.sync.attach(room)

    async def left(self, room: Room) -> None:
        """Forget a room and its exhibition's feeds once nobody (here or elsewhere) is in it."""
        if room.local_visitors():
            return
        if self.sync is not None and room.sync is not None:
            await self.sync.detach(room)
        if room.count == 0:
            rooms = self.rooms.get(room.exhibition, [])
            if room in rooms:
                rooms.remove(room)
            if not rooms:
                self.rooms.pop(room.exhibition, None)
                await self.release_feeds(room.exhibition)

    async def end_revoked_guides(self, codes: Any) -> int:
        """Close every local guide whose code no longer verifies (`vrculture guides revoke`):
        a revoked guide loses the rights at once, not when they happen to leave. Returns how
        many were ended. The client may rejoin as a visitor."""
        ended: list[Visitor] = []
        for exhibition, rooms in list(self.rooms.items()):
            for room in list(rooms):
                for visitor in room.local_visitors():
                    code = visitor.guide_code
                    if visitor.guide and code is not None and not codes.verify(exhibition, code):
                        visitor.guide = False  # no guide action is accepted from now on
                        visitor.guide_code = None
                        ended.append(visitor)
        closing = [asyncio.ensure_future(_end_guide(v)) for v in ended if v.ws is not None]
        if closing:  # concurrently, without waiting long for clients that do not answer
            await asyncio.wait(closing, timeout=3.0)
        return len(ended)

    # ----- live readings

    def feeds_of(self, exhibition: str) -> list[str]:
        loaded = self.registry.get(exhibition)
        feeds = loaded.manifest.get("feeds", {}) if loaded is not None else {}
        return sorted(feeds) if isinstance(feeds, dict) else []

    async def use_feeds(self, exhibition: str) -> list[str]:
        """Subscribe to the exhibition's feeds (again when a republished manifest changed them)."""
        wanted = set(self.feeds_of(exhibition))
        async with self._feed_lock:
            current = self._exhibition_feeds.get(exhibition, set())
            for feed in current - wanted:
                await self._drop_feed(feed, exhibition)
            for feed in wanted - current:
                if feed not in self._feeds:
                    self._feeds[feed] = (await self._subscribe_feed(feed), set())
                self._feeds[feed][1].add(exhibition)
            self._exhibition_feeds[exhibition] = wanted
        return sorted(wanted)

    async def _subscribe_feed(self, feed: str) -> Unsubscribe:
        """The feed's readings and its goal figures (server/figures.py), one unsubscribe."""
        readings = await self.pubsub.subscribe(f"feed:{feed}", self._on_reading)
        figures = await self.pubsub.subscribe(f"figures:{feed}", self._on_reading)

        async def unsubscribe() -> None:
            await readings()
            await figures()

        return unsubscribe

    async def forget_if_unused(self, exhibition: str) -> None:
        """For a visitor who never made it into a room: drop the feeds nobody else needs."""
        if not self.rooms.get(exhibition):
            self.rooms.pop(exhibition, None)
            await self.release_feeds(exhibition)

    async def release_feeds(self, exhibition: str) -> None:
        async with self._feed_lock:
            for feed in self._exhibition_feeds.pop(exhibition, set()):
                await self._drop_feed(feed, exhibition)

    async def _drop_feed(self, feed: str, exhibition: str) -> None:
        entry = self._feeds.get(feed)
        if entry is None:
            return
        entry[1].discard(exhibition)
        if not entry[1]:
            del self._feeds[feed]
            await entry[0]()

    def subscribed_feeds(self) -> set[str]:
        return set(self._feeds)

    async def latest_readings(self, feeds: list[str]) -> dict[str, Any]:
        if self.feed_store is None or not feeds:
            return {}
        try:
            return dict(await self.feed_store.latest_readings(feeds))
        except Exception:  # a broken store must not keep visitors out of the room
            log.exception("could not read the latest readings")
            return {}

    def _on_reading(self, channel: str, payload: bytes) -> None:
        feed = channel.removeprefix("feed:").removeprefix("figures:")
        try:
            message = json.loads(payload)
            # a reading, or the feed's goal figures (server/figures.py), computed from them
            kind = "figures" if message.get("type") == "figures" else "reading"
            field, wanted = ("figures", list) if kind == "figures" else ("reading", dict)
            content = message[field]
            if not isinstance(content, wanted):
                raise TypeError(f"{field} is not a JSON {wanted.__name__}")
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("ignored a malformed message on %s", channel)
            return
        text = json.dumps({"type": kind, "feed": feed, field: content}, ensure_ascii=False)
        entry = self._feeds.get(feed)
        for exhibition in entry[1] if entry else ():
            for room in self.rooms.get(exhibition, []):
                for v in room.local_visitors():
                    v.post(text, coalesce=f"{kind}:{feed}")
        self.want_flush()

    # ----- sending

    def want_flush(self) -> None:
        self._flush_wanted.set()

    async def _flush_loop(self) -> None:
        while True:  # a pass first: after a restart, what was queued before the failure goes out
            self._flush_wanted.clear()
            for rooms in list(self.rooms.values()):
                for room in list(rooms):
                    for v in room.local_visitors():
                        if v.outbox or v.overflowed:
                            await room.flush(v)
            await self._flush_wanted.wait()

    async def _tick_loop(self) -> None:
        loop = asyncio.get_running_loop()
        period = 1.0 / self.settings.tick_hz
        due = loop.time()
        while True:
            due += period
            for rooms in list(self.rooms.values()):
                for room in list(rooms):
                    try:
                        await room.tick()
                    except Exception:  # one broken room must not stop the others' ticks
                        log.exception("tick of room %s failed", room.name)
            now = loop.time()
            if due < now - period:  # fell behind (overload): do not try to catch up in a burst
                due = now
            await asyncio.sleep(max(0.0, due - now))


GUIDE_REVOKED_CLOSE = 4001


async def _end_guide(visitor: Visitor) -> None:
    ws = visitor.ws
    if ws is None or ws.closed:
        return
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.send_str(json.dumps({"type": "error", "code": "guide_code_revoked",
                                      "message": "your guide code was revoked"}))
        await ws.close(code=GUIDE_REVOKED_CLOSE, message=b"guide_code_revoked")


def room_number(exhibition: str, name: str) -> int:
    if name == exhibition:
        return 1
    suffix = name.removeprefix(exhibition + "-")
    return int(suffix) if suffix.isdigit() else 0


__all__ = ["RoomsHub", "Visitor"]
