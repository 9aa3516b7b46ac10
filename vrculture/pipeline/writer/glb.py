"""Pack a `Model` into one GLB: quantised, meshopt-compressed streams, images, metadata.

With `compress` (the default) every mesh is written as gltfpack does:
- POSITION: UNSIGNED_SHORT integers (KHR_mesh_quantization) on a per-node grid of 14 bits
  from the node's low corner (as gltfpack's default: 30 um steps on a 50 cm bust; 16 bits
  cost 15 % more bytes for detail no screen shows); a child node carries the dequantisation
  (uniform scale = the step, translation = the corner, so normals are not skewed). The named
  node keeps its own name and transform; its mesh hangs on the child `<name>_geometry`.
- NORMAL: BYTE normalised, EXT_meshopt_compression OCTAHEDRAL filter.
- TEXCOORD_0, textured materials: 12-bit integers on the material's UV bounds, stored as
  UNSIGNED_SHORT normalised with KHR_texture_transform (offset, scale) on each of the
  material's textures to map them back, as gltfpack does (half a texel at most on a 4096 px
  texture). Tried first: 16-bit values rounded to multiples of 16 (no transform needed):
  the vertex codec's byte deltas do not profit from zero low bits (mask: 170 KB of UVs
  against 137 KB).
- TEXCOORD_0 on materials without textures: UNSIGNED_SHORT normalised when within 0..1, else
  FLOAT with the EXPONENTIAL filter and a step of 1/4096 of their range.
- COLOR_0: UNSIGNED_BYTE normalised RGBA, as gltfpack. glTF colours are linear, so 8 bits
  merge the darkest sRGB levels; `color_bits=16` keeps them at 2.3x the colour stream's size
  (laurana: 59 KB -> 138 KB).
- indices: TRIANGLES mode of the index codec; vertex streams in ATTRIBUTES mode.
- JSON: no values equal to the specification's defaults, no mesh names (three.js names the
  object after its node), floats to 9 significant digits.
Each compressed bufferView points into a fallback buffer that has no data (the extension is
required), as the extension specifies. Without `compress` it is a plain float GLB.

Approaches: pygltflib objects were tried first (0.05 s of pure overhead per file and awkward
extension handling); a dict plus one bytes join is simpler and faster. Packing nefertiti (100k
triangles) takes 0.04 s, of which the meshopt encoders are 0.03 s.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from vrculture.pipeline.columns import column_max, column_min, take_rows
from vrculture.pipeline.model import Material, Model, Primitive, Texture
from vrculture.pipeline.textures import EncodedImage
from vrculture.pipeline.writer.filters import encode_exponential, encode_octahedral
from vrculture.pipeline.writer.xmp import xmp_packet

FLOAT, BYTE, UBYTE, SHORT, USHORT, UINT = 5126, 5120, 5121, 5122, 5123, 5125
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
MESHOPT = "EXT_meshopt_compression"
QUANTIZATION = "KHR_mesh_quantization"
IMAGE_EXTENSION = {"webp": "EXT_texture_webp", "ktx2": "KHR_texture_basisu"}


@dataclass(frozen=True)
class WriterOptions:
    compress: bool = True  # KHR_mesh_quantization + EXT_meshopt_compression
    position_bits: int = 14  # 2..16, stored as UNSIGNED_SHORT integers
    normal_bits: int = 8  # octahedral, 2..8
    color_bits: int = 8  # 8 (UNSIGNED_BYTE) or 16 (UNSIGNED_SHORT)
    uv_bits: int = 12  # 8..16


@dataclass
class GlbResult:
    data: bytes
    extensions_used: list[str]
    extensions_required: list[str]
    quantization: dict[str, dict] = field(default_factory=dict)  # node name -> grid (tests)


class _Packer:
    """Collects bufferViews, accessors and the binary chunk."""

    def __init__(self, compress: bool) -> None:
        self.compress = compress
        self.chunks: list[bytes] = []
        self.length = 0
        self.fallback_length = 0
        self.views: list[dict] = []
        self.accessors: list[dict] = []

    def _append(self, data: bytes) -> int:
        offset = self.length
        self.chunks.append(data)
        self.length += len(data)
        pad = (-self.length) % 4
        if pad:
            self.chunks.append(b"\0" * pad)
            self.length += pad
        return offset

    def raw_view(self, data: bytes, **extra: object) -> int:
        offset = self._append(data)
        self.views.append({"buffer": 0, "byteOffset": offset, "byteLength": len(data), **extra})
        return len(self.views) - 1

    def stream(self, array: np.ndarray, *, indices: bool, filter_name: str | None = None) -> int:
        """A bufferView for one vertex or index stream, meshopt-compressed when enabled."""
        array = np.ascontiguousarray(array)
        count = array.shape[0]
        stride = array.nbytes // count if count else array.itemsize
        target = ELEMENT_ARRAY_BUFFER if indices else ARRAY_BUFFER
        view: dict[str, object] = {"target": target}
        if not indices:
            view["byteStride"] = stride
        if not self.compress:
            return self.raw_view(array.tobytes(), **view)
        import meshoptimizer

        if indices:
            flat = array.reshape(-1).astype(np.uint32)
            encoded = meshoptimizer.encode_index_buffer(flat, len(flat), int(flat.max()) + 1)
            mode, count, stride = "TRIANGLES", len(flat), array.itemsize
        else:
            meshoptimizer.encode_vertex_version(0)  # EXT_meshopt_compression is version 0
            encoded = meshoptimizer.encode_vertex_buffer(
                array.view(np.uint8).reshape(count, stride), count, stride
            )
            mode = "ATTRIBUTES"
        offset = self._append(encoded)
        ext: dict[str, object] = {
            "buffer": 0, "byteOffset": offset, "byteLength": len(encoded),
            "byteStride": stride, "count": count, "mode": mode,
        }
        if filter_name:
            ext["filter"] = filter_name
        fallback_offset = self.fallback_length
        self.fallback_length += array.nbytes + (-array.nbytes) % 4
        self.views.append({
            "buffer": 1, "byteOffset": fallback_offset, "byteLength": array.nbytes,
            **view, "extensions": {MESHOPT: ext},
        })
        return len(self.views) - 1

    def accessor(self, view: int, component: int, kind: str, count: int, **extra: object) -> int:
        self.accessors.append({
            "bufferView": view, "componentType": component, "type": kind, "count": count,
            **extra,
        })
        return len(self.accessors) - 1

    def binary(self) -> bytes:
        return b"".join(self.chunks)


def _grid(prims: list[Primitive]) -> tuple[np.ndarray, float]:
    """Low corner and uniform extent of a node's geometry (the dequantisation transform)."""
    lo = np.min([column_min(p.positions) for p in prims], axis=0).astype(np.float64)
    hi = np.max([column_max(p.positions) for p in prims], axis=0).astype(np.float64)
    extent = float(np.max(hi - lo))
    return lo, extent if extent > 0 else 1.0


