"""Tours in the studio: `[[tours]]` of collection.toml with their stops (an object or smart
exhibit each, in order) and the narration per language (docs/collection-format.md).

A save sends the whole tour: its title and its stops in their new order. Stops that stay keep
their table (and the curator's comments in it); narration languages left out are removed, and
every language of the exhibition a stop lacks is flagged. Stops placed at a position (written by
hand) are shown but not edited here: such a tour is changed in collection.toml.
"""

from __future__ import annotations

from typing import Any

import tomlkit
from aiohttp import web

from vrculture.server.studio import exhibitions
from vrculture.server.studio.api import field_refusal, json_object, reply
from vrculture.server.studio.auth import authorize, refusal
from vrculture.server.studio.collection_edit import array_of_tables, edit, snapshot_of
from vrculture.server.studio.fields import (
    EXHIBITION_ID,
    MAX_LANGUAGES,
    FieldError,
    check_keys,
    check_language,
    check_text,
    check_texts,
)

MAX_TOURS = 50
MAX_STOPS = 100
TITLE_CHARS = 200
NARRATION_CHARS = 4000  # a few minutes read aloud


def _texts(value: object, default: str) -> dict[str, str]:
    if isinstance(value, str):
        return {default: str(value)}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}
    return {}


def tour_tables(doc: tomlkit.TOMLDocument) -> list[Any]:
    value = doc.get("tours")
    if not isinstance(value, list):
        return []
    return [t for t in value if isinstance(t, dict)]


def stop_targets(doc: tomlkit.TOMLDocument) -> list[dict[str, Any]]:
    """What a stop may lead to: the objects and smart exhibits, in the collection's order."""
    default, _ = exhibitions.languages_of(doc)
    targets = []
    for kind, key in (("object", "objects"), ("smart_exhibit", "smart_exhibits")):
        items = doc.get(key)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                targets.append({"id": str(item["id"]), "type": kind,
                                "title": _texts(item.get("title"), default)})
    return targets


def _describe_tour(table: Any, default: str, languages: list[str]) -> dict[str, Any]:
    stops = []
    missing = []
    raw_stops = table.get("stops")
    for index, stop in enumerate(raw_stops if isinstance(raw_stops, list) else []):
        if not isinstance(stop, dict):
            continue
        narration = _texts(stop.get("narration"), default)
        lacking = [lang for lang in languages if not narration.get(lang)]
        target = stop.get("object")
        place = stop.get("position")
        position = [float(v) for v in place if isinstance(v, int | float)] \
            if isinstance(place, list) and not isinstance(target, str) else None
        stops.append({"object": str(target) if isinstance(target, str) else None,
                      "position": position, "narration": narration,
                      "missing_languages": lacking})
        if lacking:
            missing.append({"where": f"stops/{index}", "field": "narration",
                            "languages": lacking})
    title = _texts(table.get("title"), default)
    title_lacking = [lang for lang in languages if not title.get(lang)]
    if title_lacking:
        missing.insert(0, {"where": "tour", "field": "title", "languages": title_lacking})
    return {"id": str(table.get("id", "")), "title": title, "stops": stops,
            "editable": all(s["object"] is not None for s in stops),
            "missing_translations": missing}


def describe(exhibition_id: str, snapshot: exhibitions.Snapshot) -> dict[str, Any]:
    doc = snapshot.doc
    default, languages = exhibitions.languages_of(doc)
    return {"exhibition": exhibition_id, "version": snapshot.version,
            "default_language": default, "languages": languages,
            "targets": stop_targets(doc),
            "tours": [_describe_tour(t, default, languages) for t in tour_tables(doc)]}


