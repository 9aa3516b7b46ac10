"""The STL reader as it was on main at 5ec96aa (regex over `vertex` lines), kept verbatim as the
reference: tests/pipeline/test_stl_ascii_quirks.py runs it beside the numpy reader over the same
quirk files, and tools/bench_stl_ascii.py times it as the anchor. Not used by the product.
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
)
from vrculture.pipeline.readers.orientation import orient_outward

_RECORD = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attribute", "<u2")])
_VERTEX_LINE = re.compile(rb"^\s*vertex\s+(.*?)\s*$", re.MULTILINE | re.IGNORECASE)


def read_stl(source: Path, data: bytes, limits: ReadLimits) -> Model:
    if _is_binary(data):
        corners = _binary_corners(source, data, limits)
    else:
        corners = _ascii_corners(source, data, limits)
    count = corners.shape[0] // 3
    if count == 0:
        raise ConversionError(source, "STL has zero triangles")
    model = Model(materials=[Material(name="stl")])
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


def _ascii_corners(source: Path, data: bytes, limits: ReadLimits) -> np.ndarray:
    lines = _VERTEX_LINE.findall(data)
    if len(lines) % 3:
        raise ConversionError(
            source, f"ASCII STL has {len(lines)} vertex lines, not a multiple of 3 (truncated?)"
        )
    check_counts(source, limits, len(lines), len(lines) // 3)
    numbers = parse_numbers(source, b" ".join(lines), "ASCII STL vertex")
    if numbers.size != len(lines) * 3:
        raise ConversionError(source, "ASCII STL vertex lines must hold exactly 3 numbers each")
    return numbers.reshape(-1, 3)
