"""Decode triangle strips (PLY `tristrips` element, glTF TRIANGLE_STRIP mode) into triangles.

Strips are a flat index list where -1 (or any negative index) restarts a new strip. Within a
strip, triangle i uses indices (i, i+1, i+2); every second triangle has its winding reversed so
that all triangles of the strip face the same way. Triangles repeating an index (the "degenerate"
joins strip encoders use to stitch strips) are dropped. Fully vectorised: no Python loop per index.
"""

from __future__ import annotations

import numpy as np


def strips_to_triangles(strip: np.ndarray) -> np.ndarray:
    """(K,) int indices with negative restarts -> (M, 3) int64 triangles, consistent winding."""
    s = np.asarray(strip, dtype=np.int64).ravel()
    if s.size < 3:
        return np.zeros((0, 3), dtype=np.int64)
    position = np.arange(s.size, dtype=np.int64)
    restart = s < 0
    # Index of the first element of the strip each position belongs to: one past the last restart.
    last_restart = np.maximum.accumulate(np.where(restart, position, -1))
    offset_in_strip = position - (last_restart + 1)

    a, b, c = s[:-2], s[1:-1], s[2:]
    # A window is a triangle only if its three corners are in the same strip (no restart in it).
    valid = (a >= 0) & (b >= 0) & (c >= 0)
    odd = (offset_in_strip[:-2] % 2) == 1
    tri = np.stack([a, b, c], axis=1)
    tri[odd] = tri[odd][:, [1, 0, 2]]
    degenerate = (a == b) | (b == c) | (a == c)
    return tri[valid & ~degenerate]


def fan_to_triangles(fan: np.ndarray) -> np.ndarray:
    """(K,) indices of a glTF TRIANGLE_FAN -> (K-2, 3) triangles (0, i, i+1)."""
    f = np.asarray(fan, dtype=np.int64).ravel()
    if f.size < 3:
        return np.zeros((0, 3), dtype=np.int64)
    first = np.full(f.size - 2, f[0], dtype=np.int64)
    tri = np.stack([first, f[1:-1], f[2:]], axis=1)
    degenerate = (tri[:, 0] == tri[:, 1]) | (tri[:, 1] == tri[:, 2]) | (tri[:, 0] == tri[:, 2])
    return tri[~degenerate]
