"""PLY reader (ASCII and binary, either endianness), including triangle-strip files.

Our own parser rather than trimesh's because (a) `igea.ply`-style files store a `tristrips`
element instead of faces and trimesh reads them as a point cloud, and (b) every count in a
hostile header must be checked against the bytes present BEFORE anything is allocated.
Binary elements are read with one `np.frombuffer` per element (structured dtype); list
properties take a fast path when every list has the same length (the usual all-triangles face
element), else a bounded sequential walk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
from vrculture.pipeline.readers.tristrips import strips_to_triangles

MAX_HEADER_BYTES = 64 * 1024

_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}  # fmt: skip


@dataclass
class _Property:
    name: str
    dtype: str  # numpy type code without byte order, e.g. "f4"
    count_dtype: str | None = None  # set for list properties


@dataclass
class _Element:
    name: str
    count: int
    properties: list[_Property] = field(default_factory=list)

    @property
    def has_lists(self) -> bool:
        return any(p.count_dtype for p in self.properties)


def read_ply(source: Path, data: bytes, limits: ReadLimits) -> Model:
    fmt, elements, body = _parse_header(source, data)
    if fmt == "ascii":
        values = _read_ascii(source, elements, body)
    else:
        order = "<" if fmt == "binary_little_endian" else ">"
        values = _read_binary(source, elements, body, order)
    return _build_model(source, elements, values, limits)


def _parse_header(source: Path, data: bytes) -> tuple[str, list[_Element], memoryview]:
    end = -1
    for marker in (b"end_header\n", b"end_header\r\n", b"end_header\r"):
        pos = data.find(marker, 0, MAX_HEADER_BYTES)
        if pos >= 0:
            end = pos + len(marker)
            break
    if end < 0:
        raise ConversionError(source, "PLY header has no end_header line (truncated or not PLY)")
    lines = data[:end].decode("ascii", errors="replace").splitlines()
    fmt = ""
    elements: list[_Element] = []
    for number, raw in enumerate(lines[1:], start=2):
        words = raw.split()
        if not words or words[0] in ("comment", "obj_info", "end_header"):
            continue
        where = f"PLY header line {number} ({raw.strip()[:60]!r})"
        if words[0] == "format":
            if len(words) < 2 or words[1] not in (
                "ascii",
                "binary_little_endian",
                "binary_big_endian",
            ):
                raise ConversionError(source, f"{where}: unknown PLY format")
            fmt = words[1]
        elif words[0] == "element":
            if len(words) != 3 or not words[2].isdigit():
                raise ConversionError(source, f"{where}: malformed element line")
            elements.append(_Element(words[1], int(words[2])))
        elif words[0] == "property":
            if not elements:
                raise ConversionError(source, f"{where}: property before any element")
            if len(words) == 5 and words[1] == "list":
                if words[2] not in _TYPES or words[3] not in _TYPES:
                    raise ConversionError(source, f"{where}: unknown property type")
                elements[-1].properties.append(
                    _Property(words[4], _TYPES[words[3]], count_dtype=_TYPES[words[2]])
                )
            elif len(words) == 3 and words[1] in _TYPES:
                elements[-1].properties.append(_Property(words[2], _TYPES[words[1]]))
            else:
                raise ConversionError(source, f"{where}: malformed property line")
        else:
            raise ConversionError(source, f"{where}: unknown PLY header keyword")
    if not fmt:
        raise ConversionError(source, "PLY header has no format line")
    return fmt, elements, memoryview(data)[end:]


# ---------------------------------------------------------------- binary


def _read_binary(
    source: Path, elements: list[_Element], body: memoryview, order: str
) -> dict[str, dict[str, np.ndarray]]:
    out: dict[str, dict[str, np.ndarray]] = {}
    pos = 0
    for element in elements:
        remaining = len(body) - pos
        if not element.has_lists:
            dtype = np.dtype([(p.name, order + p.dtype) for p in element.properties])
            need = element.count * dtype.itemsize
            if need > remaining:
                raise ConversionError(
                    source,
                    f"PLY element '{element.name}' declares {element.count} items "
                    f"({need} bytes) but only {remaining} bytes remain (truncated or lying header)",
                )
            arr = np.frombuffer(body, dtype=dtype, count=element.count, offset=pos)
            out[element.name] = {p.name: arr[p.name] for p in element.properties}
            pos += need
        else:
            columns, pos = _read_binary_lists(source, element, body, pos, order)
            out[element.name] = columns
    return out


def _read_binary_lists(
    source: Path, element: _Element, body: memoryview, pos: int, order: str
) -> tuple[dict[str, np.ndarray], int]:
    remaining = len(body) - pos
    # Cheapest possible item: every list empty. Refuse counts that cannot fit even so.
    min_item = sum(np.dtype(p.count_dtype or p.dtype).itemsize for p in element.properties)
    if element.count * min_item > remaining:
        raise ConversionError(
            source,
            f"PLY element '{element.name}' declares {element.count} items but only "
            f"{remaining} bytes remain (truncated or lying header)",
        )
    if element.count == 0:
        return {p.name: np.zeros((0, 0)) for p in element.properties}, pos

    # Fast path: read the first item's list lengths and assume every item has the same ones.
    fields = []
    probe = pos
    lengths: list[int] = []
    for p in element.properties:
        if p.count_dtype:
            size = np.dtype(p.count_dtype).itemsize
            if probe + size > len(body):
                raise ConversionError(source, f"PLY element '{element.name}' is truncated")
            k = int(np.frombuffer(body, order + p.count_dtype, 1, probe)[0])
            if k < 0:
                raise ConversionError(source, f"PLY element '{element.name}': negative list length")
            lengths.append(k)
            fields.append((p.name + "#n", order + p.count_dtype))
            fields.append((p.name, order + p.dtype, (k,)))
            probe += size + k * np.dtype(p.dtype).itemsize
        else:
            fields.append((p.name, order + p.dtype))
            probe += np.dtype(p.dtype).itemsize
    dtype = np.dtype(fields)
    need = element.count * dtype.itemsize
    if need <= remaining:
        arr = np.frombuffer(body, dtype=dtype, count=element.count, offset=pos)
        uniform = all(
            (arr[p.name + "#n"] == k).all()
            for p, k in zip([q for q in element.properties if q.count_dtype], lengths, strict=True)
        )
        if uniform:
            return {p.name: arr[p.name] for p in element.properties}, pos + need
    return _walk_binary_lists(source, element, body, pos, order)


def _walk_binary_lists(
    source: Path, element: _Element, body: memoryview, pos: int, order: str
) -> tuple[dict[str, np.ndarray], int]:
    """Mixed list lengths (e.g. triangles and quads): walk item by item, bounds-checked."""
    total = len(body)
    lists: dict[str, list[np.ndarray]] = {p.name: [] for p in element.properties}
    for _ in range(element.count):
        for p in element.properties:
            if p.count_dtype:
                size = np.dtype(p.count_dtype).itemsize
                if pos + size > total:
                    raise ConversionError(source, f"PLY element '{element.name}' is truncated")
                k = int(np.frombuffer(body, order + p.count_dtype, 1, pos)[0])
                pos += size
                item = np.dtype(p.dtype).itemsize
                if k < 0 or pos + k * item > total:
                    raise ConversionError(
                        source, f"PLY element '{element.name}' is truncated (list of {k})"
                    )
                lists[p.name].append(np.frombuffer(body, order + p.dtype, k, pos))
                pos += k * item
            else:
                item = np.dtype(p.dtype).itemsize
                if pos + item > total:
                    raise ConversionError(source, f"PLY element '{element.name}' is truncated")
                lists[p.name].append(np.frombuffer(body, order + p.dtype, 1, pos))
                pos += item
    columns: dict[str, np.ndarray] = {}
    for p in element.properties:
        if p.count_dtype:
            columns[p.name] = _Ragged(lists[p.name])  # type: ignore[assignment]
        else:
            columns[p.name] = np.concatenate(lists[p.name]) if lists[p.name] else np.zeros(0)
    return columns, pos


class _Ragged(list):
    """A list property whose items have different lengths (polygons of mixed size)."""


# ---------------------------------------------------------------- ASCII


def _read_ascii(
    source: Path, elements: list[_Element], body: memoryview
) -> dict[str, dict[str, np.ndarray]]:
    numbers = parse_numbers(source, bytes(body), "PLY ASCII body")
    out: dict[str, dict[str, np.ndarray]] = {}
    pos = 0
    for element in elements:
        remaining = numbers.size - pos
        if not element.has_lists:
            width = len(element.properties)
            need = element.count * width
            if need > remaining:
                raise ConversionError(
                    source,
                    f"PLY element '{element.name}' declares {element.count} items but the file "
                    f"has only {remaining} numbers left (truncated or lying header)",
                )
            table = numbers[pos : pos + need].reshape(element.count, width)
            out[element.name] = {p.name: table[:, i] for i, p in enumerate(element.properties)}
            pos += need
            continue
        if element.count > remaining:
            raise ConversionError(
                source,
                f"PLY element '{element.name}' declares {element.count} items but the file "
                f"has only {remaining} numbers left (truncated or lying header)",
            )
        columns, pos = _ascii_lists(source, element, numbers, pos)
        out[element.name] = columns
    return out


def _ascii_lists(
    source: Path, element: _Element, numbers: np.ndarray, pos: int
) -> tuple[dict[str, np.ndarray], int]:
    list_props = [p for p in element.properties if p.count_dtype]
    if len(list_props) == 1 and element.properties[0] is list_props[0] and element.count:
        # Fast path: one leading list of constant length k, then scalars (the usual face line).
        k = int(numbers[pos]) if pos < numbers.size else -1
        width = 1 + k + len(element.properties) - 1
        need = element.count * width
        if k >= 0 and pos + need <= numbers.size:
            table = numbers[pos : pos + need].reshape(element.count, width)
            if (table[:, 0] == k).all():
                columns = {list_props[0].name: table[:, 1 : 1 + k]}
                for i, p in enumerate(element.properties[1:]):
                    columns[p.name] = table[:, 1 + k + i]
                return columns, pos + need
    lists: dict[str, list[np.ndarray]] = {p.name: [] for p in element.properties}
    total = numbers.size
    for _ in range(element.count):
        for p in element.properties:
            if pos >= total:
                raise ConversionError(source, f"PLY element '{element.name}' is truncated")
            if p.count_dtype:
                k = int(numbers[pos])
                if k < 0 or pos + 1 + k > total:
                    raise ConversionError(
                        source, f"PLY element '{element.name}' is truncated (list of {k})"
                    )
                lists[p.name].append(numbers[pos + 1 : pos + 1 + k])
                pos += 1 + k
            else:
                lists[p.name].append(numbers[pos : pos + 1])
                pos += 1
    columns: dict[str, np.ndarray] = {}
    for p in element.properties:
        if p.count_dtype:
            columns[p.name] = _Ragged(lists[p.name])  # type: ignore[assignment]
        else:
            columns[p.name] = np.concatenate(lists[p.name]) if lists[p.name] else np.zeros(0)
    return columns, pos


# ---------------------------------------------------------------- to Model


def _polygons_to_triangles(column: object) -> np.ndarray:
    """Face lists (uniform 2-D array or ragged list) -> triangles by fan (convex polygons)."""
    if isinstance(column, _Ragged):
        tris = [
            np.stack([np.full(len(f) - 2, f[0]), f[1:-1], f[2:]], axis=1)
            for f in column
            if len(f) >= 3
        ]
        return np.concatenate(tris).astype(np.int64) if tris else np.zeros((0, 3), np.int64)
    faces = np.asarray(column)
    if faces.ndim != 2 or faces.shape[1] < 3:
        return np.zeros((0, 3), np.int64)
    k = faces.shape[1]
    first = np.repeat(faces[:, :1], k - 2, axis=1)
    return np.stack([first, faces[:, 1:-1], faces[:, 2:]], axis=2).reshape(-1, 3).astype(np.int64)


def _first(columns: dict[str, np.ndarray], *names: str) -> np.ndarray | None:
    for name in names:
        if name in columns:
            return columns[name]
    return None


def _unit(column: np.ndarray) -> np.ndarray:
    """Colour channel to 0..1: integers by their type's range, floats as given."""
    if column.dtype.kind in "ui":
        return column.astype(np.float32) / float(np.iinfo(column.dtype).max)
    return column.astype(np.float32)