# validation ------------------------------------------------------------------------------
def check_tour(body: dict[str, Any], doc: tomlkit.TOMLDocument, *, with_id: bool
               ) -> dict[str, Any]:
    """{id?, title: {lang: text|None}, stops: [(object, {lang: text|None})]} or FieldError."""
    check_keys(body, {"id", "title", "stops"} if with_id else {"title", "stops"})
    _, languages = exhibitions.languages_of(doc)
    out: dict[str, Any] = {}
    if with_id:
        tour_id = body.get("id")
        if not isinstance(tour_id, str) or EXHIBITION_ID.fullmatch(tour_id) is None:
            raise FieldError("id", "1-64 of a-z, 0-9, _ and -, starting with a letter or digit")
        out["id"] = tour_id
    if "title" not in body:
        raise FieldError("title", "required in at least one language")
    title = {lang: text if text and text.strip() else None for lang, text in check_texts(
        body, {"title": TITLE_CHARS}, languages, nullable=True)["title"].items()}
    if not any(title.values()):
        raise FieldError("title", "required in at least one language")
    out["title"] = title
    stops_raw = body.get("stops")
    if not isinstance(stops_raw, list) or not 1 <= len(stops_raw) <= MAX_STOPS:
        raise FieldError("stops", f"a list of 1 to {MAX_STOPS} stops")
    targets = {t["id"] for t in stop_targets(doc)}
    stops = []
    for index, stop in enumerate(stops_raw):
        where = f"stops.{index}"
        if not isinstance(stop, dict):
            raise FieldError(where, "a stop is {\"object\": id, \"narration\": {lang: text}}")
        extra = sorted(set(stop) - {"object", "narration"})
        if extra:
            raise FieldError(f"{where}.{extra[0][:64]}", "unknown field")
        target = stop.get("object")
        if not isinstance(target, str) or EXHIBITION_ID.fullmatch(target) is None:
            raise FieldError(f"{where}.object", "the id of an object or smart exhibit")
        if target not in targets:
            raise FieldError(f"{where}.object", f"no object or smart exhibit {target!r} in "
                             "this exhibition")
        narration = _narration(f"{where}.narration", stop.get("narration"), languages)
        if not any(narration.values()):
            raise FieldError(f"{where}.narration", "required in at least one language (the "
                             "builder skips a silent stop)")
        stops.append((target, narration))
    out["stops"] = stops
    return out


def _narration(where: str, value: object, languages: list[str]) -> dict[str, str | None]:
    """{language: text or None}: like the other texts, but with line breaks (paragraphs)."""
    if not isinstance(value, dict) or len(value) > MAX_LANGUAGES:
        raise FieldError(where, 'an object of language tag to text, e.g. {"sv": "…"}')
    out: dict[str, str | None] = {}
    for lang, text in value.items():
        check_language(f"{where}.{lang[:16]}", lang)
        if lang not in languages:
            raise FieldError(f"{where}.{lang}", "not one of the exhibition's languages ("
                             + ", ".join(languages) + ")")
        checked = None if text is None else check_text(
            f"{where}.{lang}", text, NARRATION_CHARS, multiline=True)
        out[lang] = checked if checked and checked.strip() else None  # blank: as missing
    return out


# writing ---------------------------------------------------------------------------------
def _find(doc: tomlkit.TOMLDocument, tour_id: str) -> tuple[Any, int]:
    value = doc.get("tours")
    for index, table in enumerate(value if isinstance(value, list) else []):
        if isinstance(table, dict) and table.get("id") == tour_id:
            return value, index
    raise exhibitions.StudioError(404, "unknown_tour", f"no tour {tour_id!r} in collection.toml")


def _full(changes: dict[str, str | None], current: dict[str, str]) -> dict[str, str | None]:
    """A whole-text replacement as set_texts' changes: languages not sent are removed."""
    return {**{lang: None for lang in current}, **changes}


def write_stops(tour: Any, stops: list[tuple[str, dict[str, str | None]]],
                default: str) -> None:
    """The tour's stops in the new order; a stop that stays keeps its table and comments."""
    existing = tour.get("stops")
    old = [s for s in existing if isinstance(s, dict)] if isinstance(existing, list) else []
    if any(not isinstance(s.get("object"), str) for s in old):
        raise exhibitions.StudioError(422, "position_stops", "this tour has stops at a "
                                      "position (written by hand): edit it in collection.toml")
    tables = []
    for target, narration in stops:
        table = next((s for s in old if s.get("object") == target), None)
        if table is None:
            table = tomlkit.table()
            table["object"] = target
        else:
            old.remove(table)
        exhibitions.set_texts(table, "narration",
                              _full(narration, _texts(table.get("narration"), default)),
                              default, required=True)
        tables.append(table)
    aot = tomlkit.aot()
    for table in tables:
        aot.append(table)
    tour["stops"] = aot


def _new_text(texts: dict[str, str | None]) -> Any:
    table = tomlkit.inline_table()
    table.update({lang: text for lang, text in texts.items() if text})
    return table


# routes ----------------------------------------------------------------------------------
def _exhibition_id(request: web.Request) -> str:
    value = request.match_info["exhibition"]
    if EXHIBITION_ID.fullmatch(value) is None:
        raise refusal(web.HTTPNotFound, "unknown_exhibition",
                      "exhibition ids are 1-64 of a-z, 0-9, _ and -")
    return value


