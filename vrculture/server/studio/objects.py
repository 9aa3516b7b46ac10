"""Editing one object's shape in the studio: which way is up, a turn by hand, its real height
or units, and its annotations (placed on the surface: a position and a normal in the object's
converted frame, +Y up, base centred, metres), plus a private preview of its converted model.

Every value is checked in full before anything is written; the write goes through the same
If-Match / 409 / tomlkit / audit path as the object's texts (`api._edit`).
"""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import tomlkit
from aiohttp import web
from tomlkit.items import AoT, Table

from vrculture.exhibition.bundle import report_path
from vrculture.exhibition.collection import MAX_TURN, UNITS, UP_AXES
from vrculture.server import appkeys
from vrculture.server.jsonreply import JSONError
from vrculture.server.paths import safe_join
from vrculture.server.studio import exhibitions
from vrculture.server.studio.api import (
    _edit,
    _exhibition_id,
    _languages,
    field_refusal,
    json_object,
    reply,
)
from vrculture.server.studio.auth import authorize, exhibition_folder, refusal
from vrculture.server.studio.collection_edit import read as _read
from vrculture.server.studio.fields import EXHIBITION_ID, FieldError, check_keys, check_texts
from vrculture.server.studio.publish import builds_dir

MAX_HEIGHT_M = 100.0  # a monument's scan; anything taller is a typo in the units
MAX_COORDINATE_M = 100.0  # an annotation further than this from the base is not on the object
MAX_ANNOTATIONS = 100
ANNOTATION_TEXTS = {"title": 200, "text": 4000}
UNIT_TOLERANCE = 1e-3  # a normal of length 0.999..1.001 is unit length (float32 from a GPU)
# The level the preview shows: enough detail to place annotations on, small enough to load.
PREVIEW_LEVELS = ("high", "medium", "full", "low")
MAX_MANIFEST_BYTES = 16 << 20


def _object_id(request: web.Request) -> str:
    value = request.match_info["object"]
    if EXHIBITION_ID.fullmatch(value) is None:
        raise refusal(web.HTTPNotFound, "unknown_object", "object ids are 1-64 of a-z, 0-9, "
                      "_ and -")
    return value


def _number(field: str, value: object, low: float, high: float, *,
            open_low: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FieldError(field, "must be a finite number")
    number = float(value)
    if number > high or number < low or (open_low and number == low):
        raise FieldError(field, f"must be {'over' if open_low else 'at least'} {low:g} and at "
                         f"most {high:g}")
    return number


def check_geometry(body: dict[str, Any]) -> dict[str, Any]:
    """{up, turn, height_m, units} present in `body`, each checked (None: remove)."""
    check_keys(body, {"up", "turn", "height_m", "units"})
    out: dict[str, Any] = {}
    if "up" in body:
        up = body["up"]
        if up is not None and (not isinstance(up, str) or up not in UP_AXES):
            raise FieldError("up", "one of " + ", ".join(UP_AXES))
        out["up"] = up
    if "turn" in body:
        turn = body["turn"]
        out["turn"] = None if turn is None or turn == 0 else round(
            _number("turn", turn, -MAX_TURN, MAX_TURN), 3)
    if "height_m" in body:
        height = body["height_m"]
        out["height_m"] = None if height is None else round(
            _number("height_m", height, 0.0, MAX_HEIGHT_M, open_low=True), 6)
        if out["height_m"] == 0:
            raise FieldError("height_m", "must be over 0 (at least a micrometre)")
    if "units" in body:
        units = body["units"]
        if units is not None and (not isinstance(units, str) or units not in UNITS):
            raise FieldError("units", "one of " + ", ".join(UNITS))
        out["units"] = units
    return out


def _vec3(field: str, value: object, *, unit: bool) -> list[float]:
    if not isinstance(value, list) or len(value) != 3:
        raise FieldError(field, "three numbers [x, y, z]")
    vec = [_number(field, v, -MAX_COORDINATE_M, MAX_COORDINATE_M) for v in value]
    if unit:
        length = math.sqrt(sum(v * v for v in vec))
        if abs(length - 1.0) > UNIT_TOLERANCE:
            raise FieldError(field, "must have length 1 (a unit normal)")
        return [round(v / length, 5) for v in vec]
    return [round(v, 5) for v in vec]  # a hundredth of a millimetre


def check_annotations(body: dict[str, Any], languages: list[str]) -> list[dict[str, Any]]:
    check_keys(body, {"annotations"})
    items = body.get("annotations")
    if not isinstance(items, list) or len(items) > MAX_ANNOTATIONS:
        raise FieldError("annotations", f"a list of at most {MAX_ANNOTATIONS} annotations")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"annotations.{index}"
        if not isinstance(item, dict):
            raise FieldError(where, "must be an object")
        extra = sorted(set(item) - {"id", "position", "normal", "title", "text"})
        if extra:
            raise FieldError(f"{where}.{extra[0][:64]}", "unknown field")
        aid = item.get("id")
        if not isinstance(aid, str) or EXHIBITION_ID.fullmatch(aid) is None:
            raise FieldError(f"{where}.id", "1-64 of a-z, 0-9, _ and -, starting with a letter "
                             "or digit")
        if aid in seen:
            raise FieldError(f"{where}.id", f"{aid!r} is used twice")
        seen.add(aid)
        try:
            texts = check_texts(item, ANNOTATION_TEXTS, languages, nullable=False)
        except FieldError as error:
            raise FieldError(f"{where}.{error.field}", error.message) from None
        title = {lang: t for lang, t in texts.get("title", {}).items() if t}
        if not title:
            raise FieldError(f"{where}.title", "required in at least one language")
        out.append({"id": aid,
                    "position": _vec3(f"{where}.position", item.get("position"), unit=False),
                    "normal": _vec3(f"{where}.normal", item.get("normal"), unit=True),
                    "title": title,
                    "text": {lang: t for lang, t in texts.get("text", {}).items() if t}})
    return out


# reading and writing the TOML ----------------------------------------------------------------
def _texts(value: object, default: str) -> dict[str, str]:
    if isinstance(value, str):
        return {default: str(value)}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}
    return {}


