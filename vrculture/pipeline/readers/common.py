"""Shared guards for every reader: size limits, safe paths, and one checked way to build primitives.

Every reader treats its file as hostile. The helpers here are the single place where the rules
live: a file is size-checked before it is read, an external reference must stay inside the
source's folder (after resolving symlinks), counts are checked against the bytes actually present
before anything is allocated, and every primitive passes `checked_primitive` (indices in range,
non-finite vertices dropped with a warning, unused vertices compacted).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import numpy as np

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.model import Primitive


@dataclass(frozen=True)
class ReadLimits:
    """Upper bounds a reader enforces before it allocates; a source over any of them is refused."""

    max_file_bytes: int = 1 << 30  # the source file itself, and each external file it references
    max_total_bytes: int = 2 << 30  # the source plus all its external buffers and images
    max_vertices: int = 20_000_000
    max_triangles: int = 20_000_000
    max_image_pixels: int = 16384 * 16384  # per image, checked from the header before decoding
    # Per source: the memory an image's decode may take, estimated from its header before
    # decoding (images.decode_bytes; RGB is ~8 bytes a pixel), plus what the source's images
    # decoded before it still hold. 1.5 GiB decodes a 200 MP RGB TIFF/PNG and any JPEG under the
    # pixel limit (decoded reduced), and refuses the 16000 x 16000 PNG (2 GB) that a 545-byte
    # file can claim, or a model naming twenty flat 180 MP textures.
    max_decode_bytes: int = 1536 << 20
    max_json_bytes: int = 64 << 20  # a glTF's JSON part
    max_nodes: int = 100_000  # glTF nodes / meshes / primitives / materials (each)


DEFAULT_LIMITS = ReadLimits()


class SourceBudget:
    """Tracks the bytes a source and its external files have consumed against the limits."""

    def __init__(self, source: Path, limits: ReadLimits) -> None:
        self.source = source
        self.limits = limits
        self.total = 0
        self.decoded = 0  # bytes the images decoded for this source hold (against max_decode_bytes)
        self._source_bytes: bytes | None = None
        self.listings: dict[Path, dict[str, Path]] = {}  # folder -> lower-case name -> entry

    def check_size(self, path: Path, size: int) -> None:
        if size > self.limits.max_file_bytes:
            raise ConversionError(
                self.source,
                f"{path.name} is {size} bytes, over the limit of {self.limits.max_file_bytes}",
            )

    def charge(self, path: Path, size: int) -> None:
        self.check_size(path, size)
        self.total += size
        if self.total > self.limits.max_total_bytes:
            raise ConversionError(
                self.source,
                f"source and its external files exceed {self.limits.max_total_bytes} bytes",
            )

    def read(self, path: Path) -> bytes:
        """Read a whole file after checking its size (never load a huge file to find out).
        The source itself is read once however often it is asked for (sniffing, then parsing)."""
        if path == self.source and self._source_bytes is not None:
            return self._source_bytes
        data = self._read(path)
        if path == self.source:
            self._source_bytes = data
        return data

    def _read(self, path: Path) -> bytes:
        try:
            size = path.stat().st_size
            self.charge(path, size)
            with path.open("rb") as fh:
                data = fh.read(size + 1)
        except OSError as exc:
            raise ConversionError(self.source, f"cannot read {path.name}: {exc.strerror}") from exc
        if len(data) > size:  # grew while we read it: refuse rather than read without bound
            raise ConversionError(self.source, f"{path.name} changed size while being read")
        return data


def resolve_inside(
    source: Path,
    folder: Path,
    reference: str,
    *,
    must_exist: bool = True,
    percent_encoded: bool = False,
    listings: dict[Path, dict[str, Path]] | None = None,
) -> Path:
    """Resolve a file reference from inside a source (MTL map, glTF uri) within `folder` only.

    Absolute paths, `..` escapes and symlinks leading out are refused with a ConversionError that
    names the reference. URL schemes other than plain relative paths are refused too. With
    `must_exist=False` a missing file inside the folder is returned for the caller to warn about.
    """
    ref = reference.strip().replace("\\", "/")
    if not ref:
        raise ConversionError(source, "empty external file reference")
    if "\x00" in ref:
        raise ConversionError(source, f"external reference {reference!r} contains a NUL byte")
    lowered = ref.lower()
    if "://" in lowered or lowered.startswith(("file:", "http:", "https:")):
        raise ConversionError(
            source, f"external reference {reference!r} is a URL; only files next to it are read"
        )
    if percent_encoded:  # glTF uris are URI references; MTL names are plain file names
        ref = unquote(ref)
    if "\x00" in ref:
        raise ConversionError(source, f"external reference {reference!r} contains a NUL byte")
    if ref.startswith("/") or os.path.isabs(ref) or (len(ref) > 1 and ref[1] == ":"):
        raise ConversionError(
            source,
            f"external reference {reference!r} is an absolute path outside the source folder",
        )
    try:
        base = folder.resolve()
        target = (base / ref).resolve()  # follows symlinks, so a link leading out is caught below
        inside = target.is_relative_to(base)
        exists = inside and target.is_file()
    except (OSError, RuntimeError) as exc:  # symlink loops, names too long
        raise ConversionError(source, f"external reference {reference!r} unusable: {exc}") from exc
    if not inside:
        raise ConversionError(
            source, f"external reference {reference!r} points outside the source folder"
        )
    if not exists:
        # Models exported on Windows name "Wood.JPG" for wood.jpg; find it, still inside.
        target = _case_insensitive_match(base, target, listings) or target
        exists = target.is_file()
    if must_exist and not exists:
        raise ConversionError(source, f"external file {reference!r} not found next to the source")
    return target


def _case_insensitive_match(
    base: Path, target: Path, listings: dict[Path, dict[str, Path]] | None
) -> Path | None:
    """A file in target's folder whose name differs only in case, resolved and still inside.
    `listings` caches each folder's names for one source (a hostile MTL can name thousands of
    missing maps; listing the folder once per name would be quadratic)."""
    try:
        parent = target.parent
        listing = None if listings is None else listings.get(parent)
        if listing is None:
            if not parent.is_dir():
                return None
            listing = {}
            for candidate in parent.iterdir():
                listing.setdefault(candidate.name.lower(), candidate)
            if listings is not None:
                listings[parent] = listing
        found = listing.get(target.name.lower())
        if found is None:
            return None
        resolved = found.resolve()
        if resolved.is_relative_to(base) and resolved.is_file():
            return resolved
    except (OSError, RuntimeError):
        return None
    return None


def require(condition: bool, source: Path, problem: str) -> None:
    if not condition:
        raise ConversionError(source, problem)


def check_counts(source: Path, limits: ReadLimits, vertices: int, triangles: int) -> None:
    if vertices > limits.max_vertices:
        raise ConversionError(
            source, f"{vertices} vertices exceed the limit of {limits.max_vertices}"
        )
    if triangles > limits.max_triangles:
        raise ConversionError(
            source, f"{triangles} triangles exceed the limit of {limits.max_triangles}"
        )


FLOAT32_MAX = float(np.finfo(np.float32).max)


def position_dtype(positions: np.ndarray) -> type[np.floating]:
    """float32 for float32 sources; float64 for everything else (decimal text, doubles, ints).

    Georeferenced scans sit millions of metres from the origin (SWEREF 99 TM: 6 580 119 m
    north), where float32 steps are 0.5 m: they keep 64 bits until normalise centres them."""
    dtype = np.asarray(positions).dtype
    return np.float32 if dtype.kind == "f" and dtype.itemsize == 4 else np.float64


def checked_primitive(
    source: Path,
    warnings: list[str],
    positions: np.ndarray,
    indices: np.ndarray,
    *,
    normals: np.ndarray | None = None,
    uvs: np.ndarray | None = None,
    colors: np.ndarray | None = None,
    material: int = 0,
    label: str = "mesh",
) -> Primitive | None:
    """Validate one primitive and bring it to the Model's dtypes; None if nothing drawable is left.

    Positions keep 64 bits where the source has them (see `position_dtype`); normalise makes
    them float32 once the object is centred.

    Policy for non-finite coordinates (NaN/inf): triangles touching such a vertex are DROPPED and a
    warning says how many (some scanners write NaN for missing samples); if every triangle is
    dropped the caller's zero-triangle check reports it. Indices out of range are an error: they
    mean the file is corrupt, and guessing would draw garbage.
    """
    positions = np.asarray(positions)
    n = positions.shape[0]
    indices = np.asarray(indices)
    if indices.size == 0:
        return None
    indices = indices.reshape(-1, 3)
    lo, hi = int(indices.min()), int(indices.max())
    if lo < 0 or hi >= n:
        bad = lo if lo < 0 else hi
        raise ConversionError(
            source, f"{label}: vertex index {bad} out of range (the mesh has {n} vertices)"
        )
    positions = np.ascontiguousarray(positions, dtype=position_dtype(positions))
    keep = np.ones(indices.shape[0], dtype=bool)
    # Two reductions over the whole array settle the usual case (NaN propagates through min
    # and max, failing both tests); the per-vertex test, (N, 3) abs and an any over rows,
    # was ~10 ms of reading an 800k-vertex scan.
    low, high = positions.min(initial=0.0), positions.max(initial=0.0)
    if low >= -FLOAT32_MAX and high <= FLOAT32_MAX:
        finite_vertex = None
    else:
        with np.errstate(invalid="ignore"):  # beyond float32's range is treated like inf
            finite_vertex = (np.abs(positions) <= FLOAT32_MAX).all(axis=1)
    if finite_vertex is not None and not finite_vertex.all():
        keep &= finite_vertex[indices].all(axis=1)
        dropped = int((~keep).sum())
        bad_vertices = int((~finite_vertex).sum())
        warnings.append(
            f"{label}: {bad_vertices} vertices have NaN/infinite coordinates; "
            f"dropped the {dropped} triangles using them"
        )
    degenerate = (
        (indices[:, 0] == indices[:, 1])
        | (indices[:, 1] == indices[:, 2])
        | (indices[:, 0] == indices[:, 2])
    )
    keep &= ~degenerate
    if not keep.all():
        indices = indices[keep]
    if indices.shape[0] == 0:
        return None

    used = np.zeros(n, dtype=bool)
    used[indices.ravel()] = True
    if not used.all():  # compact: unreferenced (possibly non-finite) vertices must not reach bounds
        remap = np.cumsum(used, dtype=np.int64) - 1
        indices = remap[indices]
        positions = positions[used]
        normals = None if normals is None else np.asarray(normals)[used]
        uvs = None if uvs is None else np.asarray(uvs)[used]
        colors = None if colors is None else np.asarray(colors)[used]

    normals = _clean_normals(normals, warnings, label)
    uvs = _clean_uvs(uvs, warnings, label)
    colors = _clean_colors(colors)
    return Primitive(
        positions=positions,
        indices=np.ascontiguousarray(indices, dtype=np.uint32),
        normals=normals,
        uvs=uvs,
        colors=colors,
        material=material,
    )


def _clean_normals(
    normals: np.ndarray | None, warnings: list[str], label: str
) -> np.ndarray | None:
    if normals is None:
        return None
    normals = np.asarray(normals, dtype=np.float32)
    length = np.linalg.norm(normals, axis=1)
    bad = ~np.isfinite(length) | (length < 1e-12)
    if bad.mean() > 0.01:
        # Mostly broken normals are worse than none: the normals transform recomputes them.
        warnings.append(f"{label}: {int(bad.sum())} normals are zero or non-finite; ignored them")
        return None
    length[bad] = 1.0
    normals = normals / length[:, None]
    normals[bad] = (0.0, 1.0, 0.0)
    return np.ascontiguousarray(normals, dtype=np.float32)


def _clean_uvs(uvs: np.ndarray | None, warnings: list[str], label: str) -> np.ndarray | None:
    if uvs is None:
        return None
    uvs = np.ascontiguousarray(uvs, dtype=np.float32)
    bad = ~np.isfinite(uvs)
    if bad.any():
        warnings.append(f"{label}: {int(bad.any(axis=1).sum())} non-finite UVs set to 0")
        uvs[bad] = 0.0
    return uvs


def _clean_colors(colors: np.ndarray | None) -> np.ndarray | None:
    if colors is None:
        return None
    colors = np.asarray(colors, dtype=np.float32)
    if colors.shape[1] == 3:
        colors = np.concatenate([colors, np.ones((colors.shape[0], 1), np.float32)], axis=1)
    colors = np.nan_to_num(colors, nan=1.0, posinf=1.0, neginf=0.0)
    return np.ascontiguousarray(np.clip(colors, 0.0, 1.0), dtype=np.float32)


def srgb_to_linear(values: np.ndarray) -> np.ndarray:
    """sRGB-encoded 0..1 colour to linear 0..1 (the Model stores linear vertex colours)."""
    values = np.asarray(values, dtype=np.float32)
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4).astype(
        np.float32
    )


def parse_numbers(source: Path, text: bytes | str, label: str) -> np.ndarray:
    """Whitespace-separated numbers -> float64 array, in C speed; a non-number is a clear error."""
    import warnings as _warnings

    if isinstance(text, bytes):
        text = text.decode("ascii", errors="replace")
    if not text.strip():
        return np.zeros(0, dtype=np.float64)
    with _warnings.catch_warnings():
        # numpy only *warns* when it stops at a bad token; we want that to be an error.
        _warnings.simplefilter("error", DeprecationWarning)
        try:
            return np.fromstring(text, dtype=np.float64, sep=" ")
        except (ValueError, DeprecationWarning) as exc:
            raise ConversionError(source, f"{label}: text that is not a number") from exc
