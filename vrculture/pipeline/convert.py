"""Convert one source into GLB levels of detail plus a JSON summary (the converter's API).

readers -> normalise -> drop unused UVs -> weld -> per level: simplify (chained) -> normals
-> weld on the stored bytes -> optimise (the strip order whose compressed streams are smallest)
-> textures -> GLB. Used by `vrculture convert` and by
the exhibition build.

Per level the summary reports `error`: the measured largest distance in metres from (a fixed
sample of) the source's vertices to the level's surface (transforms/deviation.py), and
`simplifier_error`: meshoptimizer's own metric summed along the chain, which folds the
attribute error in, and `method`: the least faithful simplifier the chain needed ("source",
"attributes", "across-seams" or "sloppy", transforms/simplify.py). Normals are computed per
level after simplifying, so the simplifier works on the welded geometry (crease splits would
stop it early: nefertiti stalled at 7.2k triangles for a 5k budget).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.model import Model, Texture
from vrculture.pipeline.summary import (
    Bounds,
    ConversionSummary,
    GeoRecord,
    LevelSummary,
    Orientation,
    TextureStats,
)

if TYPE_CHECKING:
    from vrculture.pipeline.readers import SourceModel

LEVELS: dict[str, tuple[int, int]] = {
    "full": (500_000, 4096),
    "high": (100_000, 2048),
    "medium": (25_000, 1024),
    "low": (5_000, 512),
}
UNITS = ("mm", "cm", "m")
# With no units given, a source's longest side decides: over 100 units it is taken as mm
# (scanner software writes millimetres; nefertiti 495, beast 274, gargoyle 129), over 10 as cm
# (ogre 32), else metres (bunny 0.16, spot 1.9). The summary warns either way.
GUESS_MM_ABOVE = 100.0
GUESS_CM_ABOVE = 10.0
# A source whose origin lies further than this (metres, any axis) from the object is in a map
# grid (a national one such as SWEREF 99 TM, or a site's), not a scanner's own frame: its
# offset is kept as the summary's geo record. A source that names its CRS always gets one.
GEO_OFFSET_M = 1_000.0


@dataclass(frozen=True)
class ConvertSettings:
    levels: tuple[str, ...] = ("full", "high", "medium", "low")
    # "jpeg" (JPEG opaque / PNG alpha) | "webp" | "ktx2" | "auto" (KTX2 except on "full")
    textures: str = "jpeg"
    units: str | None = None  # "mm" | "cm" | "m"; None = metres / the source's own
    height_m: float | None = None  # real height of the object, overrides units
    up: str | None = None  # "+Y", "+Z", "-Y", "+X", ...; None = the format's default
    metadata: Mapping[str, str] = field(default_factory=dict)  # Dublin Core terms
    compress: bool = True  # EXT_meshopt_compression + KHR_mesh_quantization

    def as_json(self) -> dict[str, object]:
        """Every field, as plain JSON values: what the build cache keys an object on, so a
        new setting is part of the key without anyone remembering to add it."""
        values = asdict(self)
        values["levels"] = list(self.levels)
        values["metadata"] = dict(sorted(self.metadata.items()))
        return values


def safe_stem(name: str) -> str:
    """A file-name stem made of letters, digits, '.', '_' and '-' only."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "object"
    return stem[:100]


def check_settings(settings: ConvertSettings, label: str) -> None:
    from vrculture.pipeline.textures import FORMATS
    from vrculture.pipeline.transforms.normalise import UP_ROTATIONS

    unknown = [level for level in settings.levels if level not in LEVELS]
    if unknown or not settings.levels:
        raise ConversionError(label, f"unknown level(s) {unknown}; choose from {list(LEVELS)}")
    if settings.textures not in FORMATS:
        raise ConversionError(label, f"unknown texture format {settings.textures!r}")
    if settings.units is not None and settings.units not in UNITS:
        raise ConversionError(label, f"unknown units {settings.units!r}; use mm, cm or m")
    if settings.up is not None and settings.up not in UP_ROTATIONS:
        raise ConversionError(label, f"unknown up axis {settings.up!r}; use one of "
                                     f"{', '.join(UP_ROTATIONS)}")
    if settings.height_m is not None and not (0 < settings.height_m < 1000):
        raise ConversionError(label, f"height {settings.height_m} m is not plausible")


