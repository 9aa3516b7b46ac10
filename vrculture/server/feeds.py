"""Sensor feeds over HTTP: ingest (per-feed bearer token), history, live fan-out.

A feed's kind comes from `vrculture feeds add FEED --kind ...` or, when not given there, from
the `feeds` map of the published exhibition that lists it. A reading is committed to SQLite
before the reply; only then is it published on `feed:{id}` for the rooms.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from aiohttp import web

from vrculture.server import appkeys
from vrculture.server.bodies import read_json
from vrculture.server.jsonreply import JSONError, encode, json_reply
from vrculture.server.keys import LoadedExhibition
from vrculture.server.params import whole_number
from vrculture.server.readings import FeedSpec, ReadingError, validate_reading
from vrculture.server.registry import BundleRegistry
from vrculture.server.security import bearer_token
from vrculture.server.storage import Feed
from vrculture.server.store_interface import DataStore

FEED_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_BODY_BYTES = 256 * 1024
MAX_BATCH = 1000
DEFAULT_HISTORY = 100
MAX_HISTORY = 1000

MANIFEST_FEEDS = web.AppKey("vrculture_manifest_feeds", dict)  # feed id -> (exhibition, FeedSpec)


def _store(request: web.Request) -> DataStore:
    return request.app[appkeys.FEED_STORE]


def manifest_feeds(exhibitions: list[LoadedExhibition]) -> dict[str, tuple[str, FeedSpec]]:
    found: dict[str, tuple[str, FeedSpec]] = {}
    for exhibition in exhibitions:
        for feed_id, feed in exhibition.manifest.get("feeds", {}).items():
            found.setdefault(feed_id, (exhibition.id, FeedSpec(
                kind=feed["kind"], unit=feed.get("unit"), min=feed.get("min"),
                max=feed.get("max"),
            )))
    return found


def _spec(request: web.Request, feed_id: str, feed: Feed | None) -> FeedSpec | None:
    return feed_spec(request.app, feed_id, feed)


def feed_spec(app: web.Application, feed_id: str, feed: Feed | None) -> FeedSpec | None:
    """The feed's kind and bounds: from `vrculture feeds add`, else from its exhibition."""
    from_manifest = app[MANIFEST_FEEDS].get(feed_id)
    if feed is not None and feed.kind:
        return FeedSpec(feed.kind, feed.unit, feed.min, feed.max)
    return from_manifest[1] if from_manifest else None


def _feed_id(request: web.Request) -> str:
    feed_id = request.match_info["feed"]
    if not FEED_ID.fullmatch(feed_id):
        raise JSONError(404, "unknown_feed", "feed ids are 1-64 of a-z, 0-9, '_' and '-'")
    return feed_id


def _bearer(request: web.Request) -> str:
    token = bearer_token(request)
    if token is None:
        raise JSONError(401, "unauthenticated", "send the feed's token as 'Authorization: "
                        "Bearer <token>'", headers={"WWW-Authenticate": 'Bearer realm="feeds"'})
    return token


