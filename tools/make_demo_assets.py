#!/usr/bin/env python3
"""Generate the demo collection's sources (assets/demo/sources/), deterministically.

Everything here is invented and made by code, so the project ships a demo without borrowing
anyone's scans: two turned vessels (surfaces of revolution with painted textures, Draco GLB),
a carved relief (a height field, Draco GLB), a painted plaster bust (vertex colours, binary PLY
in millimetres with +Z up, as scanners write), and two paintings (JPEG; one carries its DPI so
its real size comes from the file). Run: .venv/bin/python tools/make_demo_assets.py
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import DracoPy
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parent.parent / "assets" / "demo" / "sources"
SEED = 1912


# --------------------------------------------------------------------------- GLB (Draco) writer
def _pad(data: bytes, fill: bytes = b"\0") -> bytes:
    return data + fill * (-len(data) % 4)


def write_draco_glb(path: Path, positions: np.ndarray, faces: np.ndarray, *,
                    uvs: np.ndarray | None = None, texture_jpeg: bytes | None = None,
                    colour: tuple[float, float, float, float] = (1, 1, 1, 1),
                    roughness: float = 0.5, name: str = "object") -> None:
    """A one-mesh GLB whose geometry is KHR_draco_mesh_compression (as Voyager exports)."""
    encoded = DracoPy.encode(positions.astype(np.float32), faces.astype(np.uint32),
                             quantization_bits=14, compression_level=7,
                             tex_coord=None if uvs is None else uvs.astype(np.float64),
                             tex_coord_quantization_bits=12)
    decoded = DracoPy.decode(encoded)
    ids = {a["attribute_type"]: a["unique_id"] for a in decoded.attributes}
    points = np.asarray(decoded.points, np.float32)
    n_points, n_faces = len(points), len(decoded.faces)
    blob = _pad(encoded)
    views = [{"buffer": 0, "byteOffset": 0, "byteLength": len(encoded)}]
    accessors = [
        {"componentType": 5126, "count": n_points, "type": "VEC3",
         "min": points.min(0).tolist(), "max": points.max(0).tolist()},
        {"componentType": 5125 if n_points > 65535 else 5123, "count": n_faces * 3,
         "type": "SCALAR"},
    ]
    attributes = {"POSITION": 0}
    draco_attributes = {"POSITION": ids[0]}
    if uvs is not None:
        accessors.append({"componentType": 5126, "count": n_points, "type": "VEC2"})
        attributes["TEXCOORD_0"] = 2
        draco_attributes["TEXCOORD_0"] = ids[3]
    material: dict = {"name": name, "pbrMetallicRoughness": {
        "baseColorFactor": list(colour), "metallicFactor": 0.0, "roughnessFactor": roughness}}
    doc: dict = {
        "asset": {"version": "2.0", "generator": "vrculture tools/make_demo_assets.py"},
        "extensionsUsed": ["KHR_draco_mesh_compression"],
        "extensionsRequired": ["KHR_draco_mesh_compression"],
        "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"name": name, "mesh": 0}],
        "meshes": [{"name": name, "primitives": [{
            "attributes": attributes, "indices": 1, "material": 0,
            "extensions": {"KHR_draco_mesh_compression": {
                "bufferView": 0, "attributes": draco_attributes}}}]}],
        "materials": [material], "accessors": accessors, "bufferViews": views,
    }
    if texture_jpeg is not None:
        views.append({"buffer": 0, "byteOffset": len(blob), "byteLength": len(texture_jpeg)})
        blob = _pad(blob + texture_jpeg)
        doc["images"] = [{"bufferView": 1, "mimeType": "image/jpeg"}]
        doc["samplers"] = [{"magFilter": 9729, "minFilter": 9987, "wrapS": 10497, "wrapT": 33071}]
        doc["textures"] = [{"sampler": 0, "source": 0}]
        material["pbrMetallicRoughness"]["baseColorTexture"] = {"index": 0}
    doc["buffers"] = [{"byteLength": len(blob)}]
    json_chunk = _pad(json.dumps(doc, separators=(",", ":")).encode(), b" ")
    total = 12 + 8 + len(json_chunk) + 8 + len(blob)
    data = (struct.pack("<III", 0x46546C67, 2, total)
            + struct.pack("<II", len(json_chunk), 0x4E4F534A) + json_chunk
            + struct.pack("<II", len(blob), 0x004E4942) + blob)
    path.write_bytes(data)


def jpeg(image: Image.Image, quality: int = 86, **extra: object) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=quality, optimize=True, **extra)
    return buf.getvalue()


# --------------------------------------------------------------------------- turned vessels
def revolve(profile: np.ndarray, segments: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Revolve a (radius, height) polyline about +Y; a seam column keeps UVs continuous."""
    rings = len(profile)
    angles = np.linspace(0.0, 2 * np.pi, segments + 1)
    r, y = profile[:, 0][:, None], profile[:, 1][:, None]
    pos = np.stack([r * np.sin(angles), np.broadcast_to(y, (rings, segments + 1)),
                    r * np.cos(angles)], -1).reshape(-1, 3)
    seg = np.sqrt((np.diff(profile, axis=0) ** 2).sum(1))
    v = np.concatenate([[0.0], np.cumsum(seg)]) / seg.sum()
    uv = np.stack(np.meshgrid(angles / (2 * np.pi), v), -1).reshape(-1, 2)
    i, j = np.meshgrid(np.arange(rings - 1), np.arange(segments), indexing="ij")
    a = i * (segments + 1) + j
    b, c, d = a + segments + 1, a + 1, a + segments + 2
    faces = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3),
                            np.stack([c, b, d], -1).reshape(-1, 3)])
    return pos, faces, uv