def _floats(value: object) -> list[float] | None:
    if isinstance(value, list) and len(value) == 3 and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return [float(v) for v in value]
    return None


def describe_object(table: Any, default: str) -> dict[str, Any]:
    """The object's shape fields as the studio shows them (what the builder would read)."""
    def plain(key: str) -> Any:
        value = table.get(key)
        return value.unwrap() if hasattr(value, "unwrap") else value

    annotations = []
    listed = table.get("annotations")
    for item in listed if isinstance(listed, AoT | list) else []:
        if not isinstance(item, dict):
            continue
        annotations.append({"id": str(item.get("id", "")),
                            "position": _floats(item.get("position")),
                            "normal": _floats(item.get("normal")),
                            "title": _texts(item.get("title"), default),
                            "text": _texts(item.get("text"), default)})
    return {"id": str(table.get("id", "")), "up": plain("up"), "turn": plain("turn") or 0,
            "height_m": plain("height_m"), "units": plain("units"),
            "annotations": annotations}


def set_geometry(table: Any, changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if value is None:
            if key in table:
                del table[key]
        else:
            table[key] = value


def _vector(values: list[float]) -> Any:
    array = tomlkit.array()
    array.extend(values)
    return array


def _text_table(texts: dict[str, str]) -> Any:
    table = tomlkit.inline_table()
    table.update(texts)
    return table


def set_annotations(table: Any, annotations: list[dict[str, Any]]) -> None:
    """Replace the object's annotations; one kept by its id keeps its table (and comments)."""
    current = table.get("annotations")
    by_id = {str(t.get("id")): t for t in current if isinstance(t, Table)} \
        if isinstance(current, AoT) else {}
    if not annotations:
        if "annotations" in table:
            del table["annotations"]
        return
    listed = tomlkit.aot()
    for item in annotations:
        entry = by_id.get(item["id"])
        if entry is None:
            entry = tomlkit.table()
            entry["id"] = item["id"]
        entry["position"] = _vector(item["position"])
        entry["normal"] = _vector(item["normal"])
        entry["title"] = _text_table(item["title"])
        if item["text"]:
            entry["text"] = _text_table(item["text"])
        elif "text" in entry:
            del entry["text"]
        listed.append(entry)
    table["annotations"] = listed


# routes --------------------------------------------------------------------------------------
async def get_object(request: web.Request) -> web.Response:
    exhibition_id = _exhibition_id(request)
    await authorize(request, exhibition_id)
    object_id = _object_id(request)
    snapshot = await _read(await exhibition_folder(request, exhibition_id))
    default, languages = exhibitions.languages_of(snapshot.doc)
    try:
        table = exhibitions.find_object(snapshot.doc, object_id)
    except exhibitions.StudioError as error:
        raise JSONError(error.status, error.code, error.message) from None
    described = describe_object(table, default)
    described["preview"] = await asyncio.to_thread(
        preview_info, request.app[appkeys.CONFIG].data_dir, exhibition_id, object_id)
    described["languages"] = languages
    described["default_language"] = default
    return reply(request, described, version=snapshot.version)


async def edit_geometry(request: web.Request) -> web.Response:
    exhibition_id = _exhibition_id(request)
    await authorize(request, exhibition_id)
    object_id = _object_id(request)
    body = await json_object(request)
    try:
        changes = check_geometry(body)
    except FieldError as error:
        raise field_refusal(error) from None

    def change(doc: Any, default: str) -> None:
        set_geometry(exhibitions.find_object(doc, object_id), changes)

    return await _edit(request, exhibition_id, "edit_object_geometry", change,
                       {"object": object_id, **changes})


async def put_annotations(request: web.Request) -> web.Response:
    exhibition_id = _exhibition_id(request)
    await authorize(request, exhibition_id)
    object_id = _object_id(request)
    body = await json_object(request)
    try:
        annotations = check_annotations(body, await _languages(request, exhibition_id))
    except FieldError as error:
        raise field_refusal(error) from None

    def change(doc: Any, default: str) -> None:
        set_annotations(exhibitions.find_object(doc, object_id), annotations)

    return await _edit(request, exhibition_id, "edit_annotations", change,
                       {"object": object_id, "annotations": annotations})


# the preview ---------------------------------------------------------------------------------
def _bundle(data_dir: Path, exhibition_id: str) -> Path:
    return builds_dir(data_dir) / exhibition_id / "bundle"


def _read_json(path: Path) -> Any:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_MANIFEST_BYTES + 1)
        return json.loads(raw) if len(raw) <= MAX_MANIFEST_BYTES else None
    except (OSError, ValueError):
        return None


