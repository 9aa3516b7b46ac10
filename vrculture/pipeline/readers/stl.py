"""STL reader, binary and ASCII. Triangles come as three separate corners each; the weld transform
shares them later. Facet normals are ignored (scanners often write zeros there); the normals
transform computes smooth ones.
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
# Matched against "\n" + lower-cased text: a literal start lets re skip ahead in C, where the old
# "^\s*vertex" with MULTILINE and IGNORECASE tried every byte (2-3x slower on igea, 269k facets).
_VERTEX_LINE = re.compile(rb"\n[ \t\r\f\v]*vertex[ \t\f\v]+([^\r\n]*)")


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
    text = b"\n" + data.lower()
    lines = _VERTEX_LINE.findall(text)
    if len(lines) % 3:
        raise ConversionError(
            source,
            f"ASCII STL has {len(lines)} vertex lines, not a multiple of 3 (truncated?); "
            f"{_bad_vertex_line(text)}",
        )
    check_counts(source, limits, len(lines), len(lines) // 3)
    try:
        numbers = parse_numbers(source, b" ".join(lines), "ASCII STL vertex")
    except ConversionError as exc:
        raise ConversionError(source, f"ASCII STL: {_bad_vertex_line(text)}") from exc
    if numbers.size != len(lines) * 3:
        raise ConversionError(
            source,
            f"ASCII STL vertex lines must hold exactly 3 numbers each; {_bad_vertex_line(text)}",
        )
    return numbers.reshape(-1, 3)


def _bad_vertex_line(text: bytes) -> str:
    """Where the first malformed vertex line is (error path only, so a Python loop is fine).
    `text` starts with the added newline, so the count of newlines before a match is its line."""
    for match in _VERTEX_LINE.finditer(text):
        fields = match.group(1).split()
        problem = None
        if len(fields) != 3:
            problem = f"holds {len(fields)} numbers, not 3"
        else:
            try:
                [float(field) for field in fields]
            except ValueError:
                problem = "holds text that is not a number"
        if problem is not None:
            line = text.count(b"\n", 0, match.start() + 1)
            return f"line {line}: vertex {problem}"
    line = text.count(b"\n")
    return f"the file ends at line {line} inside a facet"
