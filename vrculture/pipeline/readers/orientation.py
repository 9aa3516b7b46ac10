"""Turn closed scans stored inside-out the right way round.

Some scan files are consistently wound but inside-out: every face points into the object, so
the viewer's back-face culling shows the far inside wall (the corpus's `horse.ply`: watertight,
signed volume negative, its normals pointing inwards too). For a closed, consistently oriented
surface the sign of the volume is unambiguous, so the reader flips such meshes and says so.
Open or inconsistent meshes are left exactly as stored: there the sign means nothing.

Cost: the signed volume is one pass over the triangles (column-wise: 0.11 s on 1.6M triangles,
against 0.21 s with (N, 3) gathers and np.cross); the closedness test (two sorts of the directed
edges) runs only when the volume is negative.
"""

from __future__ import annotations

import numpy as np

from vrculture.pipeline.model import Primitive

MATCHED_EDGES = (
    0.98  # fraction of directed edges whose reverse exists: "closed" despite a few holes
)


VOLUME_CHUNK = 1 << 17  # triangles per pass: bounded temporaries, gathers that stay in cache


def signed_volume(positions: np.ndarray, triangles: np.ndarray) -> float:
    # Column by column: nine 1-D gathers and the triple product written out take half the time
    # of (N, 3) gathers with np.cross (0.11 s against 0.21 s on a 1.6M-triangle scan).
    # In chunks of triangles: all at once, the nine float64 gathers and the products held
    # ~170 MB at 1.6M triangles, the conversion's peak memory.
    # Products in float32 about the centroid, summed in float64: only the sign of a closed
    # surface's volume is used, and the gathers move half the bytes (1.6M triangles: 0.14 ->
    # 0.09 s). Each coordinate is centred in float64 first, so georeferenced offsets cost no
    # precision.
    x, y, z = (np.ascontiguousarray(positions[:, k], dtype=np.float64) for k in range(3))
    x, y, z = ((c - c.mean()).astype(np.float32) for c in (x, y, z))
    total = 0.0
    for start in range(0, len(triangles), VOLUME_CHUNK):
        part = triangles[start:start + VOLUME_CHUNK]
        i, j, k = (np.ascontiguousarray(part[:, n]) for n in range(3))
        ax, ay, az = x[i], y[i], z[i]
        bx, by, bz = x[j], y[j], z[j]
        cx, cy, cz = x[k], y[k], z[k]
        triple = ax * (by * cz - bz * cy) + ay * (bz * cx - bx * cz) + az * (bx * cy - by * cx)
        total += float(triple.sum(dtype=np.float64))
    return total / 6.0


def _closed_and_consistent(positions: np.ndarray, triangles: np.ndarray) -> bool:
    if _edges_match(triangles.astype(np.int64), positions.shape[0]):
        return True
    if positions.shape[0] < 3 * triangles.shape[0]:
        return False  # an indexed mesh that is open: sharing positions would not close it
    # A triangle soup (STL stores every corner separately): corners at one position are one.
    _, ids = np.unique(positions, axis=0, return_inverse=True)
    return _edges_match(ids.reshape(-1)[triangles].astype(np.int64), int(ids.max()) + 1)


def _edges_match(t: np.ndarray, n: int) -> bool:
    forward = np.concatenate([t[:, 0] * n + t[:, 1], t[:, 1] * n + t[:, 2], t[:, 2] * n + t[:, 0]])
    backward = np.concatenate([t[:, 1] * n + t[:, 0], t[:, 2] * n + t[:, 1], t[:, 0] * n + t[:, 2]])
    forward.sort()
    if (forward[1:] == forward[:-1]).mean() > 1 - MATCHED_EDGES:
        return False  # the same directed edge twice: inconsistent winding or non-manifold
    found = np.searchsorted(forward, backward)
    found = np.minimum(found, forward.size - 1)
    return bool((forward[found] == backward).mean() >= MATCHED_EDGES)


def orient_outward(prim: Primitive, warnings: list[str], label: str) -> Primitive:
    """`prim` with its winding (and normals) flipped if it is a closed surface turned inside out."""
    if prim.triangle_count < 4 or signed_volume(prim.positions, prim.indices) >= 0:
        return prim
    if not _closed_and_consistent(prim.positions, prim.indices):
        return prim
    normals = prim.normals
    if normals is not None:
        v = prim.positions[prim.indices].astype(np.float64)
        face = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
        agree = np.einsum("ij,ij->i", face, normals[prim.indices[:, 0]]) > 0
        if agree.mean() > 0.5:  # the normals were inside-out with the faces: flip them too
            normals = -normals
    warnings.append(f"{label}: closed surface stored inside-out; turned its faces outward")
    return prim.copy(indices=np.ascontiguousarray(prim.indices[:, [0, 2, 1]]), normals=normals)
