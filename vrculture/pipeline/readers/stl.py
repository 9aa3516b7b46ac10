"""STL reader, binary and ASCII. Triangles come as three separate corners each; the weld transform
shares them later. Facet normals are ignored (scanners often write zeros there); the normals
transform computes smooth ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.model import Material, Model, Node
from vrculture.pipeline.readers.common import (
    ReadLimits,
    check_counts,
    checked_primitive,
)
from vrculture.pipeline.readers.orientation import orient_outward
from vrculture.pipeline.readers.stl_ascii import BOM, ascii_stl_corners

_RECORD = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attribute", "<u2")])


def read_stl(source: Path, data: bytes, limits: ReadLimits) -> Model:
    model = Model(materials=[Material(name="stl")])
    if _is_binary(data):
        corners = _binary_corners(source, data, limits)
    else:
        corners = ascii_stl_corners(source, data, limits, model.warnings)
    count = corners.shape[0] // 3
    if count == 0:
        raise ConversionError(source, "STL has zero triangles")
    indices = np.arange(count * 3, dtype=np.int64).reshape(-1, 3)
    prim = checked_primitive(source, model.warnings, corners, indices, label="STL mesh")
    if prim is None:
        raise ConversionError(source, "STL has zero drawable triangles (all degenerate or NaN)")
    prim = orient_outward(prim, model.warnings, "STL mesh")
    model.nodes.append(Node(name=source.stem, primitives=[prim]))
    model.roots.append(0)
    return model


def _is_binary(data: bytes) -> bool:
    if len(data) >= 84:
        count = int.from_bytes(data[80:84], "little")
        if len(data) == 84 + 50 * count:
            return True
    # ASCII STL starts with "solid" and has no NUL bytes; anything else is treated as binary and
    # its length checked against the declared triangle count.
    head = data[:1024].lstrip()
    if head.startswith(BOM):  # a UTF-8 byte order mark before "solid" (Windows editors)
        head = head[len(BOM) :].lstrip()
    return not (head[:5].lower() == b"solid" and b"\x00" not in head)


def _binary_corners(source: Path, data: bytes, limits: ReadLimits) -> np.ndarray:
    if len(data) < 84:
        raise ConversionError(source, f"binary STL truncated: {len(data)} bytes, header needs 84")
    count = int.from_bytes(data[80:84], "little")
    available = (len(data) - 84) // 50
    if count > available:
        raise ConversionError(
            source,
            f"binary STL declares {count} triangles but holds only {available} "
            f"({len(data)} bytes; truncated or lying header)",
        )
    check_counts(source, limits, count * 3, count)
    records = np.frombuffer(data, dtype=_RECORD, count=count, offset=84)
    return records["corners"].reshape(-1, 3)
