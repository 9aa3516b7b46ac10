"""Simplify across UV seams: the fallback when seams stop the attribute-aware simplifier.

meshoptimizer keeps the vertices that share a position across a seam together, may move them
only along the seam, and locks those where three or more UV islands meet. A scan with a
fragmented atlas (USNM_1145291: 2299 islands on 25k triangles, about 11 triangles each) then
stops far above a small budget (about 11k of 5k). The library's own answer,
`meshopt_SimplifyPermissive` (meshoptimizer 0.25), is not in the C library the `meshoptimizer`
wheel (0.2.30a0) builds: it has LockBorder, Sparse, ErrorAbsolute and Prune only. Prune,
tried with the budget as the only limit, removed every triangle (it drops the components
smaller than the error bound); attribute weights do not matter (seams are found by position).

So this module does what the permissive mode does, crudely: it simplifies the mesh welded by
position (no seams, so the budget is reachable with the plain quadric simplifier) and maps
each corner of the result back to one of the source vertices at that position, preferring the
UV island that most of the triangle's corners share. Triangles whose corners have no island in
common sample the texture across an island border, as every triangle of the sloppy simplifier
may; their number is reported, and such a corner takes the vertex whose UV is nearest the
other corners' (triangles stretched over 16x the median texels per area: 1954 of 4968, 2136
with any vertex, 3754 of 4832 with the sloppy simplifier).
On USNM_1145291 medium (25k) -> low, measured distance from the source (median / 99th
percentile / largest): sloppy 2.0 / 10.4 / 19.7 mm, this 1.5 / 9.0 / 14.2 mm; the
attribute-aware simplifier stalled at 11063 triangles and 1.3 / 15.5 / 36 mm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vrculture.pipeline.meshopt_ffi import simplify_with_attributes
from vrculture.pipeline.model import Primitive


@dataclass(frozen=True)
class AcrossSeams:
    indices: np.ndarray  # (M, 3) into the primitive's own vertices
    relative_error: float  # meshoptimizer's, relative to the mesh extent
    spanning: int  # triangles whose corners share no UV island


def position_groups(positions: np.ndarray) -> tuple[np.ndarray, int]:
    """(group per vertex, number of groups): vertices at bit-identical positions share one.
    meshoptimizer's hash remap, as in weld.py (np.unique over rows sorts: far slower)."""
    import meshoptimizer

    rows = np.ascontiguousarray(positions, dtype=np.float32) + np.float32(0.0)  # -0.0 = +0.0
    remap = np.zeros(rows.shape[0], dtype=np.uint32)
    if rows.shape[0] == 0:
        return remap.astype(np.int64), 0
    count = meshoptimizer.generate_vertex_remap(
        remap, np.arange(rows.shape[0], dtype=np.uint32), vertices=rows
    )
    return remap.astype(np.int64), int(count)


def has_seams(prim: Primitive) -> bool:
    """True when some position is used by more than one vertex (UV or normal seams)."""
    return position_groups(prim.positions)[1] < prim.vertex_count


def uv_islands(indices: np.ndarray, vertex_count: int) -> np.ndarray:
    """Connected component (island) label per vertex, over the triangles' shared vertices.

    Root hooking with pointer jumping (each round joins the trees an edge still crosses,
    smaller root wins): 1.6M triangles in one island, vertices shuffled, 7 rounds and 0.3 s.
    Tried first: propagating the smallest label over the triangles, 111 s there."""
    label = np.arange(vertex_count, dtype=np.int64)
    tris = np.asarray(indices, dtype=np.int64).reshape(-1, 3)
    u = tris[:, :2].reshape(-1)  # two edges per triangle connect all three corners
    v = tris[:, 1:].reshape(-1)
    while u.size:
        lu, lv = label[u], label[v]
        crossing = lu != lv
        if not crossing.any():
            break
        u, v, lu, lv = u[crossing], v[crossing], lu[crossing], lv[crossing]
        np.minimum.at(label, np.maximum(lu, lv), np.minimum(lu, lv))
        while True:  # every vertex straight to its root
            parent = label[label]
            if np.array_equal(parent, label):
                break
            label = parent
    return label


