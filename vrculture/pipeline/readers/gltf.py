"""glTF 2.0 reader (.gltf with external or data: buffers and images, and .glb), Draco included.

Our own reader over the JSON rather than trimesh's: every accessor and buffer view is checked
against the bytes actually present before numpy touches them, external URIs are confined to the
source's folder, node transforms are baked exactly (normals by the inverse transpose, winding
flipped under mirroring) and the PBR material maps come through as PIL images. Draco primitives
(KHR_draco_mesh_compression) are decoded with DracoPy.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.model import Material, Model, Node, Primitive, Texture
from vrculture.pipeline.readers.common import (
    SourceBudget,
    check_counts,
    checked_primitive,
    resolve_inside,
)
from vrculture.pipeline.readers.images import decode_image
from vrculture.pipeline.readers.meshopt_decode import MeshoptError, decode_view
from vrculture.pipeline.readers.tristrips import fan_to_triangles, strips_to_triangles

_COMPONENT = {5120: "i1", 5121: "u1", 5122: "i2", 5123: "u2", 5125: "u4", 5126: "f4"}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
# Extensions we read (or can safely ignore) when a file lists them as required.
_READABLE_REQUIRED = {
    "KHR_draco_mesh_compression",
    "KHR_mesh_quantization",
    "KHR_materials_unlit",
    "KHR_texture_transform",
    "EXT_texture_webp",
    "KHR_materials_emissive_strength",
    "EXT_meshopt_compression",
}
_GLB_JSON, _GLB_BIN = 0x4E4F534A, 0x004E4942


def read_gltf(source: Path, data: bytes, budget: SourceBudget, *, binary: bool) -> Model:
    try:
        if binary:
            document, bin_chunk = _split_glb(source, data, budget)
        else:
            document, bin_chunk = _parse_json(source, data, budget), None
        return _GltfReader(source, document, bin_chunk, budget).read()
    except ConversionError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        raise ConversionError(source, f"malformed glTF JSON ({type(exc).__name__}: {exc})") from exc


def _split_glb(source: Path, data: bytes, budget: SourceBudget) -> tuple[dict, memoryview | None]:
    if len(data) < 20:
        raise ConversionError(source, f"GLB truncated: {len(data)} bytes, the header needs 20")
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    if magic != b"glTF":
        raise ConversionError(source, "not a GLB file (no glTF magic)")
    if version != 2:
        raise ConversionError(source, f"GLB version {version} is not supported (only glTF 2.0)")
    if length > len(data):
        raise ConversionError(
            source, f"GLB truncated: header says {length} bytes, file has {len(data)}"
        )
    view = memoryview(data)[:length]
    pos = 12
    document: dict | None = None
    bin_chunk: memoryview | None = None
    while pos + 8 <= length:
        chunk_length, chunk_type = struct.unpack_from("<II", view, pos)
        start = pos + 8
        if start + chunk_length > length:
            raise ConversionError(
                source, f"GLB chunk at byte {pos} declares {chunk_length} bytes past the file end"
            )
        body = view[start : start + chunk_length]
        if chunk_type == _GLB_JSON and document is None:
            document = _parse_json(source, body, budget)
        elif chunk_type == _GLB_BIN and bin_chunk is None:
            bin_chunk = body
        pos = start + chunk_length
    if document is None:
        raise ConversionError(source, "GLB has no JSON chunk")
    return document, bin_chunk


def _parse_json(source: Path, data: bytes | memoryview, budget: SourceBudget) -> dict:
    if len(data) > budget.limits.max_json_bytes:
        raise ConversionError(
            source, f"glTF JSON is {len(data)} bytes, over {budget.limits.max_json_bytes}"
        )
    try:
        document = json.loads(bytes(data).decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConversionError(source, f"glTF JSON is not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise ConversionError(source, "glTF JSON is nested too deeply") from exc
    if not isinstance(document, dict):
        raise ConversionError(source, f"glTF JSON must be an object, not {type(document).__name__}")
    asset = document.get("asset")
    if not isinstance(asset, dict):
        raise ConversionError(source, "glTF has no 'asset' object")
    version = str(asset.get("version", ""))
    if not version.startswith("2"):
        raise ConversionError(source, f"glTF asset.version {version!r} is not 2.x")
    return document


@dataclass
class _Decoded:
    """One glTF primitive decoded, before any node transform."""

    positions: np.ndarray
    triangles: np.ndarray
    normals: np.ndarray | None
    uvs: np.ndarray | None
    colors: np.ndarray | None
    material: int


@dataclass
class _GltfReader:
    source: Path
    doc: dict
    bin_chunk: memoryview | None
    budget: SourceBudget
    warnings: list[str] = field(default_factory=list)
    _buffers: dict[int, memoryview] = field(default_factory=dict)
    _textures: dict[tuple[int, bool], Texture | None] = field(default_factory=dict)
    _meshes: dict[int, list[_Decoded]] = field(default_factory=dict)
    _uv_transforms: dict[int, np.ndarray] = field(default_factory=dict)
    _decoded_views: dict[int, memoryview] = field(default_factory=dict)

    # ------------------------------------------------------------ structure

    def read(self) -> Model:
        self._check_required_extensions()
        for key in (
            "nodes",
            "meshes",
            "accessors",
            "materials",
            "bufferViews",
            "buffers",
            "images",
            "textures",
            "scenes",
        ):
            items = self.doc.get(key, [])
            if not isinstance(items, list):
                raise ConversionError(self.source, f"glTF '{key}' must be an array")
            if len(items) > self.budget.limits.max_nodes:
                raise ConversionError(
                    self.source, f"glTF has {len(items)} {key}, over {self.budget.limits.max_nodes}"
                )
        _check_structure(self.source, self.doc)
        primitives = sum(len(mesh.get("primitives", [])) for mesh in self.doc.get("meshes", []))
        if primitives > self.budget.limits.max_nodes:
            raise ConversionError(
                self.source,
                f"glTF has {primitives} primitives, over {self.budget.limits.max_nodes}",
            )
        model = Model(warnings=self.warnings)
        model.materials = [self._material(i) for i in range(len(self.doc.get("materials", [])))]
        default_material: int | None = None
        total_triangles = 0
        for node_index, world in self._scene_nodes():
            node = self.doc.get("nodes", [])[node_index]
            if "mesh" not in node:
                continue
            mesh_index = self._index(node["mesh"], "meshes", f"node {node_index} mesh")
            mesh = self.doc.get("meshes", [])[mesh_index]
            name = node.get("name") or mesh.get("name") or f"node{node_index}"
            out = Node(name=str(name))
            for decoded in self._decoded_mesh(mesh_index):
                material = decoded.material
                if material < 0:
                    if default_material is None:
                        default_material = len(model.materials)
                        model.materials.append(Material(name="default"))
                    material = default_material
                prim = self._bake(decoded, world, material, f"mesh {mesh_index}")
                if prim is not None:
                    total_triangles += prim.triangle_count
                    check_counts(self.source, self.budget.limits, 0, total_triangles)
                    out.primitives.append(prim)
            if out.primitives:
                model.nodes.append(out)
        if not model.nodes:
            raise ConversionError(self.source, "glTF has zero triangles in its scene")
        model.roots = list(range(len(model.nodes)))
        return model

    def _check_required_extensions(self) -> None:
        required = self.doc.get("extensionsRequired", []) or []
        missing = sorted(set(map(str, required)) - _READABLE_REQUIRED)
        if missing:
            raise ConversionError(
                self.source, f"requires glTF extension(s) we cannot read: {', '.join(missing)}"
            )

    def _index(self, value: object, collection: str, where: str) -> int:
        items = self.doc.get(collection, [])
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < len(items):
            raise ConversionError(
                self.source,
                f"glTF {where}: index {value!r} not in {collection} (0..{len(items) - 1})",
            )
        return value

    def _scene_nodes(self) -> list[tuple[int, np.ndarray]]:
        """(node index, world matrix) for every node reachable from the scene, cycles refused."""
        nodes = self.doc.get("nodes", [])
        scenes = self.doc.get("scenes", [])
        if scenes:
            scene_index = self.doc.get("scene", 0)
            scene_index = self._index(scene_index, "scenes", "scene")
            roots = scenes[scene_index].get("nodes", [])
        else:  # no scene: every node that is nobody's child is a root
            children = {c for n in nodes for c in n.get("children", [])}
            roots = [i for i in range(len(nodes)) if i not in children]
        out: list[tuple[int, np.ndarray]] = []
        visited: set[int] = set()
        stack = [(self._index(r, "nodes", "scene root"), np.eye(4)) for r in reversed(roots)]
        while stack:
            index, parent = stack.pop()
            if index in visited:
                raise ConversionError(self.source, f"glTF node {index} appears twice (a cycle?)")
            visited.add(index)
            world = parent @ self._local_matrix(index)
            out.append((index, world))
            for child in reversed(nodes[index].get("children", [])):
                stack.append((self._index(child, "nodes", f"node {index} child"), world))
        return out

    def _local_matrix(self, index: int) -> np.ndarray:
        node = self.doc.get("nodes", [])[index]
        if "matrix" in node:
            m = _floats(self.source, node["matrix"], 16, f"node {index} matrix")
            return m.reshape(4, 4).T  # glTF stores column-major
        t = _floats(self.source, node.get("translation", [0, 0, 0]), 3, f"node {index} translation")
        r = _floats(self.source, node.get("rotation", [0, 0, 0, 1]), 4, f"node {index} rotation")
        s = _floats(self.source, node.get("scale", [1, 1, 1]), 3, f"node {index} scale")
        x, y, z, w = r / (np.linalg.norm(r) or 1.0)
        rot = np.array(
            [
                [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
            ]
        )
        m = np.eye(4)
        m[:3, :3] = rot * s[None, :]
        m[:3, 3] = t
        return m

    def _bake(self, d: _Decoded, world: np.ndarray, material: int, label: str) -> Primitive | None:
        linear = world[:3, :3]
        positions = d.positions.astype(np.float64) @ linear.T + world[:3, 3]
        normals = d.normals
        triangles = d.triangles
        if not np.allclose(world, np.eye(4)):
            if normals is not None:
                try:
                    normal_matrix = np.linalg.inv(linear).T
                except np.linalg.LinAlgError:
                    normal_matrix = None
                normals = None if normal_matrix is None else normals @ normal_matrix.T
            if np.linalg.det(linear) < 0:  # mirrored: keep front faces counter-clockwise
                triangles = triangles[:, [0, 2, 1]]
        uvs = d.uvs
        transform = self._uv_transforms.get(material)
        if uvs is not None and transform is not None:
            uvs = uvs.astype(np.float64) @ transform[:2, :2].T + transform[:2, 2]
        return checked_primitive(
            self.source, self.warnings, positions, triangles,
            normals=normals, uvs=uvs, colors=d.colors, material=material, label=label,
        )  # fmt: skip

    # ------------------------------------------------------------ meshes

    def _decoded_mesh(self, mesh_index: int) -> list[_Decoded]:
        if mesh_index not in self._meshes:
            mesh = self.doc.get("meshes", [])[mesh_index]
            primitives = mesh.get("primitives", [])
            decoded = []
            for p_index, prim in enumerate(primitives):
                item = self._decode_primitive(prim, f"mesh {mesh_index} primitive {p_index}")
                if item is not None:
                    decoded.append(item)
            self._meshes[mesh_index] = decoded
        return self._meshes[mesh_index]

    def _decode_primitive(self, prim: dict, where: str) -> _Decoded | None:
        mode = prim.get("mode", 4)
        if mode not in (4, 5, 6):
            self.warnings.append(f"{where}: points/lines (mode {mode}) skipped")
            return None
        attributes = prim.get("attributes", {})
        if not isinstance(attributes, dict) or "POSITION" not in attributes:
            raise ConversionError(self.source, f"glTF {where} has no POSITION attribute")
        if prim.get("targets"):
            self.warnings.append(f"{where}: morph targets ignored (base shape used)")
        draco = (prim.get("extensions") or {}).get("KHR_draco_mesh_compression")
        if draco is not None:
            values, indices = self._draco(draco, attributes, where)
        else:
            values = {
                name: self._accessor(attributes[name], f"{where} {name}")
                for name in ("POSITION", "NORMAL", "TEXCOORD_0", "COLOR_0")
                if name in attributes
            }
            indices = None
            if "indices" in prim:
                indices = self._accessor(prim["indices"], f"{where} indices", indices=True)
        positions = values["POSITION"]
        if positions.ndim != 2 or positions.shape[1] != 3:
            raise ConversionError(self.source, f"glTF {where}: POSITION must be VEC3")
        n = positions.shape[0]
        for name, value in values.items():
            if value.shape[0] != n:
                raise ConversionError(
                    self.source, f"glTF {where}: {name} has {value.shape[0]} items, POSITION {n}"
                )
        flat = np.arange(n, dtype=np.int64) if indices is None else indices.reshape(-1)
        if mode == 4:
            if flat.size % 3:
                flat = flat[: flat.size - flat.size % 3]
                self.warnings.append(f"{where}: index count not a multiple of 3; tail dropped")
            triangles = flat.reshape(-1, 3).astype(np.int64)
        elif mode == 5:
            triangles = strips_to_triangles(flat)
        else:
            triangles = fan_to_triangles(flat)
        if triangles.size and (triangles.max() >= n):
            raise ConversionError(
                self.source,
                f"glTF {where}: vertex index {int(triangles.max())} out of range ({n} vertices)",
            )
        colors = values.get("COLOR_0")
        if colors is not None and colors.shape[1] not in (3, 4):
            raise ConversionError(self.source, f"glTF {where}: COLOR_0 must be VEC3 or VEC4")
        normals = values.get("NORMAL")
        if normals is not None and normals.shape[1] != 3:
            raise ConversionError(self.source, f"glTF {where}: NORMAL must be VEC3")
        uvs = values.get("TEXCOORD_0")
        if uvs is not None and uvs.shape[1] != 2:
            raise ConversionError(self.source, f"glTF {where}: TEXCOORD_0 must be VEC2")
        material = -1
        if "material" in prim:
            material = self._index(prim["material"], "materials", f"{where} material")
        return _Decoded(positions, triangles, normals, uvs, colors, material)

    def _draco(
        self, ext: dict, attributes: dict, where: str
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        import DracoPy

        data = self._buffer_view(ext.get("bufferView"), f"{where} Draco")
        try:
            mesh = DracoPy.decode(bytes(data))
        except Exception as exc:  # DracoPy raises its own types, and ValueError/RuntimeError
            raise ConversionError(
                self.source, f"glTF {where}: Draco data cannot be decoded ({exc})"
            ) from exc
        faces = getattr(mesh, "faces", None)
        if faces is None or len(faces) == 0:
            raise ConversionError(self.source, f"glTF {where}: Draco data has no faces")
        ids = ext.get("attributes", {})
        values: dict[str, np.ndarray] = {}
        for name in ("POSITION", "NORMAL", "TEXCOORD_0", "COLOR_0"):
            if name not in ids:
                continue
            attribute = mesh.get_attribute_by_unique_id(int(ids[name]))
            if attribute is None:
                raise ConversionError(
                    self.source, f"glTF {where}: Draco attribute {name} (id {ids[name]}) missing"
                )
            array = np.asarray(attribute["data"])
            if array.ndim == 1:
                array = array.reshape(len(mesh.points), -1)
            accessor = self._accessor_json(attributes.get(name), f"{where} {name}")
            if array.dtype.kind in "ui":
                # Quantised integers: normalised per the accessor, as the glTF spec defines.
                normalized = bool(accessor.get("normalized", False)) or name == "COLOR_0"
                array = _normalise(array) if normalized else array.astype(np.float32)
            values[name] = array.astype(np.float32)
        if "POSITION" not in values:
            raise ConversionError(self.source, f"glTF {where}: Draco data has no POSITION")
        return values, np.asarray(faces, dtype=np.int64)

    # ------------------------------------------------------------ accessors & buffers

    def _accessor_json(self, index: object, where: str) -> dict:
        return self.doc.get("accessors", [])[self._index(index, "accessors", where)]

    def _accessor(self, index: object, where: str, *, indices: bool = False) -> np.ndarray:
        acc = self._accessor_json(index, where)
        ctype = _lookup(_COMPONENT, acc.get("componentType"))
        width = _lookup(_WIDTH, acc.get("type"))
        count = acc.get("count")
        if ctype is None or width is None:
            raise ConversionError(self.source, f"glTF {where}: bad componentType/type")
        if not _is_count(count):
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
            if not _is_count(offset):
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
            return _normalise(array) if acc.get("normalized") else array.astype(np.float32)
        return array

    def _apply_sparse(self, array: np.ndarray, sparse: dict, where: str) -> np.ndarray:
        count = sparse.get("count", 0)
        if not _is_count(count) or count > array.shape[0]:
            raise ConversionError(self.source, f"glTF {where}: bad sparse count {count!r}")
        idx_info, val_info = sparse["indices"], sparse["values"]
        ictype = _lookup(_COMPONENT, idx_info.get("componentType"))
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
        if not _is_count(offset) or offset + count * width * dtype.itemsize > len(view):
            raise ConversionError(self.source, f"glTF {where}: sparse data past its buffer view")
        return np.frombuffer(view, dtype, count * width, offset).reshape(count, width)

    def _buffer_view(self, index: object, where: str) -> memoryview:
        return self._buffer_view_with_stride(index, where)[0]

    def _buffer_view_with_stride(self, index: object, where: str) -> tuple[memoryview, int]:
        view_index = self._index(index, "bufferViews", f"{where} bufferView")
        view = self.doc.get("bufferViews", [])[view_index]
        stride = view.get("byteStride", 0)
        if not _is_count(stride):
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
            if not _is_count(value):
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
        if not _is_count(count) or not _is_count(stride):
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
        if not _is_count(declared):
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
        path = resolve_inside(self.source, self.source.parent, uri, percent_encoded=True)
        return self.budget.read(path)

    # ------------------------------------------------------------ materials

    def _material(self, index: int) -> Material:
        m = self.doc.get("materials", [])[index]
        where = f"material {index}"
        pbr = m.get("pbrMetallicRoughness", {}) or {}
        out = Material(name=str(m.get("name") or f"material{index}"))
        base = _floats(self.source, pbr.get("baseColorFactor", [1, 1, 1, 1]), 4, where)
        out.base_color_factor = tuple(float(v) for v in np.clip(base, 0, 1))  # type: ignore[assignment]
        out.metallic_factor = float(np.clip(pbr.get("metallicFactor", 1.0), 0, 1))
        out.roughness_factor = float(np.clip(pbr.get("roughnessFactor", 1.0), 0, 1))
        emissive = _floats(self.source, m.get("emissiveFactor", [0, 0, 0]), 3, where)
        strength = (m.get("extensions") or {}).get("KHR_materials_emissive_strength")
        if isinstance(strength, dict):
            (factor,) = _floats(self.source, [strength.get("emissiveStrength", 1.0)], 1, where)
            emissive = emissive * factor
            if emissive.max() > 1.0:
                self.warnings.append(
                    f"glTF {where}: emissive strength {factor:g} capped at 1 (core glTF range)"
                )
        out.emissive_factor = tuple(float(v) for v in np.clip(emissive, 0, 1))  # type: ignore[assignment]
        out.base_color_texture = self._texture_info(pbr.get("baseColorTexture"), True, where)
        out.metallic_roughness_texture = self._texture_info(
            pbr.get("metallicRoughnessTexture"), False, where
        )
        out.normal_texture = self._texture_info(m.get("normalTexture"), False, where)
        out.occlusion_texture = self._texture_info(m.get("occlusionTexture"), False, where)
        out.emissive_texture = self._texture_info(m.get("emissiveTexture"), True, where)
        alpha_mode = m.get("alphaMode", "OPAQUE")
        if alpha_mode not in ("OPAQUE", "MASK", "BLEND"):
            raise ConversionError(self.source, f"glTF {where}: unknown alphaMode {alpha_mode!r}")
        out.alpha_mode = alpha_mode
        out.alpha_cutoff = float(m.get("alphaCutoff", 0.5))
        out.double_sided = bool(m.get("doubleSided", False))
        out.unlit = "KHR_materials_unlit" in (m.get("extensions") or {})
        self._collect_uv_transform(index, [
            pbr.get("baseColorTexture"), pbr.get("metallicRoughnessTexture"),
            m.get("normalTexture"), m.get("occlusionTexture"), m.get("emissiveTexture"),
        ])  # fmt: skip
        return out

    def _collect_uv_transform(self, index: int, infos: list[object]) -> None:
        """KHR_texture_transform is baked into TEXCOORD_0 (the Model has one UV set and no
        per-texture transform). The base colour map's transform wins if the maps disagree."""
        transforms = []
        for info in infos:
            if isinstance(info, dict):
                ext = (info.get("extensions") or {}).get("KHR_texture_transform")
                transforms.append(None if ext is None else self._uv_matrix(ext, index))
        present = [t for t in transforms if t is not None]
        if not present:
            return
        chosen = present[0]
        if any(not np.allclose(t if t is not None else np.eye(3), chosen) for t in transforms):
            self.warnings.append(
                f"glTF material {index}: its textures use different KHR_texture_transform "
                "values; the first one is applied to all"
            )
        self._uv_transforms[index] = chosen

    def _uv_matrix(self, ext: object, index: int) -> np.ndarray:
        where = f"material {index} KHR_texture_transform"
        if not isinstance(ext, dict):
            raise ConversionError(self.source, f"glTF {where} must be an object")
        ox, oy = _floats(self.source, ext.get("offset", [0, 0]), 2, f"{where} offset")
        sx, sy = _floats(self.source, ext.get("scale", [1, 1]), 2, f"{where} scale")
        (angle,) = _floats(self.source, [ext.get("rotation", 0)], 1, f"{where} rotation")
        c, s = np.cos(angle), np.sin(angle)
        translation = np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]])
        rotation = np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]])
        return translation @ rotation @ np.diag([sx, sy, 1.0])

    def _texture_info(self, info: object, color: bool, where: str) -> Texture | None:
        if info is None:
            return None
        if not isinstance(info, dict):
            raise ConversionError(self.source, f"glTF {where}: texture info must be an object")
        texture_index = self._index(info.get("index"), "textures", f"{where} texture")
        if info.get("texCoord", 0) not in (0, None):
            self.warnings.append(
                f"glTF {where}: texture uses TEXCOORD_{info['texCoord']}; "
                "only TEXCOORD_0 is kept, so it may look wrong"
            )
        key = (texture_index, color)
        if key not in self._textures:
            self._textures[key] = self._load_texture(texture_index, color, where)
        return self._textures[key]

    def _load_texture(self, texture_index: int, color: bool, where: str) -> Texture | None:
        texture = self.doc.get("textures", [])[texture_index]
        source = texture.get("source")
        webp = (texture.get("extensions") or {}).get("EXT_texture_webp")
        if webp is not None and "source" in webp:
            source = webp["source"]
        if source is None:
            self.warnings.append(f"glTF {where}: texture {texture_index} has no image; ignored")
            return None
        image_index = self._index(source, "images", f"texture {texture_index} source")
        image = self.doc.get("images", [])[image_index]
        label = str(image.get("uri") or image.get("name") or f"image {image_index}")
        if "bufferView" in image:
            data = bytes(self._buffer_view(image["bufferView"], f"image {image_index}"))
        elif "uri" in image:
            data = self._uri_bytes(str(image["uri"]), f"image {image_index}")
        else:
            raise ConversionError(self.source, f"glTF image {image_index} has no data")
        decoded = decode_image(
            self.source, data, label, self.budget.limits.max_image_pixels, color=color
        )
        return Texture(image=decoded, name=str(image.get("name") or f"image{image_index}"))