def vessel_profile(heights: list[float], radii: list[float], height: float, wall: float,
                   rings_outer: int, rings_inner: int) -> tuple[np.ndarray, float]:
    """Inner bottom -> inner wall -> rim -> outer wall -> base centre; returns the polyline and
    the v coordinate where the outer wall starts (the painted part of the texture)."""
    ys = np.linspace(height, 0.0, rings_outer)
    outer_r = np.interp(ys, np.array(heights) * height, np.array(radii) * height)
    kernel = np.hanning(9) / np.hanning(9).sum()
    outer_r = np.convolve(np.pad(outer_r, 4, mode="edge"), kernel, mode="valid")
    inner_y = np.linspace(0.02 * height + wall, height, rings_inner)
    inner_r = np.maximum(np.interp(inner_y, ys[::-1], outer_r[::-1]) - wall, 0.002)
    profile = np.concatenate([
        [[0.0, inner_y[0]]], np.stack([inner_r, inner_y], 1),
        np.stack([outer_r, ys], 1), [[0.0, 0.0]]])
    seg = np.sqrt((np.diff(profile, axis=0) ** 2).sum(1))
    v_outer = seg[: rings_inner].sum() / seg.sum()
    return profile, float(v_outer)


def faience_texture(v_outer: float, rng: np.random.Generator) -> Image.Image:
    """Tin-glazed white with cobalt-blue bands, scallops and six stylised flowers."""
    w, h = 1024, 512
    u = (np.arange(w) + 0.5)[None, :] / w
    v = (np.arange(h) + 0.5)[:, None] / h
    t = np.clip((v - v_outer) / (1 - v_outer), 0, 1)  # 0 at the rim, 1 at the foot
    base = np.array([0.93, 0.92, 0.86])
    blue = np.array([0.12, 0.22, 0.55])
    img = np.broadcast_to(base, (h, w, 3)).copy()
    ink = np.zeros((h, w))
    for centre, width in ((0.02, 0.018), (0.17, 0.01), (0.72, 0.01), (0.9, 0.02)):
        ink = np.maximum(ink, (np.abs(t - centre) < width).astype(float))
    scallop = 0.1 + 0.04 * np.abs(np.sin(u * np.pi * 24))
    ink = np.maximum(ink, ((t > 0.05) & (t < scallop)).astype(float) * 0.85)
    for k in range(6):
        cu, cv = (k + 0.5) / 6, 0.45
        du = (u - cu) * 6.0 * 1.1
        dv = (t - cv) * 3.2
        rr, ang = np.hypot(du, dv), np.arctan2(dv, du)
        petals = rr < 0.33 + 0.1 * np.cos(6 * ang)
        ink = np.maximum(ink, petals * (0.55 + 0.45 * (rr > 0.12)))
        stem = (np.abs(du) < 0.02) & (dv > 0.3) & (dv < 0.9)
        ink = np.maximum(ink, stem.astype(float))
    ink *= (t > 0) & (v > v_outer)
    ink *= 0.85 + 0.15 * rng.random((h, w))
    img = img * (1 - ink[..., None]) + blue * ink[..., None]
    img *= (0.97 + 0.03 * rng.random((h, w)))[..., None]
    image = Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8))
    return image.filter(ImageFilter.GaussianBlur(0.8))


