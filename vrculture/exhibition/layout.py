"""Gallery layout: rooms sized to their objects, one after another along -Z from the entrance.

Each room is a rectangle with a central row (plinths for 3D objects, floor-standing smart
exhibits) and an aisle on each side; paintings hang on the two long walls, centred at 1.5 m,
facing the room. Doors sit in the middle of the walls between rooms, so the walking path runs
from the entrance down either aisle and through every room. An object's front is its local +Z;
`yaw` turns it toward the aisle where its view point is. A visitor pose with yaw 0 faces -Z, so
a visitor standing in front of an object has the same yaw as the object.

The whole plan is centred on the origin (x and z) with the floor at y = 0, which is also where
the converter's normalisation puts a model: the architecture GLB keeps these coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

Rect = tuple[float, float, float, float]  # min_x, min_z, max_x, max_z

WALL_T = 0.15  # wall thickness
DOOR_W = 1.8
AISLE_MIN = 2.4  # room between the central row and a wall: two people pass a viewer
END_CLEAR = 2.2  # free floor in front of each end wall: doors and the entrance
ROW_GAP = 1.2  # between plinths in the central row
PAINTING_GAP = 1.0
EYE_CENTRE = 1.5  # paintings' centre height
VIEW_CENTRE = 1.25  # a 3D object's middle, for a standing adult looking slightly down
BODY = 0.25  # a visitor's radius: walkable floor keeps this far from walls
MIN_ROOM = 6.0
MAX_PER_ROOM = 12  # works per room before the room continues in the next one


@dataclass
class Item:
    id: str
    kind: str  # "model" | "painting" | "smart"
    room: str
    size: tuple[float, float, float]  # the object's x, y, z extents in metres


@dataclass
class Pose:
    position: tuple[float, float, float]
    yaw: float

    def as_json(self) -> dict[str, object]:
        return {"position": [round(v, 4) for v in self.position], "yaw": round(self.yaw, 6)}


@dataclass
class Placement:
    room: str
    position: tuple[float, float, float]
    yaw: float
    mount: str  # "plinth" | "wall" | "floor"
    plinth_height: float
    footprint: Rect
    view_point: Pose

    def as_json(self) -> dict[str, object]:
        return {
            "room": self.room, "position": [round(v, 4) for v in self.position],
            "yaw": round(self.yaw, 6), "mount": self.mount,
            "plinth_height": round(self.plinth_height, 4),
            "footprint": [round(v, 4) for v in self.footprint],
            "view_point": self.view_point.as_json(),
        }


@dataclass
class RoomPlan:
    id: str
    kind: str  # "gallery" | "smart-city"
    bounds: Rect
    height: float


@dataclass
class Box:
    """A wall segment or plinth: an axis-aligned block standing on the floor."""

    rect: Rect
    height: float
    bottom: float = 0.0


@dataclass
class Layout:
    rooms: list[RoomPlan]
    placements: dict[str, Placement]
    walkable: list[Rect]
    entrance: Pose
    walls: list[Box] = field(default_factory=list)
    plinths: list[Box] = field(default_factory=list)
    # room id -> (the collection's room it continues, part number from 2) for split rooms
    continues: dict[str, tuple[str, int]] = field(default_factory=dict)


def _front(yaw: float) -> tuple[float, float]:
    """The (x, z) direction an object's local +Z points to after turning by yaw."""
    return math.sin(yaw), math.cos(yaw)


def plinth_height_for(height: float) -> float:
    """Lift small objects so their middle is at ~1.25 m; tall ones stand on the floor."""
    return max(0.0, min(1.0, VIEW_CENTRE - height / 2))


@dataclass
class _RoomContents:
    id: str
    kind: str
    row: list[Item] = field(default_factory=list)  # plinths / floor exhibits, centre row
    walls: tuple[list[Item], list[Item]] = field(default_factory=lambda: ([], []))


def _row_side(item: Item) -> float:
    """Side of the square an object occupies on the floor, whatever its yaw."""
    return max(item.size[0], item.size[2]) + 0.3


def _view_distance(item: Item) -> float:
    """From the object's centre to where a visitor stands: far enough to see it whole."""
    return max(item.size[0], item.size[2]) / 2 + max(0.9, 0.7 * max(item.size[0], item.size[1]))


