"""Weld: merge vertices whose every attribute is bit-identical (OBJ/STL readers split them).

Approaches tried on igea STL (806k unwelded vertices, 269k triangles):
- numpy `np.unique(rows, axis=0, return_inverse=True)` on the packed float rows: 0.61 s.
- meshoptimizer `generate_vertex_remap` (hash table in C) on the same rows: 0.02 s, plus a
  scatter to pick one source vertex per slot: 0.06 s in all. Kept.
Exact matching only: merging "nearly equal" vertices would move geometry and is the
simplifier's job. Degenerate triangles (two equal corners after welding) are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from vrculture.pipeline.meshopt_ffi import unique_rows_remap
from vrculture.pipeline.model import Model, Primitive

if TYPE_CHECKING:
    from vrculture.pipeline.writer.glb import WriterOptions


@dataclass(frozen=True)
class WeldOptions:
    drop_degenerate: bool = True  # triangles that collapse to a line or point after welding


def vertex_rows(prim: Primitive) -> np.ndarray:
    """All attributes of each vertex side by side as float32 rows (the welding key)."""
    parts = [prim.positions]
    parts += [a for a in (prim.normals, prim.uvs, prim.colors) if a is not None]
    return np.ascontiguousarray(np.hstack([np.asarray(a, dtype=np.float32) for a in parts]))


def _without_degenerate(indices: np.ndarray, options: WeldOptions) -> np.ndarray:
    if not options.drop_degenerate:
        return indices
    a, b, c = indices[:, 0], indices[:, 1], indices[:, 2]
    keep = (a != b) & (b != c) & (a != c)
    return indices if keep.all() else np.ascontiguousarray(indices[keep])


def weld_primitive(prim: Primitive, options: WeldOptions = WeldOptions()) -> Primitive:
    if prim.vertex_count == 0:
        return prim
    rows = vertex_rows(prim)
    # +0.0 and -0.0 are different bits but the same vertex.
    rows += np.float32(0.0)
    indices = np.ascontiguousarray(prim.indices.reshape(-1), dtype=np.uint32)
    # Slots in vertex order, over the rows rather than through the index buffer (which holds
    # each vertex ~6 times: 0.09 -> 0.05 s on the 1.6M bench mesh); unused vertices are
    # dropped after.
    remap, unique = unique_rows_remap(rows)
    used = np.zeros(prim.vertex_count, dtype=bool)
    used[indices] = True
    all_used = bool(used.all())
    if unique == prim.vertex_count and all_used:
        # Nothing to merge and nothing unused (scanner PLY/OBJ): keep the vertex order.
        return prim.copy(indices=_without_degenerate(prim.indices, options))
    new_indices = _without_degenerate(remap[indices].reshape(-1, 3), options)
    # Any source vertex mapped to each new slot will do: they are identical. (A scatter, not
    # np.unique, which sorts and took 0.5 s of the 0.58 s on igea.)
    first = np.zeros(unique, dtype=np.int64)
    first[remap] = np.arange(prim.vertex_count)
    welded = prim.with_vertices(first, np.ascontiguousarray(new_indices, dtype=np.uint32))
    return welded if all_used and len(new_indices) == prim.triangle_count \
        else drop_unused_vertices(welded)


def drop_unused_vertices(prim: Primitive) -> Primitive:
    """Remove vertices no triangle references, keeping the order of the others."""
    used = np.zeros(prim.vertex_count, dtype=bool)
    used[prim.indices.reshape(-1)] = True
    if used.all():
        return prim
    new_id = np.cumsum(used, dtype=np.int64) - 1
    return prim.with_vertices(used, new_id[prim.indices].astype(np.uint32))


def weld_stored(model: Model, options: WriterOptions | None = None) -> Model:
    """Merge vertices the compressed GLB stores alike: equal quantised positions, octahedral
    normals, quantised UVs and colours (the writer's own streams), then drop the triangles
    that leaves degenerate (zero area in the GLB already).

    Crease splits whose two normals differ by less than a quantisation step are the usual
    case. A superset of gltfpack's reindexing (which compares float positions and UVs):
    DamagedHelmet 14351 -> 14344 vertices, gltfpack 14342 -> 14344 vs its own; mask, beast a
    few. A vertex on the bounds of its node's position grid or its
    material's UV grid merges only with exact copies, so the grids the writer computes
    afterwards stay the same and every stored value stays what it was.
    """
    from vrculture.pipeline.writer.glb import (
        WriterOptions,
        position_grids,
        quantize_positions,
        stored_streams,
    )
    from vrculture.pipeline.writer.glb import uv_grids as material_uv_grids

    options = options or WriterOptions()
    grids = position_grids(model, options)
    uvs = material_uv_grids(model, options)
    nodes = []
    for index, node in enumerate(model.nodes):
        prims = []
        for prim in node.primitives:
            if index not in grids or prim.triangle_count == 0:
                prims.append(prim)
                continue
            lo, step = grids[index]
            stored = quantize_positions(prim.positions, lo, step, options.position_bits)
            uv_grid = uvs.get(prim.material)
            streams = [s.data for s in stored_streams(prim, stored, options, uv_grid)]
            streams.append(_bounds_guard(prim, lo, lo + step * ((1 << options.position_bits) - 1),
                                         uv_grid))
            prims.append(_merge_rows(prim, streams))
        nodes.append(replace(node, primitives=prims))
    return replace(model, nodes=nodes)


def _bounds_guard(prim: Primitive, lo: np.ndarray, hi: np.ndarray,
                  uv_grid: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """Per vertex: its float position and UV bits where it lies on a grid's bounds (it may
    set them), zeros elsewhere: such a vertex only merges with an exact copy."""
    positions = np.asarray(prim.positions, dtype=np.float32)
    lo32, hi32 = lo.astype(np.float32), hi.astype(np.float32)
    extreme = ((positions <= lo32) | (positions >= hi32)).any(axis=1)
    parts = [positions]
    if prim.uvs is not None and uv_grid is not None:
        uv = np.asarray(prim.uvs, dtype=np.float32)
        low = uv_grid[0].astype(np.float32)
        high = (uv_grid[0] + uv_grid[1]).astype(np.float32)
        extreme |= ((uv <= low) | (uv >= high)).any(axis=1)
        parts.append(uv)
    parts.append(np.ones((len(positions), 1), dtype=np.float32))  # a flag: (0, 0, 0) too
    guard = np.ascontiguousarray(np.hstack(parts)) + np.float32(0.0)  # -0.0 == 0.0
    guard[~extreme] = 0.0
    return guard


def _merge_rows(prim: Primitive, streams: list[np.ndarray]) -> Primitive:
    """Merge vertices whose bytes across `streams` are equal; the first one used is kept."""
    table = np.hstack([np.ascontiguousarray(a).view(np.uint8).reshape(prim.vertex_count, -1)
                       for a in streams])
    remap, unique = unique_rows_remap(np.ascontiguousarray(table))
    if unique == prim.vertex_count:
        return prim
    indices = np.ascontiguousarray(prim.indices.reshape(-1), dtype=np.uint32)
    first = np.empty(unique, dtype=np.int64)
    first[remap[::-1]] = np.arange(prim.vertex_count)[::-1]  # unused slots: lowest vertex
    # Reversed: of the vertices merged into a slot, the one the triangles use first wins.
    first[remap[indices][::-1]] = indices[::-1]
    new_indices = _without_degenerate(remap[indices].reshape(-1, 3), WeldOptions())
    return prim.with_vertices(first, np.ascontiguousarray(new_indices, dtype=np.uint32))


def weld(model: Model, options: WeldOptions = WeldOptions()) -> Model:
    nodes = [
        replace(n, primitives=[weld_primitive(p, options) for p in n.primitives])
        for n in model.nodes
    ]
    return replace(model, nodes=nodes)
