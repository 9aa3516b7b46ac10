"""The goal figures on the server: kept up to date as readings arrive, served and pushed.

Cost is bounded by keeping one running tally per feed (goal_figures.py) and a cursor: each
refresh reads only the readings stored after the cursor, in pages of PAGE through the store's
`readings(since=..., limit=...)`, never the whole period per visitor. A tally starts again
from the period's start (still in bounded pages) only when its period turns over (a new month
or term), when a reading arrives older than one already counted (`note_stored`), and every
REBUILD_SECONDS as a safety net (a reading another process stored while Redis was away).

A supervised task refreshes the exhibitions' goal feeds when readings were stored (at most
every MIN_INTERVAL seconds) and at least every REFRESH_SECONDS (the lamps' energy grows with
time even without a reading), and publishes changed figures on `figures:{feed}` to the rooms
of its own process. With several processes (Redis), each hears every stored reading on
`feed:{feed}` and keeps its own tallies from the shared store, so all show the same numbers.
`GET /api/feeds/{feed}/figures` answers from the same tallies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from vrculture.server import appkeys
from vrculture.server.feeds import FEED_ID, MANIFEST_FEEDS, feed_spec
from vrculture.server.goal_figures import (
    GOAL_KINDS,
    BinTally,
    FigureSettings,
    LightingTally,
    Period,
    ScreeningTally,
    period_for,
    reading_seconds,
)
from vrculture.server.jsonreply import JSONError, encode, json_reply
from vrculture.server.keys import PubSub
from vrculture.server.store_interface import DataStore
from vrculture.server.supervision import start_supervised

log = logging.getLogger(__name__)

PAGE = 1000  # readings per query
REFRESH_SECONDS = 30.0
MIN_INTERVAL = 1.0
REBUILD_SECONDS = 900.0
# A screening reading names its day, week or month; it may be sent some time after that
# period began, never (by the reading rules) before: read this far back before a term starts.
SCREENING_LOOKBACK = 31 * 86400

Tally = LightingTally | BinTally | ScreeningTally


@dataclass
class _Feed:
    kind: str
    period: Period
    tally: Tally
    cursor: float
    built_at: float
    stale: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class FigureKeeper:
    def __init__(self, store: DataStore, settings: FigureSettings,
                 clock: Callable[[], float]) -> None:
        self.store, self.settings, self.clock = store, settings, clock
        self._feeds: dict[str, _Feed] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.wanted = asyncio.Event()

    def note_stored(self, feed_id: str, readings: list[dict[str, Any]]) -> None:
        """Readings were committed: a tally that already counted past one of them starts over."""
        held = self._feeds.get(feed_id)
        if held is not None and readings and min(
                reading_seconds(r) for r in readings) <= held.cursor:
            held.stale = True
        self.wanted.set()

    def _new(self, feed_id: str, kind: str, now: float) -> _Feed:
        period = period_for(kind, now, self.settings)
        tally: Tally
        since = period.start
        if kind == "street-lighting":
            tally = LightingTally(self.settings.lamp_power_by_feed.get(feed_id), self.settings)
        elif kind == "smart-bin":
            tally = BinTally(self.settings)
        else:
            tally = ScreeningTally(period)
            since -= SCREENING_LOOKBACK
        return _Feed(kind, period, tally, round(since - 0.001, 3), now)

    async def figures(self, feed_id: str, kind: str | None) -> list[dict[str, Any]]:
        """The feed's goal figures now (none for a gauge or a feed of unknown kind)."""
        if kind is None or kind not in GOAL_KINDS:
            return []
        lock = self._locks.setdefault(feed_id, asyncio.Lock())
        async with lock:
            now = self.clock()
            held = self._feeds.get(feed_id)
            if (held is None or held.stale or held.kind != kind
                    or period_for(kind, now, self.settings).start != held.period.start
                    or now - held.built_at >= REBUILD_SECONDS):
                held = self._new(feed_id, kind, now)
                self._feeds[feed_id] = held
            await self._catch_up(feed_id, held, now)
            if held.stale:  # a late reading came in while catching up: count it next time
                self.wanted.set()
            period = period_for(kind, now, self.settings)
            if isinstance(held.tally, ScreeningTally):
                held.tally.period = period
                return [held.tally.figure()]
            return [held.tally.figure(period)]

    async def _catch_up(self, feed_id: str, held: _Feed, now: float) -> None:
        while True:
            page = await self.store.readings(feed_id, since=held.cursor, limit=PAGE)
            moved = False
            for reading in page:
                t = reading_seconds(reading)
                if t > now:  # readings may run a few minutes ahead: they count when due
                    return
                if not held.tally.add(t, reading):
                    held.stale = True
                if t > held.cursor:
                    held.cursor, moved = t, True
            if len(page) < PAGE or not moved:
                return

    def note_heard(self, channel: str, payload: bytes) -> None:
        """A reading on `feed:{id}`: stored by any server process sharing the store, this one
        included. Without it, a late reading stored by another process left this one's tally
        wrong until the next rebuild (REBUILD_SECONDS)."""
        feed_id = channel.removeprefix("feed:")
        try:
            reading = json.loads(payload)["reading"]
            if not isinstance(reading, dict):
                raise TypeError("reading is not a JSON object")
            reading_seconds(reading)
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError):
            log.warning("ignored a malformed message on %s", channel)
            return
        self.note_stored(feed_id, [reading])

    async def run(self, goal_feeds: Callable[[], dict[str, str]], pubsub: PubSub) -> None:
        """Refresh and push until cancelled (run it supervised). Every process keeps its own
        tallies from the shared store and pushes its figures to its own visitors only
        (`publish_local`): through Redis, each visitor would get every change once per
        process."""
        published: dict[str, list[dict[str, Any]]] = {}
        heard: dict[str, Callable[[], Awaitable[None]]] = {}
        try:
            while True:
                self.wanted.clear()  # what is stored from here on gets the next round
                feeds = goal_feeds()
                await self._hear(pubsub, set(feeds) | self._feeds.keys(), heard)
                for feed_id, kind in feeds.items():
                    figures = await self.figures(feed_id, kind)
                    if figures and figures != published.get(feed_id):
                        published[feed_id] = figures
                        message = {"type": "figures", "feed": feed_id, "figures": figures}
                        await pubsub.publish_local(f"figures:{feed_id}", encode(message))
                await asyncio.sleep(MIN_INTERVAL)  # readings arriving in a burst: one refresh
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wanted.wait(), REFRESH_SECONDS - MIN_INTERVAL)
        finally:
            for unsubscribe in heard.values():
                with contextlib.suppress(Exception):  # shutting down: the bus may be gone
                    await unsubscribe()

    async def _hear(self, pubsub: PubSub, feeds: set[str],
                    heard: dict[str, Callable[[], Awaitable[None]]]) -> None:
        """Listen to the readings of the current goal feeds and of those with a tally here (the
        figures API serves any goal feed), and of no other."""
        for feed_id in sorted(heard.keys() - feeds):
            await heard.pop(feed_id)()
        for feed_id in sorted(feeds - heard.keys()):
            heard[feed_id] = await pubsub.subscribe(f"feed:{feed_id}", self.note_heard)


