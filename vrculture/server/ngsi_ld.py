"""`POST /api/ngsi-ld/notify/{feed}`: the notifications a FIWARE context broker (Orion-LD,
Scorpio, Stellio) sends for an NGSI-LD subscription, as readings of a feed.

Authenticated like the feed API (the feed's bearer token; a subscription carries it in
`notification.endpoint.receiverInfo` as an Authorization header). Each entity of `data` becomes
one reading, through the same validation, store and fan-out as `POST /api/feeds/{feed}/readings`.

Entity attributes are mapped to the feed's fields by the settings TOML:

    [ngsi_ld.feeds.street-lights]
    lamp = "id"                      # the entity's id
    level = "illuminanceLevel"       # an attribute: its value
    presence = "presence.value"      # or a dotted path into the entity
    t = "dateObserved"               # optional, see below

Without a mapping, attributes named like the feed's fields are taken as they are. Normalized
(`{"type": "Property", "value": ...}`) and keyValues notifications both work: a Property's
`value`, a Relationship's `object` and a typed literal's `@value` are unwrapped. The reading's
time is its `t` if mapped, else the `observedAt` of its attributes, else the notification's
`notifiedAt`.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from vrculture.server import appkeys
from vrculture.server.bodies import read_json
from vrculture.server.dotted import MISSING, value_at
from vrculture.server.feeds import MAX_BATCH, MAX_BODY_BYTES, feed_spec, store_readings
from vrculture.server.jsonreply import JSONError, json_reply
from vrculture.server.readings import ReadingError, validate_reading
from vrculture.server.security import bearer_token

_FEED_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
CORE_MEMBERS = {"id", "type", "@context", "scope", "location", "observationSpace",
                "operationSpace", "createdAt", "modifiedAt", "deletedAt"}


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("type") == "Relationship" and "object" in value:
            return value["object"]
        if "value" in value and value.get("type") in (None, "Property", "GeoProperty"):
            return _unwrap(value["value"])
        if "@value" in value:
            return value["@value"]
    return value


def _at(entity: dict[str, Any], path: str) -> Any:
    value = value_at(entity, path)
    return value if value is MISSING else _unwrap(value)


def entity_reading(entity: Any, mapping: dict[str, str] | None,
                   notified_at: Any) -> dict[str, Any]:
    """The raw reading of one notified entity (validated afterwards like any other)."""
    if not isinstance(entity, dict):
        raise ReadingError("data", "each entity must be a JSON object", code="malformed")
    if mapping:
        reading = {}
        for name, path in mapping.items():
            value = _at(entity, path)
            if value is MISSING:
                raise ReadingError(name, f"the entity has no {path!r}", code="missing_attribute")
            reading[name] = value
        attributes = [entity.get(path.split(".")[0]) for path in mapping.values()]
    else:
        reading = {name: _unwrap(value) for name, value in entity.items()
                   if name not in CORE_MEMBERS}
        attributes = [entity[name] for name in reading]
    if "t" not in reading:
        observed = [a["observedAt"] for a in attributes
                    if isinstance(a, dict) and isinstance(a.get("observedAt"), str)]
        if observed or notified_at is not None:
            reading["t"] = max(observed) if observed else notified_at
    return reading


async def notify(request: web.Request) -> web.Response:
    feed_id = request.match_info["feed"]
    if not _FEED_ID.fullmatch(feed_id):
        raise JSONError(404, "unknown_feed", "feed ids are 1-64 of a-z, 0-9, '_' and '-'")
    token = bearer_token(request)
    if token is None:
        raise JSONError(401, "unauthenticated", "send the feed's token as 'Authorization: "
                        "Bearer <token>' (receiverInfo of the subscription's endpoint)",
                        headers={"WWW-Authenticate": 'Bearer realm="feeds"'})
    store = request.app[appkeys.FEED_STORE]
    feed = await store.check_feed_token(feed_id, token)
    if feed is None:
        raise JSONError(401, "invalid_token", "this token is not valid for this feed",
                        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    spec = feed_spec(request.app, feed_id, feed)
    if spec is None:
        raise JSONError(409, "kind_unknown", f"feed {feed_id!r} has no kind: give one with "
                        "`vrculture feeds add --kind` or publish an exhibition that lists it")
    if request.content_type not in ("application/json", "application/ld+json"):
        raise JSONError(415, "unsupported_media_type",
                        "send notifications as application/json or application/ld+json")
    body = await read_json(request, MAX_BODY_BYTES)
    entities = body.get("data") if isinstance(body, dict) else None
    if not isinstance(entities, list) or not entities:
        raise JSONError(422, "invalid_field", "data: a notification's non-empty entity array",
                        field="data")
    if len(entities) > MAX_BATCH:
        raise JSONError(413, "too_many", f"data: at most {MAX_BATCH} entities", field="data")
    mapping = request.app[appkeys.CONFIG].ngsi_ld.get(feed_id)
    now = request.app[appkeys.CLOCK]()
    checked = []
    for index, entity in enumerate(entities):
        try:
            raw = entity_reading(entity, mapping, body.get("notifiedAt"))
            checked.append(validate_reading(raw, spec, now))
        except ReadingError as error:
            raise JSONError(422, error.code, f"data[{index}].{error.field}: {error.message}",
                            field=error.field, index=index) from None
    stored = await store_readings(request.app, feed_id, checked)
    return json_reply(request, {"stored": stored, "duplicates": len(checked) - stored},
                      status=201 if stored else 200, etag=False)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/ngsi-ld/notify/{feed}", notify, name="ngsi_ld_notify")
