"""Small models for the converter's tests, and a GLB reader to look inside what we wrote."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

from vrculture.pipeline.model import Material, Model, Node, Primitive, Texture


def primitive_from_trimesh(mesh: trimesh.Trimesh, **extra) -> Primitive:
    return Primitive(
        positions=np.asarray(mesh.vertices, dtype=np.float32),
        indices=np.asarray(mesh.faces, dtype=np.uint32),
        **extra,
    )


def single_node_model(prim: Primitive, name: str = "object", **material) -> Model:
    return Model(nodes=[Node(name, [prim])], materials=[Material(**material)], roots=[0])


def textured_sphere(size_px: int = 256, alpha: bool = False) -> Model:
    """A UV sphere with a seam, per-vertex colours and a gradient texture."""
    sphere = trimesh.creation.uv_sphere(radius=0.5, count=[24, 24])
    v = np.asarray(sphere.vertices, dtype=np.float32)
    uv = np.column_stack([
        (np.arctan2(v[:, 2], v[:, 0]) / (2 * np.pi)) % 1.0,
        np.arccos(np.clip(v[:, 1] / 0.5, -1, 1)) / np.pi,
    ]).astype(np.float32)
    colors = np.column_stack([(v + 0.5).clip(0, 1), np.ones(len(v))]).astype(np.float32)
    prim = primitive_from_trimesh(sphere, uvs=uv, colors=colors)
    gradient = np.zeros((size_px, size_px, 4 if alpha else 3), dtype=np.uint8)
    gradient[..., 0] = np.linspace(0, 255, size_px)[None, :]
    gradient[..., 1] = np.linspace(0, 255, size_px)[:, None]
    if alpha:
        gradient[..., 3] = 128
    image = Image.fromarray(gradient, "RGBA" if alpha else "RGB")
    return single_node_model(prim, name="sphere", base_color_texture=Texture(image, "grad"))


def read_glb(path: Path | bytes) -> tuple[dict, bytes]:
    """(JSON, BIN chunk) of a GLB file, checking its framing."""
    data = path if isinstance(path, bytes) else Path(path).read_bytes()
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    assert magic == b"glTF" and version == 2 and length == len(data)
    json_len, json_type = struct.unpack_from("<II", data, 12)
    assert json_type == 0x4E4F534A
    gltf = json.loads(data[20:20 + json_len])
    binary = b""
    offset = 20 + json_len
    if offset < len(data):
        bin_len, bin_type = struct.unpack_from("<II", data, offset)
        assert bin_type == 0x004E4942
        binary = data[offset + 8: offset + 8 + bin_len]
    return gltf, binary


def decode_view(gltf: dict, binary: bytes, view_index: int) -> bytes:
    """The decoded bytes of a bufferView, through meshoptimizer's own decoders."""
    import meshoptimizer

    from vrculture.pipeline.meshopt_ffi import decode_filter

    view = gltf["bufferViews"][view_index]
    ext = view.get("extensions", {}).get("EXT_meshopt_compression")
    if ext is None:
        start = view.get("byteOffset", 0)
        return binary[start:start + view["byteLength"]]
    data = binary[ext["byteOffset"]: ext["byteOffset"] + ext["byteLength"]]
    if ext["mode"] == "TRIANGLES":
        decoded = meshoptimizer.decode_index_buffer(ext["count"], ext["byteStride"], data)
        # The wrapper decodes into a uint32 array whatever the index size: take the bytes.
        return decoded.tobytes()[: ext["count"] * ext["byteStride"]]
    raw = meshoptimizer.decode_vertex_buffer(ext["count"], ext["byteStride"], data,
                                             dtype=np.dtype((np.uint8, ext["byteStride"])))
    if ext.get("filter") in ("OCTAHEDRAL", "EXPONENTIAL"):
        raw = decode_filter(ext["filter"], raw, ext["byteStride"])
    return raw.tobytes()


def accessor_array(gltf: dict, binary: bytes, index: int) -> np.ndarray:
    """An accessor's values as stored (integers stay integers), shape (count, components)."""
    accessor = gltf["accessors"][index]
    dtype = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32,
             5126: np.float32}[accessor["componentType"]]
    width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}[accessor["type"]]
    view = gltf["bufferViews"][accessor["bufferView"]]
    raw = decode_view(gltf, binary, accessor["bufferView"])
    item = np.dtype(dtype).itemsize
    stride = view.get("byteStride", item * width)
    count = accessor["count"]
    rows = np.frombuffer(raw, dtype=np.uint8)[: stride * count].reshape(count, stride)
    return rows[:, : item * width].copy().view(dtype).reshape(count, width)


def canonical_triangles(indices: np.ndarray) -> np.ndarray:
    """Triangles rotated to start at their smallest index (the index codec may rotate them;
    winding is kept), for comparing triangle lists."""
    tri = np.asarray(indices, dtype=np.int64).reshape(-1, 3)
    shift = np.argmin(tri, axis=1)
    rows = np.arange(len(tri))[:, None]
    return tri[rows, (shift[:, None] + np.arange(3)[None, :]) % 3]
