"""The validated collection: what the rest of the build works from (no raw TOML/CSV here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vrculture.exhibition.rights import Rights

Text = dict[str, str]  # BCP 47 tag -> text

SMART_KINDS = ("street-lighting", "smart-bin", "eye-tracking-screening", "gauge")
GOALS = ("climate", "economic", "social", "democratic")
PROJECT_STATUSES = ("planned", "ongoing", "completed", "paused")


@dataclass
class Origin:
    """Where a record was written, for messages about it later in the build."""

    file: str
    line: int | None
    label: str = ""  # the record's path in the file ("objects[3]"); empty for a CSV row

    def field(self, name: str) -> str:
        return f"{self.label}.{name}" if self.label else name


@dataclass
class AnnotationRecord:
    id: str
    position: tuple[float, float, float]
    normal: tuple[float, float, float]
    title: Text
    text: Text = field(default_factory=dict)
    line: int | None = None  # of its position, for later messages


@dataclass
class PlacementRecord:
    """A curator's placement of one work, in its room's frame (docs/collection-format.md
    "Placement"): a 3D object's floor position (`x`, `z`) and `facing`, or a painting's `wall`,
    offset `along` it and centre `height`. Which half applies is checked once the work's kind
    is known (after conversion)."""

    x: float | None = None
    z: float | None = None
    facing: float | None = None  # degrees; 0 = the front faces the entrance (+Z)
    wall: str | None = None  # north | east | south | west
    along: float | None = None
    height: float | None = None  # a painting's centre above the floor


@dataclass(frozen=True)
class PresentationRecord:
    """A curator's presentation of one work (docs/collection-format.md "Presentation"); None
    leaves that part to the defaults for the work's kind and size (presentation.resolve)."""

    mount: str | None = None  # plinth | floor | wall | vitrine
    plinth_height: float | None = None
    wall_height: float | None = None  # a wall-hung work's middle above the floor
    light: float | None = None  # relative: 1 the gallery's light, 0 none, 2 twice


@dataclass
class ObjectRecord:
    id: str
    source: Path  # absolute, checked to be inside the collection folder
    title: Text
    rights: Rights
    origin: Origin
    description: Text = field(default_factory=dict)
    credit: Text = field(default_factory=dict)
    creator: str | None = None
    date: str | None = None
    units: str | None = None
    height_m: float | None = None
    up: str | None = None
    # Degrees about +Y (counter-clockwise seen from above) added to where the layout turns the
    # object: the converted frame, and the annotations in it, stay as they are.
    turn: float = 0.0
    room: str | None = None
    metadata: dict[str, str | float | bool] = field(default_factory=dict)
    annotations: list[AnnotationRecord] = field(default_factory=list)
    placement: PlacementRecord | None = None
    presentation: PresentationRecord | None = None


@dataclass
class RoomRecord:
    id: str
    title: Text
    width: float | None = None  # x, metres inside the walls; None: sized to its works
    depth: float | None = None  # z
    height: float | None = None
    origin: Origin | None = None


@dataclass
class StopRecord:
    narration: Text
    object: str | None = None
    position: tuple[float, float, float] | None = None
    yaw: float = 0.0
    title: Text = field(default_factory=dict)


@dataclass
class TourRecord:
    id: str
    title: Text
    stops: list[StopRecord]


@dataclass
class GaugeRange:
    unit: str
    min: float
    max: float


@dataclass
class SmartExhibitRecord:
    id: str
    kind: str
    title: Text
    goal: str
    feeds: list[str]
    description: Text = field(default_factory=dict)
    gauge: GaugeRange | None = None


@dataclass
class ProjectRecord:
    """One project of the city's digitalisation programme, shown in the programme panel."""
    id: str
    title: Text
    goals: list[str]  # a subset of GOALS, in the order given
    status: str
    origin: Origin
    description: Text = field(default_factory=dict)
    district: str | None = None
    start_year: int | None = None
    link: str | None = None
    feed: str | None = None  # a smart exhibit's feed: its readings are the project's live data


@dataclass
class Collection:
    root: Path
    id: str
    default_language: str
    languages: list[str]
    title: Text
    description: Text = field(default_factory=dict)
    credit: Text = field(default_factory=dict)
    max_level_restricted: str | None = None
    rooms: list[RoomRecord] = field(default_factory=list)
    objects: list[ObjectRecord] = field(default_factory=list)
    tours: list[TourRecord] = field(default_factory=list)
    smart_exhibits: list[SmartExhibitRecord] = field(default_factory=list)
    projects: list[ProjectRecord] = field(default_factory=list)