def convert_file(source: Path, out_dir: Path, settings: ConvertSettings, *,
                 stem: str | None = None) -> ConversionSummary:
    """Read `source` and write its levels into `out_dir` (see `convert_model`)."""
    from vrculture.pipeline.readers import read_source

    source = Path(source)
    check_settings(settings, str(source))
    started = time.perf_counter()
    # Not kept in a local: the converter drops the source model once its normalised copy
    # exists (peak memory, see _convert_model).
    return convert_model(read_source(source, painting_height_m=settings.height_m), out_dir,
                         stem or safe_stem(source.stem), settings, source_label=str(source),
                         _started=started)


def _check_geometry(model: Model, label: str) -> None:
    """Generated models skip the readers' checks; refuse what would corrupt the GLB."""
    for node in model.nodes:
        for prim in node.primitives:
            if prim.positions.ndim != 2 or prim.positions.shape[1] != 3:
                raise ConversionError(label, f"node {node.name!r}: positions must be (N, 3)")
            if not np.isfinite(prim.positions).all():
                raise ConversionError(label, f"node {node.name!r}: NaN or infinite positions")
            if prim.triangle_count and (prim.indices.min() < 0
                                        or prim.indices.max() >= prim.vertex_count):
                raise ConversionError(label, f"node {node.name!r}: index out of range")
            if not 0 <= prim.material < max(1, len(model.materials)):
                raise ConversionError(label, f"node {node.name!r}: no material {prim.material}")
    if not model.roots and model.nodes:
        raise ConversionError(label, "model has nodes but no scene roots")


def _has_node_transforms(model: Model) -> bool:
    return any(
        tuple(n.translation) != (0.0, 0.0, 0.0) or tuple(n.rotation) != (0.0, 0.0, 0.0, 1.0)
        or tuple(n.scale) != (1.0, 1.0, 1.0) or n.children
        for n in model.nodes
    )


def _choose_scale(source_model: SourceModel, settings: ConvertSettings,
                  warnings: list[str]) -> tuple[float | None, float | None, str]:
    """(unit scale, height in metres, units label) for normalise."""
    from vrculture.pipeline.transforms.normalise import UNIT_SCALE

    if source_model.kind == "painting":
        return 1.0, None, "m"  # the reader built the panel at its real size already
    if settings.height_m is not None:
        return None, settings.height_m, "height"
    if settings.units is not None:
        return UNIT_SCALE[settings.units], None, settings.units
    if source_model.already_metric:
        return 1.0, None, "m"
    lo, hi = source_model.model.bounds()
    extent = float(np.max(hi - lo))
    for unit, above, word in (("mm", GUESS_MM_ABOVE, "millimetres"),
                              ("cm", GUESS_CM_ABOVE, "centimetres")):
        if extent > above:
            warnings.append(f"units not given; took {word} (object is {extent:.4g} units "
                            "across); use --units or --height-m to set its real size")
            return UNIT_SCALE[unit], None, unit
    warnings.append("units not given; took metres; use --units or --height-m to set its "
                    "real size")
    return 1.0, None, "m"


def _choose_orientation(source_model: SourceModel, settings: ConvertSettings,
                        warnings: list[str]) -> Orientation:
    """The up axis: declared (collection `up`, --up, glTF), else estimated from the geometry;
    warns when the estimate is unsure, since a lying object shows only on its thumbnail."""
    from vrculture.pipeline.transforms.up_axis import UNSURE_BELOW, choose_up

    choice = choose_up(source_model.model, declared=settings.up,
                       source_format=source_model.format, habit=source_model.default_up)
    if choice.source != "declared" and choice.confidence < UNSURE_BELOW:
        warnings.append(f"up axis not given and unsure: took {choice.axis} (confidence "
                        f"{choice.confidence:.2f}; {'; '.join(choice.evidence[:3])}); check the "
                        "thumbnail and set `up` in the collection or --up")
    return Orientation(choice.axis, choice.source, choice.confidence, choice.evidence)


def _texture_roles(model: Model) -> dict[int, tuple[bool, bool]]:
    """id(Texture) -> (is a normal map, holds colour) for encoding choices."""
    roles: dict[int, tuple[bool, bool]] = {}
    for m in model.materials:
        for tex, normal, colour in ((m.base_color_texture, False, True),
                                    (m.emissive_texture, False, True),
                                    (m.metallic_roughness_texture, False, False),
                                    (m.occlusion_texture, False, False),
                                    (m.normal_texture, True, False)):
            if tex is not None:
                roles.setdefault(id(tex), (normal, colour))
    return roles


def _unique_textures(model: Model) -> list[Texture]:
    seen: dict[int, Texture] = {}
    for m in model.materials:
        for tex in m.textures():
            seen.setdefault(id(tex), tex)
    return list(seen.values())


