"""OFF reader (Object File Format: OFF, COFF with vertex colours, NOFF with normals; ASCII).

Common in research and museum scan archives. Layout after comments and blank lines are
removed: a keyword line (`[C][N]OFF`, counts may follow on the same line), a counts line
`vertices faces edges`, one line per vertex, one line per face `k i1 .. ik [r g b [a]]`.
Counts are checked against the lines present before anything is allocated.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.model import Material, Model, Node
from vrculture.pipeline.readers.common import (
    ReadLimits,
    check_counts,
    checked_primitive,
    parse_numbers,
    srgb_to_linear,
)
from vrculture.pipeline.readers.georef import crs_in_hash_comments
from vrculture.pipeline.readers.orientation import orient_outward

_KEYWORD = re.compile(r"^(ST)?(C)?(N)?(4)?(n)?OFF$")


def read_off(source: Path, data: bytes, limits: ReadLimits) -> Model:
    lines = [
        line.split("#", 1)[0].strip()
        for line in data.decode("ascii", errors="replace").splitlines()
    ]
    lines = [line for line in lines if line]
    if not lines:
        raise ConversionError(source, "OFF file has no content")
    first = lines[0].split()
    match = _KEYWORD.fullmatch(first[0])
    if match is None:
        raise ConversionError(source, f"OFF keyword line {lines[0][:40]!r} not understood")
    if match.group(4) or match.group(5) or match.group(1):
        raise ConversionError(source, f"{first[0]} (4D or textured OFF) is not supported")
    has_colours, has_normals = bool(match.group(2)), bool(match.group(3))
    counts_words = first[1:] if len(first) > 1 else (lines[1].split() if len(lines) > 1 else [])
    body = lines[1:] if len(first) > 1 else lines[2:]
    try:
        n_vertices, n_faces = int(counts_words[0]), int(counts_words[1])
    except (IndexError, ValueError) as exc:
        raise ConversionError(source, "OFF counts line must give vertex and face counts") from exc
    if n_vertices < 0 or n_faces < 0:
        raise ConversionError(source, "OFF counts must not be negative")
    if n_vertices + n_faces > len(body):
        raise ConversionError(
            source,
            f"OFF declares {n_vertices} vertices and {n_faces} faces but has only "
            f"{len(body)} data lines (truncated or lying header)",
        )
    check_counts(source, limits, n_vertices, n_faces)

    width = 3 + (3 if has_normals else 0)
    table = parse_numbers(source, " ".join(body[:n_vertices]), "OFF vertex line")
    if has_colours:  # colours may be RGB or RGBA: every vertex line must agree
        per_line = table.size // max(n_vertices, 1)
        if per_line * n_vertices != table.size or per_line not in (width + 3, width + 4):
            raise ConversionError(source, "OFF vertex lines do not all hold position and colour")
        width = per_line
    if table.size != n_vertices * width:
        raise ConversionError(source, f"OFF vertex lines must hold {width} numbers each")
    table = table.reshape(n_vertices, width)
    positions = table[:, :3]
    normals = table[:, 3:6] if has_normals else None
    colors = None
    if has_colours:
        start = 6 if has_normals else 3
        rgba = table[:, start:]
        if rgba.max(initial=0) > 1.0:  # integer 0..255 colours
            rgba = rgba / 255.0
        rgb = srgb_to_linear(np.clip(rgba[:, :3], 0, 1))
        alpha = rgba[:, 3:4] if rgba.shape[1] == 4 else np.ones((n_vertices, 1))
        colors = np.concatenate([rgb, alpha], axis=1)

    triangles = _faces(source, body[n_vertices : n_vertices + n_faces])
    check_counts(source, limits, n_vertices, triangles.shape[0])
    if triangles.shape[0] == 0:
        raise ConversionError(source, "OFF has zero triangles")
    model = Model(materials=[Material(name="off")], crs=crs_in_hash_comments(data))
    prim = checked_primitive(
        source, model.warnings, positions, triangles,
        normals=normals, colors=colors, label="OFF mesh",
    )  # fmt: skip
    if prim is None:
        raise ConversionError(source, "OFF has zero drawable triangles")
    prim = orient_outward(prim, model.warnings, "OFF mesh")
    model.nodes.append(Node(name=source.stem, primitives=[prim]))
    model.roots.append(0)
    return model


def _faces(source: Path, lines: list[str]) -> np.ndarray:
    """Face lines -> triangles (fans); a trailing per-face colour is ignored."""
    if not lines:
        return np.zeros((0, 3), np.int64)
    first = lines[0].split()
    k = int(first[0]) if first and first[0].isdigit() else -1
    numbers = parse_numbers(source, " ".join(lines), "OFF face line")
    if 3 <= k < len(first) and numbers.size == len(lines) * len(first):  # all like the first
        table = numbers.reshape(len(lines), len(first))
        if (table[:, 0] == k).all():
            return _fan(source, table[:, 1 : 1 + k])
    triangles = []
    for number, line in enumerate(lines, start=1):
        values = parse_numbers(source, line, "OFF face line")
        if values.size == 0 or values[0] != int(values[0]) or not 0 <= values[0] <= values.size - 1:
            raise ConversionError(source, f"OFF face {number} is malformed")
        k = int(values[0])
        if k >= 3:
            triangles.append(_fan(source, values[1 : 1 + k][None, :]))
    return np.concatenate(triangles) if triangles else np.zeros((0, 3), np.int64)


def _fan(source: Path, faces: np.ndarray) -> np.ndarray:
    if not np.array_equal(faces, np.floor(faces)):
        raise ConversionError(source, "OFF face indices must be integers")
    faces = faces.astype(np.int64)
    k = faces.shape[1]
    first = np.repeat(faces[:, :1], k - 2, axis=1)
    return np.stack([first, faces[:, 1:-1], faces[:, 2:]], axis=2).reshape(-1, 3)
