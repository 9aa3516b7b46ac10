"""The reported geometric error: measured distances, not the simplifier's mixed metric."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from pipeline_helpers import primitive_from_trimesh, single_node_model

from vrculture.pipeline.model import Primitive
from vrculture.pipeline.transforms.deviation import (
    DeviationOptions,
    _closest_distance,
    surface_deviation,
)
from vrculture.pipeline.transforms.simplify import SimplifyOptions, simplify


def test_point_to_triangle_distance_matches_dense_sampling():
    rng = np.random.default_rng(1)
    tris = rng.random((300, 3, 3))
    points = rng.random((300, 3)) * 2 - 0.5
    exact = _closest_distance(points, tris[:, 0], tris[:, 1], tris[:, 2])
    s = rng.random((20000, 2))
    s = np.where(s.sum(axis=1, keepdims=True) > 1, 1 - s, s)
    for i in range(0, 300, 10):
        a, b, c = tris[i]
        samples = a + (b - a) * s[:, :1] + (c - a) * s[:, 1:]
        sampled = np.linalg.norm(samples - points[i], axis=1).min()
        assert exact[i] <= sampled + 1e-12
        assert sampled - exact[i] < 0.02  # dense samples come close to the true minimum


def test_colour_only_detail_has_zero_geometric_error():
    # A finely divided box with random vertex colours: the simplifier reports an error for
    # the colours it merges, but every collapse stays in the box's flat faces.
    box = trimesh.creation.box((1.0, 1.0, 1.0))
    vertices, faces = box.vertices, box.faces
    for _ in range(4):
        vertices, faces = trimesh.remesh.subdivide(vertices, faces)
    colors = np.random.default_rng(0).random((len(vertices), 4)).astype(np.float32)
    prim = Primitive(positions=np.asarray(vertices, np.float32),
                     indices=np.asarray(faces, np.uint32), colors=colors)
    model = single_node_model(prim)
    # A light colour weight, so that leaving the faces always costs more than merging colours.
    options = SimplifyOptions(target_triangles=prim.triangle_count // 4, color_weight=0.05)
    result = simplify(model, options)
    assert result.model.triangle_count <= options.target_triangles
    assert result.error > 1e-3  # meshoptimizer's metric includes the colours
    assert surface_deviation(model, result.model) < 1e-6


def test_sphere_error_grows_as_levels_coarsen_and_matches_the_chord_sagitta():
    radius = 1.0
    model = single_node_model(primitive_from_trimesh(trimesh.creation.icosphere(6, radius)))
    errors = []
    for budget in (20000, 5000, 500):
        level = simplify(model, SimplifyOptions(target_triangles=budget)).model
        errors.append(surface_deviation(model, level))
        # Vertices stay on the sphere, so points can only be outside the flat faces: the
        # error is about the sagitta of an edge, r (1 - cos(edge / 2r)), within a factor 3.
        prim = level.nodes[0].primitives[0]
        tri = prim.positions[prim.indices].astype(np.float64)
        a, b, c = (np.linalg.norm(tri[:, i] - tri[:, (i + 1) % 3], axis=1) for i in range(3))
        area = np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1) / 2
        circumradius = a * b * c / (4 * area)
        typical = radius * (1 - np.cos(a.mean() / (2 * radius)))
        worst = radius * (1 - np.cos(np.arcsin(np.minimum(circumradius.max() / radius, 1))))
        assert typical < errors[-1] <= worst * 1.01
    assert errors == sorted(errors)


def test_unsimplified_level_has_zero_error():
    model = single_node_model(primitive_from_trimesh(trimesh.creation.icosphere(3)))
    assert surface_deviation(model, model) < 1e-9


def test_grid_search_equals_brute_force():
    # A bumpy sphere cut into two open halves: borders, slivers and points off the surface.
    sphere = trimesh.creation.icosphere(5, radius=0.3)
    rng = np.random.default_rng(5)
    vertices = sphere.vertices * (1 + 0.03 * rng.standard_normal((len(sphere.vertices), 1)))
    faces = sphere.faces[sphere.triangles_center[:, 1] > 0.02]
    prim = Primitive(positions=np.asarray(vertices, np.float32),
                     indices=np.asarray(faces, np.uint32))
    model = single_node_model(prim)
    level = simplify(model, SimplifyOptions(target_triangles=300)).model
    options = DeviationOptions(samples=800, seed=3)
    measured = surface_deviation(model, level, options)
    points = prim.positions.astype(np.float64)
    points = points[np.random.default_rng(3).choice(len(points), 800, replace=False)]
    tris = level.nodes[0].primitives[0]
    t = tris.positions[tris.indices].astype(np.float64)
    brute = max(_closest_distance(np.repeat(p[None], len(t), axis=0), t[:, 0], t[:, 1],
                                  t[:, 2]).min() for p in points)
    assert measured == pytest.approx(brute, rel=1e-9)