_COLLECTIONS = (
    "scenes", "nodes", "meshes", "accessors", "bufferViews", "buffers", "materials",
    "textures", "images", "samplers",
)  # fmt: skip


def _check_structure(source: Path, doc: dict) -> None:
    """Type-check every JSON field the reader touches, so a wrong type is named precisely
    ("glTF meshes[0].primitives[1].attributes must be an object") instead of surfacing as a
    Python error later."""

    def need(value: object, kind: type | tuple[type, ...], where: str) -> None:
        if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float)):
            names = {dict: "an object", list: "an array", int: "an integer", str: "a string"}
            wanted = names.get(kind, "a number") if isinstance(kind, type) else "a number"
            raise ConversionError(source, f"glTF {where} must be {wanted}")

    def number(container: dict, key: str, where: str) -> None:
        if key in container:
            value = container[key]
            need(value, (int, float), f"{where}.{key}")
            if not np.isfinite(value):
                raise ConversionError(source, f"glTF {where}.{key} must be finite")

    def optional(container: dict, key: str, kind: type, where: str) -> None:
        if key in container:
            need(container[key], kind, f"{where}.{key}")

    for key in _COLLECTIONS:
        items = doc.get(key, [])
        need(items, list, key)
        for i, item in enumerate(items):
            need(item, dict, f"{key}[{i}]")
            optional(item, "extensions", dict, f"{key}[{i}]")
    for key in ("extensionsUsed", "extensionsRequired"):
        optional(doc, key, list, "document")
    for i, scene in enumerate(doc.get("scenes", [])):
        optional(scene, "nodes", list, f"scenes[{i}]")
    for i, node in enumerate(doc.get("nodes", [])):
        optional(node, "children", list, f"nodes[{i}]")
    for i, mesh in enumerate(doc.get("meshes", [])):
        optional(mesh, "primitives", list, f"meshes[{i}]")
        for j, prim in enumerate(mesh.get("primitives", [])):
            where = f"meshes[{i}].primitives[{j}]"
            need(prim, dict, where)
            optional(prim, "attributes", dict, where)
            optional(prim, "extensions", dict, where)
            optional(prim, "mode", int, where)
            draco = prim.get("extensions", {}).get("KHR_draco_mesh_compression")
            if draco is not None:
                need(draco, dict, f"{where} KHR_draco_mesh_compression")
                optional(draco, "attributes", dict, f"{where} KHR_draco_mesh_compression")
    for i, accessor in enumerate(doc.get("accessors", [])):
        optional(accessor, "sparse", dict, f"accessors[{i}]")
        sparse = accessor.get("sparse")
        if sparse is not None:
            for part in ("indices", "values"):
                need(sparse.get(part), dict, f"accessors[{i}].sparse.{part}")
    for i, buffer in enumerate(doc.get("buffers", [])):
        optional(buffer, "uri", str, f"buffers[{i}]")
    for i, image in enumerate(doc.get("images", [])):
        optional(image, "uri", str, f"images[{i}]")
    for i, material in enumerate(doc.get("materials", [])):
        where = f"materials[{i}]"
        optional(material, "pbrMetallicRoughness", dict, where)
        pbr = material.get("pbrMetallicRoughness", {})
        for key in ("metallicFactor", "roughnessFactor"):
            number(pbr, key, f"{where}.pbrMetallicRoughness")
        number(material, "alphaCutoff", where)
        for key in ("normalTexture", "occlusionTexture", "emissiveTexture"):
            optional(material, key, dict, where)
        for key in ("baseColorTexture", "metallicRoughnessTexture"):
            optional(pbr, key, dict, f"{where}.pbrMetallicRoughness")


def _is_count(value: object) -> bool:
    """A JSON non-negative integer (true/false are not counts, though Python says bool is int)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _lookup(table: dict, key: object) -> Any:
    return table.get(key) if isinstance(key, int | str) and not isinstance(key, bool) else None


def _floats(source: Path, value: Any, count: int, where: str) -> np.ndarray:
    if not isinstance(value, list) or len(value) != count:
        raise ConversionError(source, f"glTF {where}: expected {count} numbers")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConversionError(source, f"glTF {where}: expected {count} numbers") from exc
    if not np.isfinite(array).all():
        raise ConversionError(source, f"glTF {where}: non-finite number")
    return array


def _normalise(array: np.ndarray) -> np.ndarray:
    """Normalised integer attribute -> float per the glTF spec (signed: max(c / MAX, -1))."""
    info = np.iinfo(array.dtype)
    out = array.astype(np.float32) / float(info.max)
    return np.maximum(out, -1.0) if info.min < 0 else out
