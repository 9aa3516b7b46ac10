"""Gallery layout: rooms sized to their objects, one after another along -Z from the entrance.

Every work stands along one of a room's two long walls: paintings hang on the wall, centred at
1.5 m; 3D objects stand on plinths (tall ones and smart exhibits on the floor) a little out from
the wall, each in its own stretch ("bay") of wall. All face the room. Down the middle runs a
free lane from the entrance through the doors (in the middle of the walls between rooms), so
walking it passes every work in the collection's order, the rooms in their order; nothing
stands in the lane, so no work hides another from it. The spacing between neighbours grows
with how deep into the room a 3D work reaches, so seen along a wall it does not hide the next
one. An object's front is its local +Z; `yaw` turns it toward the room, where its view point
is. A visitor pose with yaw 0 faces -Z, so a visitor standing in front of an object has the
same yaw as the object.

The whole plan is centred on the origin (x and z) with the floor at y = 0, which is also where
the converter's normalisation puts a model: the architecture GLB keeps these coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from vrculture.exhibition.presentation import (
    GLASS_HEADROOM,
    Presentation,
    resolve,
)

Rect = tuple[float, float, float, float]  # min_x, min_z, max_x, max_z

WALL_T = 0.15  # wall thickness
DOOR_W = 1.8
LANE = 1.2  # free floor down the middle, door to door, between the visitors at each wall
END_CLEAR = 1.0  # works keep out of the far corners, where the end wall would crowd them
# Free wall at the end a room is entered by: its first works stand ahead of a visitor coming in
# (in view), not beside them.
NEAR_CLEAR = 3.0
ENTRANCE_DEPTH = 0.8  # the entrance pose, this far inside the first room
STANDOFF = 0.3  # a 3D work's plinth stands this far out from its wall
PLINTH_MARGIN = 0.15  # plinth beyond the object on each side
PAINTING_GAP = 1.0
SIGHT_ANGLE = 60.0  # degrees off a work's front within which no other work may hide it
EYE_CENTRE = 1.5  # paintings' centre height
BODY = 0.25  # a visitor's radius: walkable floor keeps this far from walls
MIN_ROOM = 6.0
MAX_PER_ROOM = 12  # works per room before the room continues in the next one


@dataclass
class Item:
    id: str
    kind: str  # "model" | "painting" | "smart"
    room: str
    size: tuple[float, float, float]  # the object's x, y, z extents in metres
    presentation: Presentation | None = None  # None: the defaults for its kind and size

    def presented(self) -> Presentation:
        return self.presentation or resolve(self.kind, self.size, None)[0]


@dataclass
class Fixed:
    """A curator's placement, in its room's frame: the origin is the middle of the room's
    floor, +X east (to the right, entering), +Z south (back toward the entrance), so the
    far wall is north. 3D objects give x, z and facing (degrees; 0 turns their front to the
    south); paintings give a wall and `along` (their middle's x on the north and south walls,
    z on the west and east ones) and optionally the height of their middle."""

    x: float | None = None
    z: float | None = None
    facing: float = 0.0
    wall: str | None = None
    along: float | None = None
    height: float | None = None


@dataclass
class RoomSize:
    """A curator's room size (inside the walls); None leaves that side to the layout."""

    width: float | None = None
    depth: float | None = None
    height: float | None = None


