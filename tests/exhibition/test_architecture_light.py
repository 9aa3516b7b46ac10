"""The gallery's baked light: walls and plinths darken towards the floor; floors stay plain."""

from __future__ import annotations

import numpy as np

from vrculture.exhibition.architecture import FLOOR_OCCLUSION, build_architecture
from vrculture.exhibition.layout import Box, Layout, Pose, RoomPlan


def _layout() -> Layout:
    return Layout(
        rooms=[RoomPlan("a", "gallery", (-3.0, -3.0, 3.0, 3.0), 3.0)],
        placements={}, walkable=[(-3.0, -3.0, 3.0, 3.0)], entrance=Pose((0.0, 0.0, 2.0), 0.0),
        walls=[Box((-3.0, -3.0, 3.0, -2.9), 3.0)], plinths=[Box((0.0, 0.0, 0.5, 0.5), 0.9)])


def _primitive(name: str):
    model = build_architecture(_layout())
    return next(n for n in model.nodes if n.name == name).primitives[0]


def test_walls_and_plinths_are_darker_at_their_foot_than_at_their_top() -> None:
    for name in ("walls", "plinths"):
        prim = _primitive(name)
        assert prim.colors is not None, name
        y, light = prim.positions[:, 1], prim.colors[:, 0]
        assert np.allclose(light[y <= 1e-6], FLOOR_OCCLUSION), name
        assert np.allclose(light[y >= y.max() - 1e-6], 1.0), name
        assert np.allclose(prim.colors[:, 3], 1.0), name


def test_floors_carry_no_baked_darkening() -> None:
    assert _primitive("floor_gallery").colors is None
