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
    textures: tuple[TextureStats, ...] = ()

    def repeated_as(self, name: str) -> LevelSummary:
        """This level standing in for `name` (nothing smaller to write there)."""
        return replace(self, name=name, written=False, same_as=self.name)


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
        values = {f.name: data[f.name] for f in fields(cls) if f.name != "levels"}
        values["warnings"] = tuple(str(w) for w in values["warnings"])
        return cls(**values, levels=levels)


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
