"""Live progress of a studio exhibition's uploads and conversions, as server-sent events.

One `ProgressHub` per application keeps, per exhibition, a bounded ring of recent events and
the latest state of each object. A browser subscribes with `GET .../events`
(`text/event-stream`); after a dropped connection it reconnects with `Last-Event-ID` and gets
the events it missed, as long as they are still in the ring. Event ids are
`<boot>-<n>`: `boot` changes when the server restarts, so an id from before a restart (or one
that fell out of the ring) makes the reply start with a `reset` event (the page re-reads the
state) followed by what the ring holds.

A subscriber that reads too slowly is dropped rather than buffered without bound; its browser
reconnects and resumes from its last id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from vrculture.server.studio.store import replace_file

log = logging.getLogger(__name__)

RING_SIZE = 512  # events kept per exhibition for Last-Event-ID resume
SUBSCRIBER_BACKLOG = 256  # events queued for one slow subscriber before it is dropped
HEARTBEAT_SECONDS = 15.0  # a comment line keeps proxies from closing an idle stream
RETRY_MS = 2000  # how soon a browser's EventSource reconnects
_EVENT_ID = re.compile(r"([0-9a-f]{8})-([0-9]{1,18})")
_FILE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # a collection id: a safe file name


@dataclass(frozen=True)
class Event:
    number: int
    kind: str  # "upload", "queued", "converting", "done", "failed", "reset"
    data: dict[str, Any]

    def encode(self, boot: str) -> bytes:
        payload = json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))
        return f"id: {boot}-{self.number}\nevent: {self.kind}\ndata: {payload}\n\n".encode()


@dataclass
class _Channel:
    ring: deque[Event] = field(default_factory=lambda: deque(maxlen=RING_SIZE))
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)  # object id -> last event
    subscribers: set[asyncio.Queue[Event | None]] = field(default_factory=set)
    counter: int = 0


class ProgressHub:
    """Publishes events per exhibition to its subscribers and remembers recent ones. With
    `states_root`, each object's latest event is also kept in a file there (what a page that
    opens later, a restarted server, or another server process reads)."""

    def __init__(self, boot: str | None = None, *, states_root: Path | None = None) -> None:
        self.boot = boot or secrets.token_hex(4)
        self.states_root = states_root
        self._channels: dict[str, _Channel] = {}
        # Told of every event published by this process (not of relayed ones): see relay.
        self.listeners: list[Callable[[str, str, dict[str, Any]], None]] = []

    def _channel(self, exhibition_id: str) -> _Channel:
        return self._channels.setdefault(exhibition_id, _Channel())

    def publish(self, exhibition_id: str, kind: str, data: dict[str, Any], *,
                relayed: bool = False) -> Event:
        """Publish an event; `relayed`: it comes from another server process, which has
        already recorded it and told the others."""
        channel = self._channel(exhibition_id)
        channel.counter += 1
        event = Event(channel.counter, kind, data)
        channel.ring.append(event)
        object_id = data.get("object")
        if isinstance(object_id, str):
            latest = {"event": kind, **data}
            channel.latest[object_id] = latest
            if not relayed:
                self._save_state(exhibition_id, object_id, latest)
        for queue in list(channel.subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:  # too slow: drop it, its browser resumes by id
                channel.subscribers.discard(queue)
                _close(queue)
        if not relayed:
            for listener in self.listeners:
                listener(exhibition_id, kind, data)
        return event

    def _save_state(self, exhibition_id: str, object_id: str, latest: dict[str, Any]) -> None:
        if self.states_root is None or not _FILE_ID.fullmatch(object_id):
            return
        try:
            folder = self.states_root / exhibition_id
            folder.mkdir(parents=True, exist_ok=True)
            replace_file(folder / f"{object_id}.json",
                         json.dumps(latest, ensure_ascii=False).encode())
        except OSError as error:  # the live event still goes out; a reload may miss it
            log.warning("could not record the state of %s/%s: %s", exhibition_id, object_id,
                        error)

    def states(self, exhibition_id: str) -> dict[str, dict[str, Any]]:
        """The latest event of each object of the exhibition (for a page that just opened).
        Blocking when kept in files."""
        if self.states_root is None:
            return dict(self._channel(exhibition_id).latest)
        found: dict[str, dict[str, Any]] = {}
        folder = self.states_root / exhibition_id
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                state = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(state, dict):
                found[path.stem] = state
        return found

    def missed(self, exhibition_id: str, last_event_id: str | None) -> list[Event]:
        """The events after `last_event_id`, preceded by a `reset` when some may be lost."""
        ring = list(self._channel(exhibition_id).ring)
        if last_event_id is None:
            return []
        match = _EVENT_ID.fullmatch(last_event_id.strip())
        if match and match.group(1) == self.boot:
            number = int(match.group(2))
            if not ring or ring[0].number <= number + 1:
                return [event for event in ring if event.number > number]
        return [Event(ring[0].number - 1 if ring else 0, "reset", {}), *ring]

    def subscribe(self, exhibition_id: str) -> asyncio.Queue[Event | None]:
        queue: asyncio.Queue[Event | None] = asyncio.Queue(SUBSCRIBER_BACKLOG)
        self._channel(exhibition_id).subscribers.add(queue)
        return queue

    def unsubscribe(self, exhibition_id: str, queue: asyncio.Queue[Event | None]) -> None:
        self._channel(exhibition_id).subscribers.discard(queue)

    def close_all(self) -> None:
        """End every stream (at shutdown, so their handlers return)."""
        for channel in self._channels.values():
            for queue in channel.subscribers:
                _close(queue)
            channel.subscribers.clear()


def _close(queue: asyncio.Queue[Event | None]) -> None:
    """Tell the subscriber's handler to end its stream, even when its queue is full."""
    while True:
        try:
            queue.put_nowait(None)
            return
        except asyncio.QueueFull:
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()


async def _events(queue: asyncio.Queue[Event | None],
                  heartbeat: float) -> AsyncIterator[Event | None]:
    """The subscriber's events; None for a heartbeat. Ends when the hub closes the queue."""
    while True:
        try:
            async with asyncio.timeout(heartbeat):
                event = await queue.get()
        except TimeoutError:
            yield None
            continue
        if event is None:
            return
        yield event


async def stream_events(request: web.Request, hub: ProgressHub, exhibition_id: str, *,
                        heartbeat: float = HEARTBEAT_SECONDS) -> web.StreamResponse:
    """Answer `request` with the exhibition's events as `text/event-stream` until the client
    goes away or the server shuts down."""
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",  # nginx: pass each event on at once
    })
    # Subscribe before replaying, so nothing published in between is lost.
    queue = hub.subscribe(exhibition_id)
    try:
        await response.prepare(request)
        await response.write(f"retry: {RETRY_MS}\n\n".encode())
        sent = 0
        for event in hub.missed(exhibition_id, request.headers.get("Last-Event-ID")):
            await response.write(event.encode(hub.boot))
            sent = max(sent, event.number)
        async for item in _events(queue, heartbeat):
            if item is None:
                await response.write(b": keep-alive\n\n")
            elif item.number > sent:  # not already replayed
                await response.write(item.encode(hub.boot))
    except ConnectionResetError:
        pass  # the browser closed the page; nothing is left to answer
    finally:
        hub.unsubscribe(exhibition_id, queue)
    return response