def stoneware_texture(v_outer: float, rng: np.random.Generator) -> Image.Image:
    """Salt-glazed brown with 'orange peel', incised wave bands and a green drip glaze."""
    w, h = 1024, 512
    u = (np.arange(w) + 0.5)[None, :] / w
    v = (np.arange(h) + 0.5)[:, None] / h
    t = np.clip((v - v_outer) / (1 - v_outer), 0, 1)
    peel = np.asarray(Image.fromarray((rng.random((64, 128)) * 255).astype(np.uint8)).resize(
        (w, h), Image.Resampling.BICUBIC), float) / 255
    brown = np.array([0.48, 0.30, 0.16]) * (0.85 + 0.3 * peel[..., None])
    img = brown.copy()
    for centre in (0.3, 0.36, 0.62):
        wave = np.abs(t - centre - 0.012 * np.sin(u * 2 * np.pi * 14)) < 0.006
        img[wave] *= 0.55
    drips = np.zeros((h, w))
    for _ in range(18):
        cu = rng.random()
        length = 0.15 + 0.25 * rng.random()
        width = 0.006 + 0.01 * rng.random()
        drips = np.maximum(drips, (np.abs(u - cu) < width * (1.2 - t / length)) & (t < length))
    green = np.array([0.25, 0.38, 0.2])
    glaze = (drips > 0) | (t < 0.08)
    img[glaze] = img[glaze] * 0.3 + green * 0.7
    img[(v < v_outer)[:, 0]] = np.array([0.36, 0.25, 0.15])  # the inside: plain glaze
    return Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8))


