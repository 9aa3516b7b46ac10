"""The level chain's cost (issue 11): work in blocks gives the whole-array answer to the bit,
the source's arrays do not outlive their use (peak memory on the 1.6M bench mesh), and a
conversion does not import what it does not need (start-up counts on every object)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from pathlib import Path

import numpy as np
import pytest
import trimesh
from pipeline_helpers import primitive_from_trimesh, single_node_model

import vrculture.pipeline.readers as readers
import vrculture.pipeline.transforms.simplify as simplify_module
from vrculture.pipeline.columns import take_rows
from vrculture.pipeline.convert import ConvertSettings, convert_file
from vrculture.pipeline.model import Primitive
from vrculture.pipeline.readers import orientation
from vrculture.pipeline.transforms import deviation, normals, up_axis
from vrculture.pipeline.transforms.optimize import OptimizeOptions, optimize_primitive
from vrculture.pipeline.transforms.simplify import SimplifyOptions, simplify


def _bumpy_sphere(subdivisions: int = 4) -> trimesh.Trimesh:
    mesh = trimesh.creation.icosphere(subdivisions=subdivisions)
    rng = np.random.default_rng(3)
    # Bumps steep enough for creases at the default 60 degrees: the pairwise rule runs.
    mesh.vertices *= 1 + 0.4 * (rng.random(len(mesh.vertices)) > 0.9)[:, None]
    return mesh


def test_signed_volume_in_chunks_is_the_whole_sum(monkeypatch):
    mesh = _bumpy_sphere()
    positions, faces = mesh.vertices.astype(np.float32), mesh.faces.astype(np.uint32)
    whole = orientation.signed_volume(positions, faces)
    monkeypatch.setattr(orientation, "VOLUME_CHUNK", 7)  # many chunks, a ragged last one
    assert orientation.signed_volume(positions, faces) == pytest.approx(whole, rel=1e-12)
    assert whole == pytest.approx(mesh.volume, rel=1e-5)


def test_crease_normals_in_blocks_are_identical(monkeypatch):
    prim = primitive_from_trimesh(_bumpy_sphere())
    whole = normals.smooth_normals(prim)
    monkeypatch.setattr(normals, "CREASE_BLOCK", 5)
    blocked = normals.smooth_normals(prim)
    assert whole.vertex_count > prim.vertex_count  # creases were split: the rule ran
    np.testing.assert_array_equal(blocked.normals, whole.normals)
    np.testing.assert_array_equal(blocked.indices, whole.indices)


def test_deviation_registered_in_blocks_is_identical(monkeypatch):
    source = single_node_model(primitive_from_trimesh(_bumpy_sphere(5)))
    level = simplify(source, SimplifyOptions(target_triangles=800)).model
    whole = deviation.surface_deviation(source, level)
    monkeypatch.setattr(deviation, "REGISTER_BLOCK", 9)
    small = deviation.DeviationOptions(max_pairs=1000)
    assert deviation.surface_deviation(source, level, small) == whole
    assert whole > 0


def test_first_use_ordered_primitive_is_not_copied():
    prim = optimize_primitive(primitive_from_trimesh(_bumpy_sphere()),
                              OptimizeOptions(vertex_cache=None))
    again = optimize_primitive(prim, OptimizeOptions(vertex_cache=None))
    assert again.positions is prim.positions
    np.testing.assert_array_equal(again.indices, prim.indices)


def test_source_arrays_are_freed_before_the_simplifier_runs(tmp_path: Path, monkeypatch):
    mesh = _bumpy_sphere(5)
    source = tmp_path / "sphere.stl"
    source.write_bytes(mesh.export(file_type="stl"))
    read_arrays: list[weakref.ref] = []
    alive_at_simplify: list[bool] = []
    real_read, real_simplify = readers.read_source, simplify_module.simplify

    def reading(*args, **kwargs):
        read = real_read(*args, **kwargs)
        read_arrays.extend(weakref.ref(p.positions) for p in read.model.primitives())
        return read

    def simplifying(*args, **kwargs):
        gc.collect()
        alive_at_simplify.append(any(ref() is not None for ref in read_arrays))
        return real_simplify(*args, **kwargs)

    monkeypatch.setattr(readers, "read_source", reading)
    monkeypatch.setattr(simplify_module, "simplify", simplifying)
    convert_file(source, tmp_path / "out", ConvertSettings(levels=("high", "low"), up="+Y",
                                                           units="m"))
    assert read_arrays and alive_at_simplify == [False]


@pytest.mark.parametrize("count", [1, 2, 3, 10, 11, 1001])
def test_median_is_numpys(count):
    values = np.random.default_rng(count).normal(size=count)
    assert up_axis._median(values) == float(np.median(values))


def test_hull_of_repeated_points_is_unchanged():
    square = np.array([[0, 0], [2, 0], [2, 1], [0, 1], [1, 0.5], [0, 0], [2, 1], [-0.0, 1]])
    assert up_axis._hull_area(square) == 2.0
    assert up_axis._hull_area(square[[0, 5, 1]]) == 0.0  # a segment, twice over


def test_a_conversion_does_not_import_numpy_ma(tmp_path: Path):
    source = tmp_path / "box.stl"
    source.write_bytes(_bumpy_sphere(3).export(file_type="stl"))
    script = ("import sys; from pathlib import Path\n"
              "from vrculture.pipeline.convert import ConvertSettings, convert_file\n"
              f"convert_file(Path({str(source)!r}), Path({str(tmp_path / 'out')!r}), "
              "ConvertSettings(levels=('full', 'low')))\n"
              "print('numpy.ma' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("window", [5, 40, up_axis.SPHERE_WINDOW])
def test_nearest_directions_in_a_window_are_all_pairs_answer(window):
    """The resting poses' neighbour graph, looked for near each direction's index only (a
    narrow window falls back to all pairs where it cannot prove its answer)."""
    directions = up_axis._fibonacci_sphere(up_axis.SPHERE_DIRECTIONS)
    all_pairs = np.argpartition(-(directions @ directions.T), 8, axis=1)[:, :9]
    windowed = up_axis._nearest_directions(directions, 9, window)
    np.testing.assert_array_equal(np.sort(windowed, axis=1), np.sort(all_pairs, axis=1))


def test_the_stored_sphere_graph_is_the_computed_one():
    """The resting poses read their neighbour graph from a file (work the same for every
    conversion): it must be exactly what _nearest_directions makes, in its order (the first
    of equally low neighbours is followed)."""
    up_axis._sphere_graph.cache_clear()
    directions, stored = up_axis._sphere_graph()
    computed = up_axis._nearest_directions(directions, 9, up_axis.SPHERE_WINDOW)
    np.testing.assert_array_equal(stored, computed)
    np.testing.assert_array_equal(
        directions, up_axis._fibonacci_sphere(up_axis.SPHERE_DIRECTIONS))


def test_the_command_runs_numpy_without_blas_threads_unless_told(monkeypatch):
    """OpenBLAS's idle workers spin-wait: CPU the single-threaded converter never uses."""
    from vrculture.cli import main

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    with pytest.raises(SystemExit):
        main(["--version"])
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    with pytest.raises(SystemExit):
        main(["--version"])
    assert os.environ["OPENBLAS_NUM_THREADS"] == "2"


