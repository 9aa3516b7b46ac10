"""exhibition.json: everything the viewer needs to start, in one document (schema v1)."""

from __future__ import annotations

import math

from vrculture.exhibition.layout import Layout, Pose
from vrculture.exhibition.records import (
    Collection,
    ObjectRecord,
    ProjectRecord,
    SmartExhibitRecord,
    Text,
)
from vrculture.pipeline.summary import Bounds, ConversionSummary, LevelSummary

SCHEMA_VERSION = 1
TEXTURE_FORMATS = {"none", "jpeg", "png", "webp", "ktx2"}
LEVEL_KEYS = ("bytes", "triangles", "error", "texture_px", "texture_bytes", "gpu_texture_bytes",
              "compression", "extensions_required")

# Rooms the build makes itself, titled in the languages it knows (others fall back to English).
DEFAULT_ROOM_TITLES: dict[str, Text] = {
    "gallery": {"sv": "Utställningen", "en": "The exhibition"},
    "smart-city": {"sv": "Den smarta staden", "en": "The smart city"},
}
FEED_RANGES: dict[str, dict[str, object]] = {
    "street-lighting": {"unit": "%", "min": 0, "max": 100},
    "smart-bin": {"unit": "%", "min": 0, "max": 100},
    "eye-tracking-screening": {"unit": "sessions", "min": 0},
}


def text_in(languages: list[str], text: Text) -> Text:
    """`text` completed for every language (English, then any, as the fallback)."""
    out = dict(text)
    fallback = text.get("en") or next(iter(text.values()))
    for lang in languages:
        out.setdefault(lang, fallback)
    return out


def level_entry(level: LevelSummary, url: str) -> dict:
    entry: dict[str, object] = {"name": level.name, "url": url}
    for key in LEVEL_KEYS:
        value = getattr(level, key)
        entry[key] = list(value) if isinstance(value, tuple) else value
    if level.texture_format in TEXTURE_FORMATS:
        entry["texture_format"] = level.texture_format  # mixed formats ("jpeg+png") omitted
    return entry


def bounds_json(bounds: Bounds) -> dict[str, list[float]]:
    return {"min": list(bounds.min), "max": list(bounds.max)}


def _turned(placement: dict[str, object], turn_deg: float) -> dict[str, object]:
    """The curator's turn (degrees about +Y) on top of the layout's facing, kept in -pi..pi."""
    if turn_deg:
        yaw = float(placement["yaw"]) + math.radians(turn_deg)  # type: ignore[arg-type]
        placement["yaw"] = round(math.atan2(math.sin(yaw), math.cos(yaw)), 6)
    return placement


def object_entry(record: ObjectRecord, summary: ConversionSummary, levels: list[dict],
                 thumbnail: dict | None, max_level: str | None, layout: Layout) -> dict:
    entry: dict[str, object] = {
        "id": record.id, "kind": summary.kind, "title": record.title,
        "rights": record.rights.as_json(None if record.rights.free_reuse else max_level),
        "bounds": bounds_json(summary.highest.bounds), "levels": levels,
        "placement": _turned(layout.placements[record.id].as_json(), record.turn),
    }
    if record.description:
        entry["description"] = record.description
    if record.creator:
        entry["creator"] = record.creator
    if record.date:
        entry["date"] = record.date
    if record.credit:
        entry["credit"] = record.credit
    if record.metadata:
        entry["metadata"] = record.metadata
    if thumbnail:
        entry["thumbnail"] = thumbnail
    if summary.geo is not None:
        entry["geo"] = summary.geo.as_json()
    presented = layout.presentations.get(record.id)
    if presented is not None:
        entry["presentation"] = presented.as_json()
    if record.annotations:
        entry["annotations"] = [
            {"id": a.id, "position": list(a.position), "normal": [round(v, 6) for v in a.normal],
             "title": a.title, **({"text": a.text} if a.text else {})}
            for a in record.annotations]
    return entry


def smart_entry(record: SmartExhibitRecord, model_file: dict, nodes: dict[str, str],
                layout: Layout) -> dict:
    entry: dict[str, object] = {
        "id": record.id, "kind": record.kind, "title": record.title, "goal": record.goal,
        "feeds": record.feeds, "model": {**model_file, "nodes": nodes},
        "placement": layout.placements[record.id].as_json(),
    }
    if record.description:
        entry["description"] = record.description
    if record.gauge:
        entry["gauge"] = {"unit": record.gauge.unit, "min": record.gauge.min,
                          "max": record.gauge.max}
    return entry


def feeds_of(exhibits: list[SmartExhibitRecord]) -> dict[str, dict]:
    feeds: dict[str, dict] = {}
    for exhibit in exhibits:
        for feed in exhibit.feeds:
            item: dict[str, object] = {"kind": exhibit.kind, "exhibit": exhibit.id}
            if exhibit.gauge:
                item.update(unit=exhibit.gauge.unit, min=exhibit.gauge.min, max=exhibit.gauge.max)
            else:
                item.update(FEED_RANGES.get(exhibit.kind, {}))
            feeds[feed] = item
    return feeds


def tours_of(collection: Collection, layout: Layout, titles: dict[str, Text]) -> list[dict]:
    """Stops at objects teleport to the object's view point; free stops are given relative to
    the entrance (metres: x to the right, z backwards, as seen entering)."""
    tours = []
    ex, ez = layout.entrance.position[0], layout.entrance.position[2]
    for tour in collection.tours:
        stops = []
        for stop in tour.stops:
            item: dict[str, object] = {"narration": stop.narration}
            if stop.object is not None:
                if stop.object not in layout.placements:
                    continue  # its object failed to convert: the tour skips it
                item["object"] = stop.object
                item["view_point"] = layout.placements[stop.object].view_point.as_json()
                title = stop.title or titles.get(stop.object)
            else:
                assert stop.position is not None
                x, y, z = stop.position
                item["view_point"] = Pose((ex + x, y, ez + z), stop.yaw).as_json()
                title = stop.title
            if title:
                item["title"] = title
            stops.append(item)
        if stops:
            tours.append({"id": tour.id, "title": tour.title, "stops": stops})
    return tours


def project_entry(record: ProjectRecord, languages: list[str]) -> dict:
    entry: dict[str, object] = {"id": record.id, "title": text_in(languages, record.title),
                                "goals": record.goals, "status": record.status}
    if record.description:
        entry["description"] = text_in(languages, record.description)
    for key in ("district", "start_year", "link", "feed"):
        value = getattr(record, key)
        if value is not None:
            entry[key] = value
    return entry


def round_floats(value: object) -> object:
    """Trim float noise so the manifest diffs cleanly between builds."""
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else 0.0
    if isinstance(value, list):
        return [round_floats(v) for v in value]
    if isinstance(value, dict):
        return {k: round_floats(v) for k, v in value.items()}
    return value
