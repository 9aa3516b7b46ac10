"""The studio's floor plan model (web/studio/floorplan.js) and collection.toml, both ways.

`floor_plan_model(collection, manifest)` gives the editor its plain JSON model: the gallery
rooms in visiting order with their size, and every work with its kind, title, footprint and
placement in its room's frame (docs/collection-format.md "Placement"), taken from the built
exhibition.json; `fixed` / `sized` say which of them the collection fixes.
`apply_floor_plan(toml_text, model)` (or `write_floor_plan(doc, model)` on a parsed document)
writes a changed model back into collection.toml with tomlkit, so the curator's comments, order
and formatting stay where the file is not changed: fixed works get `placement` (and `room`),
released ones lose it, sized rooms get `width`, `depth` and `height`, new rooms a [[rooms]]
table, and [[rooms]] follow the model's order.

The model comes from a browser: `check_model` validates all of it (ids, kinds, finite numbers
in range, walls, sizes of lists) before anything is written, raising FloorPlanError.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import tomlkit
from tomlkit.items import AoT, InlineTable, Table

from vrculture.exhibition.collection import MAX_OFFSET, ROOM_HEIGHT, ROOM_SIZE, WALLS
from vrculture.exhibition.layout import PLINTH_MARGIN
from vrculture.exhibition.records import Collection

MODEL_VERSION = 1
ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_ROOMS = 200
MAX_WORKS = 5000
MAX_TITLE = 200
WALL_OF_YAW = {0: "north", 180: "south", 90: "west", 270: "east"}


class FloorPlanError(ValueError):
    """The model cannot be applied: the message names the room or work and the field."""


def _r(value: float, digits: int = 3) -> float:
    return round(float(value), digits) + 0.0  # no -0.0 in the JSON


def floor_plan_model(collection: Collection, manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The editor's model of a built collection (its exhibition.json as `manifest`)."""
    rooms_fixed = {r.id: r for r in collection.rooms}
    placed_in_toml = {o.id: o for o in collection.objects}
    rooms: list[dict[str, Any]] = []
    middles: dict[str, tuple[float, float]] = {}
    for room in manifest.get("rooms", []):
        if room.get("kind") != "gallery":
            continue
        x0, z0, x1, z1 = room["bounds"]
        middles[room["id"]] = ((x0 + x1) / 2, (z0 + z1) / 2)
        record = rooms_fixed.get(room["id"])
        rooms.append({"id": room["id"], "title": dict(room["title"]), "width": _r(x1 - x0),
                      "depth": _r(z1 - z0), "height": _r(room["height"]),
                      "sized": record is not None and (record.width, record.depth) != (None, None)})
    works: list[dict[str, Any]] = []
    for obj in manifest.get("objects", []):
        p = obj["placement"]
        if p["room"] not in middles:
            continue
        mx, mz = middles[p["room"]]
        lo, hi = obj["bounds"]["min"], obj["bounds"]["max"]
        w, h, d = (hi[k] - lo[k] for k in range(3))
        x, y, z = p["position"]
        in_toml = placed_in_toml.get(obj["id"])
        work: dict[str, Any] = {"id": obj["id"], "title": dict(obj["title"]), "room": p["room"],
                                "fixed": in_toml is not None and in_toml.placement is not None}
        if p["mount"] == "wall":
            degrees = round(math.degrees(p["yaw"])) % 360
            wall = WALL_OF_YAW.get(degrees, "west")
            along = z - mz if wall in ("west", "east") else x - mx
            work.update(kind="painting", footprint=[_r(w), _r(d + 0.02)], height=_r(h),
                        placement={"wall": wall, "along": _r(along), "height": _r(y + h / 2)})
        else:
            work.update(kind="object",
                        footprint=[_r(w + 2 * PLINTH_MARGIN), _r(d + 2 * PLINTH_MARGIN)],
                        height=_r(h),
                        placement={"x": _r(x - mx), "z": _r(z - mz),
                                   "facing": _r(math.degrees(p["yaw"]) % 360, 2)})
        works.append(work)
    # The smart-city hall follows the last gallery room, through a door in its north wall.
    smart_city = any(r.get("kind") == "smart-city" for r in manifest.get("rooms", []))
    return {"version": MODEL_VERSION, "smart_city": smart_city, "rooms": rooms, "works": works}


