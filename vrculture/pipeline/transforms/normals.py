"""Smooth vertex normals with a crease angle: scans look smooth, hard edges stay hard.

A corner's normal is the area-weighted sum of the normals of the faces around its position
whose angle to the corner's own face is below the crease angle (the classic crease rule, as in
three.js `toCreasedNormals`). Positions are matched across UV seams and colour splits, so a seam
gets the same normal on both sides and does not show.

Approaches (igea STL 269k triangles / nefertiti x16 1.6M triangles):
- All pairs of corners around every position: ~36 pairs per vertex, 0.9 s / 5.6 s, 1.5 GB at 1.6M.
- Kept: area-weighted smooth normal per position (np.bincount), then the pairwise rule only
  where some face deviates from that normal by more than half the crease angle. If all faces are
  within crease/2 of one direction, every pair is within the crease (triangle inequality on the
  sphere), so the smooth normal is exact there. Scans have almost no such positions:
  0.09 s / 0.6 s. Positions with more than MAX_FAN faces keep the smooth normal (bounded memory).
- On the 500k full level of the 1.6M bench mesh (0.30 s): one (T, 3, 3) gather instead of three
  column gathers and an unmasked normal scatter: -3 % (0.296 -> 0.289 s, same output). The rest
  is the exact pairwise rule on the 12 % of corners at suspect positions (~0.1 s) and the
  per-corner gathers; computing normals once on the source and carrying them through the
  simplifier was not tried in the end: the 1.6M -> 500k simplification, the dearest step, would
  become attribute-aware (0.08 -> 0.11 s per 100k on nefertiti, see simplify.py) to save ~0.1 s
  on the lower levels, and normals on the source cost 3x those of the full level.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from vrculture.pipeline.columns import take_rows
from vrculture.pipeline.model import Model, Primitive
from vrculture.pipeline.transforms.weld import drop_unused_vertices

MAX_FAN = 256
CREASE_BLOCK = 1 << 15  # corners whose (corner, face) pairs are tested at once


@dataclass(frozen=True)
class NormalsOptions:
    crease_angle_deg: float = 60.0  # dihedral angles above this stay hard edges
    recompute: bool = False  # replace normals the source already has


def _position_ids(positions: np.ndarray) -> np.ndarray:
    """One id per distinct position (vertex order), over the rows rather than through the
    index buffer (which holds each vertex ~6 times)."""
    from vrculture.pipeline.meshopt_ffi import unique_rows_remap

    pos = np.ascontiguousarray(positions, dtype=np.float32) + np.float32(0.0)
    remap, _ = unique_rows_remap(pos)
    return remap.astype(np.int64)


def _length(vectors: np.ndarray) -> np.ndarray:
    # einsum over the short axis: 4x faster than np.linalg.norm(axis=1) on (N, 3).
    return np.sqrt(np.einsum("ij,ij->i", vectors, vectors))


def _unit(vectors: np.ndarray) -> np.ndarray:
    length = _length(vectors)[:, None]
    return np.divide(vectors, length, out=np.zeros_like(vectors), where=length > 0)


def smooth_normals(prim: Primitive, options: NormalsOptions = NormalsOptions()) -> Primitive:
    """Return the primitive with crease-aware smooth normals (vertices split at hard edges)."""
    if prim.normals is not None and not options.recompute:
        return prim
    if prim.triangle_count == 0:
        return prim.copy(normals=np.zeros_like(prim.positions))
    indices = np.ascontiguousarray(prim.indices, dtype=np.uint32)
    corners = indices.reshape(-1).astype(np.int64)
    pid = _position_ids(prim.positions)
    corner_pid = pid[corners]
    count = int(pid.max()) + 1

    positions = np.asarray(prim.positions, dtype=np.float32)
    # One (T, 3, 3) gather: a third less time than three column gathers.
    corner_positions = take_rows(positions, indices)
    p0, p1, p2 = (corner_positions[:, k] for k in range(3))
    face = np.cross(p1 - p0, p2 - p0)  # length = 2 x area: area weighting for free
    face_unit = _unit(face)
    del corner_positions, p0, p1, p2  # 18 MB at 500k triangles (peak memory: see _creased)

    summed = np.stack(
        [np.bincount(corner_pid, weights=np.repeat(face[:, k], 3), minlength=count)
         for k in range(3)], axis=1,
    )
    smooth = _unit(summed).astype(np.float32)
    crease = np.radians(options.crease_angle_deg)
    corner_normals = take_rows(smooth, corner_pid)
    deviation = _corner_deviation(face_unit, corner_normals)
    split = _may_crease(corner_pid, deviation, count, crease)
    # Unsplit corners hold their position's smooth normal: tested once per position.
    still_zero = (_length(smooth) == 0)[corner_pid]
    if split.any():
        corner_normals[split] = _creased(
            corner_pid[split], np.flatnonzero(split) // 3, face, face_unit, np.cos(crease),
            fallback=corner_normals[split],
        )
        still_zero[split] = _length(corner_normals[split]) == 0
    corner_normals[still_zero] = (0.0, 1.0, 0.0)
    # Only the corners' normals go on: the per-corner tables (~70 MB at 500k triangles) are
    # freed before the vertices are split.
    del pid, corner_pid, face, face_unit, summed, smooth, deviation, still_zero
    return _split_vertices(prim, corners, corner_normals.astype(np.float32), split)


def _corner_deviation(face_unit: np.ndarray, corner_normals: np.ndarray) -> np.ndarray:
    """Per corner, the angle between its face's normal and its (smooth) normal.

    Each face against its three corners: no per-corner copy of the face normals (igea's 269k
    triangles: 0.014 -> 0.005 s; the same sums of the same three products, so the same bits).
    """
    dots = np.einsum("tj,tkj->tk", face_unit, corner_normals.reshape(-1, 3, 3))
    return np.arccos(np.clip(dots.reshape(-1), -1.0, 1.0))


def _may_crease(corner_pid: np.ndarray, deviation: np.ndarray, count: int,
                crease: float) -> np.ndarray:
    """Corners at positions where two faces might be more than `crease` apart.

    Two faces f, g around a position with mean direction m satisfy
    angle(f, g) <= angle(f, m) + angle(g, m), so a position whose two largest deviations from
    its smooth normal add up to at most the crease angle cannot have a crease.
    """
    largest = np.zeros(count, dtype=deviation.dtype)
    np.maximum.at(largest, corner_pid, deviation)
    # Take out one corner holding each position's largest value (ties keep the other).
    holders = np.flatnonzero(deviation == largest[corner_pid])
    holder = np.full(count, -1, dtype=np.int64)
    holder[corner_pid[holders]] = holders
    rest = deviation.copy()
    rest[holder[holder >= 0]] = 0.0
    second = np.zeros(count, dtype=deviation.dtype)
    np.maximum.at(second, corner_pid, rest)
    suspect = largest + second > crease
    return suspect[corner_pid]


def _creased(cpid, cface, face, face_unit, cos_crease, fallback):
    """Per corner: sum of area-weighted face normals within the crease angle at its position."""
    order = np.argsort(cpid, kind="stable")
    sorted_pid = cpid[order]
    sorted_face = cface[order]
    starts = np.flatnonzero(np.r_[True, sorted_pid[1:] != sorted_pid[:-1]])
    sizes = np.diff(np.r_[starts, len(sorted_pid)])
    group_of = np.repeat(np.arange(len(starts)), sizes)
    k = sizes[group_of]  # fan size seen by each sorted corner
    small = k <= MAX_FAN
    result = fallback[order].astype(np.float32)
    rows = np.flatnonzero(small)
    # In blocks of corners: all pairs at once (1.4M at the 1.6M bench mesh's 500k full level,
    # ten arrays of them) held ~130 MB, the chain's peak memory. Each corner's pairs stay
    # together and in order, so its sums are the same to the bit.
    for begin in range(0, len(rows), CREASE_BLOCK):
        block = rows[begin:begin + CREASE_BLOCK]
        reps = k[block]
        local = np.repeat(np.arange(len(block)), reps)
        offsets = np.arange(len(local)) - np.repeat(np.cumsum(reps) - reps, reps)
        i = block[local]
        j = starts[group_of[i]] + offsets
        fi, fj = sorted_face[i], sorted_face[j]
        keep = np.einsum("ij,ij->i", face_unit[fi], face_unit[fj]) >= cos_crease
        local, fj = local[keep], fj[keep]
        acc = np.stack(
            [np.bincount(local, weights=face[fj, c], minlength=len(block)) for c in range(3)],
            axis=1,
        )
        normals = _unit(acc)
        ok = _length(normals) > 0
        result[block[ok]] = normals[ok]
    out = np.empty_like(result)
    out[order] = result
    return out


def _split_vertices(prim, corners, corner_normals, split):
    """New vertex per distinct (vertex, normal) among split corners; others keep their vertex."""
    import meshoptimizer

    vertex_count = prim.vertex_count
    normals = np.zeros((vertex_count, 3), dtype=np.float32)
    # Unmasked: all corners of a vertex share its position's split flag, and a split
    # vertex's slot is dropped below (its corners move to new vertices).
    normals[corners] = corner_normals
    new_corners = corners.copy()
    extra_src = np.zeros(0, dtype=np.int64)
    extra_normals = np.zeros((0, 3), dtype=np.float32)
    if split.any():
        # Distinct (vertex, normal) pairs by meshoptimizer's hash (np.unique on rows sorted:
        # 0.44 s of 0.65 s on 500k triangles).
        keys = np.zeros((int(split.sum()), 4), dtype=np.float32)
        keys[:, 0] = corners[split].astype(np.uint32).view(np.float32)
        keys[:, 1:] = corner_normals[split] + np.float32(0.0)
        remap = np.zeros(len(keys), dtype=np.uint32)
        sequence = np.arange(len(keys), dtype=np.uint32)
        unique = meshoptimizer.generate_vertex_remap(remap, sequence, vertices=keys)
        first = np.zeros(unique, dtype=np.int64)
        first[remap[::-1]] = np.arange(len(keys))[::-1]
        extra_src = corners[split][first]
        extra_normals = corner_normals[split][first]
        new_corners[split] = vertex_count + remap.astype(np.int64)

    def extend(array):
        if array is None:
            return None
        return np.ascontiguousarray(np.concatenate([array, array[extra_src]]))

    return drop_unused_vertices(prim.copy(
        positions=extend(prim.positions),
        uvs=extend(prim.uvs),
        colors=extend(prim.colors),
        normals=np.ascontiguousarray(np.concatenate([normals, extra_normals])),
        indices=new_corners.reshape(-1, 3).astype(np.uint32),
    ))


def repair_normals(model: Model, options: NormalsOptions = NormalsOptions()) -> Model:
    nodes = [
        replace(n, primitives=[smooth_normals(p, options) for p in n.primitives])
        for n in model.nodes
    ]
    return replace(model, nodes=nodes)
