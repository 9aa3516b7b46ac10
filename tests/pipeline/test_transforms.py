"""normalise, weld, simplify and optimise on small known shapes."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from pipeline_helpers import primitive_from_trimesh, single_node_model, textured_sphere

from vrculture.pipeline.model import Model, Node, Primitive
from vrculture.pipeline.transforms.normalise import NormaliseOptions, normalise
from vrculture.pipeline.transforms.normals import repair_normals
from vrculture.pipeline.transforms.optimize import optimize
from vrculture.pipeline.transforms.simplify import SimplifyOptions, simplify
from vrculture.pipeline.transforms.weld import weld, weld_primitive


def _box_mm() -> Model:
    # 100 x 200 x 300 mm, z is up (a scanner's convention), off centre.
    box = trimesh.creation.box((100.0, 200.0, 300.0))
    box.apply_translation((500.0, -40.0, 1000.0))
    return single_node_model(primitive_from_trimesh(box))


@pytest.mark.parametrize("up, height_axis", [("+Z", 2), ("-Z", 2), ("+X", 0), ("-Y", 1),
                                             ("+Y", 1), ("-X", 0)])
def test_normalise_turns_the_up_axis_to_y_and_rests_on_the_floor(up, height_axis):
    model = normalise(_box_mm(), NormaliseOptions(up=up, scale=0.001)).model
    lo, hi = model.bounds()
    sizes = np.array([0.1, 0.2, 0.3])
    assert hi[1] - lo[1] == pytest.approx(sizes[height_axis], abs=1e-6)
    assert lo[1] == pytest.approx(0.0, abs=1e-6)
    assert (lo[0] + hi[0]) / 2 == pytest.approx(0.0, abs=1e-6)
    assert (lo[2] + hi[2]) / 2 == pytest.approx(0.0, abs=1e-6)


def test_normalise_rotation_keeps_winding_outward():
    sphere = trimesh.creation.icosphere(2)
    model = single_node_model(primitive_from_trimesh(sphere))
    out = normalise(model, NormaliseOptions(up="+Z")).model.nodes[0].primitives[0]
    mesh = trimesh.Trimesh(out.positions, out.indices, process=False)
    assert mesh.volume > 0  # counter-clockwise faces still point outwards


def test_normalise_to_a_real_height():
    model = normalise(_box_mm(), NormaliseOptions(up="+Z", height_m=0.48))
    lo, hi = model.model.bounds()
    assert hi[1] - lo[1] == pytest.approx(0.48, rel=1e-6)
    assert model.scale == pytest.approx(0.48 / 300.0)


def test_weld_merges_identical_vertices_only():
    box = trimesh.creation.box()
    soup_positions = np.asarray(box.vertices, dtype=np.float32)[box.faces.reshape(-1)]
    uvs = np.zeros((36, 2), dtype=np.float32)
    uvs[18:] = 0.5  # half the corners carry another UV: a seam that must survive
    corners = np.arange(36, dtype=np.uint32).reshape(-1, 3)
    prim = Primitive(positions=soup_positions, indices=corners, uvs=uvs)
    welded = weld_primitive(prim)
    assert welded.triangle_count == 12
    assert 8 < welded.vertex_count < 36
    # Every triangle still has its own corners' positions and UVs.
    np.testing.assert_array_equal(welded.positions[welded.indices].reshape(-1, 3), soup_positions)
    np.testing.assert_array_equal(welded.uvs[welded.indices].reshape(-1, 2), uvs)


def test_weld_drops_degenerate_triangles():
    positions = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 0, 0]], dtype=np.float32)
    prim = Primitive(positions=positions, indices=np.array([[0, 1, 2], [0, 1, 3]], dtype=np.uint32))
    out = weld(single_node_model(prim)).nodes[0].primitives[0]
    assert out.triangle_count == 1 and out.vertex_count == 3


def _scan(subdivisions: int = 5, *, normals: bool = True) -> Model:
    sphere = trimesh.creation.icosphere(subdivisions=subdivisions, radius=0.25)
    rng = np.random.default_rng(7)
    sphere.vertices *= 1 + 0.002 * rng.standard_normal((len(sphere.vertices), 1))
    model = single_node_model(primitive_from_trimesh(sphere))
    return repair_normals(model) if normals else model


@pytest.mark.parametrize("budget", [5000, 1000, 100])
@pytest.mark.parametrize("normals", [True, False])
def test_simplify_meets_the_budget_and_reports_its_error(budget, normals):
    model = _scan(normals=normals)
    result = simplify(model, SimplifyOptions(target_triangles=budget))
    count = result.model.triangle_count
    assert budget * 0.4 <= count <= budget
    assert result.warnings == []
    # Error in metres: positive, and well below the 0.5 m object's size.
    assert 0 < result.error < 0.05
    coarser = simplify(model, SimplifyOptions(target_triangles=budget // 2))
    assert coarser.error >= result.error


def test_simplify_never_adds_triangles():
    model = _scan(2)
    result = simplify(model, SimplifyOptions(target_triangles=10**6))
    assert result.model.triangle_count == model.triangle_count
    assert result.error == 0.0


def test_simplify_keeps_uvs_colours_and_the_uv_seam():
    model = textured_sphere()
    source = model.nodes[0].primitives[0]
    result = simplify(model, SimplifyOptions(target_triangles=source.triangle_count // 4))
    prim = result.model.nodes[0].primitives[0]
    assert prim.uvs is not None and prim.colors is not None
    # Kept vertices keep their own attributes (a subset of the source's vertices).
    lookup = {tuple(p) + tuple(u) for p, u in zip(source.positions, source.uvs, strict=True)}
    assert all(tuple(p) + tuple(u) in lookup for p, u in zip(prim.positions, prim.uvs, strict=True))


def test_simplify_keeps_a_uv_seam_between_two_islands():
    # A 40 x 40 grid whose left and right halves are separate UV islands: the middle column
    # exists twice (same positions, different UVs).
    n = 40
    xs, zs = np.meshgrid(np.linspace(0, 1, n + 1), np.linspace(0, 1, n + 1))
    rng = np.random.default_rng(3)
    ys = 0.01 * rng.standard_normal(xs.shape)
    grid = np.column_stack([xs.ravel(), ys.ravel(), zs.ravel()]).astype(np.float32)
    half = n // 2
    right_ids = np.arange(len(grid)).reshape(n + 1, n + 1)[:, half:].ravel()
    positions = np.concatenate([grid, grid[right_ids]])
    uvs = np.concatenate([grid[:, [0, 2]] * [0.8, 1], grid[right_ids][:, [0, 2]] * [0.8, 1]])
    uvs[len(grid):, 0] += 0.2  # the right island sits further right in the atlas
    remap = np.arange(len(grid))
    remap[right_ids] = len(grid) + np.arange(len(right_ids))
    faces = []
    for row in range(n):
        for col in range(n):
            a, b = row * (n + 1) + col, row * (n + 1) + col + 1
            c, d = a + n + 1, b + n + 1
            quad = np.array([[a, c, b], [b, c, d]])
            faces.append(remap[quad] if col >= half else quad)
    prim = Primitive(positions=positions, indices=np.vstack(faces).astype(np.uint32),
                     uvs=uvs.astype(np.float32))
    out = simplify(single_node_model(prim), SimplifyOptions(target_triangles=400))
    simple = out.model.nodes[0].primitives[0]
    assert simple.triangle_count <= 400
    assert out.warnings == []
    u = simple.uvs[simple.indices][:, :, 0]
    left = (u <= 0.4 + 1e-6).all(axis=1)
    right = (u >= 0.6 - 1e-6).all(axis=1)
    assert (left | right).all()  # no triangle stretches across the gap between the islands


def test_simplify_locks_shared_borders_between_primitives():
    sphere = trimesh.creation.icosphere(4)
    prim = primitive_from_trimesh(sphere)
    top = prim.positions[prim.indices].mean(axis=1)[:, 1] > 0
    model = Model(nodes=[Node("two", [prim.copy(indices=prim.indices[top]),
                                      prim.copy(indices=prim.indices[~top], material=0)])],
                  materials=single_node_model(prim).materials, roots=[0])
    out = simplify(model, SimplifyOptions(target_triangles=model.triangle_count // 3)).model
    # Border vertices of each half are all still used: no crack can open between them.
    halves = [p.positions[np.unique(p.indices)] for p in out.nodes[0].primitives]
    rim = {tuple(v) for v in halves[0]} & {tuple(v) for v in halves[1]}
    source_rim = ({tuple(v) for v in prim.positions[np.unique(prim.indices[top])]}
                  & {tuple(v) for v in prim.positions[np.unique(prim.indices[~top])]})
    assert rim == source_rim


def test_optimize_reorders_without_changing_the_surface():
    model = _scan(3)
    before = model.nodes[0].primitives[0]
    after = optimize(model).nodes[0].primitives[0]
    assert after.vertex_count == before.vertex_count
    assert after.triangle_count == before.triangle_count

    def corners(p: Primitive) -> set:
        tri = p.positions[p.indices]
        return {tuple(sorted(map(tuple, t))) for t in tri}

    assert corners(before) == corners(after)
    # First-use order: the index buffer introduces vertices 0, 1, 2, ... in sequence.
    first_use = np.unique(after.indices.reshape(-1), return_index=True)[1]
    assert (np.diff(first_use) > 0).all()
