"""Geometric error of a level: how far the source's surface points lie from the level's surface.

meshoptimizer's `result_error` from `simplify_with_attributes` folds the weighted attribute
error (normals, UVs, colours) into the same number, so it cannot be reported as a distance (a
flat grid with noisy colours, simplified without moving any point, reports 0.4). This measures
the geometry directly: the one-sided Hausdorff distance from a fixed sample of source vertices
to the simplified triangles, in metres.

Candidate triangles per point come from a uniform grid with cells about a simplified
triangle's size; each triangle is registered in the cells its box (grown by 1/8 cell)
touches. The search widens until the answer is exact: own cell, then the 26 neighbours for
points farther than the margin, then a grid 4x coarser for points still farther than a cell,
and so on; every triangle only when cells reach the model's size.
Closest point on a triangle: Ericson, Real-Time Collision Detection, 5.1.5, vectorised over
(point, candidate) pairs.

Approaches (5000 samples, per level): all pairs in chunks: 4-9 s on a 328k-triangle sphere;
cells twice a triangle's size with boxes grown by half a cell: 509k pairs, 0.4 s; cells one
triangle's size, boxes grown by 1/8 cell, own cell only: 0.03-0.15 s but on USNM it reported
89 mm where the truth is 4.5 mm; then all triangles for points beyond the 26 neighbours: exact
but 3 s and 1.2 GB on the 1.6M-triangle bench mesh; kept: coarser grids in turn, exact.
Registering every triangle in every cell it touched cost 0.6-0.7 s CPU on the 500k full level of
the 1.6M bench mesh (2.6M triangle-cell pairs, argsorted) for 5000 points that read ~5 % of
them. Now each search registers only the triangles near the cells it visits (one lookup per
triangle in the visited cells dilated by 2, then an exact filter of the pairs): 0.3-0.4 s,
same results to the bit (igea 269k: 0.21 -> 0.15 s). Pairs in int32 and per-column bounds
(see columns.py): full level 0.21 -> 0.16 s in-process. Every sample point resolves in its own
cell on the corpus (~35 candidate triangles each); measuring only the triangles whose boxes are
not farther than the point's best distance so far (the nearest box first) leaves ~1/4 of the
exact distances, same results to the bit: igea's three levels 0.141 -> 0.120 s, the 1.6M bench
mesh's four 0.396 -> 0.332 s. What remains is mostly registering the triangles in the visited
cells: 5000 points over the surface visit nearly every cell at a level's triangle size.
Not done: fewer samples (the maximum over fewer points can only be lower, a less faithful
number); reporting meshoptimizer's own error instead for position-only meshes: it is a
quadric estimate, not this distance (1.6M bench mesh, metres, simplifier/measured: full
4.3e-5/1.25e-4, high 1.4e-4/1.9e-4, low 1.14e-3/1.10e-3; igea high 1.8e-5/5.9e-5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vrculture.pipeline.columns import column_max, column_min, take_rows
from vrculture.pipeline.model import Model

MAX_CELLS_PER_TRIANGLE = 1024
REGISTER_BLOCK = 1 << 16  # triangles expanded into (triangle, cell) pairs at once
# A triangle whose box is farther than a point's best distance by this share (and this share
# of a cell) is skipped: far above float64 rounding, far below any distance reported.
BOX_SLACK = 1e-6


@dataclass(frozen=True)
class DeviationOptions:
    samples: int = 5_000  # source vertices measured (all when fewer)
    seed: int = 0  # a fixed sample: the same input reports the same error
    max_pairs: int = 65_536  # (point, triangle) pairs at once: ~500 bytes each in flight


def _closest_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Distance from points p to triangles (a, b, c), row by row."""
    ab, ac, ap = b - a, c - a, p - a
    d1 = np.einsum("ij,ij->i", ab, ap)
    d2 = np.einsum("ij,ij->i", ac, ap)
    bp = p - b
    d3 = np.einsum("ij,ij->i", ab, bp)
    d4 = np.einsum("ij,ij->i", ac, bp)
    cp = p - c
    d5 = np.einsum("ij,ij->i", ab, cp)
    d6 = np.einsum("ij,ij->i", ac, cp)
    va = d3 * d6 - d5 * d4
    vb = d5 * d2 - d1 * d6
    vc = d1 * d4 - d3 * d2
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = va + vb + vc
        v = np.where(denom != 0, vb / denom, 0.0)
        w = np.where(denom != 0, vc / denom, 0.0)
        closest = a + ab * v[:, None] + ac * w[:, None]  # inside the face
        # Regions outside the face, from the most specific to the least (later wins);
        # nan_to_num: 0/0 on degenerate (zero-length) edges.
        t_bc = np.clip(np.nan_to_num((d4 - d3) / ((d4 - d3) + (d5 - d6))), 0, 1)
        edge_bc = (va <= 0) & (d4 - d3 >= 0) & (d5 - d6 >= 0)
        closest = np.where(edge_bc[:, None], b + (c - b) * t_bc[:, None], closest)
        t_ac = np.clip(np.nan_to_num(d2 / (d2 - d6)), 0, 1)
        edge_ac = (vb <= 0) & (d2 >= 0) & (d6 <= 0)
        closest = np.where(edge_ac[:, None], a + ac * t_ac[:, None], closest)
        t_ab = np.clip(np.nan_to_num(d1 / (d1 - d3)), 0, 1)
        edge_ab = (vc <= 0) & (d1 >= 0) & (d3 <= 0)
        closest = np.where(edge_ab[:, None], a + ab * t_ab[:, None], closest)
    closest = np.where(((d6 >= 0) & (d5 <= d6))[:, None], c, closest)
    closest = np.where(((d3 >= 0) & (d4 <= d3))[:, None], b, closest)
    closest = np.where(((d1 <= 0) & (d2 <= 0))[:, None], a, closest)
    diff = p - closest
    return np.sqrt(np.einsum("ij,ij->i", diff, diff))


