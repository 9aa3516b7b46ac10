"""Thumbnails: a small numpy z-buffer rasteriser rendering an object into a WebP image.

Orthographic camera, three-quarter view from the front for 3D objects and straight on for
paintings, fitted so the object fills the frame (the frame takes the object's aspect, clamped
to 1:2..2:1). Rendered at 2x and downsampled for anti-aliasing; the background is transparent.

Rasterisation is vectorised scanline spans over all triangles at once, and the nearest
fragment per pixel wins (lexsort on pixel, depth). Tried first: testing every pixel of each
triangle's bounding square, bucketed by size: fine for scans, but 1.9 s on the relief demo,
whose back is a fan of long slivers (bounding squares of the whole frame); spans take 0.1 s.
A per-triangle Python loop takes minutes on a 270k-triangle scan.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image

from vrculture.pipeline.model import Model
from vrculture.pipeline.transforms.normalise import UP_ROTATIONS

LONG_SIDE = 256
SUPERSAMPLE = 2
MAX_TEXTURE_SIDE = 1024
TRIANGLE_CHUNK = 400_000  # per rasterised batch: ~0.5 GB of temporaries at most



def _camera(yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """Rows: screen right, screen up, toward the viewer (orthonormal)."""
    yaw, pitch = math.radians(yaw_deg), math.radians(pitch_deg)
    forward = np.array([-math.sin(yaw) * math.cos(pitch), -math.sin(pitch),
                        -math.cos(yaw) * math.cos(pitch)])  # from the eye into the scene
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    return np.stack([right, up, -forward])


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


def _fragments(xy: np.ndarray, depth: np.ndarray, tris: np.ndarray, width: int,
               height: int) -> tuple[np.ndarray, ...]:
    """All (pixel, depth, triangle, b1, b2) fragments whose pixel centre a triangle covers.

    Scanline spans, vectorised over all triangles at once: each triangle contributes one row
    per pixel row its bounding box crosses, each row the run of pixel centres between the
    triangle's edges there. Work is proportional to rows + covered pixels, so tiny scan
    triangles and long slivers (a base's fan) both cost little.
    """
    p0, p1, p2 = xy[tris[:, 0]], xy[tris[:, 1]], xy[tris[:, 2]]
    area = (p1[:, 0] - p0[:, 0]) * (p2[:, 1] - p0[:, 1]) - (p1[:, 1] - p0[:, 1]) * (
        p2[:, 0] - p0[:, 0])
    ys = np.stack([p0[:, 1], p1[:, 1], p2[:, 1]], 1)
    row_lo = np.maximum(np.ceil(ys.min(1) - 0.5), 0).astype(np.int64)
    row_hi = np.minimum(np.floor(ys.max(1) - 0.5), height - 1).astype(np.int64)
    keep = (np.abs(area) > 1e-12) & (row_hi >= row_lo)
    ids = np.nonzero(keep)[0]
    rows_per = row_hi[ids] - row_lo[ids] + 1
    tri = np.repeat(ids, rows_per)
    first_row = np.repeat(np.cumsum(rows_per) - rows_per, rows_per)
    row = row_lo[tri] + (np.arange(len(tri)) - first_row)
    cy = row + 0.5
    xl = np.full(len(tri), np.inf)
    xr = np.full(len(tri), -np.inf)
    corners = (p0, p1, p2)
    for a, b in ((0, 1), (1, 2), (2, 0)):
        pa, pb = corners[a][tri], corners[b][tri]
        dy = pb[:, 1] - pa[:, 1]
        lo_y, hi_y = np.minimum(pa[:, 1], pb[:, 1]), np.maximum(pa[:, 1], pb[:, 1])
        hit = (cy >= lo_y) & (cy <= hi_y) & (dy != 0)
        safe = np.where(dy != 0, dy, 1.0)
        x = pa[:, 0] + (cy - pa[:, 1]) * (pb[:, 0] - pa[:, 0]) / safe
        xl = np.where(hit, np.minimum(xl, x), xl)
        xr = np.where(hit, np.maximum(xr, x), xr)
    col_lo = np.maximum(np.ceil(xl - 0.5), 0)
    col_hi = np.minimum(np.floor(xr - 0.5), width - 1)
    count = np.where(np.isfinite(col_lo) & np.isfinite(col_hi),
                     np.maximum(col_hi - col_lo + 1, 0), 0).astype(np.int64)
    col_lo = np.where(count > 0, col_lo, 0).astype(np.int64)
    ftri = np.repeat(tri, count)
    start = np.repeat(np.cumsum(count) - count, count)
    px = np.repeat(col_lo, count) + (np.arange(len(ftri)) - start)
    py = np.repeat(row, count)
    a, b, c = p0[ftri], p1[ftri], p2[ftri]
    fx, fy = px + 0.5, py + 0.5
    inv = 1.0 / area[ftri]
    b1 = ((fx - a[:, 0]) * (c[:, 1] - a[:, 1]) - (fy - a[:, 1]) * (c[:, 0] - a[:, 0])) * inv
    b2 = ((b[:, 0] - a[:, 0]) * (fy - a[:, 1]) - (b[:, 1] - a[:, 1]) * (fx - a[:, 0])) * inv
    b1, b2 = np.clip(b1, 0, 1), np.clip(b2, 0, 1)
    tz = depth[tris[ftri]]
    z = tz[:, 0] * (1 - b1 - b2) + tz[:, 1] * b1 + tz[:, 2] * b2
    return py * width + px, z, ftri, b1, b2


def _zbuffer(xy: np.ndarray, depth: np.ndarray, tri: np.ndarray, width: int,
             height: int) -> tuple[np.ndarray, ...]:
    """The nearest fragment per pixel: (pixels, triangle, b1, b2) for every covered pixel.

    Triangles go through in chunks so a multi-million-triangle scan needs bounded memory: each
    chunk resolves its own nearest fragments, then merges them into the frame's depth buffer.
    """
    zbuf = np.full(width * height, np.inf)
    best_tri = np.full(width * height, -1, np.int64)
    best_b = np.zeros((width * height, 2))
    for start in range(0, len(tri), TRIANGLE_CHUNK):
        pix, z, ftri, b1, b2 = _fragments(xy, depth, tri[start:start + TRIANGLE_CHUNK],
                                          width, height)
        # Within the chunk: write fragments farthest first; with repeated indices the last
        # write wins, so each pixel keeps its nearest.
        winner = np.full(width * height, -1, np.int64)
        order = np.argsort(-z)
        winner[pix[order]] = order
        covered = np.nonzero(winner >= 0)[0]
        pick = winner[covered]
        nearer = z[pick] < zbuf[covered]
        covered, pick = covered[nearer], pick[nearer]
        zbuf[covered] = z[pick]
        best_tri[covered] = ftri[pick] + start
        best_b[covered, 0], best_b[covered, 1] = b1[pick], b2[pick]
    pix = np.nonzero(best_tri >= 0)[0]
    return pix, best_tri[pix], best_b[pix, 0], best_b[pix, 1]


def render(model: Model, *, up: str = "+Y", painting: bool = False,
           long_side: int = LONG_SIDE) -> Image.Image:
    """An RGBA image of the model, transparent around it."""
    prims = [p for p in model.primitives() if p.vertex_count and p.triangle_count]
    if not prims:
        raise ValueError("nothing to render: the model has no triangles")
    if up not in UP_ROTATIONS:
        raise ValueError(f"unknown up axis {up!r}")
    # The converter's own rotation, so the thumbnail stands the way the GLB does.
    to_y = UP_ROTATIONS[up]
    cam = _camera(0.0, 0.0) if painting else _camera(-28.0, 18.0)
    positions, uvs, colours, tris, prim_of_tri = [], [], [], [], []
    offset = 0
    for index, prim in enumerate(prims):
        pos = prim.positions.astype(np.float64) @ to_y.T @ cam.T
        positions.append(pos)
        uvs.append(prim.uvs if prim.uvs is not None else np.zeros((prim.vertex_count, 2)))
        colours.append(prim.colors[:, :3] if prim.colors is not None
                       else np.ones((prim.vertex_count, 3)))
        tris.append(prim.indices.astype(np.int64) + offset)
        prim_of_tri.append(np.full(prim.triangle_count, index))
        offset += prim.vertex_count
    pos = np.concatenate(positions)
    tri = np.concatenate(tris)
    tri_prim = np.concatenate(prim_of_tri)
    used = np.zeros(len(pos), bool)
    used[tri.ravel()] = True  # vertices no triangle uses must not widen the frame
    lo, hi = pos[used].min(axis=0), pos[used].max(axis=0)
    extent = np.maximum(hi - lo, 1e-9)
    aspect = float(np.clip(extent[0] / extent[1], 0.5, 2.0))
    out_w = long_side if aspect >= 1 else max(8, round(long_side * aspect))
    out_h = long_side if aspect <= 1 else max(8, round(long_side / aspect))
    w, h = out_w * SUPERSAMPLE, out_h * SUPERSAMPLE
    margin = 0.02
    scale = min(w * (1 - 2 * margin) / extent[0], h * (1 - 2 * margin) / extent[1])
    centre = (lo + hi) / 2
    xy = np.empty((len(pos), 2))
    xy[:, 0] = (pos[:, 0] - centre[0]) * scale + w / 2
    xy[:, 1] = h / 2 - (pos[:, 1] - centre[1]) * scale  # image rows grow downward
    depth = -pos[:, 2]  # smaller = nearer the camera

    pix, ftri, b1, b2 = _zbuffer(xy, depth, tri, w, h)
    b0 = 1.0 - b1 - b2
    corners = tri[ftri]

    # Lambert shading from a key light over the viewer's shoulder plus ambient, per face.
    p = pos[tri]
    normal = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    light = np.array([0.35, 0.55, 0.76])
    light /= np.linalg.norm(light)
    shade = 0.3 + 0.7 * np.abs(normal @ light)  # scans are often open: light both sides
    colour = np.concatenate(colours)
    frag = (colour[corners[:, 0]] * b0[:, None] + colour[corners[:, 1]] * b1[:, None]
            + colour[corners[:, 2]] * b2[:, None])
    uv_all = np.concatenate(uvs)
    frag_prim = tri_prim[ftri]
    for index, prim in enumerate(prims):
        mat = model.materials[prim.material] if prim.material < len(model.materials) else None
        sel = frag_prim == index
        if mat is None or not sel.any():
            continue
        frag[sel] *= np.asarray(mat.base_color_factor[:3])
        if mat.base_color_texture is not None and prim.uvs is not None:
            c = corners[sel]
            uv = (uv_all[c[:, 0]] * b0[sel, None] + uv_all[c[:, 1]] * b1[sel, None]
                  + uv_all[c[:, 2]] * b2[sel, None])
            frag[sel] *= _sample(mat.base_color_texture.image, uv)
    rgb = _linear_to_srgb(frag * shade[ftri][:, None])
    image = np.zeros((h * w, 4), np.uint8)
    image[pix, :3] = np.round(rgb * 255).astype(np.uint8)
    image[pix, 3] = 255
    big = Image.fromarray(image.reshape(h, w, 4), "RGBA")
    return big.resize((out_w, out_h), Image.Resampling.BOX)


def _sample(texture: Image.Image, uv: np.ndarray) -> np.ndarray:
    """Linear RGB of the texture at glTF UVs (wrapping, nearest texel)."""
    if texture.mode == "RGB" and max(texture.size) > MAX_TEXTURE_SIDE:
        # What convert + thumbnail make, without their full-size copy of a 100 MP painting.
        img = texture.resize(_thumbnail_size(texture.size), Image.Resampling.BICUBIC,
                             reducing_gap=2.0)
    else:
        img = texture.convert("RGB")
        if max(img.size) > MAX_TEXTURE_SIDE:
            img.thumbnail((MAX_TEXTURE_SIDE, MAX_TEXTURE_SIDE))
    tex = np.asarray(img)
    th, tw = tex.shape[:2]
    u = np.mod(uv[:, 0], 1.0)
    v = np.mod(uv[:, 1], 1.0)
    x = np.minimum((u * tw).astype(np.int64), tw - 1)
    y = np.minimum((v * th).astype(np.int64), th - 1)
    return _srgb_to_linear(tex[y, x] / 255.0)


def _thumbnail_size(size: tuple[int, int], side: int = MAX_TEXTURE_SIDE) -> tuple[int, int]:
    """The size Pillow's `thumbnail((side, side))` gives an image of `size` (its aspect
    rounding; a test holds them equal)."""
    width, height = size
    aspect = width / height
    if side / side >= aspect:
        x = max(min(math.floor(side * aspect), math.ceil(side * aspect),
                    key=lambda n: abs(aspect - n / side)), 1)
        return x, side
    y = max(min(math.floor(side / aspect), math.ceil(side / aspect),
                key=lambda n: 0 if n == 0 else abs(aspect - side / n)), 1)
    return side, y


def webp_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "WEBP", quality=82, method=4)
    return buf.getvalue()
