"""glTF binary data: buffers (GLB chunk, data: URI or a file inside the folder), buffer views
(plain or EXT_meshopt_compression) and accessors (strided, normalised, sparse), each checked
against the bytes actually present before numpy reads them."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.readers.common import SourceBudget, resolve_inside
from vrculture.pipeline.readers.gltf_document import is_count, lookup
from vrculture.pipeline.readers.meshopt_decode import MeshoptError, decode_view

_COMPONENT = {5120: "i1", 5121: "u1", 5122: "i2", 5123: "u2", 5125: "u4", 5126: "f4"}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}


@dataclass
class GltfData:
    """Reads a document's buffers, views and accessors; subclassed by the scene reader."""

    source: Path
    doc: dict
    bin_chunk: memoryview | None
    budget: SourceBudget
    warnings: list[str] = field(default_factory=list)
    _buffers: dict[int, memoryview] = field(default_factory=dict)
    _decoded_views: dict[int, memoryview] = field(default_factory=dict)

    def _index(self, value: object, collection: str, where: str) -> int:
        items = self.doc.get(collection, [])
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < len(items):
            raise ConversionError(
                self.source,
                f"glTF {where}: index {value!r} not in {collection} (0..{len(items) - 1})",
            )
        return value

    def _accessor_json(self, index: object, where: str) -> dict:
        return self.doc.get("accessors", [])[self._index(index, "accessors", where)]

    def _accessor(self, index: object, where: str, *, indices: bool = False) -> np.ndarray:
        acc = self._accessor_json(index, where)
        ctype = lookup(_COMPONENT, acc.get("componentType"))
        width = lookup(_WIDTH, acc.get("type"))
        count = acc.get("count")
        if ctype is None or width is None:
            raise ConversionError(self.source, f"glTF {where}: bad componentType/type")
        if not is_count(count):
            raise ConversionError(self.source, f"glTF {where}: bad accessor count {count!r}")
        if indices and (width != 1 or ctype not in ("u1", "u2", "u4")):
            raise ConversionError(self.source, f"glTF {where}: indices must be unsigned SCALAR")
        limit = 3 * self.budget.limits.max_triangles if indices else self.budget.limits.max_vertices
        if count > limit:
            raise ConversionError(
                self.source, f"glTF {where}: count {count} over the limit {limit}"
            )
        dtype = np.dtype("<" + ctype)
        element = dtype.itemsize * width
        if "bufferView" in acc:
            view, stride = self._buffer_view_with_stride(acc["bufferView"], where)
            offset = acc.get("byteOffset", 0)
            stride = stride or element
            if not is_count(offset):
                raise ConversionError(self.source, f"glTF {where}: bad byteOffset {offset!r}")
            if stride < element:
                raise ConversionError(
                    self.source, f"glTF {where}: byteStride {stride} smaller than an element"
                )
            need = offset + (stride * (count - 1) + element if count else 0)
            if need > len(view):
                raise ConversionError(
                    self.source,
                    f"glTF {where}: accessor needs {need} bytes but its buffer view has "
                    f"{len(view)} (bad accessor range)",
                )
            if count == 0:
                array = np.zeros((0, width), dtype)
            else:
                array = np.ndarray(
                    (count, width),
                    dtype,
                    buffer=view,
                    offset=offset,
                    strides=(stride, dtype.itemsize),
                ).copy()
        else:
            array = np.zeros((count, width), dtype)
        if "sparse" in acc:
            array = self._apply_sparse(array, acc["sparse"], where)
        if indices:
            return array.reshape(-1).astype(np.int64)
        if acc.get("normalized") or ctype != "f4":
            return normalise(array) if acc.get("normalized") else array.astype(np.float32)
        return array

    def _apply_sparse(self, array: np.ndarray, sparse: dict, where: str) -> np.ndarray:
        count = sparse.get("count", 0)
        if not is_count(count) or count > array.shape[0]:
            raise ConversionError(self.source, f"glTF {where}: bad sparse count {count!r}")
        idx_info, val_info = sparse["indices"], sparse["values"]
        ictype = lookup(_COMPONENT, idx_info.get("componentType"))
        if ictype not in ("u1", "u2", "u4"):
            raise ConversionError(self.source, f"glTF {where}: bad sparse index type")
        idx = self._sparse_block(idx_info, np.dtype("<" + ictype), count, 1, where)
        vals = self._sparse_block(val_info, array.dtype, count, array.shape[1], where)
        idx = idx.reshape(-1).astype(np.int64)
        if count and (idx.max() >= array.shape[0]):
            raise ConversionError(self.source, f"glTF {where}: sparse index out of range")
        array = array.copy()
        array[idx] = vals
        return array

    def _sparse_block(
        self, info: dict, dtype: np.dtype, count: int, width: int, where: str
    ) -> np.ndarray:
        view = self._buffer_view(info.get("bufferView"), f"{where} sparse")
        offset = info.get("byteOffset", 0)
        if not is_count(offset) or offset + count * width * dtype.itemsize > len(view):
            raise ConversionError(self.source, f"glTF {where}: sparse data past its buffer view")
        return np.frombuffer(view, dtype, count * width, offset).reshape(count, width)

    def _buffer_view(self, index: object, where: str) -> memoryview:
        return self._buffer_view_with_stride(index, where)[0]

    def _buffer_view_with_stride(self, index: object, where: str) -> tuple[memoryview, int]:
        view_index = self._index(index, "bufferViews", f"{where} bufferView")
        view = self.doc.get("bufferViews", [])[view_index]
        stride = view.get("byteStride", 0)
        if not is_count(stride):
            raise ConversionError(
                self.source, f"glTF bufferView {view_index}: bad byteStride {stride!r}"
            )
        compressed = (view.get("extensions") or {}).get("EXT_meshopt_compression")
        if compressed is not None:
            return self._meshopt_view(view_index, compressed), stride
        return self._slice(view, f"bufferView {view_index}"), stride

    def _slice(self, spec: dict, label: str) -> memoryview:
        """`byteOffset`/`byteLength` of `spec` within its `buffer`, bounds-checked."""
        buffer = self._buffer(self._index(spec.get("buffer"), "buffers", label))
        offset = spec.get("byteOffset", 0)
        length = spec.get("byteLength")
        for name, value in (("byteOffset", offset), ("byteLength", length)):
            if not is_count(value):
                raise ConversionError(self.source, f"glTF {label}: bad {name} {value!r}")
        if offset + length > len(buffer):
            raise ConversionError(
                self.source,
                f"glTF {label}: bytes {offset}..{offset + length} past the end of its buffer "
                f"({len(buffer)} bytes)",
            )
        return buffer[offset : offset + length]

    def _meshopt_view(self, view_index: int, ext: object) -> memoryview:
        """An EXT_meshopt_compression view, decoded once (its fallback buffer may be empty)."""
        if view_index in self._decoded_views:
            return self._decoded_views[view_index]
        label = f"bufferView {view_index} EXT_meshopt_compression"
        if not isinstance(ext, dict):
            raise ConversionError(self.source, f"glTF {label} must be an object")
        count, stride = ext.get("count"), ext.get("byteStride")
        if not is_count(count) or not is_count(stride):
            raise ConversionError(self.source, f"glTF {label}: bad count/byteStride")
        limit = 3 * self.budget.limits.max_triangles
        if count > limit:
            raise ConversionError(self.source, f"glTF {label}: count {count} over {limit}")
        mode, filter_name = ext.get("mode"), ext.get("filter", "NONE")
        try:
            decoded = decode_view(
                self._slice(ext, label), count, stride, str(mode), str(filter_name)
            )
        except MeshoptError as exc:
            raise ConversionError(self.source, f"glTF {label}: {exc}") from exc
        self._decoded_views[view_index] = memoryview(decoded)
        return self._decoded_views[view_index]

    def _buffer(self, index: int) -> memoryview:
        if index in self._buffers:
            return self._buffers[index]
        info = self.doc.get("buffers", [])[index]
        declared = info.get("byteLength")
        if not is_count(declared):
            raise ConversionError(self.source, f"glTF buffer {index}: bad byteLength {declared!r}")
        uri = info.get("uri")
        if uri is None:
            if index != 0 or self.bin_chunk is None:
                raise ConversionError(self.source, f"glTF buffer {index} has no data (no uri)")
            data = self.bin_chunk
        else:
            data = memoryview(self._uri_bytes(str(uri), f"buffer {index}"))
        if len(data) < declared:
            raise ConversionError(
                self.source,
                f"glTF buffer {index} declares {declared} bytes but holds {len(data)} (truncated)",
            )
        self._buffers[index] = data[:declared]
        return self._buffers[index]

    def _uri_bytes(self, uri: str, what: str) -> bytes:
        if uri.startswith("data:"):
            header, _, payload = uri.partition(",")
            if ";base64" not in header:
                raise ConversionError(self.source, f"glTF {what}: data URI is not base64")
            if len(payload) * 3 // 4 > self.budget.limits.max_file_bytes:
                raise ConversionError(self.source, f"glTF {what}: data URI over the size limit")
            try:
                return base64.b64decode(payload, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ConversionError(self.source, f"glTF {what}: bad base64 data URI") from exc
        path = resolve_inside(
            self.source,
            self.source.parent,
            uri,
            percent_encoded=True,
            listings=self.budget.listings,
        )
        return self.budget.read(path)


def normalise(array: np.ndarray) -> np.ndarray:
    """Normalised integer attribute -> float per the glTF spec (signed: max(c / MAX, -1))."""
    info = np.iinfo(array.dtype)
    out = array.astype(np.float32) / float(info.max)
    return np.maximum(out, -1.0) if info.min < 0 else out