def quantize_positions(positions: np.ndarray, lo: np.ndarray, step: float,
                       bits: int) -> np.ndarray:
    """(N, 3) metres -> (N, 4) uint16 grid coordinates 0 .. 2^bits - 1 from `lo` (w = 0 pads
    to 8 bytes), as gltfpack stores them.

    Tried: a grid centred on the object stored as signed values (+-(2^(bits-1) - 1)), and
    adding 64..192 steps to every value (which moves where low bytes carry): all within
    +-0.2 % of this on corpus scans, none better on every mesh; the best of eight per mesh
    saved 0.016 % for eight encodings.
    """
    if not 2 <= bits <= 16:
        raise ValueError("position bits must be 2..16")
    q = np.zeros((len(positions), 4), dtype=np.uint16)
    q[:, :3] = np.clip(np.round((positions - lo) / step), 0, (1 << bits) - 1)
    return q


def quantize_uvs(uvs: np.ndarray, bits: int) -> np.ndarray:
    """0..1 UVs -> UNSIGNED_SHORT normalised values that are multiples of 2^(16 - bits)."""
    if not 8 <= bits <= 16:
        raise ValueError("UV bits must be 8..16")
    step = float(1 << (16 - bits))
    q = np.round(np.asarray(uvs, dtype=np.float64) * (65535.0 / step)) * step
    return np.clip(q, 0, 65535).astype(np.uint16)


@dataclass(frozen=True)
class StoredStream:
    """One vertex attribute as the compressed GLB stores it (before the vertex codec)."""

    name: str
    data: np.ndarray  # (N, k) as written
    component: int
    kind: str
    normalized: bool = False
    filter_name: str | None = None


