"""Simplify one level of detail with meshoptimizer's attribute-aware simplifier.

`simplify_with_attributes` collapses edges by a quadric error on positions plus weighted
attributes (normals, UVs, colours), so UV seams, colour detail and shading survive; vertices
that share a position across a seam are kept together by the library. Borders are locked only
when a node has several primitives (they share edges that must not open up).

The reported error is meshoptimizer's relative `result_error` times `simplify_scale`: an
absolute distance in the model's units (metres after normalise). Levels are simplified as a
chain (full -> high -> medium -> low); the convert step adds the step errors, an upper bound on
the distance to the source.

Approaches (nefertiti 100k -> 25k): `simplify` 0.08 s; `simplify_with_attributes` with normals
0.11 s (kept: shading is the point of a scan); `simplify_sloppy` 0.02 s but ignores topology
and attributes (used only when the budget cannot be met otherwise, with a warning).
Chain on 1.6M triangles -> 500k/100k/25k/5k: 2.6 s; simplifying each level from the source:
4.9 s. Vertices renumbered in first-use order before simplifying (1.6M bench mesh, vertex order
scattered by subdivision): 1.6M -> 500k 1.14 -> 0.90 s CPU, 500k -> 100k unchanged, igea
unchanged (already in scan order), same error. SIMPLIFY_SPARSE (meant for an index buffer
using a small subset of the vertices): 0.98 s alone, 0.93 s with the renumbering, not kept:
every level's input references all its vertices, and it makes the error relative to the
subset's extents.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from vrculture.pipeline.meshopt_ffi import simplify_with_attributes
from vrculture.pipeline.model import Model, Primitive
from vrculture.pipeline.transforms.optimize import OptimizeOptions, optimize_primitive
from vrculture.pipeline.transforms.seams import has_seams, simplify_across_seams
from vrculture.pipeline.transforms.weld import drop_unused_vertices


@dataclass(frozen=True)
class SimplifyOptions:
    target_triangles: int  # the whole model's budget
    normal_weight: float = 0.5
    uv_weight: float = 1.0
    color_weight: float = 1.0
    max_relative_error: float = 1.0  # 1.0 = no cap: the triangle budget is the limit


# How a level was simplified, from the most to the least faithful (a level reports the least
# faithful method any of its primitives needed).
ATTRIBUTES = "attributes"  # meshoptimizer's attribute-aware simplifier, seams kept
ACROSS_SEAMS = "across-seams"  # welded by position, corners mapped back to UV islands
SLOPPY = "sloppy"  # meshoptimizer's topology-free simplifier
METHODS = (ATTRIBUTES, ACROSS_SEAMS, SLOPPY)


@dataclass
class SimplifyResult:
    model: Model
    error: float  # largest step error over primitives, in model units
    warnings: list[str] = field(default_factory=list)
    method: str = ATTRIBUTES


def _attributes(prim: Primitive, options: SimplifyOptions) -> tuple[np.ndarray, np.ndarray]:
    columns, weights = [], []
    for array, weight in ((prim.normals, options.normal_weight), (prim.uvs, options.uv_weight),
                          (prim.colors, options.color_weight)):
        if array is not None and weight > 0:
            columns.append(np.asarray(array, dtype=np.float32))
            weights += [weight] * array.shape[1]
    if not columns:
        return np.zeros((prim.vertex_count, 1), dtype=np.float32), np.zeros(1, dtype=np.float32)
    return (np.ascontiguousarray(np.hstack(columns)),
            np.asarray(weights, dtype=np.float32))


@dataclass(frozen=True)
class PrimitiveSimplified:
    primitive: Primitive
    error: float  # meshoptimizer's, in model units
    method: str  # ATTRIBUTES | ACROSS_SEAMS | SLOPPY (METHODS)
    note: str = ""  # why a fallback was used, for the warnings


def simplify_primitive(
    prim: Primitive, target_triangles: int, options: SimplifyOptions, *, lock_border: bool
) -> PrimitiveSimplified:
    import meshoptimizer

    target_triangles = max(0, target_triangles)
    if prim.triangle_count <= target_triangles:
        return PrimitiveSimplified(prim, 0.0, ATTRIBUTES)
    # An unused vertex at the same position as a used one looks like a seam to the library
    # and locks its neighbour (a 40x40 grid stopped at 1570 of 400 triangles): renumbering
    # the vertices in first-use order drops them, and the library's passes over the
    # vertices then follow the triangles (on the 1.6M bench mesh, whose vertex order is
    # scattered: 1.14 -> 0.90 s CPU for a 0.04 s renumbering).
    prim = optimize_primitive(prim, OptimizeOptions(vertex_cache=None))
    indices = np.ascontiguousarray(prim.indices.reshape(-1), dtype=np.uint32)
    positions = np.ascontiguousarray(prim.positions, dtype=np.float32)
    attributes, weights = _attributes(prim, options)
    flags = meshoptimizer.SIMPLIFY_LOCK_BORDER if lock_border else 0
    if weights.any():
        result, error = simplify_with_attributes(
            indices, positions, attributes, weights, target_index_count=target_triangles * 3,
            target_error=options.max_relative_error, options=flags,
        )
    else:
        # A bare scan (no normals, UVs or colours): the plain simplifier, 6 % less CPU on
        # 1.6M triangles for the same result.
        destination = np.zeros(len(indices), dtype=np.uint32)
        plain_error = np.zeros(1, dtype=np.float32)
        count = meshoptimizer.simplify(
            destination, indices, positions, target_index_count=target_triangles * 3,
            target_error=options.max_relative_error, options=flags, result_error=plain_error,
        )
        result, error = destination[:count], float(plain_error[0])
    method, note = ATTRIBUTES, ""
    if len(result) > target_triangles * 3 and has_seams(prim):
        # UV seams stopped the collapse short of the budget (meshoptimizer moves seam vertices
        # only along their seam and locks those where three islands meet): simplify across
        # them, which keeps the surface far closer than the sloppy simplifier (seams.py).
        stalled = len(result) // 3
        across = simplify_across_seams(
            prim, target_triangles, options.max_relative_error, flags, options.normal_weight
        )
        if len(across.indices) <= target_triangles:
            method, result = ACROSS_SEAMS, across.indices.reshape(-1)
            error = across.relative_error  # the stalled result is discarded
            note = (
                f"UV seams stopped the attribute-aware simplifier at {stalled} triangles; "
                f"simplified across them to {len(across.indices)} ({across.spanning} "
                "triangles sample the texture across a UV island border)"
            )
    if len(result) > target_triangles * 3:
        # Locked borders or seams can stop the collapse short of the budget; the budget is
        # a promise to the viewer, so fall back to the topology-free simplifier.
        destination = np.zeros(len(indices), dtype=np.uint32)
        sloppy_error = np.zeros(1, dtype=np.float32)
        count = meshoptimizer.simplify_sloppy(
            destination, indices, positions, target_index_count=target_triangles * 3,
            target_error=options.max_relative_error, result_error=sloppy_error,
        )
        result, error = destination[:count], max(error, float(sloppy_error[0]))
        method = SLOPPY
        note = (
            f"attribute-aware simplifier stopped above {target_triangles} triangles; "
            "used the sloppy simplifier to meet the budget"
        )
    scale = meshoptimizer.simplify_scale(positions)
    out = prim.copy(indices=np.asarray(result, dtype=np.uint32).reshape(-1, 3).copy())
    return PrimitiveSimplified(drop_unused_vertices(out), error * float(scale), method, note)


def simplify(model: Model, options: SimplifyOptions) -> SimplifyResult:
    total = model.triangle_count
    if total <= options.target_triangles:
        return SimplifyResult(model, 0.0)
    ratio = options.target_triangles / total
    worst = 0.0
    method = ATTRIBUTES
    warnings: list[str] = []
    nodes = []
    for node in model.nodes:
        lock = len(node.primitives) > 1
        prims = []
        for prim in node.primitives:
            target = int(prim.triangle_count * ratio)
            done = simplify_primitive(prim, target, options, lock_border=lock)
            if done.note:
                warnings.append(f"node {node.name!r}: {done.note}")
            worst = max(worst, done.error)
            method = max(method, done.method, key=METHODS.index)
            prims.append(done.primitive)
        nodes.append(replace(node, primitives=prims))
    return SimplifyResult(replace(model, nodes=nodes), worst, warnings, method)