@pytest.mark.parametrize("target", [60, 800, 5000])
def test_deviation_skipping_far_boxes_is_identical(monkeypatch, target):
    """Triangles whose boxes are farther than a point's best distance are not measured: the
    reported error is the one measuring every candidate gives, to the bit."""
    source = single_node_model(primitive_from_trimesh(_bumpy_sphere(5)))
    level = simplify(source, SimplifyOptions(target_triangles=target)).model
    skipping = deviation.surface_deviation(source, level)
    monkeypatch.setattr(deviation, "BOX_SLACK", 1e300)  # every box passes: all measured
    assert deviation.surface_deviation(source, level) == skipping
    assert skipping > 0


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1e39, -1e39])
def test_a_reader_drops_each_kind_of_undrawable_vertex(bad):
    """The readers' check settles all-finite positions with one min and one max; any one
    non-finite or beyond-float32 coordinate, of either sign, still drops its triangles."""
    from vrculture.pipeline.readers.common import checked_primitive

    positions = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0], [2, 2, bad]])
    warnings: list[str] = []
    prim = checked_primitive(Path("quad.obj"), warnings, positions,
                             np.array([[0, 1, 2], [1, 3, 2], [2, 3, 4]]))
    assert prim is not None and prim.triangle_count == 2 and prim.vertex_count == 4
    assert warnings and "1 vertices have NaN/infinite coordinates" in warnings[0]


@pytest.mark.parametrize("dtype, offset", [(np.float32, 0.0), (np.float64, 6.58e6)])
def test_soup_corners_are_shared_as_by_sorting_the_rows(dtype, offset):
    """The open-bottom cue welds a soup's corners by hash: the same corners as np.unique over
    the rows as bytes (-0.0 stays apart from 0.0, 64-bit rows are not rounded)."""
    mesh = _bumpy_sphere(3)
    soup = (mesh.vertices[mesh.faces].reshape(-1, 3) + offset).astype(dtype)
    soup[:3] = [[0.0, 0.0, 0.0], [-0.0, 0.0, 0.0], [offset + 1e-7, 0.0, 0.0]]
    soup = soup.astype(dtype)
    indices = np.arange(len(soup)).reshape(-1, 3)
    rows = soup.view(np.dtype((np.void, soup.dtype.itemsize * 3))).ravel()
    _, first, ids = np.unique(rows, return_index=True, return_inverse=True)
    np.testing.assert_array_equal(up_axis._shared_corners(indices, soup),
                                  first[ids.ravel()][indices])



