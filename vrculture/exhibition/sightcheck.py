"""Does a work hide another? The build's check of the layout's sight-line guarantee for rooms a
curator arranged (the automatic layout keeps it by construction; tests/exhibition/sightlines.py
is the tests' fuller version of the same rule).

From the entrance and from every work's view point, a work in the same room, seen within
SIGHT_ANGLE of its front, is hidden when the line from a standing visitor's eye to its middle
passes through another work's box (its footprint, from the floor, or for a painting from its
lower edge, up to its top). A vitrine's glass is not part of any box: it is transparent, so it
hides neither its own object nor another; the plinth under it counts like any plinth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vrculture.exhibition.layout import SIGHT_ANGLE, Item, Layout, Rect

EYE = 1.6
EPS = 1e-6


@dataclass
class _Box:
    id: str
    lo: tuple[float, float, float]
    hi: tuple[float, float, float]


def _crosses(eye: tuple[float, float, float], point: tuple[float, float, float],
             box: _Box) -> bool:
    """Whether the segment eye -> point passes through the box (touching a face does not)."""
    t_in, t_out = 0.0, 1.0
    for axis in range(3):
        d = point[axis] - eye[axis]
        lo, hi = box.lo[axis], box.hi[axis]
        if d == 0:
            if not lo <= eye[axis] <= hi:
                return False
            continue
        a, b = (lo - eye[axis]) / d, (hi - eye[axis]) / d
        t_in, t_out = max(t_in, min(a, b)), min(t_out, max(a, b))
    return t_in + EPS < t_out - EPS


def _inside(rect: Rect, x: float, z: float) -> bool:
    return rect[0] <= x <= rect[2] and rect[1] <= z <= rect[3]


def hidden_pairs(layout: Layout, items: list[Item], fixed: set[str]) -> list[tuple[str, str]]:
    """(record to blame, message) for each work hidden behind another from the entrance or a
    view point; the blame goes to a work the curator placed (the blocker if it is one)."""
    sizes = {i.id: i.size for i in items}
    rooms = {r.id: r.bounds for r in layout.rooms}
    boxes: dict[str, list[_Box]] = {}
    middles: dict[str, tuple[float, float, float]] = {}
    for key, p in layout.placements.items():
        if key not in sizes:
            continue
        h = sizes[key][1]
        x, y, z = p.position
        f = p.footprint
        bottom = y if p.mount == "wall" else 0.0
        boxes.setdefault(p.room, []).append(_Box(key, (f[0], bottom, f[1]), (f[2], y + h, f[3])))
        middles[key] = (x, y + h / 2, z)
    eyes = [("the entrance", layout.entrance.position)]
    eyes += [(f"the view point of {key!r}", p.view_point.position)
             for key, p in layout.placements.items()]
    cos_limit = math.cos(math.radians(SIGHT_ANGLE))
    out: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for key, p in layout.placements.items():  # a visitor cannot stand inside another work
        vx, _, vz = p.view_point.position
        for other, q in layout.placements.items():
            f = q.footprint
            if other != key and f[0] < vx < f[2] and f[1] < vz < f[3]:
                seen.add((other, key))
                blame = other if other in fixed or key not in fixed else key
                out.append((blame, f"{other!r} stands where visitors stand to look at "
                                   f"{key!r} (its view point): move one of them"))
    for where, (ex, _, ez) in eyes:
        eye = (ex, EYE, ez)
        for key, middle in middles.items():
            p = layout.placements[key]
            if not _inside(rooms[p.room], ex, ez):
                continue
            to_eye = (ex - middle[0], ez - middle[2])
            front = (math.sin(p.yaw), math.cos(p.yaw))
            if to_eye[0] * front[0] + to_eye[1] * front[1] < cos_limit * math.hypot(*to_eye):
                continue  # seen edge-on or from behind: not where one looks at it from
            for box in boxes.get(p.room, []):
                if box.id == key or (box.id, key) in seen or not _crosses(eye, middle, box):
                    continue
                seen.add((box.id, key))
                blame = box.id if box.id in fixed or key not in fixed else key
                out.append((blame, f"{box.id!r} hides {key!r} from {where} (the line of sight "
                                   f"to its middle passes through {box.id!r}): move one of "
                                   "them"))
    return out
