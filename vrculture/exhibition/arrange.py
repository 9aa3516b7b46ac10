"""A room a curator arranged (docs/collection-format.md "Placement").

Works with a fixed placement stand exactly where the curator put them; the others still go
along the long walls, in the collection's order, in the stretches the fixed ones leave free
(kept as far from them as `layout._starts` keeps automatic neighbours apart, so a work placed
automatically never hides or is hidden by one along the same wall). The room takes the
curator's width, depth and height, or grows to hold its works. Coordinates here are in the
room's frame: origin in the middle of its floor, +X east, +Z south (toward the entrance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from vrculture.exhibition.layout import (
    BODY,
    DOOR_W,
    END_CLEAR,
    LANE,
    MIN_ROOM,
    NEAR_CLEAR,
    PAINTING_GAP,
    PLINTH_MARGIN,
    SIGHT_ANGLE,
    Box,
    Fixed,
    Item,
    Placement,
    Pose,
    Problem,
    Rect,
    RoomSize,
    _out,
    _painting_distance,
    _rect,
    _Slot,
    _slot,
    _view_distance,
    hanging_bottom,
    place_on_wall,
    stand,
    top_of,
)

WALL_YAW = {"north": 0.0, "south": math.pi, "west": math.pi / 2, "east": -math.pi / 2}
PAINTING_OFF_WALL = 0.02
DOOR_CLEAR = 0.1  # a painting keeps this far from a door's frame
MAX_GROWTH_STEPS = 400
ROUNDING = 1e-3  # placements are written to the millimetre: a work flush with a wall fits


@dataclass
class _Placed:
    item: Item
    fixed: Fixed
    footprint: Rect = (0.0, 0.0, 0.0, 0.0)  # room frame


@dataclass
class RoomArrangement:
    id: str
    width: float
    depth: float
    height: float
    fixed: list[_Placed] = field(default_factory=list)
    walls: list[tuple[_Slot, float, float]] = field(default_factory=list)  # slot, wall x, mid z

    def place(self, centre_z: float, placements: dict[str, Placement],
              plinths: list[Box], vitrines: list[Box]) -> None:
        """Write every work's placement, the room's middle being at z = centre_z."""
        for slot, wall_x, mid in self.walls:
            place_on_wall(slot, self.id, wall_x, 1.0 if wall_x < 0 else -1.0, centre_z + mid,
                          placements, plinths, vitrines)
        for placed in self.fixed:
            placements[placed.item.id] = self._fixed_placement(placed, centre_z, plinths,
                                                               vitrines)

    def _fixed_placement(self, placed: _Placed, centre_z: float,
                         plinths: list[Box], vitrines: list[Box]) -> Placement:
        item, fixed = placed.item, placed.fixed
        f = placed.footprint
        footprint = (f[0], f[1] + centre_z, f[2], f[3] + centre_z)
        hw, hd = self.width / 2, self.depth / 2
        inner = (-hw + BODY + 0.05, -hd + BODY + 0.05, hw - BODY - 0.05, hd - BODY - 0.05)
        w, h, d = item.size
        if item.kind == "painting":
            assert fixed.wall is not None and fixed.along is not None
            yaw = WALL_YAW[fixed.wall]
            front = (math.sin(yaw), math.cos(yaw))
            off = d / 2 + PAINTING_OFF_WALL
            reach = d + PAINTING_OFF_WALL + _painting_distance(item)
            if fixed.wall in ("west", "east"):
                x = -hw + off if fixed.wall == "west" else hw - off
                z = fixed.along
                view = (x + front[0] * (reach - off), z)
            else:
                x = fixed.along
                z = -hd + off if fixed.wall == "north" else hd - off
                view = (x, z + front[1] * (reach - off))
            bottom = painting_bottom(item, fixed, self.height)
            return Placement(self.id, (x, bottom, z + centre_z), yaw, "wall", 0.0, footprint,
                             Pose(_clamped(view, inner, centre_z), yaw))
        assert fixed.x is not None and fixed.z is not None
        yaw = math.radians(fixed.facing)
        front = (math.sin(yaw), math.cos(yaw))
        mount, ph = stand(item, footprint, plinths, vitrines)
        distance = d / 2 + PLINTH_MARGIN + _view_distance(item)
        view = (fixed.x + front[0] * distance, fixed.z + front[1] * distance)
        return Placement(self.id, (fixed.x, ph, fixed.z + centre_z), yaw, mount, ph, footprint,
                         Pose(_clamped(view, inner, centre_z), yaw))


def _clamped(point: tuple[float, float], inner: Rect,
             centre_z: float) -> tuple[float, float, float]:
    x = min(max(point[0], inner[0]), inner[2])
    z = min(max(point[1], inner[1]), inner[3])
    return (x, 0.0, z + centre_z)


def painting_bottom(item: Item, fixed: Fixed, room_height: float) -> float:
    """The height of a painting's lower edge: its middle at `fixed.height`, else at its
    presentation's wall height (1.5 m; a very tall one 0.3 m off the floor), snapped so it stays
    on the wall."""
    return hanging_bottom(item, fixed.height, room_height)


def object_extent(item: Item, facing: float) -> tuple[float, float]:
    """Half the x and z sides of a 3D work's footprint (plinth margin included), turned."""
    a = item.size[0] / 2 + PLINTH_MARGIN
    b = item.size[2] / 2 + PLINTH_MARGIN
    c, s = abs(math.cos(math.radians(facing))), abs(math.sin(math.radians(facing)))
    return c * a + s * b, s * a + c * b