# --------------------------------------------------------------------------- relief
def relief(nx: int = 200, ny: int = 150, width: float = 0.6, height: float = 0.45,
           back: float = 0.03, depth: float = 0.022) -> tuple[np.ndarray, np.ndarray]:
    """A sandstone plaque: rope-twist border, a ring medallion and a tree of life, as a
    height field over x (width) and y (height), front facing +Z, standing on y = 0."""
    rng = np.random.default_rng(SEED + 3)
    xs = np.linspace(-width / 2, width / 2, nx)
    ys = np.linspace(0.0, height, ny)
    x, y = np.meshgrid(xs, ys)
    cy = height / 2
    h = np.zeros_like(x)

    def raise_where(dist: np.ndarray, half_width: float, amount: float) -> None:
        nonlocal h
        profile = np.clip(1 - (dist / half_width) ** 2, 0, 1) ** 0.5
        h = np.maximum(h, amount * profile)

    edge = np.minimum(width / 2 - np.abs(x), np.minimum(y, height - y))
    along = np.where(np.abs(x) / (width / 2) > np.abs(y - cy) / (height / 2), y, x)
    rope = 0.75 + 0.25 * np.sin(along * 160 + edge * 300)
    raise_where(np.abs(edge - 0.022), 0.016, depth * rope)
    r = np.hypot(x, y - cy)
    raise_where(np.abs(r - 0.17), 0.01, depth * 0.8)

    def segment(ax: float, ay: float, bx: float, by: float) -> np.ndarray:
        px, py, dx, dy = x - ax, y - (cy + ay), bx - ax, by - ay
        k = np.clip((px * dx + py * dy) / (dx * dx + dy * dy), 0, 1)
        return np.hypot(px - k * dx, py - k * dy)

    raise_where(segment(0, -0.13, 0, 0.03), 0.014, depth * 0.9)
    for side in (-1, 1):
        raise_where(segment(0, -0.02, side * 0.08, 0.06), 0.008, depth * 0.8)
        raise_where(segment(0, 0.02, side * 0.045, 0.1), 0.007, depth * 0.8)
        raise_where(segment(0, -0.13, side * 0.07, -0.15), 0.006, depth * 0.6)  # roots
        for lx, ly in ((side * 0.085, 0.065), (side * 0.05, 0.105), (side * 0.11, 0.0)):
            raise_where(np.hypot(x - lx, y - (cy + ly)), 0.028, depth * 0.7)
    raise_where(np.hypot(x, y - (cy + 0.12)), 0.03, depth * 0.75)
    h += 0.0008 * rng.random(h.shape)  # chisel marks

    z = back + h
    front = np.stack([x, y, z], -1).reshape(-1, 3)
    i, j = np.meshgrid(np.arange(ny - 1), np.arange(nx - 1), indexing="ij")
    a = i * nx + j
    faces = [np.stack([a, a + 1, a + nx], -1).reshape(-1, 3),
             np.stack([a + 1, a + nx + 1, a + nx], -1).reshape(-1, 3)]
    # Back and sides close the slab: the border ring of the grid joined to a flat back.
    ring = np.concatenate([np.arange(nx), np.arange(1, ny) * nx + nx - 1,
                           (ny - 1) * nx + np.arange(nx - 2, -1, -1),
                           np.arange(ny - 2, 0, -1) * nx])
    back_ring = front[ring].copy()
    back_ring[:, 2] = 0.0
    base = len(front)
    k = np.arange(len(ring))
    nxt = (k + 1) % len(ring)
    faces.append(np.stack([ring[k], base + k, ring[nxt]], -1))
    faces.append(np.stack([ring[nxt], base + k, base + nxt], -1))
    centre = base + len(ring)
    faces.append(np.stack([np.full(len(ring), centre), base + nxt, base + k], -1))
    positions = np.concatenate([front, back_ring, [[0.0, cy, 0.0]]])
    return positions, _outward(positions, np.concatenate(faces), np.array([0.0, cy, back / 2]))