def simplify_across_seams(
    prim: Primitive,
    target_triangles: int,
    target_error: float,
    options: int,
    normal_weight: float = 0.0,
) -> AcrossSeams:
    """Simplify `prim` welded by position; corners mapped back to its vertices (see above)."""
    import meshoptimizer

    positions = np.ascontiguousarray(prim.positions, dtype=np.float32)
    group, groups = position_groups(positions)
    welded = np.zeros((groups, 3), dtype=np.float32)
    welded[group] = positions
    source = np.asarray(prim.indices, dtype=np.int64).reshape(-1, 3)
    welded_indices = np.ascontiguousarray(group[source].reshape(-1), dtype=np.uint32)
    if prim.normals is not None and normal_weight > 0:
        # The normals averaged per position keep creases and thin parts: on USNM_1145291 the
        # largest measured error fell from 22 mm (positions only) to 14 mm, the median rose
        # from 1.0 to 1.5 mm.
        normals = np.zeros(welded.shape, dtype=np.float64)
        np.add.at(normals, group, np.asarray(prim.normals, dtype=np.float64))
        normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
        flat, relative_error = simplify_with_attributes(
            welded_indices, welded, normals.astype(np.float32),
            np.full(3, normal_weight, dtype=np.float32),
            target_index_count=target_triangles * 3, target_error=target_error, options=options,
        )  # fmt: skip
    else:
        destination = np.zeros(welded_indices.size, dtype=np.uint32)
        error = np.zeros(1, dtype=np.float32)
        count = meshoptimizer.simplify(
            destination, welded_indices, welded, target_index_count=target_triangles * 3,
            target_error=target_error, options=options, result_error=error,
        )  # fmt: skip
        flat, relative_error = destination[:count], float(error[0])
    result = flat.astype(np.int64).reshape(-1, 3)
    islands = uv_islands(source, prim.vertex_count)
    indices, spanning = _back_to_vertices(result, group, islands, prim.uvs)
    return AcrossSeams(indices.astype(np.uint32), relative_error, spanning)


def _back_to_vertices(
    triangles: np.ndarray, group: np.ndarray, island: np.ndarray, uvs: np.ndarray | None = None
) -> tuple[np.ndarray, int]:
    """Welded-position triangles -> vertex triangles, one island per triangle where possible."""
    if triangles.size == 0:
        return np.zeros((0, 3), dtype=np.int64), 0
    n_islands = int(island.max()) + 1 if island.size else 1
    key = group * n_islands + island
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    # Vertices of each welded position, in `order`: [start[g], start[g] + size[g]).
    size = np.bincount(group, minlength=int(group.max()) + 1 if group.size else 0)
    start = np.cumsum(size) - size

    def lookup(g: np.ndarray, isl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        wanted = g * n_islands + isl
        at = np.minimum(np.searchsorted(sorted_key, wanted), sorted_key.size - 1)
        return order[at], sorted_key[at] == wanted

    # Candidate islands: those of every vertex at every corner; score = corners that have it.
    corner_groups = triangles.reshape(-1)
    per_corner = size[corner_groups]
    candidate_triangle = np.repeat(np.arange(corner_groups.size) // 3, per_corner)
    offsets = np.arange(per_corner.sum()) - np.repeat(np.cumsum(per_corner) - per_corner,
                                                      per_corner)  # fmt: skip
    candidate_island = island[order[np.repeat(start[corner_groups], per_corner) + offsets]]
    score = np.zeros(candidate_island.size, dtype=np.int64)
    for column in range(3):
        score += lookup(triangles[candidate_triangle, column], candidate_island)[1]
    # Best candidate per triangle: sort by (triangle, -score) and take each triangle's first.
    best = np.lexsort((-score, candidate_triangle))
    first = np.r_[True, candidate_triangle[best][1:] != candidate_triangle[best][:-1]]
    chosen_island = candidate_island[best][first]
    chosen_score = score[best][first]
    out = np.empty_like(triangles)
    found = np.empty(triangles.shape, dtype=bool)
    for column in range(3):
        vertex, found[:, column] = lookup(triangles[:, column], chosen_island)
        fallback = order[start[triangles[:, column]]]  # any vertex at that position
        out[:, column] = np.where(found[:, column], vertex, fallback)
    if uvs is not None and not found.all():
        _nearest_uv(out, found, triangles, uvs, order, start, size)
    return out, int((chosen_score < 3).sum())


def _nearest_uv(
    out: np.ndarray,
    found: np.ndarray,
    triangles: np.ndarray,
    uvs: np.ndarray,
    order: np.ndarray,
    start: np.ndarray,
    size: np.ndarray,
) -> None:
    """Corners without a vertex in their triangle's island take the vertex at their position
    whose UV is nearest the other corners' (neighbouring islands often sit side by side in
    the atlas, so the texture stretches less)."""
    uv = np.asarray(uvs, dtype=np.float64)
    weight = found[:, :, None]
    target = (uv[out] * weight).sum(axis=1) / np.maximum(weight.sum(axis=1), 1)
    rows, columns = np.nonzero(~found)
    groups = triangles[rows, columns]
    count = size[groups]
    owner = np.repeat(np.arange(rows.size), count)
    offsets = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    candidate = order[np.repeat(start[groups], count) + offsets]
    distance = ((uv[candidate] - target[rows][owner]) ** 2).sum(axis=1)
    best = np.lexsort((distance, owner))
    first = np.r_[True, owner[best][1:] != owner[best][:-1]]
    out[rows, columns] = candidate[best][first]
