"""Read a collection folder (`collection.toml` and/or `collection.csv`) into validated records.

Every problem is an `Issue` naming the file, the line (TOML) or row (CSV) and the field; a
record with an error is left out and the rest still build. The format is documented in
docs/collection-format.md.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from vrculture.exhibition import csv_import, projects
from vrculture.exhibition.fields import (
    LANG,
    TextRules,
    Where,
    check_keys,
    read_id,
    read_number,
    read_str,
    read_text,
    read_vec3,
)
from vrculture.exhibition.issues import Issue, IssueList
from vrculture.exhibition.presentation import read_presentation
from vrculture.exhibition.records import (
    GOALS,
    SMART_KINDS,
    AnnotationRecord,
    Collection,
    GaugeRange,
    ObjectRecord,
    Origin,
    PlacementRecord,
    ProjectRecord,
    RoomRecord,
    SmartExhibitRecord,
    StopRecord,
    TourRecord,
)
from vrculture.exhibition.rights import LEVEL_ORDER, parse_rights
from vrculture.exhibition.toml_locate import TomlLocator
from vrculture.pipeline.transforms.normalise import UP_ROTATIONS

TOML_NAME = "collection.toml"
CSV_NAME = "collection.csv"
MAX_COLLECTION_BYTES = 8 * 1024 * 1024  # a hand-written or exported catalogue, not a dump

TOP_KEYS = {"exhibition", "rooms", "objects", "tours", "smart_exhibits", "projects"}
EXHIBITION_KEYS = {"id", "title", "description", "credit", "default_language", "languages",
                   "max_level_restricted"}
OBJECT_KEYS = {"id", "source", "title", "description", "credit", "creator", "date", "rights",
               "units", "height_m", "up", "turn", "room", "metadata", "annotations",
               "placement", "presentation"}
ANNOTATION_KEYS = {"id", "position", "normal", "title", "text"}
ROOM_KEYS = {"id", "title", "width", "depth", "height"}
PLACEMENT_KEYS = {"x", "z", "facing", "wall", "along", "height"}
WALLS = ("north", "east", "south", "west")
ROOM_SIZE = (2.0, 200.0)  # metres: a room's width or depth (inside its walls)
ROOM_HEIGHT = (2.5, 30.0)
MAX_OFFSET = 100.0  # metres from a room's centre: beyond any room
TOUR_KEYS = {"id", "title", "stops"}
STOP_KEYS = {"object", "position", "yaw", "title", "narration"}
SMART_KEYS = {"id", "kind", "title", "description", "goal", "feeds", "gauge"}
GAUGE_KEYS = {"unit", "min", "max"}
UNITS = ("mm", "cm", "m")  # what the converter scales from
UP_AXES = tuple(UP_ROTATIONS)  # the converter's axes: a collection can name no other
MAX_TURN = 180.0  # degrees either way about +Y: every facing, each named once


class CollectionError(Exception):
    """The collection cannot be read at all (no file, unreadable TOML): nothing can build."""


def safe_source(root: Path, raw: str) -> Path | None:
    """The source file's absolute path, or None when it would leave the collection folder."""
    if not raw or "\x00" in raw or os.path.isabs(raw) or raw.startswith("~"):
        return None
    root_real = root.resolve()
    candidate = (root_real / raw).resolve()
    if candidate != root_real and root_real in candidate.parents:
        return candidate
    return None


