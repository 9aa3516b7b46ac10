"""weld_stored: vertices the compressed GLB stores alike become one (issue 11, bytes)."""

from __future__ import annotations

import numpy as np
import trimesh
from pipeline_helpers import (
    accessor_array,
    primitive_from_trimesh,
    read_glb,
    single_node_model,
    textured_sphere,
)

from vrculture.pipeline.model import Primitive
from vrculture.pipeline.transforms.normals import repair_normals
from vrculture.pipeline.transforms.weld import weld, weld_stored
from vrculture.pipeline.writer.glb import write_glb


def _stored_corners(model) -> np.ndarray:
    """Per triangle, its corners' attributes as the GLB stores them, (triangles, 3, values):
    each triangle rotated to start at its smallest corner (the index codec may rotate them;
    winding kept), triangles sorted, so two files that draw the same triangles compare equal."""
    gltf, binary = read_glb(write_glb(model, {id(t): _image() for m in model.materials
                                              for t in m.textures()}).data)
    primitive = gltf["meshes"][0]["primitives"][0]
    indices = accessor_array(gltf, binary, primitive["indices"]).reshape(-1).astype(np.int64)
    vertices = np.hstack([accessor_array(gltf, binary, a).astype(np.int64)
                          for _, a in sorted(primitive["attributes"].items())])
    _, rank = np.unique(vertices, axis=0, return_inverse=True)  # a vertex's order by value
    ranks = rank.reshape(-1)[indices].reshape(-1, 3)
    start = np.argmin(ranks, axis=1)
    rotated = ranks[np.arange(len(ranks))[:, None], (start[:, None] + np.arange(3)) % 3]
    rotated = rotated[np.lexsort(rotated.T[::-1])]
    values = np.unique(vertices, axis=0)
    return values[rotated]


def _image():
    from vrculture.pipeline.textures import EncodedImage

    return EncodedImage(b"\xff\xd8\xff\xd9", "image/jpeg", "jpeg", 1, 1, 4)


def _jittered(model, seed: int = 5):
    """Every vertex duplicated for each triangle (a soup) and moved by a quarter grid step
    or less: what a reader gives for vertices its format wrote with too many digits."""
    prim = model.nodes[0].primitives[0]
    corners = prim.indices.reshape(-1)
    rng = np.random.default_rng(seed)
    extent = float(np.max(prim.positions.max(axis=0) - prim.positions.min(axis=0)))
    step = extent / (2**14 - 1)
    positions = prim.positions[corners].astype(np.float64)
    lo, hi = prim.positions.min(axis=0), prim.positions.max(axis=0)
    inside = ((positions > lo) & (positions < hi)).all(axis=1)
    positions[inside] += rng.uniform(-0.2, 0.2, (int(inside.sum()), 3)) * step
    soup = prim.copy(positions=positions.astype(np.float32),
                     normals=None if prim.normals is None else prim.normals[corners],
                     uvs=None if prim.uvs is None else prim.uvs[corners],
                     colors=None if prim.colors is None else prim.colors[corners],
                     indices=np.arange(len(corners), dtype=np.uint32).reshape(-1, 3))
    nodes = [model.nodes[0].__class__(model.nodes[0].name, [soup])]
    from dataclasses import replace

    return replace(model, nodes=nodes)


def test_merges_what_the_glb_stores_alike_and_stores_the_same_triangles():
    model = _jittered(repair_normals(single_node_model(primitive_from_trimesh(
        trimesh.creation.icosphere(subdivisions=3, radius=0.3)))))
    before = model.nodes[0].primitives[0]
    welded = weld_stored(model)
    after = welded.nodes[0].primitives[0]
    # A weld of equal floats keeps the jittered copies apart: the stored values merge them.
    assert weld(model).nodes[0].primitives[0].vertex_count > 0.9 * before.vertex_count
    # Merged down to (close to) the sphere's own vertices.
    assert 642 <= after.vertex_count < 0.5 * before.vertex_count  # the sphere has 642
    np.testing.assert_array_equal(_stored_corners(model), _stored_corners(welded))


def test_textured_uvs_merge_on_their_grid_and_bytes_stay_the_same():
    model = _jittered(repair_normals(textured_sphere()))
    welded = weld_stored(model)
    assert (welded.nodes[0].primitives[0].vertex_count
            < model.nodes[0].primitives[0].vertex_count)
    np.testing.assert_array_equal(_stored_corners(model), _stored_corners(welded))


def test_a_vertex_on_the_bounds_merges_only_with_an_exact_copy():
    # Vertex 0 sets the low corner; vertex 1 is a tenth of a grid step inside it (one stored
    # value): merging 1 into 0 is fine, but 0 into 1 would move the grid. Vertex 2 is an
    # exact copy of 0.
    step = 1.0 / (2**14 - 1)
    positions = np.array([[0, 0, 0], [0.1 * step, 0.1 * step, 0.1 * step], [0, 0, 0],
                          [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    normals = np.tile(np.array([[0, 0, 1]], np.float32), (6, 1))
    # Vertex 1 is used first, so a plain weld would keep it.
    indices = np.array([[1, 3, 4], [0, 3, 5], [2, 4, 5]], dtype=np.uint32)
    model = single_node_model(Primitive(positions, indices, normals=normals))
    out = weld_stored(model).nodes[0].primitives[0]
    np.testing.assert_array_equal(out.positions.min(axis=0), [0, 0, 0])
    assert out.vertex_count == 5  # 0 and 2 merged; 1 kept apart from them


def test_normals_the_glb_stores_alike_merge_and_others_stay_apart():
    from vrculture.pipeline.writer.filters import encode_octahedral

    # Three vertices at one position: two normals 0.05 degrees apart (one stored value at the
    # writer's 8 bits), one 10 degrees away (its own value).
    up = np.array([0.0, 0.0, 1.0])
    near = np.array([np.sin(np.radians(0.05)), 0.0, np.cos(np.radians(0.05))])
    far = np.array([np.sin(np.radians(10)), 0.0, np.cos(np.radians(10))])
    positions = np.array([[0, 0, 0]] * 3 + [[1, 0, 0], [0, 1, 0]], dtype=np.float32)
    normals = np.array([up, near, far, up, up], dtype=np.float32)
    indices = np.array([[0, 3, 4], [1, 3, 4], [2, 3, 4]], dtype=np.uint32)
    model = single_node_model(Primitive(positions, indices, normals=normals))
    welded = weld_stored(model)
    out = welded.nodes[0].primitives[0]
    assert out.vertex_count == 4
    assert out.indices[0, 0] == out.indices[1, 0] != out.indices[2, 0]
    stored = encode_octahedral(out.normals[out.indices[:, 0]], 8)
    np.testing.assert_array_equal(stored, encode_octahedral(normals[:3], 8))
    # The file stores the same triangles as before.
    np.testing.assert_array_equal(_stored_corners(model), _stored_corners(welded))
    # Nothing left that the GLB stores alike: a second pass leaves the primitive alone.
    assert weld_stored(welded).nodes[0].primitives[0] is out