def convert_model(source_model: SourceModel, out_dir: Path, stem: str,
                  settings: ConvertSettings, *, source_label: str = "<generated>",
                  _started: float | None = None) -> ConversionSummary:
    """Write `out_dir/<stem>.<level>.glb` per level and `out_dir/<stem>.json`; return it.

    Every failure is a ConversionError naming `source_label` (the build reports it per object
    and carries on); Ctrl-C still interrupts.
    """
    # Handed over in a list the callee empties: this frame must not keep the source's arrays
    # alive through the whole chain when the caller let go of them (convert_file does).
    handed_over = [source_model]
    del source_model
    try:
        return _convert_model(handed_over, out_dir, stem, settings, source_label, _started)
    except ConversionError:
        raise
    except MemoryError:
        raise ConversionError(source_label, "not enough memory to convert this model") from None
    except OSError as err:
        raise ConversionError(source_label, f"cannot write to {out_dir}: "
                                            f"{err.strerror or err}") from None
    except Exception as err:  # a converter bug must still be one clear line, not a traceback
        raise ConversionError(source_label, f"internal error ({type(err).__name__}: {err})") \
            from err


def _convert_model(handed_over: list[SourceModel], out_dir: Path, stem: str,
                   settings: ConvertSettings, source_label: str,
                   _started: float | None) -> ConversionSummary:
    from vrculture.pipeline.atomic import write_atomic
    from vrculture.pipeline.textures import (
        EncodedImage,
        TextureOptions,
        encode_texture,
        level_format,
    )
    from vrculture.pipeline.transforms.deviation import sample_deviation, source_sample
    from vrculture.pipeline.transforms.normalise import NormaliseOptions, normalise
    from vrculture.pipeline.transforms.normals import repair_normals
    from vrculture.pipeline.transforms.optimize import (
        LOWER_LEVEL_ORDER,
        OptimizeOptions,
        optimize,
    )
    from vrculture.pipeline.transforms.simplify import METHODS, SimplifyOptions, simplify
    from vrculture.pipeline.transforms.unused import drop_untextured_uvs
    from vrculture.pipeline.transforms.weld import weld, weld_stored
    from vrculture.pipeline.writer.glb import WriterOptions, compressed_size_scorer, write_glb

    started = time.perf_counter() if _started is None else _started
    check_settings(settings, source_label)
    stem = safe_stem(stem)
    source_model = handed_over.pop()
    kind, source_format = source_model.kind, source_model.format
    model = source_model.model
    _check_geometry(model, source_label)
    warnings: list[str] = list(model.warnings)
    orientation = _choose_orientation(source_model, settings, warnings)
    up = orientation.axis
    scale, height, units = _choose_scale(source_model, settings, warnings)
    geo: GeoRecord | None = None
    if _has_node_transforms(model):
        # Node hierarchies come from the build's generated models, already in metres and +Y;
        # moving their geometry would pull it away from the node transforms.
        if up != "+Y" or (scale not in (None, 1.0)) or height is not None:
            raise ConversionError(source_label, "a model with node transforms must already be "
                                                "in metres with +Y up")
    else:
        try:
            normalised = normalise(model, NormaliseOptions(up=up, scale=scale, height_m=height))
        except ValueError as err:
            raise ConversionError(source_label, str(err)) from None
        model = normalised.model
        warnings += normalised.warnings
        geo = _geo_record(normalised.origin, source_model.model.crs, up)
        del normalised
    # From here on only the normalised copy is used: the source's own arrays (float64 ones
    # for georeferenced scans) are freed unless the caller still holds them.
    del source_model
    if source_format != "generated":
        model = drop_untextured_uvs(model)
    model = weld(model)
    model = replace(model, metadata={**model.metadata, **dict(settings.metadata)})
    source_triangles = model.triangle_count
    if source_triangles == 0:
        raise ConversionError(source_label, "no triangles to convert")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    textures = _unique_textures(model)
    roles = _texture_roles(model)
    largest_px = max((max(t.image.size) for t in textures), default=0)
    ordered = [name for name in LEVELS if name in settings.levels]
    levels: list[LevelSummary] = []
    written: list[LevelSummary] = []
    # Levels whose budget exceeds a texture's size encode it alike: encode it once.
    encoded: dict[tuple[int, str, int], EncodedImage] = {}

    def encode(texture: Texture, options: TextureOptions) -> EncodedImage:
        key = (id(texture), options.format, min(options.max_px, max(texture.image.size)))
        if key not in encoded:
            normal, colour = roles[id(texture)]
            encoded[key] = encode_texture(texture, options, normal_map=normal, colour=colour)
        return encoded[key]

    asked_px: dict[str, int] = {}  # written level -> the texture size it asked for

    # The error is measured from a fixed sample of the source's vertices, so the source
    # itself can go once the first level replaces it (peak memory during the simplifier).
    samples = source_sample(model)
    current = model
    del model
    error = 0.0  # measured distance from the source's surface to this level's, metres
    simplifier_error = 0.0  # meshoptimizer's own metric (attributes folded in), summed
    method = "source"  # the least faithful simplifier method along the chain so far
    largest_geometry: Model | None = None  # what the first written level was made of
    for name in ordered:
        budget, px_budget = LEVELS[name]
        target = min(budget, source_triangles)
        texture_px = min(px_budget, largest_px)
        previous = written[-1] if written else None
        encoding = level_format(settings.textures, name)
        # Compared with the size the previous level asked for: KTX2 rounds sizes to blocks.
        if (previous and target >= previous.triangles and texture_px >= asked_px[previous.name]
                and (not textures or level_format(settings.textures, previous.name) == encoding)):
            levels.append(previous.repeated_as(name))
            continue
        if current.triangle_count > target:
            if method == "source":
                # Still the source: the simplifier renumbers its vertices in first-use order
                # anyway; done here, the source's arrays are replaced instead of copied during
                # the simplifier's peak.
                current = optimize(current, OptimizeOptions(vertex_cache=None))
            result = simplify(current, SimplifyOptions(target_triangles=target))
            current = result.model
            simplifier_error += result.error
            method = max(method, result.method, key=("source", *METHODS).index)
            warnings += [f"{name}: {w}" for w in result.warnings]
            error = sample_deviation(samples, current)
        level_model = repair_normals(current)
        if settings.compress:
            # Vertices the GLB stores alike (a crease split whose normals quantise alike,
            # positions or UVs one grid cell apart) are one vertex.
            level_model = weld_stored(level_model)
        if largest_geometry is None:
            largest_geometry = current
        if settings.compress and current is largest_geometry:
            # The largest level (and levels repeating its geometry): of the strip orders
            # tried, the one whose streams come out smallest (the bytes that count most).
            level_model = optimize(level_model, score=compressed_size_scorer(level_model))
        else:
            # Lower levels: one fixed order (see LOWER_LEVEL_ORDER), a fifth of the work.
            level_model = optimize(level_model, LOWER_LEVEL_ORDER if settings.compress
                                   else OptimizeOptions())
        texture_options = TextureOptions(format=encoding, max_px=px_budget)
        images = {id(t): encode(t, texture_options) for t in textures}
        glb = write_glb(level_model, images, WriterOptions(compress=settings.compress))
        file_name = f"{stem}.{name}.glb"
        write_atomic(out_dir / file_name, glb.data)
        lo, hi = level_model.bounds()
        formats = sorted({i.format for i in images.values()})
        entry = LevelSummary(
            name=name, file=file_name, written=True, same_as=None,
            bytes=len(glb.data), triangles=level_model.triangle_count,
            error=round(error, 9), simplifier_error=round(simplifier_error, 9),
            texture_px=max((max(i.width, i.height) for i in images.values()), default=0),
            texture_bytes=sum(len(i.data) for i in images.values()),
            gpu_texture_bytes=sum(i.gpu_bytes for i in images.values()),
            texture_format="+".join(formats) if formats else "none",
            textures=tuple(TextureStats(i.format, i.width, i.height, len(i.data), i.psnr)
                           for i in images.values()),
            compression="meshopt" if settings.compress else "none",
            extensions_required=tuple(glb.extensions_required),
            bounds=Bounds(_rounded(lo), _rounded(hi)), method=method,
        )
        levels.append(entry)
        written.append(entry)
        asked_px[name] = texture_px

    summary = ConversionSummary(
        source=source_label, stem=stem, kind=kind, format=source_format,
        up_axis=up, units=units, source_triangles=source_triangles,
        seconds=round(time.perf_counter() - started, 3), warnings=tuple(warnings),
        levels=tuple(levels), geo=geo, orientation=orientation,
    )
    write_atomic(out_dir / f"{stem}.json",
                 (json.dumps(summary.as_json(), indent=2) + "\n").encode("utf-8"))
    return summary


def _geo_record(origin: tuple[float, float, float], crs: str | None,
                up: str) -> GeoRecord | None:
    if crs is None and max(abs(v) for v in origin) <= GEO_OFFSET_M:
        return None
    x, y, z = (round(v, 6) for v in origin)  # micrometres: clean diffs, nothing lost
    return GeoRecord((x, y, z), crs, up)


def _rounded(vector: np.ndarray) -> tuple[float, float, float]:
    x, y, z = (round(float(v), 6) for v in vector)
    return x, y, z