def stored_streams(prim: Primitive, stored: np.ndarray, options: WriterOptions,
                   uv_grid: tuple[np.ndarray, np.ndarray] | None) -> list[StoredStream]:
    """The compressed GLB's vertex streams of `prim`, `stored` being its quantised positions.

    One function for the writer and for whoever measures what an order or a weld costs
    (transforms/optimize.py's choice of triangle order), so both see the same bytes.
    """
    streams = [StoredStream("POSITION", stored, USHORT, "VEC3")]
    if prim.normals is not None:
        streams.append(StoredStream("NORMAL", encode_octahedral(prim.normals, options.normal_bits),
                                    BYTE, "VEC3", True, "OCTAHEDRAL"))
    if prim.uvs is not None:
        uvs = np.asarray(prim.uvs, dtype=np.float64)
        if uv_grid is not None:
            offset, extent = uv_grid
            top = (1 << options.uv_bits) - 1
            q = np.clip(np.round((uvs - offset) / extent * top), 0, top).astype(np.uint16)
            streams.append(StoredStream("TEXCOORD_0", q, USHORT, "VEC2", True))
        elif uvs.size == 0 or (uvs.min() >= 0.0 and uvs.max() <= 1.0):
            streams.append(StoredStream("TEXCOORD_0", quantize_uvs(uvs, options.uv_bits),
                                        USHORT, "VEC2", True))
        else:
            span = float(np.max(column_max(uvs) - column_min(uvs)))
            finest = int(np.floor(np.log2(span))) - options.uv_bits if span > 0 else -14
            streams.append(StoredStream("TEXCOORD_0", encode_exponential(uvs, min_exponent=finest),
                                        FLOAT, "VEC2", False, "EXPONENTIAL"))
    if prim.colors is not None:
        colors = np.clip(np.asarray(prim.colors, dtype=np.float64), 0.0, 1.0)
        if options.color_bits == 16:
            streams.append(StoredStream("COLOR_0", np.round(colors * 65535.0).astype(np.uint16),
                                        USHORT, "VEC4", True))
        else:
            streams.append(StoredStream("COLOR_0", np.round(colors * 255.0).astype(np.uint8),
                                        UBYTE, "VEC4", True))
    return streams


def _encoded_vertex_bytes(array: np.ndarray) -> int:
    import meshoptimizer

    array = np.ascontiguousarray(array)
    count = array.shape[0]
    if count == 0:
        return 0
    stride = array.nbytes // count
    meshoptimizer.encode_vertex_version(0)  # EXT_meshopt_compression is version 0
    return len(meshoptimizer.encode_vertex_buffer(array.view(np.uint8).reshape(count, stride),
                                                  count, stride))


def _encoded_index_bytes(indices: np.ndarray, vertex_count: int) -> int:
    import meshoptimizer

    flat = np.ascontiguousarray(indices.reshape(-1), dtype=np.uint32)
    if len(flat) == 0:
        return 0
    return len(meshoptimizer.encode_index_buffer(flat, len(flat), vertex_count))


def position_grids(model: Model, options: WriterOptions = WriterOptions()
                   ) -> dict[int, tuple[np.ndarray, float]]:
    """Node index -> (low corner, step) of the grid its positions are stored on."""
    grids: dict[int, tuple[np.ndarray, float]] = {}
    for index, node in enumerate(model.nodes):
        prims = [p for p in node.primitives if p.triangle_count > 0]
        if prims:
            lo, extent = _grid(prims)
            grids[index] = (lo, extent / ((1 << options.position_bits) - 1))
    return grids