def _preview_level(bundle: Path, object_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(manifest entry, level) of the object in the studio's last build, or None."""
    manifest = _read_json(bundle / "exhibition.json")
    entries = manifest.get("objects") if isinstance(manifest, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("id") != object_id:
            continue
        levels = {lv.get("name"): lv for lv in entry.get("levels", []) if isinstance(lv, dict)}
        for name in PREVIEW_LEVELS:
            level = levels.get(name)
            if level is not None and isinstance(level.get("url"), str):
                return entry, level
    return None


def preview_info(data_dir: Path, exhibition_id: str, object_id: str) -> dict[str, Any] | None:
    """What the studio's last build made of the object: its level, bounds and the up axis it
    was converted with (the view turns it to an up chosen since), or None before any build."""
    bundle = _bundle(data_dir, exhibition_id)
    found = _preview_level(bundle, object_id)
    if found is None:
        return None
    entry, level = found
    up = None
    report = _read_json(report_path(bundle))
    for item in report.get("objects", []) if isinstance(report, dict) else []:
        if isinstance(item, dict) and item.get("id") == object_id:
            orientation = item.get("orientation")
            up = orientation.get("axis") if isinstance(orientation, dict) else None
    return {"url": f"/studio/api/exhibitions/{exhibition_id}/objects/{object_id}/preview",
            "level": level.get("name"), "bytes": level.get("bytes"),
            "bounds": entry.get("bounds"), "up": up, "kind": entry.get("kind")}


def preview_file(data_dir: Path, exhibition_id: str, object_id: str) -> Path | None:
    bundle = _bundle(data_dir, exhibition_id)
    found = _preview_level(bundle, object_id)
    if found is None:
        return None
    path = safe_join(bundle.resolve(), found[1]["url"])  # never a file outside the bundle
    return path if path is not None and path.is_file() else None


async def get_preview(request: web.Request) -> web.StreamResponse:
    """The object's converted model from the studio's last build: members only, never cached
    by anyone else (the exhibition may not be published, or not to everyone)."""
    exhibition_id = _exhibition_id(request)
    await authorize(request, exhibition_id)
    object_id = _object_id(request)
    path = await asyncio.to_thread(preview_file, request.app[appkeys.CONFIG].data_dir,
                                   exhibition_id, object_id)
    if path is None:
        raise JSONError(404, "no_preview", "this object has not been built yet: build a "
                        "preview or publish the exhibition first")
    return web.FileResponse(path, headers={"Cache-Control": "private, no-store",
                                           "Content-Type": "model/gltf-binary"})
