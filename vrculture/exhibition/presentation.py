"""How one work is presented: on a plinth, on the floor, on the wall or in a vitrine, at what
height, and how strongly lit (docs/collection-format.md "Presentation").

The collection may say any of it (`presentation = { ... }`, read here into a
`PresentationRecord`); what it leaves out follows from the work's kind and size, which are known
only after conversion (`resolve`). The layout places works by the resolved `Presentation`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vrculture.exhibition.fields import Where, check_keys, read_number, read_str
from vrculture.exhibition.records import PresentationRecord

MOUNTS = ("plinth", "floor", "wall", "vitrine")
STANDING = ("plinth", "floor", "vitrine")  # what a 3D object may stand on (or in)
PRESENTATION_KEYS = {"mount", "plinth_height", "wall_height", "light"}
PLINTH_RANGE = (0.05, 1.5)  # metres: a low step up to a high pedestal
WALL_HEIGHT_RANGE = (0.3, 10.0)  # metres: a painting's middle above the floor
LIGHT_RANGE = (0.0, 2.0)  # relative to the gallery's light on the work: 0 none, 2 twice
WALL_CENTRE = 1.5  # museum convention: a painting's middle at 1.5 m
SMALL_OBJECT = 0.4  # metres: a 3D object whose largest side is under this goes in a vitrine
VIEW_CENTRE = 1.25  # a 3D object's middle, for a standing adult looking slightly down
MIN_PLINTH = 0.15  # an automatic plinth lower than this is no plinth: the work stands on the floor
MAX_PLINTH = 1.0
TALL_PAINTING = 2.4  # metres: a painting this tall hangs low (0.3 m off the floor) by default
GLASS_HEADROOM = 0.1  # metres of air above an object in its vitrine


@dataclass(frozen=True)
class Presentation:
    """The resolved presentation: every field decided."""

    mount: str  # one of MOUNTS
    plinth_height: float = 0.0  # metres; 0 unless the mount is a plinth or a vitrine
    wall_height: float | None = None  # a wall-hung work's middle; None: the layout's default
    light: float = 1.0

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"mount": self.mount, "light": round(self.light, 3)}
        if self.mount in ("plinth", "vitrine"):
            out["plinth_height"] = round(self.plinth_height, 4)
        if self.wall_height is not None:
            out["wall_height"] = round(self.wall_height, 4)
        return out


def _in_range(where: Where, key: str, value: float | None, bounds: tuple[float, float],
              unit: str) -> float | None:
    if value is not None and not bounds[0] <= value <= bounds[1]:
        where.report(key, f"{value:g}{unit} is outside {bounds[0]:g} to {bounds[1]:g}{unit}")
        return None
    return value


def read_presentation(value: object, where: Where) -> PresentationRecord | None:
    """`presentation = { mount = ..., plinth_height = ..., wall_height = ..., light = ... }`.
    Every problem is reported at its field; the caller leaves the record out on any error."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        where.report(None, "must be a table { mount = ..., plinth_height = ..., "
                           "wall_height = ..., light = ... }")
        return None
    check_keys(value, PRESENTATION_KEYS, where)
    mount = read_str(value, "mount", where)
    if mount is not None:
        mount = mount.lower()
        if mount not in MOUNTS:
            where.report("mount", f"{mount!r} is not one of {', '.join(MOUNTS)}")
            mount = None
    plinth = _in_range(where, "plinth_height", read_number(value, "plinth_height", where),
                       PLINTH_RANGE, " m")
    wall = _in_range(where, "wall_height", read_number(value, "wall_height", where),
                     WALL_HEIGHT_RANGE, " m")
    light = _in_range(where, "light", read_number(value, "light", where), LIGHT_RANGE, "")
    if plinth is not None and mount in ("floor", "wall"):
        where.report("plinth_height", f"a work mounted on the {mount} has no plinth: leave "
                                      "`plinth_height` out or mount it on a plinth or in a vitrine")
    if wall is not None and mount in STANDING:
        where.report("wall_height", f"a work on a {mount} does not hang on a wall: leave "
                                    "`wall_height` out or mount it on the wall")
    if plinth is not None and wall is not None:
        where.report("wall_height", "`plinth_height` (a 3D object) and `wall_height` (a work on "
                                    "a wall) cannot both be given")
    return PresentationRecord(mount, plinth, wall, light)


def plinth_height_for(height: float) -> float:
    """Lift an object so its middle is at ~1.25 m; tall ones need no lift."""
    return max(0.0, min(MAX_PLINTH, VIEW_CENTRE - height / 2))


def default_mount(kind: str, size: tuple[float, float, float]) -> str:
    """Paintings hang; smart exhibits stand on the floor; a small 3D object goes in a vitrine;
    a larger one on a plinth that lifts its middle to eye level, unless it is tall enough to
    stand on the floor."""
    if kind == "painting":
        return "wall"
    if kind != "model":
        return "floor"
    if max(size) < SMALL_OBJECT:
        return "vitrine"
    return "plinth" if plinth_height_for(size[1]) >= MIN_PLINTH else "floor"


def resolve(kind: str, size: tuple[float, float, float], record: PresentationRecord | None
            ) -> tuple[Presentation, list[tuple[str, str]]]:
    """The presentation of a work of `kind` and `size` (x, y, z in metres): the collection's
    choices where they fit the work, the defaults elsewhere. Returns it with (field, message)
    for each choice that does not fit (a 3D object on a wall, a painting in a vitrine)."""
    record = record or PresentationRecord()
    problems: list[tuple[str, str]] = []
    mount = record.mount
    if mount is not None and kind == "painting" and mount != "wall":
        problems.append(("presentation.mount", f"{mount!r} is for 3D objects: a painting or "
                                               "image hangs on the wall"))
        mount = None
    elif mount is not None and kind != "painting" and mount == "wall":
        problems.append(("presentation.mount", "a 3D object cannot hang on the wall: use "
                                               "plinth, floor or vitrine"))
        mount = None
    if kind == "painting" and record.plinth_height is not None:
        problems.append(("presentation.plinth_height", "a painting or image has no plinth"))
    if kind != "painting" and record.wall_height is not None:
        problems.append(("presentation.wall_height", "a 3D object does not hang on a wall"))
    mount = mount or default_mount(kind, size)
    light = 1.0 if record.light is None else record.light
    if mount == "wall":
        wall = record.wall_height if kind == "painting" else None
        if wall is None:
            wall = WALL_CENTRE if size[1] < TALL_PAINTING else 0.3 + size[1] / 2
        return Presentation("wall", 0.0, wall, light), problems
    if mount == "floor":
        return Presentation("floor", 0.0, None, light), problems
    plinth = record.plinth_height
    if plinth is None:
        plinth = max(MIN_PLINTH, plinth_height_for(size[1]))
    return Presentation(mount, plinth, None, light), problems