def _footprint(item: Item, fixed: Fixed, hw: float, hd: float) -> Rect:
    w, _, d = item.size
    if item.kind == "painting":
        assert fixed.wall is not None and fixed.along is not None
        depth = d + PAINTING_OFF_WALL
        a = fixed.along
        if fixed.wall == "west":
            return _rect(-hw, -hw + depth, a - w / 2, a + w / 2)
        if fixed.wall == "east":
            return _rect(hw - depth, hw, a - w / 2, a + w / 2)
        if fixed.wall == "north":
            return _rect(a - w / 2, a + w / 2, -hd, -hd + depth)
        return _rect(a - w / 2, a + w / 2, hd - depth, hd)
    assert fixed.x is not None and fixed.z is not None
    ex, ez = object_extent(item, fixed.facing)
    return (fixed.x - ex, fixed.z - ez, fixed.x + ex, fixed.z + ez)


def _overlap(a: Rect, b: Rect) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > 1e-9 and min(a[3], b[3]) - max(a[1], b[1]) > 1e-9


def _key(placed: _Placed, floor_key: str = "x") -> str:
    return "placement." + ("along" if placed.item.kind == "painting" else floor_key)


def arrange_room(rid: str, members: list[Item], fixed: dict[str, Fixed], size: RoomSize, *,
                 door_north: bool, door_south: bool,
                 problems: list[Problem]) -> RoomArrangement:
    """Check the curator's placements in room `rid`, size the room and place the other
    works around them. A placement with an error is reported and the work placed
    automatically instead."""
    chosen: list[_Placed] = []
    auto: list[Item] = []
    for item in members:
        f = fixed.get(item.id)
        if f is None:
            auto.append(item)
        elif item.kind == "painting" and f.wall is None:
            problems.append(Problem(item.id, "placement.x", "is a painting: hang it on a wall "
                                    "with `wall` and `along` instead of `x` and `z`"))
            auto.append(item)
        elif item.kind != "painting" and f.wall is not None:
            problems.append(Problem(item.id, "placement.wall", "is a 3D object: stand it on "
                                    "the floor with `x`, `z` and `facing` instead of `wall`"))
            auto.append(item)
        else:
            chosen.append(_Placed(item, f))
    slots = [_slot(i) for i in auto]

    # Width: the curator's, else enough for the works along the walls and the fixed ones.
    need_half = max([LANE / 2 + s.reach for s in slots] + [MIN_ROOM / 2])
    if size.width is not None:
        hw = size.width / 2
        if hw < LANE / 2 + max((s.reach for s in slots), default=0.0) - 1e-9:
            problems.append(Problem(rid, "width", f"{size.width:g} m is too narrow for the works "
                                    f"placed automatically along its walls and the lane between "
                                    f"them; widened to {2 * need_half:.2f} m", "warning", True))
            hw = need_half
    else:
        hw = need_half
        for p in chosen:
            if p.item.kind == "painting":
                if p.fixed.wall in ("north", "south"):
                    hw = max(hw, abs(p.fixed.along or 0.0) + p.item.size[0] / 2 + 0.1)
            else:
                ex, _ = object_extent(p.item, p.fixed.facing)
                hw = max(hw, abs(p.fixed.x or 0.0) + ex + BODY)
    # Depth to start from: the curator's, else enough for the fixed works.
    if size.depth is not None:
        hd = size.depth / 2
    else:
        hd = MIN_ROOM / 2
        for p in chosen:
            if p.item.kind == "painting":
                if p.fixed.wall in ("west", "east"):
                    hd = max(hd, abs(p.fixed.along or 0.0) + p.item.size[0] / 2 + 0.1)
            else:
                _, ez = object_extent(p.item, p.fixed.facing)
                hd = max(hd, abs(p.fixed.z or 0.0) + ez + BODY)
    # Height: the curator's, else a head above the tallest work.
    tallest = 0.0
    for p in chosen:
        h = p.item.size[1]
        tallest = max(tallest, (p.fixed.height + h / 2 if p.item.kind == "painting"
                                and p.fixed.height is not None else top_of(p.item)))
    for s in slots:
        tallest = max(tallest, top_of(s.item))
    height = size.height if size.height is not None else max(3.5, tallest + 1.0)

    kept: list[_Placed] = []
    for p in chosen:
        if _check_fixed(rid, p, hw, hd, size, height, door_north, door_south, problems):
            p.footprint = _footprint(p.item, p.fixed, hw, hd)
            clash = next((k for k in kept if _overlap(k.footprint, p.footprint)), None)
            if clash is None:
                kept.append(p)
                continue
            problems.append(Problem(p.item.id, _key(p), f"{p.item.id!r} overlaps "
                                    f"{clash.item.id!r} (both placed in room {rid!r}): move "
                                    "one of them"))
        slots.append(_slot(p.item))
    _warn_blocked_ways(rid, kept, hw, hd, door_north, door_south, problems)

    grown = False
    for _ in range(MAX_GROWTH_STEPS):
        for p in kept:  # the north and south walls move as the room grows
            p.footprint = _footprint(p.item, p.fixed, hw, hd)
        placed, over = _fill_walls(slots, hw, hd, kept)
        if over <= 1e-9:
            break
        grown = True
        hd += max(0.25, over / 2)
    if grown and size.depth is not None:
        problems.append(Problem(rid, "depth", f"{size.depth:g} m is too short for the works "
                                f"placed automatically around the fixed ones; lengthened to "
                                f"{2 * hd:.2f} m", "warning", True))
    arrangement = RoomArrangement(rid, 2 * hw, 2 * hd, height, kept)
    arrangement.walls = placed
    return arrangement


