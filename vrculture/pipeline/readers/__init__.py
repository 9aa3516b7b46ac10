"""Readers: one source file (scan, model, image of a painting) -> one `SourceModel`.

`read_source` checks the file's size, tells its real format from its first bytes (a PLY named
.obj is read as PLY, with a warning), and hands it to the reader for that format. Every problem
with the input comes out as a `ConversionError` naming the file and the problem; no other
exception type escapes (unexpected ones are wrapped, so a reader bug is still one clear line).

Policies shared by all readers (see common.py): sizes are checked before reading and header
counts against the bytes present before allocating; external references (MTL maps, glTF uris,
PLY TextureFile) resolve inside the source's folder only, symlinks included; triangles that
touch NaN/infinite vertices are dropped with a warning, indices out of range are an error.
Vertex colours are linear float RGBA; UVs use glTF's top-left origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.model import Model
from vrculture.pipeline.readers.common import DEFAULT_LIMITS, ReadLimits, SourceBudget
from vrculture.pipeline.readers.sniff import (
    IMAGE_EXTENSIONS,
    SNIFF_BYTES,
    looks_like_obj,
    read_head,
    sniff,
)

__all__ = ["DEFAULT_LIMITS", "ReadLimits", "SourceModel", "read_source"]

# The format each extension promises, to tell the curator when a name lies.
_EXTENSION_FORMAT = {
    ".obj": "obj", ".ply": "ply", ".stl": "stl", ".gltf": "gltf", ".glb": "glb",
    ".fbx": "fbx", ".dae": "dae", ".off": "off",
    **{ext: "image" for ext in IMAGE_EXTENSIONS},
}  # fmt: skip


@dataclass
class SourceModel:
    model: Model  # source's own coordinates and units; node transforms baked; textures as PIL
    kind: str  # "model" | "painting"
    default_up: str  # "+Y" for glTF/GLB/OBJ/OFF/FBX/Collada/images, "+Z" for PLY/STL (scanners)
    format: str  # "obj" | "ply" | "stl" | "off" | "gltf" | "glb" | "fbx" | "dae" | "image"
    already_metric: bool  # True for paintings (built at real size in metres) and glTF/GLB


def read_source(
    path: Path,
    *,
    painting_height_m: float | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> SourceModel:
    """Read one source file. Raises ConversionError (and nothing else) for any bad input."""
    path = Path(path)
    try:
        return _read(path, painting_height_m, limits)
    except ConversionError:
        raise
    except MemoryError as exc:
        raise ConversionError(path, "not enough memory to read this file") from exc
    except RecursionError as exc:
        raise ConversionError(path, "structure nested too deeply") from exc
    except Exception as exc:  # a reader bug must still be one clear line, not a traceback
        raise ConversionError(
            path, f"unreadable ({type(exc).__name__}: {exc}); the file may be corrupt"
        ) from exc


def _read(path: Path, painting_height_m: float | None, limits: ReadLimits) -> SourceModel:
    try:
        if not path.is_file():
            raise ConversionError(path, "not found or not a regular file")
        size = path.stat().st_size
        head = read_head(path)
    except OSError as exc:
        raise ConversionError(path, f"cannot read: {exc.strerror}") from exc
    budget = SourceBudget(path, limits)
    budget.check_size(path, size)  # before sniffing; charged when a reader reads it
    fmt = sniff(head, size)
    declared = _EXTENSION_FORMAT.get(path.suffix.lower())
    real = "image" if fmt.startswith("image:") else fmt

    if fmt == "empty":
        raise ConversionError(path, "empty file (0 bytes)")
    if fmt in ("draco", "zip") or (fmt in ("fbx", "dae") and not _assimp_available()):
        raise ConversionError(path, _unsupported(fmt))
    if fmt == "text" and declared == "obj" and size > SNIFF_BYTES:
        # A long comment block can hide the first 'v' line beyond the sniffed head.
        fmt = "obj" if looks_like_obj(budget.read(path)) else fmt
    if declared is not None and (fmt, declared) in (
        ("binary", "stl"), ("text", "stl"), ("text", "gltf")
    ):
        # Binary STL has no magic number, and a .gltf that is JSON but not an object deserves a
        # precise message: let the format's own reader say what is wrong.
        fmt = declared
    if fmt in ("binary", "text"):
        what = "binary data" if fmt == "binary" else "text"
        raise ConversionError(
            path, f"not a recognised 3D model or image ({what}; checked the content, not the name)"
        )
    warnings: list[str] = []
    if declared is not None and declared != real and {declared, real} != {"gltf", "glb"}:
        warnings.append(f"named {path.suffix} but the content is {fmt.upper()}; read it as that")

    result = _dispatch(path, fmt, budget, painting_height_m)
    result.model.warnings[:0] = warnings
    return result


def _dispatch(
    path: Path, fmt: str, budget: SourceBudget, painting_height_m: float | None
) -> SourceModel:
    limits = budget.limits
    if fmt.startswith("image:"):
        from vrculture.pipeline.readers.painting import read_painting

        if painting_height_m is not None and not (0.01 <= painting_height_m <= 100.0):
            raise ConversionError(path, f"painting height {painting_height_m} m is not plausible")
        kind = fmt.split(":", 1)[1]
        if kind not in ("jpeg", "png", "webp", "tiff"):
            raise ConversionError(
                path,
                f"{kind.upper()} images are not supported for paintings; use JPEG/PNG/WebP/TIFF",
            )
        model = read_painting(path, budget.read(path), budget, painting_height_m)
        return SourceModel(model, "painting", "+Y", "image", already_metric=True)
    if fmt == "ply":
        from vrculture.pipeline.readers.ply import read_ply

        return SourceModel(read_ply(path, budget.read(path), budget), "model", "+Z", "ply", False)
    if fmt == "stl":
        from vrculture.pipeline.readers.stl import read_stl

        return SourceModel(read_stl(path, budget.read(path), limits), "model", "+Z", "stl", False)
    if fmt == "obj":
        from vrculture.pipeline.readers.obj import read_obj

        return SourceModel(read_obj(path, budget.read(path), budget), "model", "+Y", "obj", False)
    if fmt in ("gltf", "glb"):
        from vrculture.pipeline.readers.gltf import read_gltf

        model = read_gltf(path, budget.read(path), budget, binary=fmt == "glb")
        return SourceModel(model, "model", "+Y", fmt, already_metric=True)
    if fmt == "off":
        from vrculture.pipeline.readers.off import read_off

        return SourceModel(read_off(path, budget.read(path), limits), "model", "+Y", "off", False)
    if fmt in ("fbx", "dae"):
        from vrculture.pipeline.readers.assimp_reader import read_with_assimp

        label = "FBX" if fmt == "fbx" else "Collada"
        model = read_with_assimp(path, label, budget)
        return SourceModel(model, "model", "+Y", fmt, already_metric=False)
    raise ConversionError(path, f"unsupported format: {fmt}")


def _assimp_available() -> bool:
    # Imported when a file needs it: the reader brings subprocess and tempfile (~15 ms of
    # start-up CPU every scan conversion would pay).
    from vrculture.pipeline.readers.assimp_reader import assimp_available

    return assimp_available()


def _unsupported(fmt: str) -> str:
    if fmt == "fbx":
        return (
            "unsupported format: FBX (the assimp-py reader is not installed; export the model "
            "as glTF/GLB or OBJ, e.g. with Blender)"
        )
    if fmt == "dae":
        return (
            "unsupported format: Collada .dae (the assimp-py reader is not installed; export "
            "the model as glTF/GLB or OBJ)"
        )
    if fmt == "draco":
        return "unsupported format: a raw Draco .drc file (wrap it in a glTF/GLB)"
    return "unsupported format: a ZIP archive (unpack it and convert the model file inside)"
