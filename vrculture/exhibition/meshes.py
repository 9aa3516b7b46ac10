"""Small solid shapes (boxes, cylinders) as converter primitives, for generated models."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from vrculture.pipeline.model import Primitive


def box(lo: tuple[float, float, float], hi: tuple[float, float, float],
        material: int = 0) -> Primitive:
    """An axis-aligned box with flat-shaded faces, counter-clockwise seen from outside."""
    lo_a, hi_a = np.asarray(lo, np.float32), np.asarray(hi, np.float32)
    centre, half = (lo_a + hi_a) / 2, (hi_a - lo_a) / 2
    positions: list[np.ndarray] = []
    normals: list[np.ndarray] = []
    uvs: list[tuple[float, float]] = []
    indices: list[tuple[int, int, int]] = []
    for axis in range(3):
        for sign in (1.0, -1.0):
            n = np.zeros(3, np.float32)
            n[axis] = sign
            u = np.zeros(3, np.float32)
            u[(axis + 1) % 3] = 1.0
            v = np.cross(n, u)
            base = len(positions)
            for cu, cv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                positions.append(centre + n * half + u * half * cu + v * half * cv)
                normals.append(n)
                uvs.append(((cu + 1) / 2, (1 - cv) / 2))
            indices += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
    return Primitive(np.asarray(positions, np.float32), np.asarray(indices, np.uint32),
                     np.asarray(normals, np.float32), np.asarray(uvs, np.float32),
                     material=material)


def cylinder(radius: float, y0: float, y1: float, segments: int = 24,
             centre: tuple[float, float] = (0.0, 0.0), material: int = 0,
             top_radius: float | None = None) -> Primitive:
    """A capped cylinder (or frustum) along +Y with smooth sides and flat caps."""
    r1 = radius if top_radius is None else top_radius
    angles = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    ca, sa = np.cos(angles), np.sin(angles)
    cx, cz = centre
    slope = (radius - r1) / max(y1 - y0, 1e-9)
    side_n = np.stack([ca, np.full_like(ca, slope), sa], 1)
    side_n /= np.linalg.norm(side_n, axis=1, keepdims=True)
    bottom = np.stack([cx + radius * ca, np.full_like(ca, y0), cz + radius * sa], 1)
    top = np.stack([cx + r1 * ca, np.full_like(ca, y1), cz + r1 * sa], 1)
    positions: list[npt.ArrayLike] = [bottom, top, bottom, top, [[cx, y0, cz]], [[cx, y1, cz]]]
    down, up = np.tile([0, -1, 0], (segments, 1)), np.tile([0, 1, 0], (segments, 1))
    normals: list[npt.ArrayLike] = [side_n, side_n, down, up, [[0, -1, 0]], [[0, 1, 0]]]
    i = np.arange(segments)
    j = (i + 1) % segments
    b, t = i, segments + i
    side = np.concatenate([np.stack([b, t, segments + j], 1), np.stack([b, segments + j, j], 1)])
    cap_b, cap_t = 2 * segments, 3 * segments
    centre_b, centre_t = 4 * segments, 4 * segments + 1
    caps = np.concatenate([
        np.stack([np.full(segments, centre_b), cap_b + i, cap_b + j], 1),
        np.stack([np.full(segments, centre_t), cap_t + j, cap_t + i], 1),
    ])
    prim = Primitive(np.concatenate(positions).astype(np.float32),
                     np.concatenate([side, caps]).astype(np.uint32),
                     np.concatenate(normals).astype(np.float32), material=material)
    return orient_outward(prim)


def orient_outward(prim: Primitive) -> Primitive:
    """Flip triangles whose winding disagrees with their vertex normals (glTF: CCW = front)."""
    assert prim.normals is not None
    tri = prim.positions[prim.indices]
    face = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    vn = prim.normals[prim.indices].sum(axis=1)
    flip = (face * vn).sum(axis=1) < 0
    indices = prim.indices.copy()
    indices[flip] = indices[flip][:, [0, 2, 1]]
    return prim.copy(indices=indices)


def merge(prims: list[Primitive]) -> Primitive:
    """One primitive from several with the same material (fewer draw calls)."""
    offsets = np.cumsum([0] + [p.vertex_count for p in prims[:-1]])
    has_uv = all(p.uvs is not None for p in prims)
    return Primitive(
        np.concatenate([p.positions for p in prims]).astype(np.float32),
        np.concatenate([p.indices + o for p, o in zip(prims, offsets, strict=True)]).astype(
            np.uint32),
        np.concatenate([p.normals for p in prims]).astype(np.float32),
        np.concatenate([p.uvs for p in prims]).astype(np.float32) if has_uv else None,
        material=prims[0].material,
    )