def split_crowded(items: list[Item], room_order: list[tuple[str, str]],
                  per_room: int = MAX_PER_ROOM) -> tuple[list[Item], list[tuple[str, str]],
                                                         dict[str, tuple[str, int]]]:
    """Rooms with more than `per_room` works continue in further rooms ("konst-2", ...), so a
    big collection becomes a suite of rooms rather than one endless corridor."""
    out_items: list[Item] = []
    out_order: list[tuple[str, str]] = []
    continues: dict[str, tuple[str, int]] = {}
    for rid, kind in room_order:
        members = [i for i in items if i.room == rid]
        parts = max(1, -(-len(members) // per_room))
        for part in range(parts):
            part_id = rid if part == 0 else f"{rid[:60]}-{part + 1}"
            if part:
                continues[part_id] = (rid, part + 1)
            out_order.append((part_id, kind))
            for item in members[part * per_room:(part + 1) * per_room]:
                out_items.append(Item(item.id, item.kind, part_id, item.size))
    return out_items, out_order, continues


def plan(items: list[Item], room_order: list[tuple[str, str]]) -> Layout:
    """Lay out `items` in rooms given as (room id, kind) in visiting order."""
    items, room_order, continues = split_crowded(items, room_order)
    rooms = {rid: _RoomContents(rid, kind) for rid, kind in room_order}
    for item in items:
        contents = rooms[item.room]
        if item.kind == "painting":
            west, east = contents.walls
            # Balance the two walls by length so the room stays short.
            wall = west if sum(i.size[0] for i in west) <= sum(i.size[0] for i in east) else east
            wall.append(item)
        else:
            contents.row.append(item)

    placements: dict[str, Placement] = {}
    plans: list[RoomPlan] = []
    walls: list[Box] = []
    plinths: list[Box] = []
    walkable: list[Rect] = []
    z_top = 0.0
    widths: list[float] = []
    heights: list[float] = []
    for rid, kind in room_order:
        contents = rooms[rid]
        half_row = max((_row_side(i) / 2 for i in contents.row), default=0.0)
        aisle = AISLE_MIN
        for item in contents.row:
            aisle = max(aisle, _view_distance(item) - half_row + 0.6)
        for item in contents.walls[0] + contents.walls[1]:
            aisle = max(aisle, _painting_distance(item) + 0.6)
        width = max(MIN_ROOM, 2 * (half_row + aisle))
        row_len = sum(_row_side(i) for i in contents.row) + ROW_GAP * max(0, len(contents.row) - 1)
        wall_len = max((sum(i.size[0] + PAINTING_GAP for i in wall) for wall in contents.walls),
                       default=0.0)
        length = max(MIN_ROOM, row_len + 2 * END_CLEAR, wall_len + 2 * PAINTING_GAP)
        tallest = max((plinth_height_for(i.size[1]) + i.size[1] if i.kind == "model"
                       else i.size[1] + (0 if i.kind == "smart" else EYE_CENTRE - i.size[1] / 2)
                       for i in contents.row + contents.walls[0] + contents.walls[1]),
                      default=0.0)
        height = max(3.5 if kind == "gallery" else 5.0, tallest + 1.0)
        x0, x1, z1 = -width / 2, width / 2, z_top
        z0 = z1 - length
        plans.append(RoomPlan(rid, kind, (x0, z0, x1, z1), height))
        walkable.append((x0 + BODY, z0 + BODY, x1 - BODY, z1 - BODY))
        walls.append(Box((x0 - WALL_T, z0, x0, z1), height))
        walls.append(Box((x1, z0, x1 + WALL_T, z1), height))
        widths.append(width)
        heights.append(height)
        _place_row(contents, rid, (x0, z0, x1, z1), half_row, placements, plinths)
        _place_walls(contents, rid, (x0, z0, x1, z1), placements)
        z_top = z0

    # End walls: the entrance wall, the walls between rooms (with a door), the far wall.
    z = 0.0
    for index in range(len(plans) + 1):
        before = index - 1 if index > 0 else None
        after = index if index < len(plans) else None
        near = [i for i in (before, after) if i is not None]
        half = max(widths[i] for i in near) / 2 + WALL_T
        height = max(heights[i] for i in near)
        if before is not None and after is not None:
            walls.append(Box((-half, z - WALL_T, -DOOR_W / 2, z), height))
            walls.append(Box((DOOR_W / 2, z - WALL_T, half, z), height))
            walls.append(Box((-DOOR_W / 2, z - WALL_T, DOOR_W / 2, z), height - 2.3, 2.3))
            walkable.append((-DOOR_W / 2 + BODY, z - WALL_T - BODY - 0.05,
                             DOOR_W / 2 - BODY, z + BODY + 0.05))
        elif before is None:
            walls.append(Box((-half, z, half, z + WALL_T), height))
        else:
            walls.append(Box((-half, z - WALL_T, half, z), height))
        if after is not None:
            z = plans[after].bounds[1]
    entrance = Pose((0.0, 0.0, -1.2), 0.0)
    layout = Layout(plans, placements, walkable, entrance, walls, plinths, continues)
    return _centred(layout)


def _painting_distance(item: Item) -> float:
    return max(1.4, min(3.5, 1.2 * max(item.size[0], item.size[1])))


def _place_row(contents: _RoomContents, rid: str, bounds: Rect, half_row: float,
               placements: dict[str, Placement], plinths: list[Box]) -> None:
    if not contents.row:
        return
    x0, z0, x1, z1 = bounds
    sides = [_row_side(i) for i in contents.row]
    used = sum(sides)
    gap = ((z1 - z0) - 2 * END_CLEAR - used) / max(1, len(sides) - 1) if len(sides) > 1 else 0.0
    gap = max(ROW_GAP, gap)
    span = used + gap * (len(sides) - 1)
    z = z1 - ((z1 - z0) - span) / 2  # centre the row between the end walls
    for index, (item, side) in enumerate(zip(contents.row, sides, strict=True)):
        cz = z - side / 2
        z -= side + gap
        # Alternate the aisle each object faces so both aisles are used; +X first.
        yaw = math.pi / 2 if index % 2 == 0 else -math.pi / 2
        fx, fz = _front(yaw)
        if item.kind == "model":
            ph = plinth_height_for(item.size[1])
            mount = "plinth" if ph >= 0.15 else "floor"
            ph = ph if mount == "plinth" else 0.0
        else:
            ph, mount = 0.0, "floor"
        footprint = (-side / 2, cz - side / 2, side / 2, cz + side / 2)
        if mount == "plinth":
            inset = 0.1  # the plinth is a little larger than the object, not the whole square
            plinths.append(Box((footprint[0] + inset, footprint[1] + inset,
                                footprint[2] - inset, footprint[3] - inset), ph))
        d = max(_view_distance(item), half_row + 0.7)
        view = Pose((fx * d, 0.0, cz + fz * d), yaw)
        placements[item.id] = Placement(rid, (0.0, ph, cz), yaw, mount, ph, footprint, view)


def _place_walls(contents: _RoomContents, rid: str, bounds: Rect,
                 placements: dict[str, Placement]) -> None:
    x0, z0, x1, z1 = bounds
    for side, wall in enumerate(contents.walls):
        if not wall:
            continue
        total = sum(i.size[0] for i in wall)
        gap = ((z1 - z0) - total) / (len(wall) + 1)  # equal spacing along the wall
        # Visitors at a plinth's view point in this aisle would stand where a painting is seen:
        # slide the row of paintings (keeping the spacing) away from those spots.
        aisle_sign = -1.0 if side == 0 else 1.0
        busy = [p.view_point.position[2] for p in placements.values()
                if p.room == rid and p.mount != "wall"
                and p.view_point.position[0] * aisle_sign > 0]
        z = z1 - gap + _best_shift(wall, gap, busy, z1)
        for item in wall:
            w, h, d = item.size
            cz = z - w / 2
            z -= w + gap
            # West wall (side 0) paintings face +X, east wall ones face -X.
            yaw = math.pi / 2 if side == 0 else -math.pi / 2
            fx, _ = _front(yaw)
            wall_x = x0 if side == 0 else x1
            cx = wall_x + fx * (d / 2 + 0.02)
            bottom = EYE_CENTRE - h / 2 if h < 2.4 else 0.3
            footprint = (min(wall_x, cx + fx * d / 2), cz - w / 2, max(wall_x, cx + fx * d / 2),
                         cz + w / 2)
            dist = _painting_distance(item)
            view = Pose((wall_x + fx * dist, 0.0, cz), yaw)
            placements[item.id] = Placement(rid, (cx, bottom, cz), yaw, "wall", 0.0, footprint,
                                            view)


def _best_shift(wall: list[Item], gap: float, busy: list[float], z_top: float) -> float:
    """The shift (within half a gap either way) that keeps paintings' centres farthest from the
    `busy` z positions; 0 when nothing is in the way."""
    if not busy:
        return 0.0

    def clearance(shift: float) -> float:
        z, nearest = z_top - gap + shift, math.inf
        for item in wall:
            centre = z - item.size[0] / 2
            z -= item.size[0] + gap
            nearest = min(nearest, *(abs(centre - b) for b in busy))
        return nearest

    limit = max(0.0, gap / 2 - PAINTING_GAP / 4)
    candidates = [limit * k / 4 for k in range(-4, 5)]
    return max(candidates, key=lambda shift: (round(clearance(shift), 6), -abs(shift)))


def _shift_rect(r: Rect, dz: float) -> Rect:
    return (r[0], r[1] + dz, r[2], r[3] + dz)


def _centred(layout: Layout) -> Layout:
    """Move the plan along z so that its walls' extent is centred on the origin."""
    zs = [v for b in layout.walls for v in (b.rect[1], b.rect[3])]
    dz = -(min(zs) + max(zs)) / 2
    for room in layout.rooms:
        room.bounds = _shift_rect(room.bounds, dz)
    for box in layout.walls + layout.plinths:
        box.rect = _shift_rect(box.rect, dz)
    layout.walkable = [_shift_rect(r, dz) for r in layout.walkable]
    for p in layout.placements.values():
        p.position = (p.position[0], p.position[1], p.position[2] + dz)
        p.footprint = _shift_rect(p.footprint, dz)
        vp = p.view_point.position
        p.view_point = Pose((vp[0], vp[1], vp[2] + dz), p.view_point.yaw)
    ep = layout.entrance.position
    layout.entrance = Pose((ep[0], ep[1], ep[2] + dz), layout.entrance.yaw)
    return layout
