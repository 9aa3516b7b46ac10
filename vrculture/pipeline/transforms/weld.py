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

import numpy as np

from vrculture.pipeline.meshopt_ffi import unique_rows_remap
from vrculture.pipeline.model import Model, Primitive


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


def weld_stored_normals_primitive(prim: Primitive, normal_bits: int) -> Primitive:
    """Merge vertices whose positions, UVs and colours are identical and whose normals the
    compressed GLB stores alike (octahedral, `normal_bits`), as gltfpack's reindexing does.

    Crease splits whose two normals differ by less than a quantisation step are the usual
    case (the 1.6M bench mesh's full level: 278.8k -> 276.7k vertices, -0.9 % bytes). The
    first vertex's float normal is kept: the writer stores them all alike.
    """
    import meshoptimizer

    from vrculture.pipeline.writer.filters import encode_octahedral

    if prim.normals is None or prim.vertex_count == 0:
        return prim
    parts = [np.asarray(prim.positions, dtype=np.float32) + np.float32(0.0)]
    parts += [np.asarray(a, dtype=np.float32) + np.float32(0.0)
              for a in (prim.uvs, prim.colors) if a is not None]
    # The stored normal's 4 bytes, compared as bits (no arithmetic on them).
    parts.append(encode_octahedral(prim.normals, normal_bits).view(np.float32))
    rows = np.ascontiguousarray(np.hstack(parts))
    indices = np.ascontiguousarray(prim.indices.reshape(-1), dtype=np.uint32)
    remap = np.zeros(prim.vertex_count, dtype=np.uint32)
    unique = meshoptimizer.generate_vertex_remap(remap, indices, vertices=rows)
    if unique == prim.vertex_count:
        return prim
    first = np.zeros(unique, dtype=np.int64)
    # Reversed: of the vertices merged into a slot, the one the triangles use first wins.
    first[remap[indices][::-1]] = indices[::-1]
    new_indices = _without_degenerate(remap[indices].reshape(-1, 3), WeldOptions())
    return prim.with_vertices(first, np.ascontiguousarray(new_indices, dtype=np.uint32))


def weld_stored_normals(model: Model, normal_bits: int) -> Model:
    nodes = [
        replace(n, primitives=[weld_stored_normals_primitive(p, normal_bits)
                               for p in n.primitives])
        for n in model.nodes
    ]
    return replace(model, nodes=nodes)


def weld(model: Model, options: WeldOptions = WeldOptions()) -> Model:
    nodes = [
        replace(n, primitives=[weld_primitive(p, options) for p in n.primitives])
        for n in model.nodes
    ]
    return replace(model, nodes=nodes)
