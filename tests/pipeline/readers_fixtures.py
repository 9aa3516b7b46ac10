"""Small source files built in code for the reader tests (no corpus files copied into the repo)."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from pathlib import Path

import meshoptimizer
import numpy as np
from PIL import Image

TRIANGLE = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=np.float32)
QUAD = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], dtype=np.float32)


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def obj_text(faces: str = "f 1 2 3\nf 1 3 4\n", vertices: np.ndarray = QUAD) -> str:
    lines = [f"v {x} {y} {z}" for x, y, z in vertices]
    return "\n".join(lines) + "\n" + faces


def ply_binary(
    vertices: np.ndarray = QUAD,
    faces: np.ndarray | None = None,
    *,
    declared_vertices: int | None = None,
    declared_faces: int | None = None,
    colors: np.ndarray | None = None,
) -> bytes:
    faces = np.array([[0, 1, 2], [0, 2, 3]]) if faces is None else faces
    nv = len(vertices) if declared_vertices is None else declared_vertices
    nf = len(faces) if declared_faces is None else declared_faces
    header = ["ply", "format binary_little_endian 1.0", f"element vertex {nv}"]
    header += ["property float x", "property float y", "property float z"]
    if colors is not None:
        header += ["property uchar red", "property uchar green", "property uchar blue"]
    header += [f"element face {nf}", "property list uchar int vertex_indices", "end_header"]
    body = bytearray()
    for i, v in enumerate(vertices):
        body += struct.pack("<3f", *v)
        if colors is not None:
            body += struct.pack("<3B", *colors[i])
    for f in faces:
        body += struct.pack("<B", len(f)) + struct.pack(f"<{len(f)}i", *f)
    return ("\n".join(header) + "\n").encode() + bytes(body)


def ply_ascii(vertices: np.ndarray = QUAD, faces: str = "3 0 1 2\n3 0 2 3\n") -> bytes:
    face_count = len(faces.strip().splitlines())
    header = (
        f"ply\nformat ascii 1.0\nelement vertex {len(vertices)}\n"
        "property float x\nproperty float y\nproperty float z\n"
        f"element face {face_count}\nproperty list uchar int vertex_indices\nend_header\n"
    )
    body = "".join(f"{x} {y} {z}\n" for x, y, z in vertices)
    return (header + body + faces).encode()


def stl_binary(triangles: np.ndarray, *, declared: int | None = None, header: bytes = b"") -> bytes:
    count = len(triangles) if declared is None else declared
    out = bytearray(header.ljust(80, b" ")[:80]) + struct.pack("<I", count)
    for tri in triangles:
        out += struct.pack("<3f", 0, 0, 0) + tri.astype("<f4").tobytes() + b"\x00\x00"
    return bytes(out)


def stl_ascii(triangles: np.ndarray) -> bytes:
    lines = ["solid test"]
    for tri in triangles:
        lines += ["facet normal 0 0 1", "outer loop"]
        lines += [f"vertex {x} {y} {z}" for x, y, z in tri]
        lines += ["endloop", "endfacet"]
    lines.append("endsolid test")
    return ("\n".join(lines) + "\n").encode()


def gltf_document(
    positions: np.ndarray = TRIANGLE,
    indices: np.ndarray | None = None,
    *,
    buffer_uri: str | None = None,
) -> tuple[dict, bytes]:
    """A one-triangle glTF document and its binary buffer (indices as uint16)."""
    indices = np.arange(len(positions), dtype=np.uint16) if indices is None else indices
    pos = positions.astype("<f4").tobytes()
    idx = indices.astype("<u2").tobytes()
    idx += b"\x00" * (-len(idx) % 4)
    data = pos + idx
    doc: dict = {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": "thing"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "accessors": [
            {
                "bufferView": 0, "componentType": 5126, "count": len(positions), "type": "VEC3",
                "min": positions.min(0).tolist(), "max": positions.max(0).tolist(),
            },
            {"bufferView": 1, "componentType": 5123, "count": len(indices), "type": "SCALAR"},
        ],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": len(pos)},
            {"buffer": 0, "byteOffset": len(pos), "byteLength": len(indices) * 2},
        ],
        "buffers": [{"byteLength": len(data)}],
    }  # fmt: skip
    if buffer_uri is not None:
        doc["buffers"][0]["uri"] = buffer_uri
    return doc, data


def data_uri(data: bytes, mime: str = "application/octet-stream") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def glb(doc: dict, data: bytes | None) -> bytes:
    js = json.dumps(doc).encode()
    js += b" " * (-len(js) % 4)
    out = struct.pack("<II", len(js), 0x4E4F534A) + js
    if data is not None:
        data = data + b"\x00" * (-len(data) % 4)
        out += struct.pack("<II", len(data), 0x004E4942) + data
    return struct.pack("<4sII", b"glTF", 2, 12 + len(out)) + out


def png_bytes(image: Image.Image, **save: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", **save)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but holds one tiny compressed row: a bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )  # fmt: skip

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )  # fmt: skip


def icc_rgb_profile(
    description: str,
    red: tuple[float, float, float],
    green: tuple[float, float, float],
    blue: tuple[float, float, float],
    gamma: float = 2.2,
) -> bytes:
    """A minimal ICC v2 matrix/TRC display profile (D50 PCS) with the given primaries."""

    def s15(v: float) -> bytes:
        return struct.pack(">i", int(round(v * 65536)))

    def xyz(v: tuple[float, float, float]) -> bytes:
        return b"XYZ \x00\x00\x00\x00" + b"".join(s15(c) for c in v)

    def curve(g: float) -> bytes:
        return b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, int(round(g * 256))) + b"\x00\x00"

    text = description.encode("ascii") + b"\x00"
    desc = (
        b"desc\x00\x00\x00\x00" + struct.pack(">I", len(text)) + text
        + struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + b"\x00" * 67
    )  # fmt: skip
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz((0.9642, 1.0, 0.8249))),
        (b"rXYZ", xyz(red)),
        (b"gXYZ", xyz(green)),
        (b"bXYZ", xyz(blue)),
        (b"rTRC", curve(gamma)),
        (b"gTRC", curve(gamma)),
        (b"bTRC", curve(gamma)),
        (b"cprt", b"text\x00\x00\x00\x00no copyright, test profile\x00"),
    ]
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    table = struct.pack(">I", len(tags))
    blobs = b""
    for sig, body in tags:
        body += b"\x00" * (-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(blobs), len(body))
        blobs += body
    size = 128 + table_size + len(blobs)
    header = (
        struct.pack(">I", size) + b"\x00\x00\x00\x00" + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ " + b"\x00" * 12 + b"acsp" + b"\x00" * 4 + b"\x00" * 4
        + b"\x00" * 8 + b"\x00" * 8 + b"\x00" * 4
        + s15(0.9642) + s15(1.0) + s15(0.8249) + b"\x00" * 4 + b"\x00" * 16 + b"\x00" * 28
    )  # fmt: skip
    assert len(header) == 128
    return header + table + blobs


def icc_gray_profile(description: str, gamma: float) -> bytes:
    """A minimal ICC v2 grey display profile (a single tone curve), as scanners embed."""
    rgb = icc_rgb_profile(description, (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971),
                          (0.1431, 0.0606, 0.7141), gamma)  # fmt: skip
    # Rebuild with the grey colour space and only desc / wtpt / kTRC (reusing the RGB tags' bytes).
    count = struct.unpack(">I", rgb[128:132])[0]
    tags = {}
    for i in range(count):
        sig, offset, size = struct.unpack(">4sII", rgb[132 + 12 * i : 144 + 12 * i])
        tags[sig] = rgb[offset : offset + size]
    chosen = [(b"desc", tags[b"desc"]), (b"wtpt", tags[b"wtpt"]), (b"kTRC", tags[b"rTRC"])]
    offset = 128 + 4 + 12 * len(chosen)
    table, blobs = struct.pack(">I", len(chosen)), b""
    for sig, body in chosen:
        table += sig + struct.pack(">II", offset + len(blobs), len(body))
        blobs += body
    header = bytearray(rgb[:128])
    struct.pack_into(">I", header, 0, 128 + len(table) + len(blobs))
    header[16:20] = b"GRAY"
    return bytes(header) + table + blobs


# Adobe RGB (1998) primaries adapted to D50, as in Adobe's published profile.
ADOBE_RGB = (
    (0.60974, 0.31111, 0.01947),
    (0.20528, 0.62567, 0.06087),
    (0.14919, 0.06322, 0.74457),
)
# sRGB's primaries (D50) with red and green swapped: a profile whose colour shift is unmistakable.
SWAPPED_RED_GREEN = (
    (0.38515, 0.71687, 0.09708),
    (0.43607, 0.22249, 0.01392),
    (0.14307, 0.06061, 0.71410),
)


def meshopt_glb(*, stride: int = 12, mode: str = "ATTRIBUTES", garbage: bool = False) -> bytes:
    """A one-quad GLB whose views are EXT_meshopt_compression streams made by meshoptimizer."""
    indices = np.array([0, 1, 2, 0, 2, 3], dtype=np.uint32)
    vertices = meshoptimizer.encode_vertex_buffer(QUAD.astype(np.float32), 4, 12)
    triangles = meshoptimizer.encode_index_buffer(indices, 6, 4)
    if garbage:
        vertices = bytes(len(vertices))
    blob = vertices + b"\x00" * (-len(vertices) % 4) + triangles
    offset = len(vertices) + (-len(vertices) % 4)

    def view(start: int, length: int, count: int, byte_stride: int, view_mode: str) -> dict:
        return {
            "buffer": 1, "byteLength": count * byte_stride,
            "extensions": {"EXT_meshopt_compression": {
                "buffer": 0, "byteOffset": start, "byteLength": length,
                "byteStride": byte_stride, "mode": view_mode, "count": count,
            }},
        }  # fmt: skip

    doc = {
        "asset": {"version": "2.0"},
        "extensionsUsed": ["EXT_meshopt_compression"],
        "extensionsRequired": ["EXT_meshopt_compression"],
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3"},
            {"bufferView": 1, "componentType": 5123, "count": 6, "type": "SCALAR"},
        ],
        "bufferViews": [
            view(0, len(vertices), 4, stride, mode),
            view(offset, len(triangles), 6, 2, "TRIANGLES"),
        ],
        "buffers": [
            {"byteLength": len(blob)},
            {"byteLength": 48 + 12, "extensions": {"EXT_meshopt_compression": {"fallback": True}}},
        ],
    }
    return glb(doc, blob)


def tiff_rgb16(width: int, height: int, pixels: np.ndarray) -> bytes:
    """An uncompressed 16-bit-per-channel RGB TIFF (museum master files often are)."""
    data = np.ascontiguousarray(pixels, dtype="<u2").tobytes()
    entry_count = 10
    ifd_offset = 8
    bits_offset = ifd_offset + 2 + 12 * entry_count + 4
    data_offset = bits_offset + 8
    entries = [  # (tag, type, count, value): type 3 = SHORT, 4 = LONG
        (256, 3, 1, width), (257, 3, 1, height), (258, 3, 3, bits_offset), (259, 3, 1, 1),
        (262, 3, 1, 2), (273, 4, 1, data_offset), (277, 3, 1, 3), (278, 3, 1, height),
        (279, 4, 1, len(data)), (284, 3, 1, 1),
    ]  # fmt: skip
    out = b"II*\x00" + struct.pack("<I", ifd_offset) + struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        if kind == 3 and count == 1:
            out += struct.pack("<HHIHH", tag, kind, count, value, 0)
        else:
            out += struct.pack("<HHII", tag, kind, count, value)
    return out + struct.pack("<I", 0) + struct.pack("<4H", 16, 16, 16, 0) + data


def off_text(vertices: np.ndarray = QUAD, faces: str = "4 0 1 2 3\n", keyword: str = "OFF") -> str:
    face_count = len(faces.strip().splitlines())
    rows = "".join(" ".join(str(v) for v in row) + "\n" for row in vertices)
    return f"{keyword}\n# a comment\n{len(vertices)} {face_count} 0\n{rows}{faces}"