def surface_deviation(source: Model, level: Model,
                      options: DeviationOptions = DeviationOptions()) -> float:
    """Largest distance (model units) from sampled source vertices to the level's surface."""
    return sample_deviation(source_sample(source, options), level, options)


def source_sample(source: Model, options: DeviationOptions = DeviationOptions()) -> np.ndarray:
    """The fixed sample of source vertices the error is measured from, (k, 3) float64: taken
    once per conversion, so the source itself need not outlive the first level."""
    # Welded sources reference every vertex (np.unique over the indices would cost 0.5 s at
    # 1.6M triangles for nothing).
    prims = [p.positions for p in source.primitives() if p.triangle_count]
    if not prims:
        return np.zeros((0, 3))
    points = np.concatenate(prims)
    if len(points) > options.samples:
        pick = np.random.default_rng(options.seed).choice(len(points), options.samples,
                                                          replace=False)
        points = points[pick]
    # Widened after sampling: the whole source in float64 was 19 MB at 800k vertices.
    return points.astype(np.float64)


def sample_deviation(points: np.ndarray, level: Model,
                     options: DeviationOptions = DeviationOptions()) -> float:
    """Largest distance from `points` (source_sample) to the level's surface."""
    tris = _Triangles(level)
    if len(points) == 0 or len(tris) == 0:
        return 0.0
    # Boxes from the corners (a reduce over the middle axis of (N, 3, 3) is 10x slower), in
    # the positions' precision (float32 after normalise); distances themselves are float64.
    corners = tris.corners()
    lo_t = np.minimum(np.minimum(corners[0], corners[1]), corners[2])
    hi_t = np.maximum(np.maximum(corners[0], corners[1]), corners[2])
    box = hi_t - lo_t
    sizes = np.maximum(np.maximum(box[:, 0], box[:, 1]), box[:, 2])
    del corners, box  # 24 MB at 500k triangles, not needed by the searches
    lo_all = np.minimum(column_min(lo_t), column_min(points))
    hi_all = np.maximum(column_max(hi_t), column_max(points))
    extent = float(np.max(hi_all - lo_all))
    # Cells the size of a typical triangle (at most ~256 per axis): few candidates per point.
    # The upper median by np.partition: np.median imports numpy.ma (10 ms of start-up).
    typical = float(np.partition(sizes, len(sizes) // 2)[len(sizes) // 2])
    cell = max(typical, extent / 256, 1e-9)
    best = np.full(len(points), np.inf)
    rows = np.arange(len(points))
    first_grid = True
    # Exact where the answer is provably inside the searched cells: a distance found below
    # the margin cannot be beaten from another cell; below one cell after searching the 26
    # neighbours neither. Points still farther (thin parts the level collapsed) go to a grid
    # with cells 4x larger, and in the end to every triangle.
    while len(rows) and cell < extent:
        grid = _Grid(tris, lo_t, hi_t, lo_all, hi_all, cell)
        if first_grid and len(grid.big):
            # Not registered in any cell: measured for every point, once.
            _against(points, tris[grid.big], best, options.max_pairs)
        first_grid = False
        grid.search(points, rows, [(0, 0, 0)], best, options.max_pairs)
        rows = rows[best[rows] > grid.margin]
        grid.search(points, rows, [(dx, dy, dz) for dx in (-1, 0, 1) for dy in (-1, 0, 1)
                                   for dz in (-1, 0, 1) if (dx, dy, dz) != (0, 0, 0)],
                    best, options.max_pairs)
        rows = rows[best[rows] > cell]
        cell *= 4
    if len(rows):
        sub = best[rows].copy()
        _against(points[rows], tris[:], sub, options.max_pairs)
        best[rows] = sub
    return float(best.max())


class _Triangles:
    """A level's triangles, gathered on demand as (k, 3, 3) float64 (not all at once: 36 MB
    and 0.1 s at 500k triangles for the few thousand a search reads).

    Positions stay in the level's own precision (float32 after normalise): widening them all
    to float64 and narrowing them again for the boxes cost two copies per level for nothing,
    and boxes in the positions' own precision hold their triangles exactly, which skipping
    far boxes relies on (a float64 level's boxes rounded to float32 would skip nearer ones)."""

    def __init__(self, level: Model) -> None:
        prims = [p for p in level.primitives() if p.triangle_count]
        if len(prims) == 1:  # the usual case: no offsets to add, no copies
            self.positions, self.indices = prims[0].positions, prims[0].indices
            return
        offsets = np.cumsum([0] + [p.vertex_count for p in prims])
        self.positions = (np.concatenate([p.positions for p in prims])
                          if prims else np.zeros((0, 3), dtype=np.float32))
        self.indices = (np.concatenate([p.indices.astype(np.int64) + offset
                                        for p, offset in zip(prims, offsets, strict=False)])
                        if prims else np.zeros((0, 3), dtype=np.int64))

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, selection) -> np.ndarray:
        return take_rows(self.positions, self.indices[selection]).astype(np.float64)

    def corners(self) -> list[np.ndarray]:
        """Each corner of every triangle, in the positions' own precision."""
        return [take_rows(self.positions, self.indices[:, k]) for k in range(3)]


class _Grid:
    """Triangles in the uniform cells their boxes (grown by 1/8 cell) touch, registered per
    search only in the cells that search visits (the others would never be read)."""

    def __init__(self, tris, lo_t, hi_t, lo_all, hi_all, cell: float) -> None:
        self.tris = tris
        self.lo, self.hi = lo_t, hi_t
        self.cell = cell
        self.margin = cell / 8
        self.origin = lo_all - cell
        # Keys fit int32: cells are at least 1/256 of the model's size.
        self.first = ((lo_t - (self.origin + self.margin)) / cell).astype(np.int32)
        self.last = ((hi_t - (self.origin - self.margin)) / cell).astype(np.int32)
        self.dims = np.floor((hi_all + cell * 2 - self.origin) / cell).astype(np.int64) + 1
        self.span = self.last - self.first + 1
        self.cells_per_tri = self.span[:, 0] * self.span[:, 1] * self.span[:, 2]
        # The few triangles spanning very many cells (slivers across a part) are candidates
        # for every point instead.
        self.big = np.flatnonzero(self.cells_per_tri > MAX_CELLS_PER_TRIANGLE)
        self.small = np.flatnonzero(self.cells_per_tri <= MAX_CELLS_PER_TRIANGLE)

    def key(self, ix, iy, iz):
        dy, dz = int(self.dims[1]), int(self.dims[2])
        return (ix * dy + iy) * dz + iz

    def _register(self, visited_cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(triangle, cell key) pairs sorted by key, for the cells a search visits.

        Only triangles near a visited cell are expanded into pairs: one touching a visited
        cell c and at most 3 cells wide per axis (nearly all) has its first cell within
        c - (0..2) per axis, so one lookup in that dilated set finds them (a superset; the
        pairs are then filtered exactly). Wider ones are always expanded.
        """
        limit = self.dims - 1
        visited = np.zeros(int(np.prod(self.dims)), dtype=bool)
        visited[self.key(*np.clip(visited_cells, 0, limit).T)] = True
        near = np.zeros(len(visited), dtype=bool)
        for dx in range(3):
            for dy in range(3):
                for dz in range(3):
                    shifted = np.clip(visited_cells - (dx, dy, dz), 0, limit)
                    near[self.key(*shifted.T)] = True
        small = self.small
        first = self.first[small].astype(np.int64)
        span = self.span[small]
        # Column by column: any(axis=1) over 3 items per row is 5x slower.
        hit = (span[:, 0] > 3) | (span[:, 1] > 3) | (span[:, 2] > 3)
        hit |= near[self.key(first[:, 0], first[:, 1], first[:, 2])]
        small = small[hit]
        # In blocks of triangles: the unfiltered pairs of a whole level (2.6M at 500k
        # triangles, six arrays of them) were ~150 MB, the chain's peak memory; the pairs
        # kept, in the same order, are a small share.
        kept = [self._pairs(small[start:start + REGISTER_BLOCK], visited)
                for start in range(0, len(small), REGISTER_BLOCK)]
        tri_of = np.concatenate([k[0] for k in kept]) if kept else np.zeros(0, np.int64)
        cell_of = np.concatenate([k[1] for k in kept]) if kept else np.zeros(0, np.int32)
        order = np.argsort(cell_of)
        return tri_of[order], cell_of[order]

    def _pairs(self, small: np.ndarray, visited: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(triangle, cell key) pairs of `small`'s triangles that lie in visited cells.

        A triangle at most 2 cells wide per axis (nearly all: cells are a typical triangle's
        size) lies in its first cell and the neighbours +1 along its wide axes: 8 lookups in
        the visited set over all of them, instead of expanding every (triangle, cell) pair
        with integer divisions and filtering (35 % less time, the same pairs). Wider ones are
        expanded.
        """
        span = self.span[small]
        first = self.first[small]
        base = self.key(first[:, 0], first[:, 1], first[:, 2])
        dy, dz = int(self.dims[1]), int(self.dims[2])
        wide = (span[:, 0] > 2) | (span[:, 1] > 2) | (span[:, 2] > 2)
        narrow = ~wide
        tris, cells = [], []
        if wide.any():
            tri_of, cell_of = self._expanded_pairs(small[wide], visited)
            tris.append(tri_of)
            cells.append(cell_of)
        along = [(narrow, narrow & (span[:, k] > 1)) for k in range(3)]
        for ox in (0, 1):
            for oy in (0, 1):
                for oz in (0, 1):
                    mask = along[0][ox] & along[1][oy] & along[2][oz]
                    key = base + np.int32((ox * dy + oy) * dz + oz)
                    take = np.flatnonzero(mask)
                    take = take[visited[key[take]]]
                    tris.append(small[take])
                    cells.append(key[take])
        return np.concatenate(tris), np.concatenate(cells)

    def _expanded_pairs(self, small: np.ndarray,
                        visited: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`_pairs` for any width: every (triangle, cell) pair, then the visited ones."""
        span = self.span
        reps = self.cells_per_tri[small]
        tri_of = np.repeat(small, reps)
        # int32 throughout (keys < 2^31: at most ~260 cells per axis): the divisions below
        # are the dearest part of the registration and run faster on 32-bit integers.
        starts = np.cumsum(reps, dtype=np.int64) - reps
        local = (np.arange(len(tri_of), dtype=np.int64) - np.repeat(starts, reps)).astype(np.int32)
        sy, sz = span[tri_of, 1], span[tri_of, 2]
        first = self.first
        cell_of = self.key(first[tri_of, 0] + local // (sy * sz),
                           first[tri_of, 1] + (local // sz) % sy, first[tri_of, 2] + local % sz)
        wanted = visited[cell_of]
        return tri_of[wanted], cell_of[wanted]

    def search(self, points, rows, offsets, best, max_pairs) -> None:
        """best[rows] = min over the triangles registered in the given neighbour cells."""
        if not len(rows):
            return
        cells = np.floor((points[rows] - self.origin) / self.cell).astype(np.int64)
        point_keys = [self.key(cells[:, 0] + dx, cells[:, 1] + dy, cells[:, 2] + dz)
                      for dx, dy, dz in offsets]
        tri_of, cell_of = self._register(
            np.concatenate([cells + offset for offset in np.array(offsets)]))
        for point_key in point_keys:
            start = np.searchsorted(cell_of, point_key, side="left")
            counts = np.searchsorted(cell_of, point_key, side="right") - start
            step = max(1, int(max_pairs // max(1, counts.max(initial=1))))
            for begin in range(0, len(rows), step):
                part = slice(begin, begin + step)
                reps = counts[part]
                if reps.sum() == 0:
                    continue
                owner = np.repeat(rows[part], reps)
                within = np.arange(len(owner)) - np.repeat(np.cumsum(reps) - reps, reps)
                tri = tri_of[np.repeat(start[part], reps) + within]
                self._nearest(points, owner, tri, reps, best)

    def _nearest(self, points, owner, tri, reps, best) -> None:
        """best[owner] = min(best, distance to tri), pairs grouped by owner (reps each).

        A triangle's box is never farther than the triangle: each point is first measured to
        the triangles whose boxes are nearest to it, and then only to those whose boxes are
        not farther than that (4-5x fewer exact distances); a skipped triangle cannot lower
        the minimum, so the result is the same to the bit (the slack covers rounding)."""
        p = points[owner]
        gap = np.maximum(np.maximum(self.lo[tri] - p, p - self.hi[tri]), 0.0)
        box = np.sqrt(np.einsum("ij,ij->i", gap, gap))
        used = reps[reps > 0]
        nearest_box = np.minimum.reduceat(box, np.cumsum(used) - used)
        first = box <= np.repeat(nearest_box, used)
        for pairs in (first, ~first):
            if pairs is not first:
                pairs &= box <= best[owner] * (1 + BOX_SLACK) + BOX_SLACK * self.cell
            t = self.tris[tri[pairs]]
            distance = _closest_distance(p[pairs], t[:, 0], t[:, 1], t[:, 2])
            np.minimum.at(best, owner[pairs], distance)


def _against(points: np.ndarray, tris: np.ndarray, best: np.ndarray, max_pairs: int) -> None:
    """best = min(best, distance to any of `tris`), in chunks of bounded size."""
    step = max(1, max_pairs // max(1, len(tris)))
    for begin in range(0, len(points), step):
        rows = np.arange(begin, min(begin + step, len(points)))
        p = np.repeat(points[rows], len(tris), axis=0)
        t = np.tile(tris, (len(rows), 1, 1))
        distance = _closest_distance(p, t[:, 0], t[:, 1], t[:, 2]).reshape(len(rows), -1)
        best[rows] = np.minimum(best[rows], distance.min(axis=1))
