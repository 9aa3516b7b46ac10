"""Vertex cache and vertex fetch optimisation (meshoptimizer), the last step before writing.

Triangles are reordered for the GPU's post-transform cache, then vertices are renumbered in
first-use order (`optimizeVertexFetchRemap`), which also drops unused vertices. Besides
rendering speed this is what makes EXT_meshopt_compression effective: the index codec and the
vertex delta codec both want this order.

Approaches (igea 269k triangles, meshopt-compressed bytes of positions / normals / indices):
- `optimize_vertex_cache` (Forsyth-like, best ACMR): 505 / 187 / 330 KB.
- `optimize_vertex_cache_strip` (cache + strip-like locality): 490 / 170 / 302 KB, 8 % less
  in all, a near-identical cache hit rate; kept (it is also what gltfpack does).
- `optimize_vertex_cache_fifo`: 502 / 181 / 379 KB.
Time on 1.6M triangles: strip order 0.3 s + fetch remap 0.02 s + numpy gathers 0.05 s.
The strip order is computed twice: the second pass, starting from strip order, compresses the
indices 0.5-1.2 % better (what gltfpack gets when it re-optimises our output). Tried instead:
meshopt_spatialSortTriangles before one strip pass (as cheap as one pass; nefertiti's indices
121.3 -> 119.3 KB but igea, ogre, mask, laurana bigger: over ten corpus meshes 900 bytes more
than two passes, and under gltfpack's size on 3 of them against 5), and spatial sort before
two passes (1.1 KB more).

Each strip pass is a different but equally cache-friendly order, and which one compresses
best varies by mesh by +-0.5 % (the vertex codec's byte deltas and the index codec's edge FIFO
react to small changes of the path). Given a `score` (what the writer's compressed streams
cost in an order), five orders are measured and the smallest kept: one and two strip passes
from the input order, one and two from a spatial sort of the triangles and one from the input
reversed (other starts, so other paths). Over the corpus full levels against gltfpack -cc (its
own strip pass over our plain output): worst 1.0019x with two passes, 1.0019x with the best
of 1-3 passes, 1.0014x adding spatial starts of 1-3 passes, 0.9999x adding the reversed start
(DamagedHelmet, an authored glTF, 1.0009x -> 0.997x). These five of those seven orders keep
that for 3 strip passes, a sort and 5 encodes of extra work (igea's 269k-triangle full level:
0.11 s -> ~0.35 s; all seven: 0.45 s; without the second spatial pass spot.obj was 1.0002x).
The streams are quantised once per primitive; each order only gathers and encodes them.
The chain searches only on its largest level (LOWER_LEVEL_ORDER below it): 5 strip passes of
0.043 s each at igea's 269k triangles are most of the search, encoding a candidate 0.013 s.
No candidate can be dropped from that search: each is the only winner on some corpus full
level by more than its margin under gltfpack (spot 40 bytes, DamagedHelmet 376, igea 556).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from vrculture.pipeline.meshopt_ffi import (
    spatial_sort_triangles,
    vertex_cache_strip,
    vertex_fetch_remap,
)
from vrculture.pipeline.model import Model, Primitive


@dataclass(frozen=True)
class OptimizeOptions:
    vertex_cache: str | None = "strip"  # "strip" | "triangle" | None
    vertex_fetch: bool = True
    # Without a score, strip order: where its passes start (see start_order) and how many.
    strip_start: str = "input"
    strip_passes: int = 2


# For compressed levels below the largest (no search there): one strip pass from a spatial
# sort, the order that wins most often on them (22 of 30 corpus primitives below the full
# level). Over those levels' bytes (3.27 MB) it stores 1.8 KB (0.05 %) more than the search,
# two passes from the input 7.1 KB (0.22 %) more, and it costs one strip pass instead of five.
LOWER_LEVEL_ORDER = OptimizeOptions(strip_start="spatial", strip_passes=1)


# cost(vertex order, indices into that order): bytes of a primitive's streams so stored
OrderCost = Callable[[np.ndarray, np.ndarray], int]
Score = Callable[[Primitive], OrderCost]
# (where the strip passes start, how many): the orders tried when a score is given
ORDERS_TRIED = (("input", 1), ("input", 2), ("spatial", 1), ("spatial", 2), ("reversed", 1))


def optimize_primitive(prim: Primitive, options: OptimizeOptions = OptimizeOptions(),
                       score: Score | None = None) -> Primitive:
    import meshoptimizer

    if prim.triangle_count == 0:
        return prim
    indices = np.ascontiguousarray(prim.indices.reshape(-1), dtype=np.uint32)
    if options.vertex_cache == "strip" and score is not None and options.vertex_fetch:
        return _smallest_strip_order(prim, indices, score)
    if options.vertex_cache == "strip":
        indices = start_order(options.strip_start, indices, prim.positions)
        # By default a second pass over its own output: indices 0.5-1.2 % smaller once
        # compressed (nefertiti 121.3 -> 120.1 KB, igea 302.7 -> 301.7 KB; a third gains nothing).
        for _ in range(options.strip_passes):
            indices = vertex_cache_strip(indices, prim.vertex_count)
    elif options.vertex_cache == "triangle":
        ordered = np.zeros_like(indices)
        meshoptimizer.optimize_vertex_cache(ordered, indices, len(indices), prim.vertex_count)
        indices = ordered
    if not options.vertex_fetch:
        return prim.copy(indices=indices.reshape(-1, 3))
    return _fetch_order(prim, indices)


def _smallest_strip_order(prim: Primitive, indices: np.ndarray, score: Score) -> Primitive:
    """Of the ORDERS_TRIED, the one `score` finds smallest (the first of equals)."""
    cost = score(prim)
    best: tuple[int, np.ndarray, np.ndarray] | None = None
    for start in dict.fromkeys(name for name, _ in ORDERS_TRIED):
        current = start_order(start, indices, prim.positions)
        for passes in range(1, max(p for name, p in ORDERS_TRIED if name == start) + 1):
            current = vertex_cache_strip(current, prim.vertex_count)
            if (start, passes) not in ORDERS_TRIED:
                continue
            order, remapped = _fetch_remap(current, prim.vertex_count)
            size = cost(order, remapped)
            if best is None or size < best[0]:
                best = (size, order, remapped)
    assert best is not None
    # The winner's renumbering is already known: no second fetch remap.
    return prim.with_vertices(best[1], best[2].reshape(-1, 3))


def _fetch_remap(indices: np.ndarray, vertex_count: int) -> tuple[np.ndarray, np.ndarray]:
    """(old vertex of each new one, indices renumbered) for first-use order of `indices`."""
    return _from_remap(*vertex_fetch_remap(indices, vertex_count), indices)


def _from_remap(remap: np.ndarray, unique: int,
                indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    used = remap != np.uint32(0xFFFFFFFF)
    order = np.empty(unique, dtype=np.int64)
    order[remap[used]] = np.flatnonzero(used)
    return order, remap[indices]


def start_order(start: str, indices: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The triangle list the strip passes start from: as given, spatially sorted, reversed."""
    if start == "spatial":
        return spatial_sort_triangles(indices, positions)
    if start == "reversed":
        return np.ascontiguousarray(indices.reshape(-1, 3)[::-1].reshape(-1))
    return indices


def _fetch_order(prim: Primitive, indices: np.ndarray) -> Primitive:
    """Vertices renumbered in first-use order of `indices` (unused ones dropped)."""
    remap, unique = vertex_fetch_remap(indices, prim.vertex_count)
    if unique == prim.vertex_count and (remap == np.arange(unique, dtype=np.uint32)).all():
        # Already in first-use order (a level the chain renumbered before simplifying it):
        # gathering every attribute through an identity would only copy them.
        return prim.copy(indices=indices.reshape(-1, 3))
    order, remapped = _from_remap(remap, unique, indices)
    return prim.with_vertices(order, remapped.reshape(-1, 3))


def optimize(model: Model, options: OptimizeOptions = OptimizeOptions(),
             score: Callable[[int, Primitive], OrderCost] | None = None) -> Model:
    """`score(node index, primitive)`: what its stored bytes cost in a given order; given,
    the strip order is chosen by it (see the module's note)."""
    def scorer(index: int) -> Score | None:
        if score is None:
            return None
        return lambda prim: score(index, prim)

    nodes = [
        replace(n, primitives=[optimize_primitive(p, options, scorer(i)) for p in n.primitives])
        for i, n in enumerate(model.nodes)
    ]
    return replace(model, nodes=nodes)