FIGURES = web.AppKey("vrculture_figures", FigureKeeper)


def _goal_feeds(app: web.Application) -> dict[str, str]:
    """The goal feeds of the published exhibitions, by their kind there."""
    return {feed: spec.kind for feed, (_, spec) in sorted(app[MANIFEST_FEEDS].items())
            if spec.kind in GOAL_KINDS}


async def get_figures(request: web.Request) -> web.Response:
    feed_id = request.match_info["feed"]
    if not FEED_ID.fullmatch(feed_id):
        raise JSONError(404, "unknown_feed", "feed ids are 1-64 of a-z, 0-9, '_' and '-'")
    store = request.app[appkeys.FEED_STORE]
    feed = await store.feed(feed_id)
    spec = feed_spec(request.app, feed_id, feed)
    if feed is None and spec is None:
        raise JSONError(404, "unknown_feed", f"no feed {feed_id!r}")
    figures = await request.app[FIGURES].figures(feed_id, spec.kind if spec else None)
    return json_reply(request, {"feed": feed_id, "kind": spec.kind if spec else None,
                                "figures": figures}, etag=False)


def setup(app: web.Application) -> None:
    """After feeds.setup and after the cleanup context that opens the store: the keeper's task
    starts once the store is open and stops before it closes."""
    keeper = FigureKeeper(app[appkeys.FEED_STORE], app[appkeys.CONFIG].figures,
                          app[appkeys.CLOCK])
    app[FIGURES] = keeper
    app[appkeys.READINGS_STORED].append(keeper.note_stored)

    async def background(app: web.Application) -> AsyncIterator[None]:
        task = start_supervised("vrculture-figures", lambda: keeper.run(
            lambda: _goal_feeds(app), app[appkeys.PUBSUB]))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(background)
    app.router.add_get("/api/feeds/{feed}/figures", get_figures, name="feed_figures")