async def _read_body(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise JSONError(415, "unsupported_media_type", "send readings as application/json")
    return await read_json(request, MAX_BODY_BYTES)


def _readings_of(body: Any) -> tuple[list[Any], bool]:
    """The readings of a body and whether it was a batch."""
    if isinstance(body, dict) and "readings" in body:
        if set(body) != {"readings"}:
            extra = sorted(set(body) - {"readings"})[0]
            raise JSONError(422, "unknown_field", f"{extra}: unknown field next to 'readings'",
                            field=extra)
        batch = body["readings"]
        if not isinstance(batch, list) or not batch:
            raise JSONError(422, "invalid_field", "readings: must be a non-empty array",
                            field="readings")
        if len(batch) > MAX_BATCH:
            raise JSONError(413, "too_many", f"readings: at most {MAX_BATCH} per request",
                            field="readings")
        return batch, True
    return [body], False


async def post_readings(request: web.Request) -> web.Response:
    feed_id = _feed_id(request)
    token = _bearer(request)
    store = _store(request)
    feed = await store.check_feed_token(feed_id, token)
    if feed is None:
        raise JSONError(401, "invalid_token", "this token is not valid for this feed",
                        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    spec = _spec(request, feed_id, feed)
    if spec is None:
        raise JSONError(409, "kind_unknown", f"feed {feed_id!r} has no kind: give one with "
                        "`vrculture feeds add --kind` or publish an exhibition that lists it")
    batch, is_batch = _readings_of(await _read_body(request))
    checked: list[tuple[float, dict[str, Any]]] = []
    now = request.app[appkeys.CLOCK]()
    for index, raw in enumerate(batch):
        try:
            checked.append(validate_reading(raw, spec, now))
        except ReadingError as error:
            where = f"readings[{index}]." if is_batch else ""
            raise JSONError(422, error.code, f"{where}{error.field}: {error.message}",
                            field=error.field, index=index) from None
    stored = await store_readings(request.app, feed_id, checked)
    return json_reply(
        request,
        {"stored": stored, "duplicates": len(checked) - stored},
        status=201 if stored else 200,
        etag=False,
    )


async def store_readings(app: web.Application, feed_id: str,
                         checked: list[tuple[float, dict[str, Any]]]) -> int:
    """Commits validated readings, then publishes the new ones to the rooms; returns how many
    were new. Shared by every ingest path (HTTP, MQTT), so they all reach the rooms alike."""
    stored = await app[appkeys.FEED_STORE].insert_readings(feed_id, checked)
    pubsub = app[appkeys.PUBSUB]
    for reading in stored:  # after the commit: nobody sees a reading that could still be lost
        message = {"type": "reading", "feed": feed_id, "reading": reading}
        await pubsub.publish(f"feed:{feed_id}", encode(message))
    if stored:
        for listener in app.get(appkeys.READINGS_STORED, ()):
            listener(feed_id, stored)
    return len(stored)


async def get_readings(request: web.Request) -> web.Response:
    feed_id = _feed_id(request)
    store = _store(request)
    feed = await store.feed(feed_id)
    spec = _spec(request, feed_id, feed)
    if feed is None and spec is None:
        raise JSONError(404, "unknown_feed", f"no feed {feed_id!r}")
    since = _since(request.query.get("since"))
    limit = DEFAULT_HISTORY
    if "limit" in request.query:
        wanted = whole_number(request.query["limit"])
        if wanted is None or not 1 <= wanted <= MAX_HISTORY:
            raise JSONError(400, "invalid_query", f"limit: a whole number from 1 to {MAX_HISTORY}",
                            field="limit")
        limit = wanted
    readings = await store.readings(feed_id, since=since, limit=limit)
    return json_reply(request, {
        "feed": feed_id,
        "kind": spec.kind if spec else None,
        "unit": spec.unit if spec else None,
        "readings": readings,
    })


def _since(text: str | None) -> float | None:
    if text is None:
        return None
    text = text.strip()
    try:
        value = float(text)
        if math.isfinite(value):
            return round(value, 3)  # stored times are rounded to milliseconds too
    except ValueError:
        try:
            parsed = datetime.fromisoformat(text.replace("z", "Z"))
            if parsed.tzinfo is not None:
                return round(parsed.timestamp(), 3)
        except ValueError:
            pass
    raise JSONError(400, "invalid_query", "since: an ISO-8601 time with a zone or epoch seconds",
                    field="since")


def setup(app: web.Application) -> None:
    app[MANIFEST_FEEDS] = {}
    app[appkeys.READINGS_STORED] = []
    registry: BundleRegistry = app[appkeys.EXHIBITIONS]

    def refresh(exhibitions: list[LoadedExhibition]) -> None:
        app[MANIFEST_FEEDS].clear()
        app[MANIFEST_FEEDS].update(manifest_feeds(exhibitions))

    refresh(registry.all())
    registry.on_change(refresh)
    app.router.add_post("/api/feeds/{feed}/readings", post_readings, name="feed_ingest")
    app.router.add_get("/api/feeds/{feed}/readings", get_readings, name="feed_history")
