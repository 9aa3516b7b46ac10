"""What a conversion produced: typed summaries the converter returns and the build reads.

The same objects travel from the converter through the build cache (as JSON in the entry's
`result.json` and the converter's `<stem>.json`) to the manifest and the build report, so a
misspelt key is a type error instead of a silent `None`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

Vector = tuple[float, float, float]


@dataclass(frozen=True)
class Bounds:
    """Axis-aligned box in metres, +Y up (after normalising)."""

    min: Vector
    max: Vector

    def size(self, smallest: float = 0.0) -> Vector:
        """Width, height and depth, each at least `smallest`."""
        x, y, z = (max(smallest, hi - lo) for lo, hi in zip(self.min, self.max, strict=True))
        return x, y, z


@dataclass(frozen=True)
class TextureStats:
    """One texture as a level stores it, and the quality it reached."""

    format: str  # "jpeg" | "png" | "webp" | "ktx2"
    width: int
    height: int
    bytes: int
    psnr: float | None  # dB against the source resized to this level; None = lossless


@dataclass(frozen=True)
class LevelSummary:
    """One level of detail; a level not written (`written` False) repeats the level it is the
    same as (`same_as`), whose file the viewer loads instead."""

    name: str
    file: str
    written: bool
    same_as: str | None
    bytes: int
    triangles: int
    error: float  # measured largest distance from the source's surface, metres
    simplifier_error: float  # meshoptimizer's own metric, summed along the chain
    texture_px: int
    texture_bytes: int
    gpu_texture_bytes: int
    texture_format: str  # "jpeg", "png", "webp", "ktx2", "none" or a mix ("jpeg+png")
    compression: str  # "meshopt" | "none"
    extensions_required: tuple[str, ...]
    bounds: Bounds
    # How the level was simplified: "source" (not at all), "attributes", "across-seams" or
    # "sloppy" (the least faithful method along the chain; transforms/simplify.py).
    method: str = "source"
    textures: tuple[TextureStats, ...] = ()

    def repeated_as(self, name: str) -> LevelSummary:
        """This level standing in for `name` (nothing smaller to write there)."""
        return replace(self, name=name, written=False, same_as=self.name)


@dataclass(frozen=True)
class GeoRecord:
    """Where a georeferenced source sits in the world, for a later map view.

    `offset`: the source coordinates of the GLB's origin (the centre of the object's base), in
    metres (source units times the conversion's scale), in the source's own axes, i.e. before
    the up rotation; a GLB point p maps back to offset + R^T p, R the rotation of `up_axis`
    (the conversion's, repeated here so that the record stands on its own in the manifest).
    `crs`: the coordinate reference system the source names ("EPSG:3006"), or None.
    """

    offset: Vector
    crs: str | None
    up_axis: str

    def as_json(self) -> dict[str, Any]:
        return _plain(asdict(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GeoRecord:
        crs = data["crs"]
        return cls(_vector(data["offset"]), None if crs is None else str(crs),
                   str(data["up_axis"]))


@dataclass(frozen=True)
class Orientation:
    """Which source axis became +Y, and why: stated by the collection, --up or the format
    ("declared"), read from the geometry ("estimated"), or the format's habit because the
    geometry did not say ("format-habit")."""

    axis: str  # "+X" ... "-Z"
    source: str  # "declared" | "estimated" | "format-habit"
    confidence: float  # 0..1
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class ConversionSummary:
    source: str
    stem: str
    kind: str  # "model" | "painting"
    format: str
    up_axis: str
    units: str
    source_triangles: int
    seconds: float
    warnings: tuple[str, ...]
    levels: tuple[LevelSummary, ...]
    geo: GeoRecord | None = None  # only for georeferenced sources (see convert.GEO_OFFSET_M)
    orientation: Orientation | None = None  # None only for summaries built by hand

    @property
    def written(self) -> tuple[LevelSummary, ...]:
        return tuple(level for level in self.levels if level.written)

    @property
    def highest(self) -> LevelSummary:
        """The written level with the most triangles: the object's truest shape and bounds."""
        if not self.written:
            raise ValueError(f"{self.source}: the conversion wrote no level")
        return max(self.written, key=lambda level: level.triangles)

    def level(self, name: str) -> LevelSummary:
        for level in self.levels:
            if level.name == name:
                return level
        raise KeyError(name)

    def as_json(self) -> dict[str, Any]:
        return _plain(asdict(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConversionSummary:
        """Raises KeyError/TypeError/ValueError on a document of another shape."""
        levels = tuple(_level_from_json(level) for level in data["levels"])
        values = {f.name: data[f.name] for f in fields(cls)
                  if f.name not in ("levels", "geo", "orientation")}
        values["warnings"] = tuple(str(w) for w in values["warnings"])
        geo = data.get("geo")  # absent from summaries written before geo records
        return cls(**values, levels=levels, geo=None if geo is None else GeoRecord.from_json(geo),
                   orientation=_orientation_from_json(data["orientation"]))


def _orientation_from_json(data: dict[str, Any] | None) -> Orientation | None:
    if data is None:
        return None
    return Orientation(axis=str(data["axis"]), source=str(data["source"]),
                       confidence=float(data["confidence"]),
                       evidence=tuple(str(e) for e in data["evidence"]))


def _level_from_json(data: dict[str, Any]) -> LevelSummary:
    values = {f.name: data[f.name] for f in fields(LevelSummary) if f.name != "textures"}
    values["textures"] = tuple(TextureStats(**texture) for texture in data.get("textures", ()))
    bounds = data["bounds"]
    values["bounds"] = Bounds(_vector(bounds["min"]), _vector(bounds["max"]))
    values["extensions_required"] = tuple(str(e) for e in data["extensions_required"])
    return LevelSummary(**values)


def _vector(values: list[float]) -> Vector:
    x, y, z = (float(v) for v in values)
    return x, y, z


def _plain(value: Any) -> Any:
    """asdict() keeps tuples; JSON documents (and their comparisons) want lists."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