def _outward(positions: np.ndarray, faces: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Flip faces whose normal points toward an inside point (closed, roughly convex solids)."""
    tri = positions[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    outward = (normal * (tri.mean(1) - inside)).sum(1) >= 0
    faces = faces.copy()
    faces[~outward] = faces[~outward][:, [0, 2, 1]]
    return faces


# --------------------------------------------------------------------------- bust
def bust(rings: int = 150, segments: int = 160) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A painted plaster bust on a wooden base, in millimetres with +Z up, front toward -Y."""
    rng = np.random.default_rng(SEED + 4)
    zs = np.linspace(0.0, 560.0, rings)
    theta = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    # Half-widths (x), half-depths (y) and squareness along the height.
    key_z = [0, 55, 62, 90, 160, 230, 262, 300, 335, 380, 430, 470, 510, 545, 560]
    key_a = [150, 150, 215, 225, 220, 170, 70, 52, 58, 72, 84, 86, 76, 48, 1]
    key_b = [110, 110, 115, 120, 118, 100, 62, 50, 66, 84, 96, 98, 90, 58, 1]
    key_n = [6, 6, 2.6, 2.4, 2.3, 2.2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
    a = np.interp(zs, key_z, key_a)[:, None]
    b = np.interp(zs, key_z, key_b)[:, None]
    n = np.interp(zs, key_z, key_n)[:, None]
    c, s = np.cos(theta)[None, :], np.sin(theta)[None, :]
    radius = (np.abs(c / a) ** n + np.abs(s / b) ** n) ** (-1 / n)
    z = np.broadcast_to(zs[:, None], radius.shape)
    front = -s  # 1 where the direction points to -Y (the face)

    def bump(zc: float, zw: float, angle: float, aw: float, amount: float) -> np.ndarray:
        da = np.angle(np.exp(1j * (theta[None, :] - angle)))
        return amount * np.exp(-((z - zc) / zw) ** 2 - (da / aw) ** 2)

    face = -np.pi / 2
    radius = radius + bump(448, 16, face, 0.13, 20)      # nose
    radius = radius + bump(372, 14, face, 0.35, 10)      # chin
    radius = radius - bump(470, 7, face - 0.32, 0.1, 7) - bump(470, 7, face + 0.32, 0.1, 7)
    radius = radius + bump(450, 20, 0.0, 0.12, 12) + bump(450, 20, np.pi, 0.12, 12)  # ears
    radius = radius + bump(500, 45, np.pi / 2, 0.9, 10)  # hair at the back
    pos = np.stack([radius * c, radius * s, z], -1).reshape(-1, 3)
    pos = np.concatenate([pos, [[0, 0, 0], [0, 0, 560.0]]])
    i, j = np.meshgrid(np.arange(rings - 1), np.arange(segments), indexing="ij")
    p = i * segments + j
    q = i * segments + (j + 1) % segments
    faces = [np.stack([p, q, p + segments], -1).reshape(-1, 3),
             np.stack([q, q + segments, p + segments], -1).reshape(-1, 3)]
    bottom, top = rings * segments, rings * segments + 1
    ring0 = np.arange(segments)
    faces.append(np.stack([np.full(segments, bottom), (ring0 + 1) % segments, ring0], -1))
    last = (rings - 1) * segments + ring0
    faces.append(np.stack([np.full(segments, top), last, (rings - 1) * segments
                           + (ring0 + 1) % segments], -1))
    faces_arr = np.concatenate(faces)
    # Orient by the local axis point at each face's height (the bust is star-shaped per slice).
    tri = pos[faces_arr]
    centre = np.zeros((len(faces_arr), 3))
    centre[:, 2] = tri[:, :, 2].mean(1)
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    wrong = (normal * (tri.mean(1) - centre)).sum(1) < 0
    faces_arr[wrong] = faces_arr[wrong][:, [0, 2, 1]]

    zz, ff = z.reshape(-1), np.broadcast_to(front, z.shape).reshape(-1)
    colours = np.empty((len(zz), 3))
    colours[:] = (40, 62, 112)                                  # the coat
    colours[zz < 60] = (72, 46, 30)                             # wooden base
    skin = (zz > 262) & (zz < 545)
    colours[skin] = (226, 188, 160)
    colours[(zz > 250) & (zz < 275)] = (235, 235, 228)          # collar
    hair = (zz > 485) | ((zz > 400) & (ff < -0.25))
    colours[hair & (zz > 262)] = (92, 62, 38)
    lips = (np.abs(zz - 405) < 5) & (ff > 0.97)
    colours[lips] = (170, 80, 75)
    eyes = (np.abs(zz - 470) < 5) & (np.abs(ff - 0.95) < 0.035)
    colours[eyes] = (50, 45, 40)
    colours *= 0.94 + 0.06 * rng.random((len(zz), 1))
    colours = np.concatenate([np.clip(colours, 0, 255), [[72, 46, 30], [92, 62, 38]]])
    return pos, faces_arr, colours.astype(np.uint8)


def write_ply(path: Path, positions: np.ndarray, faces: np.ndarray, colours: np.ndarray) -> None:
    vertex = np.zeros(len(positions), dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"),
                                             ("red", "u1"), ("green", "u1"), ("blue", "u1")])
    vertex["x"], vertex["y"], vertex["z"] = positions.T
    vertex["red"], vertex["green"], vertex["blue"] = colours.T
    face = np.zeros(len(faces), dtype=[("n", "u1"), ("i", "<u2", (3,))])
    face["n"], face["i"] = 3, faces
    header = (
        "ply\nformat binary_little_endian 1.0\n"
        "comment vrculture demo: painted plaster bust (generated), units mm, +Z up\n"
        f"element vertex {len(vertex)}\nproperty float x\nproperty float y\nproperty float z\n"
        "property uchar red\nproperty uchar green\nproperty uchar blue\n"
        f"element face {len(face)}\nproperty list uchar ushort vertex_indices\nend_header\n")
    path.write_bytes(header.encode("ascii") + vertex.tobytes() + face.tobytes())


# --------------------------------------------------------------------------- paintings
def fractal_line(n: int, rng: np.random.Generator, roughness: float = 0.55) -> np.ndarray:
    line = np.zeros(n)
    amplitude, step = 1.0, n
    while step > 1:
        knots = rng.normal(0, amplitude, n // step + 2)
        line += np.interp(np.arange(n), np.arange(len(knots)) * step, knots)
        amplitude *= roughness
        step //= 2
    return line


def summer_evening(width: int = 1200, height: int = 800) -> Image.Image:
    rng = np.random.default_rng(SEED + 5)
    yy = np.linspace(0, 1, height)[:, None, None]
    sky = (1 - yy) * np.array([0.22, 0.33, 0.62]) + yy * np.array([0.98, 0.66, 0.38])
    img = np.broadcast_to(sky, (height, width, 3)).copy()
    xs = np.arange(width)[None, :]
    ys = np.arange(height)[:, None]
    sun = np.hypot(xs - 0.68 * width, ys - 0.5 * height)
    img += (np.exp(-(sun / 60) ** 2) * 0.9 + np.exp(-(sun / 220) ** 2) * 0.25)[..., None] * \
        np.array([1.0, 0.8, 0.5])
    horizon = int(0.62 * height)
    for k, (colour, base, amp) in enumerate((([0.45, 0.42, 0.55], 0.45, 60),
                                             ([0.28, 0.32, 0.38], 0.52, 45),
                                             ([0.12, 0.2, 0.16], 0.58, 30))):
        ridge = base * height + amp * fractal_line(width, rng) / 2
        mask = (ys > ridge[None, :]) & (ys < horizon)
        img[mask] = img[mask] * 0.25 + np.array(colour) * 0.75 + 0.02 * k
    water = ys >= horizon
    mirror = np.clip(2 * horizon - ys, 0, height - 1)
    reflected = img[mirror[:, 0]] * 0.7 + np.array([0.05, 0.08, 0.12])
    ripple = 0.06 * np.sin(ys * 0.9 + 3 * np.sin(xs * 0.01))
    img = np.where(water[..., None], reflected + ripple[..., None], img)
    pil = Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8))
    draw = ImageDraw.Draw(pil)
    for _ in range(14):
        tx = int(rng.uniform(0.02, 0.35) * width)
        th = int(rng.uniform(0.12, 0.25) * height)
        for level in range(5):
            half = (5 - level) * th // 22
            top = horizon - th + level * th // 6
            draw.polygon([(tx - half, top + th // 4), (tx + half, top + th // 4), (tx, top)],
                         fill=(18, 36, 24))
        draw.rectangle([tx - 3, horizon - th // 8, tx + 3, horizon + 4], fill=(40, 28, 20))
    pil = pil.filter(ImageFilter.GaussianBlur(1.2))
    grain = (rng.normal(0, 6, (height, width, 1))).astype(np.int16)
    arr = np.clip(np.asarray(pil, np.int16) + grain, 0, 255).astype(np.uint8)
    return Image.fromarray(arr)


def winter_town(width: int = 600, height: int = 840) -> Image.Image:
    rng = np.random.default_rng(SEED + 6)
    yy = np.linspace(0, 1, height)[:, None, None]
    sky = (1 - yy) * np.array([0.04, 0.06, 0.16]) + yy * np.array([0.22, 0.26, 0.42])
    img = (np.broadcast_to(sky, (height, width, 3)) * 255).astype(np.uint8)
    pil = Image.fromarray(img)
    draw = ImageDraw.Draw(pil)
    for _ in range(120):
        x, y = rng.uniform(0, width), rng.uniform(0, 0.45 * height)
        draw.point((x, y), fill=(240, 240, 210))
    draw.ellipse([0.72 * width, 0.08 * height, 0.84 * width, 0.08 * height + 0.12 * width],
                 fill=(245, 240, 215))
    ground = int(0.74 * height)
    x = -20
    while x < width:
        w = int(rng.uniform(70, 120))
        h = int(rng.uniform(110, 220))
        colour = tuple(int(v) for v in rng.choice([(120, 44, 36), (150, 110, 60), (90, 80, 70),
                                                   (170, 150, 110)]))
        draw.rectangle([x, ground - h, x + w, ground], fill=colour)
        draw.polygon([(x - 8, ground - h), (x + w + 8, ground - h), (x + w // 2, ground - h - 50)],
                     fill=(235, 238, 245))
        for wy in range(ground - h + 25, ground - 30, 45):
            for wx in range(x + 12, x + w - 20, 30):
                lit = rng.random() < 0.7
                draw.rectangle([wx, wy, wx + 14, wy + 20],
                               fill=(250, 210, 110) if lit else (40, 40, 55))
        x += w + int(rng.uniform(4, 16))
    tower_x = int(0.55 * width)
    draw.rectangle([tower_x, ground - 380, tower_x + 50, ground], fill=(200, 195, 185))
    draw.polygon([(tower_x - 6, ground - 380), (tower_x + 56, ground - 380),
                  (tower_x + 25, ground - 470)], fill=(60, 90, 80))
    draw.rectangle([0, ground, width, height], fill=(228, 232, 242))
    for _ in range(400):
        fx, fy = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.8, 2.2)
        draw.ellipse([fx - r, fy - r, fx + r, fy + r], fill=(250, 250, 255))
    return pil.filter(ImageFilter.GaussianBlur(0.6))


# --------------------------------------------------------------------------- main
def main(out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)

    profile, v_outer = vessel_profile([0, 0.04, 0.3, 0.55, 0.78, 0.9, 1.0],
                                      [0.17, 0.2, 0.3, 0.27, 0.12, 0.11, 0.15], 0.32, 0.006,
                                      100, 24)
    pos, faces, uv = revolve(profile, 240)
    faces = _flip_if_inward(pos, faces)
    write_draco_glb(out / "fajansvas.glb", pos, faces, uvs=uv,
                    texture_jpeg=jpeg(faience_texture(v_outer, rng)), roughness=0.25,
                    name="fajansvas")

    profile, v_outer = vessel_profile([0, 0.03, 0.2, 0.45, 0.7, 0.85, 1.0],
                                      [0.2, 0.24, 0.33, 0.36, 0.28, 0.2, 0.22], 0.24, 0.007,
                                      90, 20)
    pos, faces, uv = revolve(profile, 220)
    faces = _flip_if_inward(pos, faces)
    write_draco_glb(out / "saltglaserad-kanna.glb", pos, faces, uvs=uv,
                    texture_jpeg=jpeg(stoneware_texture(v_outer, rng)), roughness=0.45,
                    name="kanna")

    pos, faces = relief()
    write_draco_glb(out / "livets-trad-relief.glb", pos, faces,
                    colour=(0.62, 0.5, 0.36, 1.0), roughness=0.9, name="relief")

    pos, faces, colours = bust()
    write_ply(out / "radmansbyst.ply", pos, faces, colours)

    (out / "sommarkvall-vid-sjon.jpg").write_bytes(jpeg(summer_evening(), quality=84))
    (out / "vinterkvall-i-sjostad.jpg").write_bytes(
        jpeg(winter_town(), quality=84, dpi=(40, 40)))
    total = sum(p.stat().st_size for p in out.iterdir())
    for path in sorted(out.iterdir()):
        print(f"{path.name:32} {path.stat().st_size / 1024:8.1f} KB")
    print(f"{'total':32} {total / 1024:8.1f} KB")


def _flip_if_inward(pos: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """The revolved polyline's direction decides the winding: make the outer wall face out."""
    tri = pos[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    centre = tri.mean(1)
    radial = centre.copy()
    radial[:, 1] = 0
    # The outermost faces (largest radius) must point away from the axis.
    outer = np.linalg.norm(radial, axis=1) > np.percentile(np.linalg.norm(radial, axis=1), 90)
    if (normal[outer] * radial[outer]).sum() < 0:
        return faces[:, [0, 2, 1]]
    return faces


if __name__ == "__main__":
    main()