def uv_grids(model: Model, options: WriterOptions = WriterOptions()
             ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Material index -> (offset, extent) its textured UVs are stored on."""
    return _uv_grids(model, options.uv_bits)


def compressed_size_scorer(model: Model, options: WriterOptions = WriterOptions()
                           ) -> Callable[[int, Primitive], Callable[[np.ndarray, np.ndarray], int]]:
    """(node index, primitive) -> cost(vertex order, indices): the bytes its compressed streams
    take with its vertices in `order` (rows of the primitive) and `indices` into that order, on
    the grids the writer will use for `model` (a reordering does not move them). The streams
    are quantised once per primitive; each order tried only gathers and encodes them."""
    uv_grids = _uv_grids(model, options.uv_bits)
    grids = position_grids(model, options)

    def for_primitive(node_index: int, prim: Primitive) -> Callable[[np.ndarray, np.ndarray], int]:
        lo, step = grids[node_index]
        stored = quantize_positions(prim.positions, lo, step, options.position_bits)
        arrays = [s.data for s in stored_streams(prim, stored, options,
                                                   uv_grids.get(prim.material))]

        def cost(order: np.ndarray, indices: np.ndarray) -> int:
            return (sum(_encoded_vertex_bytes(take_rows(a, order)) for a in arrays)
                    + _encoded_index_bytes(indices, len(order)))

        return cost

    return for_primitive


def _primitive(packer: _Packer, prim: Primitive, stored: np.ndarray | None,
               options: WriterOptions, uv_grid: tuple[np.ndarray, np.ndarray] | None,
               has_material: bool) -> dict:
    n = prim.vertex_count
    attributes: dict[str, int] = {}
    if packer.compress:
        assert stored is not None
        for stream in stored_streams(prim, stored, options, uv_grid):
            view = packer.stream(stream.data, indices=False, filter_name=stream.filter_name)
            extra: dict[str, object] = {}
            if stream.name == "POSITION":  # required; the integers as stored
                extra = {"min": column_min(stored[:, :3]).tolist(),
                         "max": column_max(stored[:, :3]).tolist()}
            if stream.normalized:
                extra["normalized"] = True
            attributes[stream.name] = packer.accessor(view, stream.component, stream.kind, n,
                                                      **extra)
    else:
        pos = np.ascontiguousarray(prim.positions, dtype=np.float32)
        attributes["POSITION"] = packer.accessor(
            packer.stream(pos, indices=False), FLOAT, "VEC3", n,
            min=column_min(pos).tolist(), max=column_max(pos).tolist(),
        )
        if prim.normals is not None:
            view = packer.stream(prim.normals.astype(np.float32), indices=False)
            attributes["NORMAL"] = packer.accessor(view, FLOAT, "VEC3", n)
        if prim.uvs is not None:
            view = packer.stream(np.asarray(prim.uvs, dtype=np.float32), indices=False)
            attributes["TEXCOORD_0"] = packer.accessor(view, FLOAT, "VEC2", n)
        if prim.colors is not None:
            colors = np.clip(np.asarray(prim.colors, dtype=np.float64), 0.0, 1.0)
            view = packer.stream(colors.astype(np.float32), indices=False)
            attributes["COLOR_0"] = packer.accessor(view, FLOAT, "VEC4", n)
    index_type = np.uint16 if n <= 65535 else np.uint32
    indices = np.ascontiguousarray(prim.indices, dtype=index_type).reshape(-1)
    view = packer.stream(indices, indices=True)
    index_accessor = packer.accessor(
        view, USHORT if index_type is np.uint16 else UINT, "SCALAR", len(indices)
    )
    out: dict[str, object] = {"attributes": attributes, "indices": index_accessor}  # TRIANGLES
    if has_material:
        out["material"] = prim.material
    return out


def _uv_grids(model: Model, bits: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Material index -> (offset, extent) of the UVs of its primitives, for textured ones."""
    grids: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for index, material in enumerate(model.materials):
        if not material.textures():
            continue
        uvs = [p.uvs for p in model.primitives()
               if p.material == index and p.uvs is not None and p.vertex_count]
        if not uvs:
            continue
        lo = np.min([column_min(u) for u in uvs], axis=0).astype(np.float64)
        hi = np.max([column_max(u) for u in uvs], axis=0).astype(np.float64)
        extent = np.where(hi > lo, hi - lo, 1.0)
        grids[index] = (lo, extent)
    return grids


def _texture_transform(grid: tuple[np.ndarray, np.ndarray], bits: int) -> dict:
    offset, extent = grid
    top = float((1 << bits) - 1)
    transform: dict[str, list[float]] = {"scale": [float(v) for v in extent * 65535.0 / top]}
    if offset.any():  # [0, 0] is the default
        transform["offset"] = [float(v) for v in offset]
    return transform


def _material(material: Material, texture_ids: Mapping[int, int],
              transform: dict | None = None) -> dict:
    # Values equal to the specification's defaults are left out (bytes a small level pays).
    pbr: dict[str, object] = {}
    if tuple(material.base_color_factor) != (1.0, 1.0, 1.0, 1.0):
        pbr["baseColorFactor"] = list(material.base_color_factor)
    if material.metallic_factor != 1.0:
        pbr["metallicFactor"] = material.metallic_factor
    if material.roughness_factor != 1.0:
        pbr["roughnessFactor"] = material.roughness_factor

    def info(texture: Texture) -> dict:
        entry: dict[str, object] = {"index": texture_ids[id(texture)]}
        if transform is not None:
            entry["extensions"] = {"KHR_texture_transform": transform}
        return entry

    if material.base_color_texture is not None:
        pbr["baseColorTexture"] = info(material.base_color_texture)
    if material.metallic_roughness_texture is not None:
        pbr["metallicRoughnessTexture"] = info(material.metallic_roughness_texture)
    out: dict[str, object] = {"name": material.name, "pbrMetallicRoughness": pbr}
    for key, tex in (("normalTexture", material.normal_texture),
                     ("occlusionTexture", material.occlusion_texture),
                     ("emissiveTexture", material.emissive_texture)):
        if tex is not None:
            out[key] = info(tex)
    if any(material.emissive_factor):
        out["emissiveFactor"] = list(material.emissive_factor)
    if material.alpha_mode != "OPAQUE":
        out["alphaMode"] = material.alpha_mode
        if material.alpha_mode == "MASK" and material.alpha_cutoff != 0.5:
            out["alphaCutoff"] = material.alpha_cutoff
    if material.double_sided:
        out["doubleSided"] = True
    if material.unlit:
        out["extensions"] = {"KHR_materials_unlit": {}}
    return out


def _node_transform(node) -> dict:
    out: dict[str, object] = {}
    if tuple(node.translation) != (0.0, 0.0, 0.0):
        out["translation"] = [float(v) for v in node.translation]
    if tuple(node.rotation) != (0.0, 0.0, 0.0, 1.0):
        out["rotation"] = [float(v) for v in node.rotation]
    if tuple(node.scale) != (1.0, 1.0, 1.0):
        out["scale"] = [float(v) for v in node.scale]
    return out


def write_glb(
    model: Model,
    images: Mapping[int, EncodedImage],
    options: WriterOptions = WriterOptions(),
    *,
    generator: str = "vrculture",
) -> GlbResult:
    """Serialise `model`; `images` maps id(Texture) to its encoded image for this level."""
    packer = _Packer(options.compress)
    used: set[str] = set()
    required: set[str] = set()
    if options.compress:
        used |= {MESHOPT, QUANTIZATION}
        required |= {MESHOPT, QUANTIZATION}

    # Textures: one image and one texture per distinct Texture object.
    textures: list[dict] = []
    gltf_images: list[dict] = []
    texture_ids: dict[int, int] = {}
    unique: list[Texture] = []
    for material in model.materials:
        for tex in material.textures():
            if id(tex) not in texture_ids:
                texture_ids[id(tex)] = len(unique)
                unique.append(tex)
    for tex in unique:
        encoded = images[id(tex)]
        view = packer.raw_view(encoded.data)
        gltf_images.append({"bufferView": view, "mimeType": encoded.mime})
        entry: dict[str, object] = {"sampler": 0}
        image_index = len(gltf_images) - 1
        extension = IMAGE_EXTENSION.get(encoded.format)
        if extension:
            entry["extensions"] = {extension: {"source": image_index}}
            used.add(extension)
            required.add(extension)
        else:
            entry["source"] = image_index
        # No texture name: nothing reads it (gltfpack drops it too).
        textures.append(entry)

    uv_grids = _uv_grids(model, options.uv_bits) if options.compress else {}
    materials = [
        _material(m, texture_ids,
                  _texture_transform(uv_grids[i], options.uv_bits) if i in uv_grids else None)
        for i, m in enumerate(model.materials)
    ]
    if uv_grids:
        used.add("KHR_texture_transform")
        required.add("KHR_texture_transform")  # without it the textures would be misplaced
    if any(m.unlit for m in model.materials):
        used.add("KHR_materials_unlit")

    nodes: list[dict] = []
    meshes: list[dict] = []
    extra_nodes: list[dict] = []
    quantization: dict[str, dict] = {}
    count = len(model.nodes)
    for node in model.nodes:
        entry = {"name": node.name, **_node_transform(node)}
        children = list(node.children)
        prims = [p for p in node.primitives if p.triangle_count > 0]
        if prims:
            stored: list[np.ndarray | None] = [None] * len(prims)
            if options.compress:
                lo, extent = _grid(prims)
                bits = options.position_bits
                step = extent / ((1 << bits) - 1)
                stored = [quantize_positions(p.positions, lo, step, bits) for p in prims]
            # No mesh name: three.js names the object after its node.
            meshes.append({"primitives": [
                _primitive(packer, p, q, options, uv_grids.get(p.material),
                           p.material < len(model.materials))
                for p, q in zip(prims, stored, strict=True)]})
            if options.compress:
                origin = lo
                # The dequantisation lives on a child so the named node's own transform stays
                # free for the viewer to animate. Integers times the step (not normalised
                # values: the same grid, and no "normalized" in the JSON).
                extra_nodes.append({
                    "name": f"{node.name}_geometry", "mesh": len(meshes) - 1,
                    "translation": origin.tolist(), "scale": [step, step, step],
                })
                children.append(count + len(extra_nodes) - 1)
                quantization[node.name] = {"origin": origin.tolist(), "step": step}
            else:
                entry["mesh"] = len(meshes) - 1
        if node.extras:
            entry["extras"] = node.extras
        if children:
            entry["children"] = children
        nodes.append(entry)
    nodes += extra_nodes

    asset: dict[str, object] = {"version": "2.0", "generator": generator}
    gltf: dict[str, object] = {"asset": asset}
    packet = xmp_packet(model.metadata)
    if packet is not None:
        used.add("KHR_xmp_json_ld")
        gltf["extensions"] = {"KHR_xmp_json_ld": {"packets": [packet]}}
        asset["extensions"] = {"KHR_xmp_json_ld": {"packet": 0}}
    gltf["scene"] = 0
    gltf["scenes"] = [{"nodes": list(model.roots)}]
    gltf["nodes"] = nodes
    if meshes:
        gltf["meshes"] = meshes
    if materials:
        gltf["materials"] = materials
    if textures:
        gltf["textures"] = textures
        gltf["images"] = gltf_images
        gltf["samplers"] = [{"magFilter": 9729, "minFilter": 9987}]  # wrap: REPEAT, the default
    if packer.accessors:
        gltf["accessors"] = packer.accessors
    binary = packer.binary()
    buffers: list[dict] = []
    if binary:
        buffers.append({"byteLength": len(binary)})
    if packer.fallback_length:
        buffers.append({"byteLength": packer.fallback_length,
                        "extensions": {MESHOPT: {"fallback": True}}})
    if not any(v.get("extensions") for v in packer.views):
        used.discard(MESHOPT)
        required.discard(MESHOPT)
    if not meshes:
        used.discard(QUANTIZATION)
        required.discard(QUANTIZATION)
    if packer.views:
        gltf["bufferViews"] = packer.views
    if buffers:
        gltf["buffers"] = buffers
    if used:
        gltf["extensionsUsed"] = sorted(used)
    if required:
        gltf["extensionsRequired"] = sorted(required)
    return GlbResult(_glb(gltf, binary), sorted(used), sorted(required), quantization)


def _short_floats(value: object) -> object:
    """Floats as JSON writes them shortest: whole numbers as integers, others to 9 significant
    digits (a float32's precision, all a viewer keeps): a dequantisation scale is "0.989300586"
    instead of "0.9893005855127709". Accessors are left alone (their float bounds must match the
    data to the bit)."""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        return float(f"{value:.9g}")
    if isinstance(value, list):
        return [_short_floats(v) for v in value]
    if isinstance(value, dict):
        return {k: v if k == "accessors" else _short_floats(v) for k, v in value.items()}
    return value


def _glb(gltf: dict, binary: bytes) -> bytes:
    text = json.dumps(_short_floats(gltf), separators=(",", ":"),
                      allow_nan=False).encode("utf-8")
    text += b" " * ((-len(text)) % 4)
    parts = [struct.pack("<II", len(text), 0x4E4F534A), text]
    if binary:
        binary += b"\0" * ((-len(binary)) % 4)
        parts += [struct.pack("<II", len(binary), 0x004E4942), binary]
    body = b"".join(parts)
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body
