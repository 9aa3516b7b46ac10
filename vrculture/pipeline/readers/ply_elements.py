"""PLY elements: the header, then each element's items read from binary or ASCII data.

Binary elements are read with one `np.frombuffer` per element (structured dtype); list
properties take a fast path when every list has the same length (the usual all-triangles face
element), else one tight offset loop and a bulk gather per list length. Every count in the
header is checked against the bytes (or numbers) actually present before anything is allocated.
Measured on a 300 000-face mixed triangle/quad file: item-by-item reading 1.86 s, the offset
loop + gather 0.15 s (binary) and 0.49 s (ASCII).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeAlias

import numpy as np

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.readers.common import parse_numbers

MAX_HEADER_BYTES = 64 * 1024

_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}  # fmt: skip


@dataclass
class Property:
    name: str
    dtype: str  # numpy type code without byte order, e.g. "f4"
    count_dtype: str | None = None  # set for list properties


@dataclass
class Element:
    name: str
    count: int
    properties: list[Property] = field(default_factory=list)

    @property
    def has_lists(self) -> bool:
        return any(p.count_dtype for p in self.properties)


def parse_header(source: Path, data: bytes) -> tuple[str, list[Element], memoryview, list[str]]:
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
    elements: list[Element] = []
    textures: list[str] = []
    for number, raw in enumerate(lines[1:], start=2):
        words = raw.split()
        if len(words) >= 3 and words[0] == "comment" and words[1].lower() == "texturefile":
            textures.append(raw.strip().split(None, 2)[2])
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
            elements.append(Element(words[1], int(words[2])))
        elif words[0] == "property":
            if not elements:
                raise ConversionError(source, f"{where}: property before any element")
            if len(words) == 5 and words[1] == "list":
                if words[2] not in _TYPES or words[3] not in _TYPES:
                    raise ConversionError(source, f"{where}: unknown property type")
                elements[-1].properties.append(
                    Property(words[4], _TYPES[words[3]], count_dtype=_TYPES[words[2]])
                )
            elif len(words) == 3 and words[1] in _TYPES:
                elements[-1].properties.append(Property(words[2], _TYPES[words[1]]))
            else:
                raise ConversionError(source, f"{where}: malformed property line")
            names = [p.name for p in elements[-1].properties]
            if len(set(names)) != len(names) or names[-1].endswith("#n"):
                raise ConversionError(source, f"{where}: duplicate property {names[-1]!r}")
        else:
            raise ConversionError(source, f"{where}: unknown PLY header keyword")
    if not fmt:
        raise ConversionError(source, "PLY header has no format line")
    return fmt, elements, memoryview(data)[end:], textures


# ---------------------------------------------------------------- binary


def read_binary(
    source: Path, elements: list[Element], body: memoryview, order: str
) -> dict[str, dict[str, Column]]:
    out: dict[str, dict[str, Column]] = {}
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
    source: Path, element: Element, body: memoryview, pos: int, order: str
) -> tuple[dict[str, Column], int]:
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
    fields: list[tuple[str, str] | tuple[str, str, tuple[int]]] = []
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
            if probe + size + k * np.dtype(p.dtype).itemsize > len(body):
                # Not even the first item fits: the walk below reports where it is truncated.
                return _walk_binary_lists(source, element, body, pos, order)
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
    source: Path, element: Element, body: memoryview, pos: int, order: str
) -> tuple[dict[str, Column], int]:
    """Mixed list lengths (e.g. triangles and quads): find each item's offset with one tight,
    bounds-checked loop over integers, then gather every list in bulk, grouped by length."""
    total = len(body)
    raw = bytes(body) if not isinstance(body.obj, bytes) else body.obj
    base = len(raw) - total  # body is a tail view of `raw`
    layout = []  # per property: (is_list, count size, count signed, item size)
    for prop in element.properties:
        if prop.count_dtype:
            count = np.dtype(prop.count_dtype)
            layout.append((True, count.itemsize, count.kind == "i", np.dtype(prop.dtype).itemsize))
        else:
            layout.append((False, np.dtype(prop.dtype).itemsize, False, 0))
    byteorder: Literal["little", "big"] = "little" if order == "<" else "big"
    starts: dict[int, list[int]] = {i: [] for i, lay in enumerate(layout) if lay[0]}
    counts: dict[int, list[int]] = {i: [] for i in starts}
    p = pos
    for _ in range(element.count):
        for i, (is_list, size, signed, item) in enumerate(layout):
            if not is_list:
                p += size
                continue
            if p + size > total:
                raise ConversionError(source, f"PLY element '{element.name}' is truncated")
            if size == 1 and not signed:
                k = raw[base + p]
            else:
                k = int.from_bytes(raw[base + p : base + p + size], byteorder, signed=signed)
            if k < 0:
                raise ConversionError(source, f"PLY element '{element.name}': negative list length")
            starts[i].append(p + size)
            counts[i].append(k)
            p += size + k * item
        if p > total:
            raise ConversionError(source, f"PLY element '{element.name}' is truncated")
    as_bytes = np.frombuffer(body, dtype=np.uint8)
    columns: dict[str, Column] = {}
    for i, prop in enumerate(element.properties):
        if i not in starts:
            continue  # scalar properties of list elements (face flags) are not used
        dtype = np.dtype(order + prop.dtype)
        columns[prop.name] = Groups(
            _gather(as_bytes, np.asarray(starts[i]), np.asarray(counts[i]), dtype)
        )
    return columns, p


def _gather(
    as_bytes: np.ndarray, starts: np.ndarray, counts: np.ndarray, dtype: np.dtype
) -> list[np.ndarray]:
    """Lists at byte offsets `starts` with lengths `counts` -> one (m, k) array per length k."""
    groups = []
    for k in np.unique(counts):
        if k == 0:
            continue
        first = starts[counts == k]
        offsets = first[:, None] + np.arange(int(k) * dtype.itemsize)[None, :]
        groups.append(as_bytes[offsets].copy().view(dtype).reshape(len(first), int(k)))
    return groups


class Groups(list[np.ndarray]):
    """A list property whose items have different lengths, as one 2-D array per length."""


# One property of an element: an array (one row per item), or Groups for uneven lists.
Column: TypeAlias = "np.ndarray | Groups"


# ---------------------------------------------------------------- ASCII


def read_ascii(
    source: Path, elements: list[Element], body: memoryview
) -> dict[str, dict[str, Column]]:
    numbers = parse_numbers(source, bytes(body), "PLY ASCII body")
    out: dict[str, dict[str, Column]] = {}
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
    source: Path, element: Element, numbers: np.ndarray, pos: int
) -> tuple[dict[str, Column], int]:
    list_props = [p for p in element.properties if p.count_dtype]
    if len(list_props) == 1 and element.properties[0] is list_props[0] and element.count:
        # Fast path: one leading list of constant length k, then scalars (the usual face line).
        k = int(numbers[pos]) if pos < numbers.size else -1
        width = 1 + k + len(element.properties) - 1
        need = element.count * width
        if k >= 0 and pos + need <= numbers.size:
            table = numbers[pos : pos + need].reshape(element.count, width)
            if (table[:, 0] == k).all():
                columns: dict[str, Column] = {list_props[0].name: table[:, 1 : 1 + k]}
                for i, p in enumerate(element.properties[1:]):
                    columns[p.name] = table[:, 1 + k + i]
                return columns, pos + need
    total = numbers.size
    starts: dict[str, list[int]] = {p.name: [] for p in list_props}
    counts: dict[str, list[int]] = {p.name: [] for p in list_props}
    for _ in range(element.count):
        for p in element.properties:
            if pos >= total:
                raise ConversionError(source, f"PLY element '{element.name}' is truncated")
            if not p.count_dtype:
                pos += 1
                continue
            value = numbers.item(pos)
            k = int(value) if value == value and abs(value) < 2**31 else -1
            if k < 0 or pos + 1 + k > total:
                raise ConversionError(
                    source, f"PLY element '{element.name}' is truncated (list of {value:g})"
                )
            starts[p.name].append(pos + 1)
            counts[p.name].append(k)
            pos += 1 + k
    columns = {}
    for p in list_props:
        first, lengths = np.asarray(starts[p.name]), np.asarray(counts[p.name])
        groups = []
        for k in np.unique(lengths):
            if k:
                chosen = first[lengths == k]
                groups.append(numbers[chosen[:, None] + np.arange(int(k))[None, :]])
        columns[p.name] = Groups(groups)
    return columns, pos