def _number(value: object, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FloorPlanError(f"{where}: must be a finite number")
    if not low <= value <= high:
        raise FloorPlanError(f"{where}: {value} is outside {low:g} to {high:g}")
    return float(value)


def _id(value: object, where: str) -> str:
    if not isinstance(value, str) or not ID.fullmatch(value):
        raise FloorPlanError(f"{where}: not a valid id (a-z, 0-9, '-', '_'; up to 64)")
    return value


def _title(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or len(value) > 50 or not all(
            isinstance(k, str) and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", k)
            and isinstance(v, str) and 0 < len(v) <= MAX_TITLE for k, v in value.items()):
        raise FloorPlanError(f"{where}: must be a table of texts by language")
    return {str(k): str(v) for k, v in value.items()}


def check_model(model: object) -> dict[str, Any]:
    """The model, checked field by field; FloorPlanError names the first problem."""
    if not isinstance(model, Mapping) or model.get("version") != MODEL_VERSION:
        raise FloorPlanError(f"version: the model must be a floor plan of version {MODEL_VERSION}")
    rooms_in, works_in = model.get("rooms"), model.get("works")
    if not isinstance(rooms_in, list) or not 0 < len(rooms_in) <= MAX_ROOMS:
        raise FloorPlanError(f"rooms: must be a list of 1 to {MAX_ROOMS} rooms")
    if not isinstance(works_in, list) or len(works_in) > MAX_WORKS:
        raise FloorPlanError(f"works: must be a list of at most {MAX_WORKS} works")
    rooms: list[dict[str, Any]] = []
    for index, room in enumerate(rooms_in):
        at = f"rooms[{index}]"
        if not isinstance(room, Mapping):
            raise FloorPlanError(f"{at}: must be an object")
        rid = _id(room.get("id"), f"{at}.id")
        if rid in {r["id"] for r in rooms}:
            raise FloorPlanError(f"{at}.id: duplicate room id {rid!r}")
        rooms.append({"id": rid, "title": _title(room.get("title"), f"{at}.title"),
                      "width": _number(room.get("width"), f"{at}.width", *ROOM_SIZE),
                      "depth": _number(room.get("depth"), f"{at}.depth", *ROOM_SIZE),
                      "height": _number(room.get("height"), f"{at}.height", *ROOM_HEIGHT),
                      "sized": room.get("sized") is True})
    room_ids = {r["id"] for r in rooms}
    works: list[dict[str, Any]] = []
    for index, work in enumerate(works_in):
        at = f"works[{index}]"
        if not isinstance(work, Mapping):
            raise FloorPlanError(f"{at}: must be an object")
        wid = _id(work.get("id"), f"{at}.id")
        if wid in {w["id"] for w in works}:
            raise FloorPlanError(f"{at}.id: duplicate work id {wid!r}")
        room_id = _id(work.get("room"), f"{at}.room")
        if room_id not in room_ids:
            raise FloorPlanError(f"{at}.room: no room {room_id!r} in the model")
        kind = work.get("kind")
        placement = work.get("placement")
        if kind not in ("object", "painting") or not isinstance(placement, Mapping):
            raise FloorPlanError(f"{at}: needs kind 'object' or 'painting' and a placement")
        pat = f"{at}.placement"
        checked: dict[str, Any]
        if kind == "painting":
            wall = placement.get("wall")
            if wall not in WALLS:
                raise FloorPlanError(f"{pat}.wall: unknown wall {wall!r}: use one of "
                                     f"{', '.join(WALLS)}")
            checked = {"wall": wall,
                       "along": _number(placement.get("along"), f"{pat}.along", -MAX_OFFSET,
                                        MAX_OFFSET)}
            if placement.get("height") is not None:
                checked["height"] = _number(placement.get("height"), f"{pat}.height", 0.01,
                                            ROOM_HEIGHT[1])
        else:
            checked = {key: _number(placement.get(key), f"{pat}.{key}", -MAX_OFFSET, MAX_OFFSET)
                       for key in ("x", "z")}
            checked["facing"] = _number(placement.get("facing", 0.0), f"{pat}.facing", -3600,
                                        3600) % 360.0
        works.append({"id": wid, "room": room_id, "kind": kind, "placement": checked,
                      "fixed": work.get("fixed") is True})
    return {"version": MODEL_VERSION, "rooms": rooms, "works": works}


def _inline(values: Mapping[str, object]) -> InlineTable:
    table = tomlkit.inline_table()
    table.update(values)
    return table


def _placement_toml(work: Mapping[str, Any]) -> InlineTable:
    p = work["placement"]
    if work["kind"] == "painting":
        values: dict[str, object] = {"wall": p["wall"], "along": _r(p["along"])}
        if "height" in p:
            values["height"] = _r(p["height"])
        return _inline(values)
    return _inline({"x": _r(p["x"]), "z": _r(p["z"]), "facing": _r(p["facing"], 2)})


def _tables(doc: tomlkit.TOMLDocument, key: str) -> AoT | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, AoT):
        raise FloorPlanError(f"{key}: collection.toml writes it inline; the floor plan needs "
                             f"[[{key}]] tables")
    return value


def apply_floor_plan(toml_text: str, model: object) -> str:
    """collection.toml's text with the model's placements and rooms written into it."""
    doc = tomlkit.parse(toml_text)
    write_floor_plan(doc, model)
    return tomlkit.dumps(doc)


def write_floor_plan(doc: tomlkit.TOMLDocument, model: object) -> None:
    """Write the model's placements and rooms into a parsed collection.toml, in place (the
    studio's guarded edit changes the document it read, like every other studio edit)."""
    checked = check_model(model)
    objects = _tables(doc, "objects")
    by_id: dict[str, Table] = {}
    for table in objects or []:
        if isinstance(table.get("id"), str):
            by_id[str(table["id"])] = table
    for work in checked["works"]:
        table = by_id.get(work["id"])
        if table is None:
            if work["fixed"]:
                raise FloorPlanError(f"works: {work['id']!r} is not an [[objects]] table in "
                                     "collection.toml (objects from collection.csv cannot be "
                                     "placed from the studio)")
            continue
        if work["fixed"]:
            if work["room"] != "gallery" or "room" in table:
                table["room"] = work["room"]
            table["placement"] = _placement_toml(work)
        elif "placement" in table:
            del table["placement"]

    rooms = _tables(doc, "rooms")
    used = {w["room"] for w in checked["works"] if w["fixed"]}
    needed = [r for r in checked["rooms"]
              if (r["id"] in used and r["id"] != "gallery") or r["sized"]]
    if rooms is None and needed:
        rooms = tomlkit.aot()
        doc.append("rooms", rooms)
    existing = {str(t.get("id")): t for t in rooms or []}
    for room in needed:
        assert rooms is not None
        table = existing.get(room["id"])
        if table is None:
            table = tomlkit.table()
            table["id"] = room["id"]
            table["title"] = _inline(room["title"])
            rooms.append(table)
            existing[room["id"]] = table
        if room["sized"]:
            table["width"] = _r(room["width"])
            table["depth"] = _r(room["depth"])
            table["height"] = _r(room["height"])
    if rooms is not None:
        order = [r["id"] for r in checked["rooms"]]
        current = [str(t.get("id")) for t in rooms]
        wanted = sorted(current, key=lambda rid: order.index(rid) if rid in order
                        else len(order) + current.index(rid))
        if wanted != current:  # reorder only when asked: comments between tables may move
            tables = {str(t.get("id")): t for t in rooms}
            while len(rooms):
                del rooms[0]
            for rid in wanted:
                rooms.append(tables[rid])
