"""The gallery architecture as one model: floors, walls, plinths, vitrines' glass, ceilings and
light panels.

Coordinates are the layout's (metres, floor at y = 0, plan centred on the origin), which the
converter's normalisation leaves unchanged, so placements in exhibition.json line up with it.
Each part is one node with one merged primitive per material: a handful of draw calls.
"""

from __future__ import annotations

import numpy as np

from vrculture.exhibition.layout import Layout
from vrculture.exhibition.meshes import box, merge
from vrculture.pipeline.model import Material, Model, Node, Primitive


def _floor(rect: tuple[float, float, float, float], material: int) -> Primitive:
    # Only the top face matters, but a closed slab keeps the validator and culling simple.
    # The slab is 1 mm thick so the model's base (min y) stays at the floor's top within the
    # converter's quantisation step.
    return box((rect[0], -0.001, rect[1]), (rect[2], 0.0, rect[3]), material)


GLASS_MATERIAL = "vitrine_glass"  # the viewer finds the glass by this name
FLOOR_OCCLUSION = 0.7  # baked light at a wall's or plinth's foot, relative to its top


def _occluded_towards_floor(prim: Primitive) -> Primitive:
    """Bake ambient occlusion into vertex colours: a surface darkens towards the floor, where the
    room's light reaches it least. Free at run time (no AO pass on a headset); linear colours,
    interpolated between each box's bottom and top."""
    y = prim.positions[:, 1].astype(np.float32)
    span = max(float(y.max()), 1e-6)
    light = FLOOR_OCCLUSION + (1.0 - FLOOR_OCCLUSION) * np.clip(y / span, 0.0, 1.0)
    prim.colors = np.column_stack([light, light, light, np.ones_like(light)]).astype(np.float32)
    return prim


def build_architecture(layout: Layout) -> Model:
    # Restrained, mid-value surfaces (linear base colours): under the image-based light a wall
    # near white would clip and flatten the room, and bright surroundings dim the objects to the
    # eye. Warm grey walls, an oiled-oak floor, a darker ceiling so the light panels read as lights.
    materials = [
        Material("floor_gallery", (0.20, 0.13, 0.08, 1.0), roughness_factor=0.6),
        Material("floor_smart_city", (0.16, 0.18, 0.21, 1.0), roughness_factor=0.8),
        Material("wall", (0.56, 0.54, 0.50, 1.0), roughness_factor=0.92),
        Material("plinth", (0.72, 0.72, 0.70, 1.0), roughness_factor=0.75),
        Material("ceiling", (0.42, 0.42, 0.42, 1.0), roughness_factor=0.95),
        Material("light_panel", (1.0, 1.0, 1.0, 1.0), emissive_factor=(1.0, 0.97, 0.9)),
        # Glass: nearly clear, smooth, blended; the viewer gives it a physical material (and
        # leaves it out of ray casts, so an object stays pickable through its case).
        Material(GLASS_MATERIAL, (0.92, 0.96, 0.96, 0.12), roughness_factor=0.05,
                 alpha_mode="BLEND"),
    ]
    nodes: list[Node] = []
    gallery = [_floor(r.bounds, 0) for r in layout.rooms if r.kind == "gallery"]
    smart = [_floor(r.bounds, 1) for r in layout.rooms if r.kind != "gallery"]
    if gallery:
        nodes.append(Node("floor_gallery", [merge(gallery)]))
    if smart:
        nodes.append(Node("floor_smart_city", [merge(smart)]))
    nodes.append(Node("walls", [_occluded_towards_floor(merge([
        box((w.rect[0], w.bottom, w.rect[1]), (w.rect[2], w.bottom + w.height, w.rect[3]), 2)
        for w in layout.walls]))]))
    if layout.plinths:
        nodes.append(Node("plinths", [_occluded_towards_floor(merge([
            box((p.rect[0], 0.0, p.rect[1]), (p.rect[2], p.height, p.rect[3]), 3)
            for p in layout.plinths]))]))
    if layout.vitrines:
        # The glass case of each vitrine: a box standing on its plinth's top, all in one
        # primitive (one draw call for every vitrine in the gallery).
        nodes.append(Node("vitrines", [merge([
            box((v.rect[0], v.bottom, v.rect[1]), (v.rect[2], v.bottom + v.height, v.rect[3]), 6)
            for v in layout.vitrines])]))
    ceilings, panels = [], []
    for room in layout.rooms:
        x0, z0, x1, z1 = room.bounds
        ceilings.append(box((x0, room.height, z0), (x1, room.height + 0.05, z1), 4))
        # Light panels every ~3 m, a little below the ceiling so they are not coplanar with it.
        nx, nz = max(1, round((x1 - x0) / 3)), max(1, round((z1 - z0) / 3))
        for i in range(nx):
            for j in range(nz):
                cx = x0 + (i + 0.5) * (x1 - x0) / nx
                cz = z0 + (j + 0.5) * (z1 - z0) / nz
                panels.append(box((cx - 0.5, room.height - 0.03, cz - 0.5),
                                  (cx + 0.5, room.height - 0.005, cz + 0.5), 5))
    nodes.append(Node("ceiling", [merge(ceilings)]))
    nodes.append(Node("light_panels", [merge(panels)]))
    # One root grouping the parts: a hierarchy tells the converter the model is already placed
    # (metres, +Y up), so it keeps the layout's coordinates instead of re-centring them.
    nodes.append(Node("gallery", children=list(range(len(nodes)))))
    return Model(nodes=nodes, materials=materials, roots=[len(nodes) - 1],
                 metadata={"title": "Gallery architecture", "creator": "vrculture build"})
