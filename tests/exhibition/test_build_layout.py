"""Layout properties: footprints never overlap, every object is reachable on foot from the
entrance and faces the visitor standing at its view point."""

from __future__ import annotations

import math
from collections import deque
from pathlib import Path

import numpy as np
import pytest
from build_helpers import load_json

from vrculture.exhibition.layout import Item, plan

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
        if p["mount"] == "wall":
            assert middle == pytest.approx(1.5, abs=0.01), obj["id"]
        else:
            assert p["mount"] == "plinth" and 1.0 <= middle <= 1.5, obj["id"]
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
