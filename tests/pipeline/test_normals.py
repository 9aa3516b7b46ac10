"""Crease-aware smooth normals: hard edges stay hard, smooth surfaces are smooth."""

from __future__ import annotations

import numpy as np
import trimesh
from pipeline_helpers import primitive_from_trimesh

from vrculture.pipeline.model import Primitive
from vrculture.pipeline.transforms.normals import NormalsOptions, smooth_normals
from vrculture.pipeline.transforms.weld import weld_primitive


def _face_normals(prim: Primitive) -> np.ndarray:
    tri = prim.positions[prim.indices]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    return n / np.linalg.norm(n, axis=1, keepdims=True)


def test_cube_keeps_every_edge_hard():
    prim = smooth_normals(primitive_from_trimesh(trimesh.creation.box((1.0, 2.0, 3.0))))
    # 8 corners x 3 faces each: every corner is split once per face it touches.
    assert prim.vertex_count == 24
    face = _face_normals(prim)
    for corner in range(3):
        np.testing.assert_allclose(prim.normals[prim.indices[:, corner]], face, atol=1e-6)


def test_unwelded_cube_welds_then_stays_hard():
    box = trimesh.creation.box()
    soup = primitive_from_trimesh(box).copy(
        positions=np.asarray(box.vertices, dtype=np.float32)[box.faces.reshape(-1)],
        indices=np.arange(36, dtype=np.uint32).reshape(-1, 3),
    )
    welded = weld_primitive(soup)
    assert welded.vertex_count == 8
    prim = smooth_normals(welded)
    face = _face_normals(prim)
    for corner in range(3):
        np.testing.assert_allclose(prim.normals[prim.indices[:, corner]], face, atol=1e-6)


def test_sphere_normals_are_radial_and_unsplit():
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=2.0)
    prim = smooth_normals(primitive_from_trimesh(sphere))
    assert prim.vertex_count == len(sphere.vertices)
    radial = prim.positions / np.linalg.norm(prim.positions, axis=1, keepdims=True)
    cos = np.einsum("ij,ij->i", prim.normals, radial)
    assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 0.5
    np.testing.assert_allclose(np.linalg.norm(prim.normals, axis=1), 1.0, atol=1e-5)


def test_crease_angle_decides_hard_or_smooth():
    # Two quads meeting at a 40 degree fold.
    angle = np.radians(40)
    positions = np.array([[0, 0, 0], [1, 0, 0], [0, 0, 1], [1, 0, 1],
                          [-np.cos(angle), np.sin(angle), 0], [-np.cos(angle), np.sin(angle), 1]],
                         dtype=np.float32)
    indices = np.array([[0, 2, 1], [1, 2, 3], [0, 4, 2], [4, 5, 2]], dtype=np.uint32)
    prim = Primitive(positions=positions, indices=indices)
    smooth = smooth_normals(prim, NormalsOptions(crease_angle_deg=60))
    hard = smooth_normals(prim, NormalsOptions(crease_angle_deg=30))
    assert smooth.vertex_count == 6
    assert hard.vertex_count == 8  # the two vertices on the fold are split
    fold = smooth.normals[0]
    # The smooth normal on the fold lies between the two faces' normals.
    assert 0.0 < fold[0] < 1.0 and fold[1] > 0.9


def test_uv_seam_gets_one_normal_on_both_sides():
    sphere = trimesh.creation.icosphere(subdivisions=3)
    prim = primitive_from_trimesh(sphere)
    # Split every vertex with x > 0 from the faces on one side, as a UV seam does.
    count = prim.vertex_count
    positions = np.concatenate([prim.positions, prim.positions])
    uvs = np.concatenate([np.zeros((count, 2)), np.ones((count, 2))]).astype(np.float32)
    indices = prim.indices.copy()
    right = prim.positions[indices].mean(axis=1)[:, 0] > 0
    indices[right] += count
    seamed = Primitive(positions=positions, indices=indices, uvs=uvs)
    out = smooth_normals(seamed)
    radial = out.positions / np.linalg.norm(out.positions, axis=1, keepdims=True)
    used = np.unique(out.indices)
    cos = np.einsum("ij,ij->i", out.normals[used], radial[used])
    assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 2.0


def test_existing_normals_are_kept_unless_asked():
    prim = primitive_from_trimesh(trimesh.creation.icosphere(2))
    given = np.tile(np.array([0, 1, 0], dtype=np.float32), (prim.vertex_count, 1))
    kept = smooth_normals(prim.copy(normals=given))
    assert kept.normals is given
    redone = smooth_normals(prim.copy(normals=given), NormalsOptions(recompute=True))
    assert not np.allclose(redone.normals, given)