def _check_fixed(rid: str, p: _Placed, hw: float, hd: float, size: RoomSize, height: float,
                 door_north: bool, door_south: bool, problems: list[Problem]) -> bool:
    """Errors that move a fixed work back to automatic placement: outside the room (as the
    curator sized it) or over a door."""
    item, f = p.item, p.fixed
    w, h, _ = item.size
    if item.kind == "painting":
        assert f.wall is not None and f.along is not None
        half_wall = hd if f.wall in ("west", "east") else hw
        sized = size.depth if f.wall in ("west", "east") else size.width
        if sized is not None and abs(f.along) + w / 2 > half_wall + ROUNDING:
            problems.append(Problem(item.id, "placement.along", f"{f.along:g} m puts the "
                                    f"{w:.2f} m wide painting partly off the {f.wall} wall of "
                                    f"room {rid!r} (it runs from {-half_wall:g} to "
                                    f"{half_wall:g} m)"))
            return False
        door = (f.wall == "north" and door_north) or (f.wall == "south" and door_south)
        if door and abs(f.along) - w / 2 < DOOR_W / 2 + DOOR_CLEAR - ROUNDING:
            problems.append(Problem(item.id, "placement.along", f"{f.along:g} m hangs the "
                                    f"painting over the door in the {f.wall} wall of room "
                                    f"{rid!r} (the door runs from {-DOOR_W / 2:g} to "
                                    f"{DOOR_W / 2:g} m)"))
            return False
        if h > height - 0.1:
            problems.append(Problem(item.id, "placement.height", f"the painting ({h:.2f} m "
                                    f"high) does not fit on a wall of room {rid!r} ({height:g} "
                                    "m high)"))
            return False
        return True
    assert f.x is not None and f.z is not None
    ex, ez = object_extent(item, f.facing)
    for key, centre, half, limit, sized in (("x", f.x, ex, hw, size.width),
                                            ("z", f.z, ez, hd, size.depth)):
        if sized is not None and abs(centre) + half > limit + ROUNDING:
            problems.append(Problem(item.id, f"placement.{key}", f"{centre:g} m puts "
                                    f"{item.id!r} partly outside room {rid!r} (its {key} runs "
                                    f"from {-limit:g} to {limit:g} m and the work with its "
                                    f"plinth is {2 * half:.2f} m across)"))
            return False
    return True


