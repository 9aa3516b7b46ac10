"""Layout properties: footprints never overlap, every object is reachable on foot from the
entrance and faces the visitor standing at its view point."""

from __future__ import annotations

import math
from collections import deque
from pathlib import Path

import numpy as np
import pytest
from build_helpers import load_json
from sightlines import Work, check_sightlines, wall_boxes, work

import vrculture.exhibition.layout as layout_module
from vrculture.exhibition.layout import DOOR_W, STANDOFF, Item, plan
from vrculture.exhibition.presentation import resolve
from vrculture.exhibition.records import PresentationRecord
from vrculture.exhibition.run import MIN_SIZE_M
from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.readers import read_source

CELL = 0.1


def _overlap(a: list[float], b: list[float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)


def _inside(rect: list[float], x: float, z: float) -> bool:
    return rect[0] <= x <= rect[2] and rect[1] <= z <= rect[3]


def check_layout(entrance: dict, walkable: list[list[float]], placed: dict[str, dict]) -> None:
    """The three properties, on plain manifest-shaped data."""
    prints = {k: p["footprint"] for k, p in placed.items()}
    keys = sorted(prints)
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            assert _overlap(prints[a], prints[b]) < 1e-9, (a, b)

    x0 = min(r[0] for r in walkable)
    z0 = min(r[1] for r in walkable)
    nx = int(math.ceil((max(r[2] for r in walkable) - x0) / CELL)) + 1
    nz = int(math.ceil((max(r[3] for r in walkable) - z0) / CELL)) + 1
    xs = x0 + (np.arange(nx) + 0.5) * CELL
    zs = z0 + (np.arange(nz) + 0.5) * CELL
    gx, gz = np.meshgrid(xs, zs, indexing="ij")
    free = np.zeros((nx, nz), bool)
    for r in walkable:
        free |= (gx >= r[0]) & (gx <= r[2]) & (gz >= r[1]) & (gz <= r[3])
    for f in prints.values():
        free &= ~((gx >= f[0]) & (gx <= f[2]) & (gz >= f[1]) & (gz <= f[3]))

    def cell(x: float, z: float) -> tuple[int, int]:
        return int((x - x0) // CELL), int((z - z0) // CELL)

    start = cell(entrance["position"][0], entrance["position"][2])
    assert free[start], "the entrance is not on free floor"
    seen = np.zeros_like(free)
    seen[start] = True
    queue = deque([start])
    while queue:
        i, j = queue.popleft()
        for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            a, b = i + di, j + dj
            if 0 <= a < nx and 0 <= b < nz and free[a, b] and not seen[a, b]:
                seen[a, b] = True
                queue.append((a, b))

    for key, p in placed.items():
        vx, _, vz = p["view_point"]["position"]
        assert any(_inside(r, vx, vz) for r in walkable), f"{key}: view point off the floor"
        assert not any(_inside(f, vx, vz) for f in prints.values()), f"{key}: view point blocked"
        assert seen[cell(vx, vz)], f"{key}: not reachable from the entrance"
        px, _, pz = p["position"]
        front = (math.sin(p["yaw"]), math.cos(p["yaw"]))  # the object's local +Z
        to_view = (vx - px, vz - pz)
        assert front[0] * to_view[0] + front[1] * to_view[1] > 0, f"{key}: faces away"
        vy = p["view_point"]["yaw"]
        facing = (-math.sin(vy), -math.cos(vy))  # a visitor with yaw 0 looks along -Z
        assert facing[0] * -to_view[0] + facing[1] * -to_view[1] > 0, f"{key}: looks away"


def test_demo_layout(demo_bundle: Path) -> None:
    manifest = load_json(demo_bundle / "exhibition.json")
    placed = {o["id"]: o["placement"] for o in manifest["objects"]}
    placed.update({e["id"]: e["placement"] for e in manifest["smart_exhibits"]})
    check_layout(manifest["entrance"], manifest["walkable"], placed)
    spots = [(k, p["view_point"]["position"]) for k, p in placed.items()]
    for i, (a, pa) in enumerate(spots):
        for b, pb in spots[i + 1:]:  # visitors looking at different works do not collide
            assert math.dist(pa, pb) >= 0.8, (a, b)
    rooms = {r["id"]: r for r in manifest["rooms"]}
    assert rooms["smart-city"]["kind"] == "smart-city"
    for exhibit in manifest["smart_exhibits"]:
        assert exhibit["placement"]["room"] == "smart-city"
    for obj in manifest["objects"]:
        p, b = obj["placement"], obj["bounds"]
        height = b["max"][1] - b["min"][1]
        middle = p["position"][1] + height / 2
        if p["mount"] == "wall":  # at the curator's wall height, else the museum's 1.5 m
            wall_height = obj["presentation"].get("wall_height", 1.5)
            assert middle == pytest.approx(wall_height, abs=0.01), obj["id"]
        else:  # small works in a vitrine, the others on a plinth: both lift them to the eye
            assert p["mount"] in ("plinth", "vitrine") and 1.0 <= middle <= 1.5, obj["id"]
            assert p["plinth_height"] == pytest.approx(p["position"][1])
        room = rooms[p["room"]]["bounds"]
        assert room[0] <= p["position"][0] <= room[2] and room[1] <= p["position"][2] <= room[3]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_collections_keep_the_properties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    items = []
    rooms = [("a", "gallery"), ("b", "gallery"), ("smart-city", "smart-city")]
    for index in range(int(rng.integers(5, 25))):
        kind = "painting" if rng.random() < 0.4 else "model"
        if kind == "painting":
            size = (float(rng.uniform(0.2, 3.0)), float(rng.uniform(0.2, 2.5)), 0.04)
        else:
            size = tuple(float(v) for v in rng.uniform(0.05, 2.5, 3))
        items.append(Item(f"o{index}", kind, str(rng.choice(["a", "b"])), size))
    items += [Item("lamp", "smart", "smart-city", (0.9, 3.7, 0.4)),
              Item("bins", "smart", "smart-city", (1.5, 1.2, 0.6))]
    layout = plan(items, rooms)
    placed = {k: p.as_json() for k, p in layout.placements.items()}
    check_layout(layout.entrance.as_json(), [list(r) for r in layout.walkable], placed)
    assert set(placed) == {i.id for i in items}
    # The plan is centred on the origin, where the converter's normalisation keeps it.
    xs = [v for w in layout.walls for v in (w.rect[0], w.rect[2])]
    zs = [v for w in layout.walls for v in (w.rect[1], w.rect[3])]
    assert abs(min(xs) + max(xs)) < 1e-9 and abs(min(zs) + max(zs)) < 1e-9


def test_a_face_turned_away_is_caught() -> None:
    """The property check itself fails on a bad layout (so the tests above can fail)."""
    layout = plan([Item("x", "model", "a", (0.3, 0.3, 0.3))], [("a", "gallery")])
    placed = {k: p.as_json() for k, p in layout.placements.items()}
    placed["x"]["yaw"] += math.pi
    with pytest.raises(AssertionError, match="faces away"):
        check_layout(layout.entrance.as_json(), [list(r) for r in layout.walkable], placed)


def test_a_crowded_room_continues_in_the_next() -> None:
    items = [Item(f"o{i}", "painting" if i % 3 == 0 else "model", "konst", (0.5, 0.6, 0.4))
             for i in range(30)]
    layout = plan(items, [("konst", "gallery")])
    ids = [r.id for r in layout.rooms]
    assert ids == ["konst", "konst-2", "konst-3"]
    assert layout.continues == {"konst-2": ("konst", 2), "konst-3": ("konst", 3)}
    per_room = [sum(1 for p in layout.placements.values() if p.room == r) for r in ids]
    assert per_room == [12, 12, 6]
    placed = {k: p.as_json() for k, p in layout.placements.items()}
    check_layout(layout.entrance.as_json(), [list(r) for r in layout.walkable], placed)
    lengths = [r.bounds[3] - r.bounds[1] for r in layout.rooms]
    assert max(lengths) < 20  # a suite of rooms, not one corridor


# --- Sight lines, where works stand, the route ---------------------------------------------

def _works_of(layout, items: list[Item]) -> list[Work]:
    rooms = {r.id: r.bounds for r in layout.rooms}
    out = []
    for item in items:
        sx, sy, sz = item.size
        p = layout.placements[item.id]
        out.append(work(item.id, p.as_json(), rooms[p.room],
                        np.array([-sx / 2, 0.0, -sz / 2]), np.array([sx / 2, sy, sz / 2])))
    return out


def _views(layout) -> dict[str, tuple[float, float]]:
    return {k: (p.view_point.position[0], p.view_point.position[2])
            for k, p in layout.placements.items()}


def check_placement_and_route(layout, room_order: list[str]) -> None:
    """Works stand along the walls, not down the middle; a lane runs from the entrance through
    every room in the given order, and walking it passes every work."""
    rooms = {r.id: r for r in layout.rooms}
    assert [r.id for r in layout.rooms] == room_order
    for a, b in zip(layout.rooms, layout.rooms[1:], strict=False):
        assert a.bounds[1] == pytest.approx(b.bounds[3])  # b lies beyond a, through a door
    ex, _, ez = layout.entrance.position
    first = layout.rooms[0].bounds
    assert first[1] < ez < first[3] and layout.entrance.yaw == 0.0  # inside, facing the route
    lane = (-DOOR_W / 2, layout.rooms[-1].bounds[1], DOOR_W / 2, ez)
    for key, p in layout.placements.items():
        f, room = p.footprint, rooms[p.room].bounds
        assert _overlap(list(f), list(lane)) == 0.0, f"{key} stands in the lane"
        assert room[0] <= f[0] and f[2] <= room[2] and room[1] <= f[1] and f[3] <= room[3], key
        to_wall = min(f[0] - room[0], room[2] - f[2])  # from its nearer long wall
        if p.mount == "wall":
            assert to_wall == pytest.approx(0.0, abs=1e-6), f"{key} does not hang on a wall"
        else:
            assert to_wall <= STANDOFF + 1e-6, f"{key} stands away from the walls"
        vx, _, vz = p.view_point.position
        assert room[1] <= vz <= room[3], f"{key}: its view point is in another room"
        # passed on the walk: its view point is beside the lane, within the room's half width
        assert abs(vx) <= (room[2] - room[0]) / 2, key
    # a work's view point along the route comes in the order of the rooms
    order = {rid: i for i, rid in enumerate(room_order)}
    by_z = sorted(layout.placements.values(), key=lambda p: -p.view_point.position[2])
    assert [order[p.room] for p in by_z] == sorted(order[p.room] for p in by_z)


def _random_items(seed: int) -> tuple[list[Item], list[tuple[str, str]]]:
    rng = np.random.default_rng(seed)
    rooms = [(f"r{i}", "gallery") for i in range(int(rng.integers(2, 5)))]
    items = []
    for index in range(int(rng.integers(8, 40))):
        if rng.random() < 0.4:
            kind = "painting"
            size = (float(rng.uniform(0.2, 3.0)), float(rng.uniform(0.2, 2.5)),
                    float(rng.uniform(0.01, 0.08)))
        else:
            kind = "model"
            size = tuple(float(v) for v in rng.uniform(0.05, 2.5, 3))
        items.append(Item(f"o{index}", kind, rooms[int(rng.integers(len(rooms)))][0], size))
    rooms.append(("smart-city", "smart-city"))
    items += [Item("lamp", "smart", "smart-city", (0.9, 3.7, 0.4)),
              Item("bins", "smart", "smart-city", (1.5, 1.2, 0.6)),
              Item("desk", "smart", "smart-city", (1.2, 1.4, 0.7))]
    return items, rooms


@pytest.mark.parametrize("seed", range(12))
def test_random_collections_every_work_in_sight(seed: int) -> None:
    items, rooms = _random_items(seed)
    layout = plan(items, rooms)
    placed = {k: p.as_json() for k, p in layout.placements.items()}
    check_layout(layout.entrance.as_json(), [list(r) for r in layout.walkable], placed)
    ex, _, ez = layout.entrance.position
    check_sightlines(_works_of(layout, items), _views(layout), (ex, ez),
                     wall_boxes(layout.walls))
    check_placement_and_route(layout, [r.id for r in layout.rooms])
    assert [r.id for r in layout.rooms if "-" not in r.id or r.id == "smart-city"] == \
        [rid for rid, _ in rooms]


def test_a_single_file_down_the_middle_is_caught() -> None:
    """The first vase hid the jar and the lamp behind it: that layout fails the checks."""
    items = [Item("vase", "model", "a", (0.2, 0.32, 0.2)),
             Item("jar", "model", "a", (0.17, 0.24, 0.17)),
             Item("lamp", "model", "a", (0.6, 0.45, 0.05))]
    layout = plan(items, [("a", "gallery")])
    for index, key in enumerate(["vase", "jar", "lamp"]):  # one row on x = 0, facing the door
        p = layout.placements[key]
        cz = layout.entrance.position[2] - 2.0 - 1.5 * index
        p.position, p.footprint = (0.0, p.position[1], cz), (-0.35, cz - 0.35, 0.35, cz + 0.35)
        p.yaw = 0.0
    ex, _, ez = layout.entrance.position
    with pytest.raises(AssertionError, match=r"hidden from the entrance: \['jar'"):
        check_sightlines(_works_of(layout, items), {}, (ex, ez), wall_boxes(layout.walls))
    with pytest.raises(AssertionError, match="stands in the lane"):
        check_placement_and_route(layout, ["a"])


def test_a_work_in_front_of_another_s_view_point_is_caught() -> None:
    items = [Item("a", "painting", "r", (1.0, 0.8, 0.03)), Item("b", "model", "r", (0.5, 2, 0.5))]
    layout = plan(items, [("r", "gallery")])
    pa, pb = layout.placements["a"], layout.placements["b"]
    mid_x = (pa.position[0] + pa.view_point.position[0]) / 2  # b between a and its visitor
    cz = pa.position[2]
    pb.position = (mid_x, 0.0, cz)
    pb.footprint = (mid_x - 0.4, cz - 0.4, mid_x + 0.4, cz + 0.4)
    with pytest.raises(AssertionError, match="hidden from their own view points"):
        check_sightlines(_works_of(layout, items), _views(layout), (0.0, 0.0),
                         wall_boxes(layout.walls))


def test_the_spacing_is_what_keeps_works_in_sight(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the spacing that grows with a work's depth, works along a wall hide each other
    from view points: the sight-line check catches it on the same random collections."""
    monkeypatch.setattr(layout_module, "SIGHT_ANGLE", 0.0)
    caught = 0
    for seed in range(12):
        items, rooms = _random_items(seed)
        layout = plan(items, rooms)
        ex, _, ez = layout.entrance.position
        try:
            check_sightlines(_works_of(layout, items), _views(layout), (ex, ez),
                             wall_boxes(layout.walls))
        except AssertionError as err:
            assert "hidden from" in str(err)
            caught += 1
    assert caught >= 6


def _readable_vertices(path: Path) -> np.ndarray | None:
    """A built GLB's vertices (at most ~500), or None where our reader cannot open it (KTX2
    textures): the work's bounding box stands in for its surface then."""
    try:
        model = read_source(path).model
    except ConversionError:
        return None
    points = np.concatenate([p.positions for p in model.primitives()]).astype(np.float64)
    return points[:: max(1, len(points) // 500)]


def test_demo_every_work_in_sight(demo_bundle: Path) -> None:
    """The demo's works, sampled on their real surfaces where the GLB is readable: from each
    view point its work is in sight, from the entrance and every view point no work is hidden
    behind another, works stand along the walls and the route passes them room by room."""
    manifest = load_json(demo_bundle / "exhibition.json")
    rooms = [(r["id"], r["kind"]) for r in manifest["rooms"]]
    items, local, placed = [], {}, {}
    for obj in manifest["objects"]:
        lo, hi = np.array(obj["bounds"]["min"]), np.array(obj["bounds"]["max"])
        level = next((lv for lv in reversed(obj["levels"])
                      if "KHR_texture_basisu" not in lv.get("extensions_required", [])), None)
        surface = None if level is None else _readable_vertices(demo_bundle / level["url"])
        local[obj["id"]] = (lo, hi, surface)
        placed[obj["id"]] = obj["placement"]
        size = tuple(float(v) for v in np.maximum(hi - lo, MIN_SIZE_M))
        # the presentation the build resolved, given back as the curator's choice
        presented = resolve(obj["kind"], size, PresentationRecord(**obj["presentation"]))[0]
        items.append(Item(obj["id"], obj["kind"], obj["placement"]["room"], size, presented))
    for exhibit in manifest["smart_exhibits"]:
        surface = _readable_vertices(demo_bundle / exhibit["model"]["url"])
        assert surface is not None, exhibit["id"]
        lo, hi = surface.min(axis=0), surface.max(axis=0)
        local[exhibit["id"]] = (lo, hi, surface)
        placed[exhibit["id"]] = exhibit["placement"]
        items.append(Item(exhibit["id"], "smart", "smart-city",
                          tuple(float(v) for v in np.maximum(hi - lo, MIN_SIZE_M))))
    layout = plan(items, rooms)
    for key, p in layout.placements.items():  # the manifest holds this very plan
        want, got = p.as_json(), placed[key]
        for field in ("position", "yaw", "footprint"):
            assert got[field] == pytest.approx(want[field], abs=2e-3), (key, field)
        assert got["view_point"]["position"] == pytest.approx(want["view_point"]["position"],
                                                              abs=2e-3), key
    bounds = {r["id"]: r["bounds"] for r in manifest["rooms"]}
    works = [work(key, placed[key], bounds[placed[key]["room"]], *local[key]) for key in placed]
    views = {k: (p["view_point"]["position"][0], p["view_point"]["position"][2])
             for k, p in placed.items()}
    ex, _, ez = manifest["entrance"]["position"]
    seen = check_sightlines(works, views, (ex, ez), wall_boxes(layout.walls))
    assert min(seen.values()) == 1.0, seen  # nothing at all between a visitor and the work
    check_placement_and_route(layout, [rid for rid, _ in rooms])
    hantverk = [k for k, p in placed.items() if p["room"] == "hantverk"]
    sides = {math.copysign(1.0, placed[k]["position"][0]) for k in hantverk}
    assert sides == {-1.0, 1.0}, "the first room's works stand along both walls"