def read_object(data: Mapping[str, object], where: Where, rules: TextRules,
                root: Path) -> ObjectRecord | None:
    """One object record (a TOML table or a CSV row turned into the same shape)."""
    errors_before = len(where.issues.errors)
    oid = read_id(data, "id", where)
    where.record = oid
    check_keys(data, OBJECT_KEYS, where)
    title = read_text(data, "title", where, rules, required=True)
    description = read_text(data, "description", where, rules)
    credit = read_text(data, "credit", where, rules)
    creator = read_str(data, "creator", where)
    date = read_str(data, "date", where)
    source_raw = read_str(data, "source", where, required=True, max_len=1000)
    source = None
    if source_raw is not None:
        source = safe_source(root, source_raw)
        if source is None:
            where.report("source", f"{source_raw!r} is outside the collection folder "
                                   "(use a path relative to it, without '..')")
        elif not source.is_file():
            where.report("source", f"file not found: {source_raw}")
            source = None
    rights_raw = read_str(data, "rights", where, required=True)
    rights = None
    if rights_raw is not None:
        rights = parse_rights(rights_raw)
        if rights is None:
            where.report("rights", f"{rights_raw!r} is not a known rights id: use an SPDX / "
                         "Creative Commons id (CC0-1.0, CC-BY-4.0, CC-BY-NC-4.0, ...) or a "
                         "RightsStatements.org id or URI (InC, InC-EDU, NoC-US, ...)")
    units = read_str(data, "units", where)
    if units is not None and units not in UNITS:
        where.report("units", f"{units!r} is not one of {', '.join(UNITS)}")
    height_m = read_number(data, "height_m", where, positive=True)
    up = read_str(data, "up", where)
    if up is not None:
        up = up.upper() if up[:1] in "+-" else f"+{up.upper()}"
        if up not in UP_AXES:
            where.report("up", f"{up!r} is not one of {', '.join(UP_AXES)}")
    turn = read_number(data, "turn", where)
    if turn is not None and not -MAX_TURN <= turn <= MAX_TURN:
        where.report("turn", f"{turn:g} is not between -{MAX_TURN:g} and {MAX_TURN:g} degrees")
    room = read_id(data, "room", where, required=False)
    placement = read_placement(data.get("placement"), where.sub("placement"))
    presentation = read_presentation(data.get("presentation"), where.sub("presentation"))
    if (presentation is not None and presentation.wall_height is not None
            and placement is not None and placement.height is not None):
        where.sub("presentation").report("wall_height", "the placement already gives the "
                                         "painting's `height`: give it once")
    metadata = read_metadata(data.get("metadata"), where)
    annotations = read_annotations(data.get("annotations"), where, rules)
    if len(where.issues.errors) > errors_before:
        return None
    assert oid and title is not None and source is not None and rights is not None
    return ObjectRecord(
        id=oid, source=source, title=title, rights=rights,
        origin=Origin(where.file, where.locate(where.path + ("id",)), where.label()),
        description=description or {}, credit=credit or {}, creator=creator, date=date,
        units=units, height_m=height_m, up=up, turn=turn or 0.0, room=room,
        metadata=metadata or {}, annotations=annotations or [], placement=placement,
        presentation=presentation,
    )


