"""Smart exhibits in the studio: `[[smart_exhibits]]` of collection.toml (one of the kinds the
builder knows) and their sensor feed in the feed store.

Adding one creates its feed through the store call the admin API uses (`add_feed`): the reply
carries the feed's token, the only time it is shown; the store keeps its hash, and neither the
log nor the audit log ever holds it. The exhibit's latest readings are for its members.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import tomlkit
from aiohttp import web

from vrculture.exhibition.records import GOALS, SMART_KINDS
from vrculture.server import appkeys
from vrculture.server.jsonreply import JSONError
from vrculture.server.store_interface import DataStore
from vrculture.server.studio import exhibitions
from vrculture.server.studio.api import field_refusal, json_object, reply
from vrculture.server.studio.auth import authorize, refusal
from vrculture.server.studio.collection_edit import array_of_tables, edit, snapshot_of
from vrculture.server.studio.fields import (
    EXHIBITION_ID,
    FieldError,
    check_keys,
    check_text,
    check_texts,
)
from vrculture.server.studio.tours import tour_tables

log = logging.getLogger(__name__)

TEXTS = {"title": 200, "description": 8000}
UNIT_CHARS = 32
LATEST = 10  # readings shown per feed: enough to see them arrive
MAX_SMART_EXHIBITS = 50


def _texts(value: object, default: str) -> dict[str, str]:
    if isinstance(value, str):
        return {default: str(value)}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}
    return {}


def smart_tables(doc: tomlkit.TOMLDocument) -> list[Any]:
    value = doc.get("smart_exhibits")
    return [t for t in value if isinstance(t, dict)] if isinstance(value, list) else []


def _feeds_of(table: Any) -> list[str]:
    feeds = table.get("feeds")
    return [str(f) for f in feeds if isinstance(f, str)] if isinstance(feeds, list) else []


def describe(exhibition_id: str, snapshot: exhibitions.Snapshot) -> dict[str, Any]:
    doc = snapshot.doc
    default, languages = exhibitions.languages_of(doc)
    items = []
    for table in smart_tables(doc):
        gauge = table.get("gauge")
        items.append({"id": str(table.get("id", "")), "kind": str(table.get("kind", "")),
                      "goal": str(table.get("goal", "")),
                      "title": _texts(table.get("title"), default),
                      "description": _texts(table.get("description"), default),
                      "feeds": _feeds_of(table),
                      "gauge": {str(k): v for k, v in gauge.items()}
                      if isinstance(gauge, dict) else None})
    return {"exhibition": exhibition_id, "version": snapshot.version,
            "default_language": default, "languages": languages,
            "kinds": list(SMART_KINDS), "goals": list(GOALS), "smart_exhibits": items}


def _number(gauge: dict[str, Any], key: str) -> float:
    value = gauge.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FieldError(f"gauge.{key}", "a finite number")
    return float(value)


def check_smart(body: dict[str, Any], languages: list[str]) -> dict[str, Any]:
    check_keys(body, {"id", "kind", "goal", "title", "description", "feed", "gauge"})
    smart_id = body.get("id")
    if not isinstance(smart_id, str) or EXHIBITION_ID.fullmatch(smart_id) is None:
        raise FieldError("id", "1-64 of a-z, 0-9, _ and -, starting with a letter or digit")
    kind = body.get("kind")
    if kind not in SMART_KINDS:
        raise FieldError("kind", "one of " + ", ".join(SMART_KINDS))
    goal = body.get("goal")
    if goal not in GOALS:
        raise FieldError("goal", "one of " + ", ".join(GOALS))
    feed = body.get("feed", smart_id)
    if not isinstance(feed, str) or EXHIBITION_ID.fullmatch(feed) is None:
        raise FieldError("feed", "a feed id: 1-64 of a-z, 0-9, _ and -")
    if "title" not in body:
        raise FieldError("title", "required in at least one language")
    texts = check_texts(body, TEXTS, languages, nullable=False)
    clean = {f: {lang: t for lang, t in v.items() if t and t.strip()} for f, v in texts.items()}
    if not clean.get("title"):
        raise FieldError("title", "required in at least one language")
    gauge_raw = body.get("gauge")
    gauge = None
    if kind == "gauge" or gauge_raw is not None:
        if kind != "gauge":
            raise FieldError("gauge", "only for kind 'gauge'")
        if not isinstance(gauge_raw, dict) or set(gauge_raw) != {"unit", "min", "max"}:
            raise FieldError("gauge", "a gauge needs {\"unit\", \"min\", \"max\"}")
        unit = check_text("gauge.unit", gauge_raw["unit"], UNIT_CHARS)
        if not unit:
            raise FieldError("gauge.unit", "required")
        low, high = _number(gauge_raw, "min"), _number(gauge_raw, "max")
        if low >= high:
            raise FieldError("gauge.min", "must be below max")
        gauge = {"unit": unit, "min": low, "max": high}
    return {"id": smart_id, "kind": kind, "goal": goal, "feed": feed, "gauge": gauge,
            **clean}


def _feed_store(request: web.Request) -> DataStore:
    return request.app[appkeys.FEED_STORE]


def _path_id(request: web.Request, key: str, what: str) -> str:
    value = request.match_info[key]
    if EXHIBITION_ID.fullmatch(value) is None:
        raise refusal(web.HTTPNotFound, f"unknown_{what}", f"{what} ids are 1-64 of a-z, "
                      "0-9, _ and -")
    return value


def _find(doc: tomlkit.TOMLDocument, smart_id: str) -> Any:
    for table in smart_tables(doc):
        if table.get("id") == smart_id:
            return table
    raise exhibitions.StudioError(404, "unknown_smart_exhibit",
                                  f"no smart exhibit {smart_id!r} in collection.toml")


async def list_smart(request: web.Request) -> web.Response:
    exhibition_id = _path_id(request, "exhibition", "exhibition")
    await authorize(request, exhibition_id)
    snapshot = await snapshot_of(request, exhibition_id)
    return reply(request, describe(exhibition_id, snapshot), version=snapshot.version)


async def add_smart(request: web.Request) -> web.Response:
    exhibition_id = _path_id(request, "exhibition", "exhibition")
    curator = await authorize(request, exhibition_id)  # before the body is read
    body = await json_object(request)
    snapshot = await snapshot_of(request, exhibition_id)
    try:
        checked = check_smart(body, exhibitions.languages_of(snapshot.doc)[1])
    except FieldError as error:
        raise field_refusal(error) from None
    feed_id = checked["feed"]
    gauge = checked["gauge"] or {}
    token: list[str] = []  # set by the side effect, once the file is certain to be written

    def change(doc: tomlkit.TOMLDocument, default: str) -> None:
        taken = {str(o.get("id")) for o in exhibitions.objects(doc)}
        taken |= {str(t.get("id")) for t in smart_tables(doc)}
        if checked["id"] in taken:
            raise exhibitions.StudioError(409, "exists", f"an object or smart exhibit "
                                          f"{checked['id']!r} exists")
        if any(feed_id in _feeds_of(t) for t in smart_tables(doc)):
            raise exhibitions.StudioError(409, "feed_exists", f"feed {feed_id!r} is already "
                                          "an exhibit's")
        items = array_of_tables(doc, "smart_exhibits")
        if len(items) >= MAX_SMART_EXHIBITS:
            raise exhibitions.StudioError(422, "too_many",
                                          f"at most {MAX_SMART_EXHIBITS} smart exhibits")
        table = tomlkit.table()
        table["id"] = checked["id"]
        table["kind"] = checked["kind"]
        for field in TEXTS:
            if checked.get(field):
                text = tomlkit.inline_table()
                text.update(checked[field])
                table[field] = text
        table["goal"] = checked["goal"]
        table["feeds"] = [feed_id]
        if gauge:
            inline = tomlkit.inline_table()
            inline.update(gauge)
            table["gauge"] = inline
        items.append(table)

    async def create_feed() -> None:
        try:
            token.append(await _feed_store(request).add_feed(
                feed_id, kind=checked["kind"], exhibition=exhibition_id,
                unit=gauge.get("unit"), minimum=gauge.get("min"), maximum=gauge.get("max")))
        except KeyError:
            raise JSONError(409, "feed_exists", f"a feed {feed_id!r} exists on this server: "
                            "choose another feed id", field="feed") from None

    async def drop_feed() -> None:
        await _feed_store(request).remove_feed(feed_id, keep_readings=False)

    detail = {k: v for k, v in checked.items() if v is not None}  # never the token
    fresh = await edit(request, exhibition_id, "add_smart_exhibit", change, detail,
                       before_write=create_feed, undo=drop_feed)
    log.info("studio: %s added smart exhibit %s with feed %s to %s", curator, checked["id"],
             feed_id, exhibition_id)
    return reply(request, {**describe(exhibition_id, fresh), "created": {
        "smart_exhibit": checked["id"], "feed": feed_id, "token": token[0],
        "token_shown_once": True}}, status=201, version=fresh.version)


async def latest_readings(request: web.Request) -> web.Response:
    exhibition_id = _path_id(request, "exhibition", "exhibition")
    smart_id = _path_id(request, "smart", "smart_exhibit")
    await authorize(request, exhibition_id)
    snapshot = await snapshot_of(request, exhibition_id)
    try:
        feeds = _feeds_of(_find(snapshot.doc, smart_id))
    except exhibitions.StudioError as error:
        raise JSONError(error.status, error.code, error.message) from None
    store = _feed_store(request)
    out = {}
    for feed_id in feeds:
        known = await store.feed(feed_id)
        out[feed_id] = {"registered": known is not None,
                        "readings": await store.readings(feed_id, since=None, limit=LATEST)}
    return reply(request, {"exhibition": exhibition_id, "smart_exhibit": smart_id,
                           "feeds": out})


async def remove_smart(request: web.Request) -> web.Response:
    exhibition_id = _path_id(request, "exhibition", "exhibition")
    smart_id = _path_id(request, "smart", "smart_exhibit")
    removed_feeds: list[str] = []

    def change(doc: tomlkit.TOMLDocument, default: str) -> None:
        table = _find(doc, smart_id)
        using = [str(t.get("id")) for t in tour_tables(doc)
                 if any(isinstance(s, dict) and s.get("object") == smart_id
                        for s in (t.get("stops") or []))]
        if using:
            raise exhibitions.StudioError(409, "in_a_tour", f"{smart_id!r} is a stop of the "
                                          f"tour {', '.join(using)}: take it out first")
        removed_feeds.extend(_feeds_of(table))
        items = doc["smart_exhibits"]
        assert isinstance(items, list)
        items.remove(table)
        if len(items) == 0:
            del doc["smart_exhibits"]

    fresh = await edit(request, exhibition_id, "remove_smart_exhibit", change,
                       {"smart_exhibit": smart_id})
    store = _feed_store(request)
    for feed_id in removed_feeds:  # only the feeds made for this exhibition; readings stay
        feed = await store.feed(feed_id)
        if feed is not None and feed.exhibition == exhibition_id:
            await store.remove_feed(feed_id)
    return reply(request, describe(exhibition_id, fresh), version=fresh.version)


def add_routes(router: web.UrlDispatcher) -> None:
    base = "/studio/api/exhibitions/{exhibition}/smart"
    router.add_get(base, list_smart, name="studio_smart")
    router.add_post(base, add_smart, name="studio_add_smart")
    router.add_get(base + "/{smart}/readings", latest_readings, name="studio_smart_readings")
    router.add_delete(base + "/{smart}", remove_smart, name="studio_remove_smart")