def test_each_points_nearest_triangle_survives_skipping_on_a_64_bit_level():
    """Per point, skipping far boxes gives the minimum over every triangle, also for a level
    whose positions are float64 far from the origin (a generated model): its boxes stay
    float64, as boxes rounded to float32 there would skip triangles that are nearer."""
    mesh = _bumpy_sphere(3)
    positions = mesh.vertices * 0.01 + 5_000.0  # float32 steps (0.5 mm) >> the distances
    level = single_node_model(Primitive(positions, mesh.faces.astype(np.uint32)))
    tris = deviation._Triangles(level)
    a, b, c = tris.corners()
    lo = np.minimum(np.minimum(a, b), c)
    hi = np.maximum(np.maximum(a, b), c)
    points = positions[::7] + np.random.default_rng(1).normal(0, 1e-5, (len(positions[::7]), 3))
    grid = deviation._Grid(tris, lo, hi, lo.min(axis=0), hi.max(axis=0), cell=1.0)
    owner = np.repeat(np.arange(len(points)), len(tris))
    every = np.tile(np.arange(len(tris)), len(points))
    reps = np.full(len(points), len(tris))
    best = np.full(len(points), np.inf)
    grid._nearest(points, owner, every, reps, best)
    t = tris[every]
    brute = deviation._closest_distance(points[owner], t[:, 0], t[:, 1], t[:, 2])
    np.testing.assert_array_equal(best, brute.reshape(len(points), -1).min(axis=1))


@pytest.mark.parametrize("target", [60, 2000])
def test_deviation_pairs_by_lookup_are_the_expanded_pairs(target):
    """Registering triangles by 8 lookups (at most 2 cells wide) or by expanding every
    (triangle, cell) pair (wider ones) gives the same pairs."""
    mesh = _bumpy_sphere(4)
    level = simplify(single_node_model(primitive_from_trimesh(mesh)),
                     SimplifyOptions(target_triangles=target)).model
    tris = deviation._Triangles(level)
    a, b, c = tris.corners()
    lo, hi = np.minimum(np.minimum(a, b), c), np.maximum(np.maximum(a, b), c)
    paths = set()
    for cell in (0.05, 0.2, 0.6, 1.5):
        grid = deviation._Grid(tris, lo, hi, lo.min(axis=0), hi.max(axis=0), cell)
        visited = np.random.default_rng(2).random(int(np.prod(grid.dims))) < 0.5
        wide = (grid.span[grid.small] > 2).any(axis=1)
        paths |= set(wide.tolist())
        by_lookup = grid._pairs(grid.small, visited)
        expanded = grid._expanded_pairs(grid.small, visited)
        assert len(by_lookup[0]) > 0
        assert sorted(zip(*by_lookup, strict=True)) == sorted(zip(*expanded, strict=True))
    assert paths == {True, False}  # both ways of registering ran


def test_corner_deviation_per_face_is_the_per_corner_formula():
    """Pins the per-face form (no per-corner copy of the face normals) to the bits of the
    per-corner one, zero-length normals included."""
    prim = primitive_from_trimesh(_bumpy_sphere())
    corners = prim.positions[prim.indices]
    face_unit = normals._unit(np.cross(corners[:, 1] - corners[:, 0],
                                       corners[:, 2] - corners[:, 0]))
    rng = np.random.default_rng(5)
    corner_normals = normals._unit(rng.normal(size=(3 * len(face_unit), 3)).astype(np.float32))
    corner_normals[::7] = 0.0
    per_corner = np.arccos(np.clip(np.einsum(
        "ij,ij->i", np.repeat(face_unit, 3, axis=0), corner_normals), -1.0, 1.0))
    np.testing.assert_array_equal(normals._corner_deviation(face_unit, corner_normals),
                                  per_corner)


@pytest.mark.parametrize("shape", [(50,), (50, 3), (50, 4)])
def test_take_rows_is_fancy_indexing(shape):
    """take_rows (np.take along the rows, several times faster than `array[index]` on (N, k)
    arrays) gives the same rows for integer, (T, 3) and boolean indices, and refuses a mask
    of the wrong length as indexing does."""
    rng = np.random.default_rng(1)
    array = rng.normal(size=shape).astype(np.float32)
    for index in (rng.integers(0, 50, 80), rng.integers(0, 50, (20, 3)).astype(np.uint32),
                  rng.random(50) > 0.5, np.zeros(0, dtype=np.int64)):
        np.testing.assert_array_equal(take_rows(array, index), array[index])
    with pytest.raises(IndexError):
        take_rows(array, np.ones(49, dtype=bool))
    with pytest.raises(IndexError):
        take_rows(array, np.array([50]))


def test_resting_poses_do_not_depend_on_the_support_block(monkeypatch):
    """SUPPORT_BLOCK (directions whose support is taken at once) is a speed setting only."""
    model = single_node_model(primitive_from_trimesh(_bumpy_sphere()))
    sample = up_axis._sample(model)
    whole = up_axis._resting_poses(sample)
    monkeypatch.setattr(up_axis, "SUPPORT_BLOCK", 7)  # many blocks, a ragged last one
    assert up_axis._resting_poses(sample) == whole
    assert sum(whole.values()) > 0