def _build_model(
    source: Path,
    elements: list[_Element],
    values: dict[str, dict[str, np.ndarray]],
    limits: ReadLimits,
) -> Model:
    model = Model(materials=[Material(name="ply")])
    vertex = values.get("vertex")
    if vertex is None or not all(k in vertex for k in ("x", "y", "z")):
        raise ConversionError(source, "PLY has no vertex element with x, y, z")
    positions = np.stack([vertex["x"], vertex["y"], vertex["z"]], axis=1)

    triangles = np.zeros((0, 3), np.int64)
    face = values.get("face")
    if face is not None:
        column = _first(face, "vertex_indices", "vertex_index")
        if column is None:
            raise ConversionError(source, "PLY face element has no vertex_indices list")
        triangles = _polygons_to_triangles(column)
    strips = values.get("tristrips")
    if strips is not None:
        column = _first(strips, "vertex_indices", "vertex_index")
        if column is None:
            raise ConversionError(source, "PLY tristrips element has no vertex_indices list")
        flat = (
            np.concatenate([np.append(np.asarray(s), -1) for s in column])
            if isinstance(column, _Ragged)
            else np.concatenate([np.asarray(column), -np.ones((len(column), 1))], axis=1).ravel()
        )
        triangles = np.concatenate([triangles, strips_to_triangles(flat)])
    check_counts(source, limits, positions.shape[0], triangles.shape[0])
    if triangles.shape[0] == 0:
        raise ConversionError(
            source, "PLY has zero triangles (no face or tristrips element: a point cloud)"
        )

    normals = None
    if all(k in vertex for k in ("nx", "ny", "nz")):
        normals = np.stack([vertex["nx"], vertex["ny"], vertex["nz"]], axis=1)
    uvs = None
    for u, v in (("s", "t"), ("u", "v"), ("texture_u", "texture_v"), ("texture_s", "texture_t")):
        if u in vertex and v in vertex:
            # PLY texture coordinates have their origin bottom-left; glTF's is top-left.
            uvs = np.stack([vertex[u], 1.0 - vertex[v].astype(np.float64)], axis=1)
            break
    colors = None
    for r, g, b, a in (
        ("red", "green", "blue", "alpha"),
        ("r", "g", "b", "a"),
        ("diffuse_red", "diffuse_green", "diffuse_blue", "diffuse_alpha"),
    ):
        if r in vertex and g in vertex and b in vertex:
            rgb = srgb_to_linear(
                np.stack([_unit(vertex[r]), _unit(vertex[g]), _unit(vertex[b])], 1)
            )
            alpha = _unit(vertex[a]) if a in vertex else np.ones(rgb.shape[0], np.float32)
            colors = np.concatenate([rgb, alpha[:, None]], axis=1)
            break

    prim = checked_primitive(
        source, model.warnings, positions, triangles,
        normals=normals, uvs=uvs, colors=colors, label="PLY mesh",
    )  # fmt: skip
    if prim is None:
        raise ConversionError(source, "PLY has zero drawable triangles")
    model.nodes.append(Node(name=source.stem, primitives=[prim]))
    model.roots.append(0)
    if strips is not None:
        model.warnings.append(f"decoded triangle strips into {prim.triangle_count} triangles")
    return model