@dataclass
class Problem:
    """Something wrong with a curator's placement: `key` is the field ("placement.x",
    "depth"), `record` the object's or room's id."""

    record: str
    key: str
    message: str
    severity: str = "error"
    room: bool = False  # the record is a room, not an object


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
    mount: str  # "plinth" | "wall" | "floor" | "vitrine"
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
    vitrines: list[Box] = field(default_factory=list)  # glass cases, each standing on a plinth
    # room id -> (the collection's room it continues, part number from 2) for split rooms
    continues: dict[str, tuple[str, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    presentations: dict[str, Presentation] = field(default_factory=dict)  # by work id


def _view_distance(item: Item) -> float:
    """From the front of a 3D work's plinth to where a visitor stands: far enough to see it
    whole."""
    return max(0.9, 0.7 * max(item.size[0], item.size[1]))


def split_crowded(items: list[Item], room_order: list[tuple[str, str]],
                  per_room: int = MAX_PER_ROOM, keep: frozenset[str] = frozenset()
                  ) -> tuple[list[Item], list[tuple[str, str]], dict[str, tuple[str, int]]]:
    """Rooms with more than `per_room` works continue in further rooms ("konst-2", ...), so a
    big collection becomes a suite of rooms rather than one endless corridor. Rooms in `keep`
    (a curator arranged them) stay whole."""
    out_items: list[Item] = []
    out_order: list[tuple[str, str]] = []
    continues: dict[str, tuple[str, int]] = {}
    for rid, kind in room_order:
        members = [i for i in items if i.room == rid]
        parts = 1 if rid in keep else max(1, -(-len(members) // per_room))
        size = len(members) if rid in keep else per_room
        for part in range(parts):
            part_id = rid if part == 0 else f"{rid[:60]}-{part + 1}"
            if part:
                continues[part_id] = (rid, part + 1)
            out_order.append((part_id, kind))
            for item in members[part * size:(part + 1) * size]:
                out_items.append(Item(item.id, item.kind, part_id, item.size,
                                      item.presentation))
    return out_items, out_order, continues


@dataclass
class _Slot:
    """One work's stretch of a long wall: a painting on it or a 3D work standing against it."""

    item: Item
    along: float  # length of wall it takes (z)
    depth: float  # how far its footprint reaches into the room from the wall (x)
    reach: float  # from the wall to where its visitor stands


def _slot(item: Item) -> _Slot:
    w, h, d = item.size
    if item.kind == "painting":
        return _Slot(item, w, d + 0.02, d + 0.02 + _painting_distance(item))
    # Turned to face the room, the object's local x runs along the wall and its local z (its
    # depth) into the room; the footprint adds a plinth margin all round.
    depth = d + 2 * PLINTH_MARGIN
    return _Slot(item, w + 2 * PLINTH_MARGIN, depth, STANDOFF + depth + _view_distance(item))


def _out(slot: _Slot) -> float:
    """How far into the room a work's footprint reaches from its wall."""
    return slot.depth if slot.item.kind == "painting" else STANDOFF + slot.depth


def _starts(slots: list[_Slot]) -> list[float]:
    """Where each work's stretch of wall begins, from the first one's start. Neighbours keep
    PAINTING_GAP apart, and a work standing out from the wall keeps far enough from every other
    work's middle that, seen from within SIGHT_ANGLE of that work's front, it never covers it:
    a line of sight at that angle crosses the depth `out` over `out * tan(SIGHT_ANGLE)` of
    wall. Works seen more obliquely than that are not being looked at."""
    slope = math.tan(math.radians(SIGHT_ANGLE))
    starts: list[float] = []
    for index, slot in enumerate(slots):
        start = starts[-1] + slots[index - 1].along + PAINTING_GAP if index else 0.0
        for other, begin in zip(slots, starts, strict=False):
            start = max(start,
                        begin + other.along / 2 + _out(slot) * slope,  # slot hides other
                        begin + other.along + _out(other) * slope - slot.along / 2)  # or other
        starts.append(start)
    return starts


def _wall_length(slots: list[_Slot]) -> float:
    if not slots:
        return NEAR_CLEAR + END_CLEAR
    return _starts(slots)[-1] + slots[-1].along + NEAR_CLEAR + END_CLEAR


def plan(items: list[Item], room_order: list[tuple[str, str]],
         fixed: dict[str, Fixed] | None = None,
         sizes: dict[str, RoomSize] | None = None) -> Layout:
    """Lay out `items` in rooms given as (room id, kind) in visiting order. Works in `fixed`
    stand where the curator put them (arrange.py checks them and places the rest around them);
    rooms in `sizes` take the curator's size."""
    from vrculture.exhibition import arrange

    fixed, sizes = dict(fixed or {}), dict(sizes or {})
    problems: list[Problem] = []
    by_id = {i.id: i for i in items}
    for key in list(fixed):
        if key not in by_id:
            del fixed[key]
    keep = frozenset({by_id[k].room for k in fixed} | set(sizes))
    items, room_order, continues = split_crowded(items, room_order, keep=keep)
    rooms_ahead = {rid: index for index, (rid, _) in enumerate(room_order)}
    arranged: dict[str, arrange.RoomArrangement] = {}
    for rid, _kind in room_order:
        if rid in keep:
            members = [i for i in items if i.room == rid]
            arranged[rid] = arrange.arrange_room(
                rid, members, fixed, sizes.get(rid, RoomSize()),
                door_north=rooms_ahead[rid] < len(room_order) - 1,
                door_south=rooms_ahead[rid] > 0, problems=problems)
    sides: dict[str, tuple[list[_Slot], list[_Slot]]] = {rid: ([], []) for rid, _ in room_order}
    for item in items:
        if item.room in arranged:
            continue
        west, east = sides[item.room]
        slot = _slot(item)
        # In the collection's order, each work goes to the shorter wall: the walls stay balanced
        # and a walk down the middle passes the works in order, alternating sides.
        (west if _wall_length(west + [slot]) <= _wall_length(east + [slot]) else east).append(slot)

    placements: dict[str, Placement] = {}
    plans: list[RoomPlan] = []
    walls: list[Box] = []
    plinths: list[Box] = []
    vitrines: list[Box] = []
    walkable: list[Rect] = []
    z_top = 0.0
    widths: list[float] = []
    heights: list[float] = []
    for rid, kind in room_order:
        west, east = sides[rid]
        room_arrangement = arranged.get(rid)
        if room_arrangement is not None:
            width, length, height = (room_arrangement.width, room_arrangement.depth,
                                     room_arrangement.height)
        else:
            # Each half of the room holds its wall's works and their visitors, with a free
            # lane down the middle (the doors' line) for walking through.
            half = max([LANE / 2 + s.reach for s in west + east] + [MIN_ROOM / 2])
            width = 2 * half
            length = max(MIN_ROOM, _wall_length(west), _wall_length(east))
            tallest = max((top_of(s.item) for s in west + east), default=0.0)
            height = max(3.5 if kind == "gallery" else 5.0, tallest + 1.0)
        x0, x1, z1 = -width / 2, width / 2, z_top
        z0 = z1 - length
        plans.append(RoomPlan(rid, kind, (x0, z0, x1, z1), height))
        walkable.append((x0 + BODY, z0 + BODY, x1 - BODY, z1 - BODY))
        walls.append(Box((x0 - WALL_T, z0, x0, z1), height))
        walls.append(Box((x1, z0, x1 + WALL_T, z1), height))
        widths.append(width)
        heights.append(height)
        if room_arrangement is not None:
            room_arrangement.place((z0 + z1) / 2, placements, plinths, vitrines)
        _place_wall(west, rid, x0, 1.0, (z0, z1), placements, plinths, vitrines)
        _place_wall(east, rid, x1, -1.0, (z0, z1), placements, plinths, vitrines)
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
    entrance = Pose((0.0, 0.0, -ENTRANCE_DEPTH), 0.0)
    layout = Layout(plans, placements, walkable, entrance, walls, plinths, vitrines, continues,
                    problems)
    layout.presentations = {i.id: i.presented() for i in items}
    layout = _centred(layout)
    if arranged:
        from vrculture.exhibition.sightcheck import hidden_pairs

        for message_record, message in hidden_pairs(layout, items, set(fixed)):
            layout.problems.append(Problem(message_record, "placement", message, "warning"))
    return layout


def _painting_distance(item: Item) -> float:
    return max(1.4, min(3.5, 1.2 * max(item.size[0], item.size[1])))


def _place_wall(slots: list[_Slot], rid: str, wall_x: float, inward: float,
                span: tuple[float, float], placements: dict[str, Placement],
                plinths: list[Box], vitrines: list[Box]) -> None:
    """Works along one long wall from the entrance end, the spare length shared out evenly
    between them; `inward` is +1 for the west wall (the room lies towards +X), -1 for east."""
    if not slots:
        return
    z0, z1 = span
    starts = _starts(slots)
    # The spare length goes evenly before, between and after the works: spreading them only
    # widens the distances _starts keeps.
    extra = ((z1 - z0) - _wall_length(slots)) / (len(slots) + 1)
    for index, (s, begin) in enumerate(zip(slots, starts, strict=True)):
        cz = z1 - NEAR_CLEAR - extra * (index + 1) - begin - s.along / 2
        place_on_wall(s, rid, wall_x, inward, cz, placements, plinths, vitrines)


def place_on_wall(s: _Slot, rid: str, wall_x: float, inward: float, cz: float,
                  placements: dict[str, Placement], plinths: list[Box],
                  vitrines: list[Box]) -> None:
    """One work along a long wall (x = wall_x), its middle at cz."""
    yaw = math.pi / 2 if inward > 0 else -math.pi / 2  # the work's front faces the room
    view = Pose((wall_x + inward * s.reach, 0.0, cz), yaw)
    item = s.item
    if item.kind == "painting":
        w, h, d = item.size
        cx = wall_x + inward * (d / 2 + 0.02)
        bottom = hanging_bottom(item, None)
        footprint = _rect(wall_x, wall_x + inward * s.depth, cz - w / 2, cz + w / 2)
        placements[item.id] = Placement(rid, (cx, bottom, cz), yaw, "wall", 0.0, footprint,
                                        view)
        return
    near, far = wall_x + inward * STANDOFF, wall_x + inward * (STANDOFF + s.depth)
    footprint = _rect(near, far, cz - s.along / 2, cz + s.along / 2)
    mount, ph = stand(item, footprint, plinths, vitrines)
    placements[item.id] = Placement(rid, ((near + far) / 2, ph, cz), yaw, mount, ph,
                                    footprint, view)


def hanging_bottom(item: Item, height: float | None, room_height: float | None = None
                   ) -> float:
    """A wall-hung work's lower edge: its middle at `height` (a curator's placement), else at
    its presentation's wall height; kept on the wall (above the floor, below the ceiling)."""
    h = item.size[1]
    centre = height if height is not None else item.presented().wall_height
    bottom = (EYE_CENTRE if centre is None else centre) - h / 2
    if room_height is not None:
        bottom = min(bottom, room_height - 0.05 - h)
    return max(0.05, bottom)


def stand(item: Item, footprint: Rect, plinths: list[Box], vitrines: list[Box]
          ) -> tuple[str, float]:
    """How a 3D work stands on `footprint` (its mount and the height of what it stands on); adds
    its plinth, and for a vitrine the glass case on it, to the lists."""
    presented = item.presented()
    mount = presented.mount if presented.mount != "wall" else "floor"
    if mount == "floor":
        return mount, 0.0
    ph = presented.plinth_height
    inset = PLINTH_MARGIN / 2  # the plinth is a little larger than the object
    rect = (footprint[0] + inset, footprint[1] + inset, footprint[2] - inset,
            footprint[3] - inset)
    plinths.append(Box(rect, ph))
    if mount == "vitrine":
        vitrines.append(Box(rect, item.size[1] + GLASS_HEADROOM, ph))
    return mount, ph


def top_of(item: Item) -> float:
    """How high a work reaches above the floor, as presented (for the room's height)."""
    h = item.size[1]
    presented = item.presented()
    if item.kind == "painting":
        return hanging_bottom(item, None) + h
    if presented.mount == "vitrine":
        return presented.plinth_height + h + GLASS_HEADROOM
    return presented.plinth_height + h


def _rect(xa: float, xb: float, za: float, zb: float) -> Rect:
    return (min(xa, xb), min(za, zb), max(xa, xb), max(za, zb))


def _shift_rect(r: Rect, dz: float) -> Rect:
    return (r[0], r[1] + dz, r[2], r[3] + dz)


def _centred(layout: Layout) -> Layout:
    """Move the plan along z so that its walls' extent is centred on the origin."""
    zs = [v for b in layout.walls for v in (b.rect[1], b.rect[3])]
    dz = -(min(zs) + max(zs)) / 2
    for room in layout.rooms:
        room.bounds = _shift_rect(room.bounds, dz)
    for box in layout.walls + layout.plinths + layout.vitrines:
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