def _warn_blocked_ways(rid: str, kept: list[_Placed], hw: float, hd: float, door_north: bool,
                       door_south: bool, problems: list[Problem]) -> None:
    """A 3D work standing in a doorway or on the entrance spot still builds, but visitors
    cannot get past it: say so."""
    ways: list[tuple[str, Rect]] = []
    if door_north:
        ways.append(("the door in the north wall", (-DOOR_W / 2, -hd, DOOR_W / 2, -hd + 0.6)))
    if door_south:
        ways.append(("the door in the south wall", (-DOOR_W / 2, hd - 0.6, DOOR_W / 2, hd)))
    else:
        ways.append(("the spot where visitors enter", (-0.5, hd - 1.3, 0.5, hd - 0.3)))
    for p in kept:
        if p.item.kind == "painting":
            continue
        for name, rect in ways:
            if _overlap(p.footprint, rect):
                problems.append(Problem(p.item.id, "placement.x", f"{p.item.id!r} stands in "
                                        f"{name} of room {rid!r}: visitors cannot get past",
                                        "warning"))


def _fill_walls(slots: list[_Slot], hw: float, hd: float, fixed: list[_Placed]
                ) -> tuple[list[tuple[_Slot, float, float]], float]:
    """Works along the two long walls from the entrance end, in order, each on the wall where
    it starts nearer the entrance, at the first stretch where it keeps the spacing of
    `layout._starts` from the works before it on that wall and from every fixed work near the
    wall. Returns (slot, wall x, middle z) and how far the last overshoots the walls' usable
    length (0 when they fit)."""
    near = hd - NEAR_CLEAR
    usable = 2 * hd - NEAR_CLEAR - END_CLEAR
    done: dict[float, list[tuple[_Slot, float]]] = {-hw: [], hw: []}  # wall x -> slot, start
    out: list[tuple[_Slot, float, float]] = []
    overshoot = 0.0
    for slot in slots:
        options = [(_start_on(slot, wall_x, 1.0 if wall_x < 0 else -1.0, near, done[wall_x],
                              fixed), wall_x) for wall_x in (-hw, hw)]
        start, wall_x = min(options, key=lambda option: option[0] + 1e-9 * option[1])
        done[wall_x].append((slot, start))
        overshoot = max(overshoot, start + slot.along - usable)
        out.append((slot, wall_x, near - start - slot.along / 2))
    return out, overshoot


def _start_on(slot: _Slot, wall_x: float, inward: float, near: float,
              done: list[tuple[_Slot, float]], fixed: list[_Placed]) -> float:
    """Where `slot` starts (from the near end) on the wall at x = wall_x."""
    slope = math.tan(math.radians(SIGHT_ANGLE))
    reach_x = wall_x + inward * (slot.reach + BODY)
    lo_x, hi_x = min(wall_x, reach_x), max(wall_x, reach_x)
    blockers = []
    for p in fixed:
        f = p.footprint
        if f[2] <= lo_x or f[0] >= hi_x:
            continue
        out_f = (f[2] - wall_x) if inward > 0 else (wall_x - f[0])
        blockers.append((near - f[3], near - f[1], max(0.0, out_f)))  # start, end, out
    start = 0.0
    if done:
        prev, prev_start = done[-1]
        start = prev_start + prev.along + PAINTING_GAP
    for other, begin in done:
        start = max(start, begin + other.along / 2 + _out(slot) * slope,
                    begin + other.along + _out(other) * slope - slot.along / 2)
    moved = True
    while moved:
        moved = False
        for a, b, out_f in blockers:
            middle = (a + b) / 2
            before_max = min(middle - _out(slot) * slope, a - PAINTING_GAP,
                             a - out_f * slope + slot.along / 2) - slot.along
            after_min = max(middle + _out(slot) * slope, b + PAINTING_GAP,
                            b + out_f * slope - slot.along / 2)
            if before_max < start < after_min:
                start = after_min
                moved = True
    return start