def read_placement(value: object, where: Where) -> PlacementRecord | None:
    """`placement = { x = …, z = …, facing = … }` (a 3D object) or `{ wall = …, along = …,
    height = … }` (a painting), in metres and degrees in the room's frame."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        where.report(None, "must be a table { x = ..., z = ..., facing = ... } or "
                           "{ wall = ..., along = ... }")
        return None
    check_keys(value, PLACEMENT_KEYS, where)
    numbers = {key: read_number(value, key, where) for key in ("x", "z", "facing", "along",
                                                              "height")}
    for key in ("x", "z", "along"):
        number = numbers[key]
        if number is not None and abs(number) > MAX_OFFSET:
            where.report(key, f"{number} m is farther than {MAX_OFFSET:g} m from the room's "
                              "centre")
    height = numbers["height"]
    if height is not None and not 0.0 < height <= ROOM_HEIGHT[1]:
        where.report("height", f"{height} m is not a hanging height (0 to {ROOM_HEIGHT[1]:g} m)")
    wall = read_str(value, "wall", where)
    if wall is not None and wall.lower() not in WALLS:
        where.report("wall", f"unknown wall {wall!r}: use one of {', '.join(WALLS)}")
    on_floor = [k for k in ("x", "z", "facing") if k in value]
    on_wall = [k for k in ("wall", "along", "height") if k in value]
    if on_floor and on_wall:
        where.report(on_wall[0], f"`{on_wall[0]}` (a painting on a wall) cannot be combined "
                                 f"with `{on_floor[0]}` (a 3D object on the floor)")
    elif on_floor and (numbers["x"] is None or numbers["z"] is None):
        where.report("x" if numbers["x"] is None else "z",
                     "a 3D object's placement needs both `x` and `z`")
    elif on_wall and (wall is None or numbers["along"] is None):
        where.report("wall" if wall is None else "along",
                     "a painting's placement needs both `wall` and `along`")
    elif not on_floor and not on_wall:
        where.report(None, "is empty: give `x` and `z` (3D objects) or `wall` and `along` "
                           "(paintings)")
    facing = numbers["facing"]
    return PlacementRecord(x=numbers["x"], z=numbers["z"],
                           facing=None if facing is None else facing % 360.0,
                           wall=wall.lower() if wall else None, along=numbers["along"],
                           height=height)


def read_room_size(item: Mapping[str, object], at: Where) -> tuple[float | None, ...]:
    out: list[float | None] = []
    for key, (low, high) in (("width", ROOM_SIZE), ("depth", ROOM_SIZE),
                             ("height", ROOM_HEIGHT)):
        number = read_number(item, key, at, positive=True)
        if number is not None and not low <= number <= high:
            at.report(key, f"{number} m is outside {low:g} to {high:g} m")
            number = None
        out.append(number)
    return tuple(out)


def read_metadata(value: object, where: Where) -> dict[str, str | float | bool] | None:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        where.report("metadata", "must be a table of simple values")
        return None
    out: dict[str, str | float | bool] = {}
    for key, item in value.items():
        if isinstance(item, (str, bool, int, float)):
            out[str(key)] = item
        else:
            where.report("metadata", f"{key!r} must be text, a number or true/false")
            return None
    return out


def read_annotations(value: object, where: Where,
                     rules: TextRules) -> list[AnnotationRecord] | None:
    if value is None:
        return []
    if not isinstance(value, list):
        where.report("annotations", "must be a list of [[objects.annotations]] tables")
        return None
    out: list[AnnotationRecord] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        at = where.sub("annotations", index)
        if not isinstance(item, Mapping):
            at.report(None, "must be a table")
            continue
        check_keys(item, ANNOTATION_KEYS, at)
        aid = read_id(item, "id", at)
        position = read_vec3(item, "position", at)
        normal = read_vec3(item, "normal", at, unit=True)
        title = read_text(item, "title", at, rules, required=True)
        text = read_text(item, "text", at, rules)
        if aid in seen:
            at.report("id", f"duplicate annotation id {aid!r}")
            continue
        if aid and position and normal and title is not None:
            seen.add(aid)
            out.append(AnnotationRecord(aid, position, normal, title, text or {},
                                        at.locate(at.path + ("position",))))
    return out


def read_smart_exhibit(data: Mapping[str, object], where: Where,
                       rules: TextRules) -> SmartExhibitRecord | None:
    errors_before = len(where.issues.errors)
    sid = read_id(data, "id", where)
    where.record = sid
    check_keys(data, SMART_KEYS, where)
    kind = read_str(data, "kind", where, required=True)
    if kind is not None and kind not in SMART_KINDS:
        where.report("kind", f"{kind!r} is not one of {', '.join(SMART_KINDS)}")
    goal = read_str(data, "goal", where, required=True)
    if goal is not None and goal not in GOALS:
        where.report("goal", f"{goal!r} is not one of {', '.join(GOALS)}")
    title = read_text(data, "title", where, rules, required=True)
    description = read_text(data, "description", where, rules)
    feeds_raw = data.get("feeds")
    feeds: list[str] = []
    if not isinstance(feeds_raw, list) or not feeds_raw:
        where.report("feeds", "must be a non-empty list of sensor feed ids")
    else:
        for feed in feeds_raw:
            fid = read_id({"feeds": feed}, "feeds", where)
            if fid:
                feeds.append(fid)
    gauge = None
    gauge_raw = data.get("gauge")
    if gauge_raw is not None or kind == "gauge":
        at = where.sub("gauge")
        if not isinstance(gauge_raw, Mapping):
            where.report("gauge", "a gauge needs a table { unit = ..., min = ..., max = ... }")
        else:
            check_keys(gauge_raw, GAUGE_KEYS, at)
            unit = read_str(gauge_raw, "unit", at, required=True)
            low = read_number(gauge_raw, "min", at, required=True)
            high = read_number(gauge_raw, "max", at, required=True)
            if low is not None and high is not None and high <= low:
                at.report("max", "must be greater than min")
            elif unit is not None and low is not None and high is not None:
                gauge = GaugeRange(unit, low, high)
    if len(where.issues.errors) > errors_before:
        return None
    assert sid and kind and goal and title is not None
    return SmartExhibitRecord(sid, kind, title, goal, feeds, description or {}, gauge)


def read_tour(data: Mapping[str, object], where: Where, rules: TextRules,
              stop_targets: set[str]) -> TourRecord | None:
    errors_before = len(where.issues.errors)
    tid = read_id(data, "id", where)
    where.record = tid
    check_keys(data, TOUR_KEYS, where)
    title = read_text(data, "title", where, rules, required=True)
    stops_raw = data.get("stops")
    stops: list[StopRecord] = []
    if not isinstance(stops_raw, list) or not stops_raw:
        where.report("stops", "a tour needs at least one [[tours.stops]]")
        stops_raw = []
    for index, item in enumerate(stops_raw):
        at = where.sub("stops", index)
        if not isinstance(item, Mapping):
            at.report(None, "must be a table")
            continue
        stop_errors = len(where.issues.errors)
        check_keys(item, STOP_KEYS, at)
        target = read_id(item, "object", at, required=False)
        position = read_vec3(item, "position", at, required=False)
        yaw = read_number(item, "yaw", at) or 0.0
        narration = read_text(item, "narration", at, rules, required=True)
        stop_title = read_text(item, "title", at, rules)
        if target is None and position is None:
            at.report(None, "a stop needs an `object` id or a `position` in the room")
        if target is not None and target not in stop_targets:
            at.report("object", f"no valid object or smart exhibit with id {target!r}")
        if len(where.issues.errors) == stop_errors and narration is not None:
            stops.append(StopRecord(narration, target, position, yaw, stop_title or {}))
    if len(where.issues.errors) > errors_before or not stops:
        return None
    assert tid and title is not None
    return TourRecord(tid, title, stops)


def _table_list(doc: Mapping[str, object], key: str, where: Where) -> list[object]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        where.report(key, f"must be a list of [[{key}]] tables")
        return []
    return value


def load_collection(root: Path, *, languages: list[str] | None = None,
                    issues: IssueList | None = None) -> tuple[Collection, IssueList]:
    """Read and validate the collection folder `root`; raise CollectionError only when nothing
    in it can be read."""
    issues = issues if issues is not None else IssueList()
    root = root.resolve()
    toml_path, csv_path = root / TOML_NAME, root / CSV_NAME
    if not root.is_dir():
        raise CollectionError(f"{root}: not a folder")
    if not toml_path.is_file() and not csv_path.is_file():
        raise CollectionError(f"{root}: has neither {TOML_NAME} nor {CSV_NAME}")
    projects_csv = root / projects.CSV_NAME
    doc: Mapping[str, object] = {}
    locator = TomlLocator("")
    if toml_path.is_file():
        raw = _read_limited(toml_path)
        try:
            text = raw.decode("utf-8")
            doc = tomllib.loads(text)
        except UnicodeDecodeError as err:
            raise CollectionError(f"{toml_path}: not UTF-8 text ({err.reason})") from None
        except tomllib.TOMLDecodeError as err:
            raise CollectionError(f"{toml_path}: {err}") from None
        locator = TomlLocator(text)
    file_label = str(toml_path)
    top = Where(file_label, locator.line_of, (), issues)
    check_keys(doc, TOP_KEYS, top)

    exhibition_raw = doc.get("exhibition", {})
    if not isinstance(exhibition_raw, Mapping):
        top.report("exhibition", "must be a table [exhibition]")
        exhibition_raw = {}
    ex = top.sub("exhibition")
    check_keys(exhibition_raw, EXHIBITION_KEYS, ex)
    default_language = read_str(exhibition_raw, "default_language", ex) or None
    declared = exhibition_raw.get("languages")
    declared_langs: list[str] = []
    if declared is not None:
        if isinstance(declared, list) and all(
                isinstance(x, str) and LANG.fullmatch(x) for x in declared):
            declared_langs = list(dict.fromkeys(declared))
        else:
            ex.report("languages", "must be a list of BCP 47 tags, e.g. [\"sv\", \"en\"]")
    if default_language is not None and not LANG.fullmatch(default_language):
        ex.report("default_language", f"{default_language!r} is not a BCP 47 tag")
        default_language = None
    default_language = default_language or (declared_langs[0] if declared_langs else
                                            (languages[0] if languages else "en"))
    required = list(dict.fromkeys(languages or declared_langs or [default_language]))
    rules = TextRules(default_language, required)
    max_level = read_str(exhibition_raw, "max_level_restricted", ex)
    if max_level is not None and max_level not in LEVEL_ORDER:
        ex.report("max_level_restricted", f"{max_level!r} is not one of {', '.join(LEVEL_ORDER)}")
        max_level = None
    exhibition_id = read_id(exhibition_raw, "id", ex, required=False)
    if exhibition_id is None:
        exhibition_id = _id_from_name(root.name)
    title = read_text(exhibition_raw, "title", ex, rules) or {}
    if not title:
        title = {lang: root.name for lang in required}
    collection = Collection(
        root=root, id=exhibition_id, default_language=default_language,
        languages=list(dict.fromkeys([default_language, *required])), title=title,
        description=read_text(exhibition_raw, "description", ex, rules) or {},
        credit=read_text(exhibition_raw, "credit", ex, rules) or {},
        max_level_restricted=max_level,
    )

    for index, item in enumerate(_table_list(doc, "rooms", top)):
        at = top.sub("rooms", index)
        if not isinstance(item, Mapping):
            at.report(None, "must be a table")
            continue
        check_keys(item, ROOM_KEYS, at)
        rid = read_id(item, "id", at)
        rtitle = read_text(item, "title", at, rules, required=True)
        width, depth, height = read_room_size(item, at)
        if rid in {r.id for r in collection.rooms}:
            at.report("id", f"duplicate room id {rid!r}")
        elif rid and rtitle is not None:
            collection.rooms.append(RoomRecord(
                rid, rtitle, width, depth, height,
                Origin(file_label, at.locate(at.path + ("id",)), at.label())))

    candidates: list[ObjectRecord] = []
    for index, item in enumerate(_table_list(doc, "objects", top)):
        at = top.sub("objects", index)
        if not isinstance(item, Mapping):
            at.report(None, "must be a table")
            continue
        record = read_object(item, at, rules, root)
        if record:
            candidates.append(record)
    if csv_path.is_file():
        candidates.extend(csv_import.read_csv_objects(csv_path, rules, root, issues, read_object))

    _accept_objects(collection, candidates, issues)
    feeds: dict[str, str] = {}
    for index, item in enumerate(_table_list(doc, "smart_exhibits", top)):
        at = top.sub("smart_exhibits", index)
        if not isinstance(item, Mapping):
            at.report(None, "must be a table")
            continue
        exhibit = read_smart_exhibit(item, at, rules)
        if not exhibit:
            continue
        taken = [f for f in exhibit.feeds if f in feeds]
        if exhibit.id in {o.id for o in collection.objects} | set(feeds.values()):
            at.report("id", f"duplicate id {exhibit.id!r} (ids of objects and smart exhibits "
                            "share one namespace)")
        elif taken:
            at.report("feeds", f"feed {taken[0]!r} already drives exhibit {feeds[taken[0]]!r}")
        else:
            feeds.update({f: exhibit.id for f in exhibit.feeds})
            collection.smart_exhibits.append(exhibit)
    project_candidates: list[ProjectRecord] = []
    for index, item in enumerate(_table_list(doc, "projects", top)):
        at = top.sub("projects", index)
        if not isinstance(item, Mapping):
            at.report(None, "must be a table")
            continue
        project = projects.read_project(item, at, rules)
        if project:
            project_candidates.append(project)
    if projects_csv.is_file():
        project_candidates.extend(projects.read_csv_projects(projects_csv, rules, issues))
    collection.projects = projects.accept_projects(project_candidates, set(feeds), issues)
    targets = {o.id for o in collection.objects} | {e.id for e in collection.smart_exhibits}
    for index, item in enumerate(_table_list(doc, "tours", top)):
        at = top.sub("tours", index)
        if not isinstance(item, Mapping):
            at.report(None, "must be a table")
            continue
        tour = read_tour(item, at, rules, targets)
        if tour and tour.id in {t.id for t in collection.tours}:
            at.report("id", f"duplicate tour id {tour.id!r}")
        elif tour:
            collection.tours.append(tour)
    return collection, issues


def _accept_objects(collection: Collection, objects: list[ObjectRecord],
                                  issues: IssueList) -> None:
    room_ids = {r.id for r in collection.rooms}
    seen: dict[str, Origin] = {}
    for record in objects:
        if record.id in seen:
            first = seen[record.id]
            issues.add(Issue(record.origin.file, record.origin.line, record.origin.field("id"),
                             f"duplicate id {record.id!r} (first used at line {first.line} "
                             f"of {Path(first.file).name})", record=record.id))
            continue
        if record.room is not None and room_ids and record.room not in room_ids:
            issues.add(Issue(record.origin.file, record.origin.line, record.origin.field("room"),
                             f"no [[rooms]] entry with id {record.room!r}", record=record.id))
            continue
        seen[record.id] = record.origin
        collection.objects.append(record)


def _read_limited(path: Path) -> bytes:
    if path.stat().st_size > MAX_COLLECTION_BYTES:
        raise CollectionError(f"{path}: larger than {MAX_COLLECTION_BYTES // 2**20} MB")
    return path.read_bytes()


def _id_from_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() and c.isascii() else "-" for c in name.lower()).strip("-_")
    return (cleaned or "exhibition")[:64]