def _tour_id(request: web.Request) -> str:
    value = request.match_info["tour"]
    if EXHIBITION_ID.fullmatch(value) is None:
        raise refusal(web.HTTPNotFound, "unknown_tour", "tour ids are 1-64 of a-z, 0-9, _ and -")
    return value


def _detail(checked: dict[str, Any]) -> dict[str, Any]:
    return {**({"tour": checked["id"]} if "id" in checked else {}), "title": checked["title"],
            "stops": [{"object": o, "narration": n} for o, n in checked["stops"]]}


async def list_tours(request: web.Request) -> web.Response:
    exhibition_id = _exhibition_id(request)
    await authorize(request, exhibition_id)
    snapshot = await snapshot_of(request, exhibition_id)
    return reply(request, describe(exhibition_id, snapshot), version=snapshot.version)


async def create_tour(request: web.Request) -> web.Response:
    exhibition_id = _exhibition_id(request)
    await authorize(request, exhibition_id)  # before the body is read
    body = await json_object(request)
    try:
        checked = check_tour(body, (await snapshot_of(request, exhibition_id)).doc,
                             with_id=True)
    except FieldError as error:
        raise field_refusal(error) from None

    def change(doc: tomlkit.TOMLDocument, default: str) -> None:
        # checked again on the version being written: an object may have gone since
        try:
            again = check_tour(body, doc, with_id=True)
        except FieldError as error:
            raise exhibitions.StudioError(422, "invalid_field",
                                          f"{error.field}: {error.message}") from None
        tours = array_of_tables(doc, "tours")
        if any(isinstance(t, dict) and t.get("id") == again["id"] for t in tours):
            raise exhibitions.StudioError(409, "exists", f"a tour {again['id']!r} exists")
        if len(tours) >= MAX_TOURS:
            raise exhibitions.StudioError(422, "too_many", f"at most {MAX_TOURS} tours")
        table = tomlkit.table()
        table["id"] = again["id"]
        table["title"] = _new_text(again["title"])
        tours.append(table)
        write_stops(tours[-1], again["stops"], default)

    snapshot = await edit(request, exhibition_id, "create_tour", change, _detail(checked))
    return reply(request, describe(exhibition_id, snapshot), status=201,
                 version=snapshot.version)


async def update_tour(request: web.Request) -> web.Response:
    exhibition_id = _exhibition_id(request)
    tour_id = _tour_id(request)
    await authorize(request, exhibition_id)
    body = await json_object(request)
    try:
        checked = check_tour(body, (await snapshot_of(request, exhibition_id)).doc,
                             with_id=False)
    except FieldError as error:
        raise field_refusal(error) from None

    def change(doc: tomlkit.TOMLDocument, default: str) -> None:
        try:
            again = check_tour(body, doc, with_id=False)
        except FieldError as error:
            raise exhibitions.StudioError(422, "invalid_field",
                                          f"{error.field}: {error.message}") from None
        tours, index = _find(doc, tour_id)
        tour = tours[index]
        exhibitions.set_texts(tour, "title",
                              _full(again["title"], _texts(tour.get("title"), default)),
                              default, required=True)
        write_stops(tour, again["stops"], default)

    snapshot = await edit(request, exhibition_id, "edit_tour", change,
                          {"tour": tour_id, **_detail(checked)})
    return reply(request, describe(exhibition_id, snapshot), version=snapshot.version)


async def delete_tour(request: web.Request) -> web.Response:
    exhibition_id = _exhibition_id(request)
    tour_id = _tour_id(request)

    def change(doc: tomlkit.TOMLDocument, default: str) -> None:
        tours, index = _find(doc, tour_id)
        del tours[index]
        if len(tours) == 0:
            del doc["tours"]

    snapshot = await edit(request, exhibition_id, "delete_tour", change, {"tour": tour_id})
    return reply(request, describe(exhibition_id, snapshot), version=snapshot.version)


def add_routes(router: web.UrlDispatcher) -> None:
    base = "/studio/api/exhibitions/{exhibition}/tours"
    router.add_get(base, list_tours, name="studio_tours")
    router.add_post(base, create_tour, name="studio_create_tour")
    router.add_put(base + "/{tour}", update_tour, name="studio_update_tour")
    router.add_delete(base + "/{tour}", delete_tour, name="studio_delete_tour")


__all__ = ["add_routes", "describe"]
