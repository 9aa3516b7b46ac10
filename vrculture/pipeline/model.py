"""The converter's one small in-memory model, shared by readers, transforms and the GLB writer.

Geometry is numpy arrays in glTF conventions (metres once normalised, +Y up, counter-clockwise
front faces). A `Model` is a flat list of nodes; each node may carry one mesh made of
primitives; named nodes survive to the GLB so that the viewer can find and animate them (a
lamp's light, a bin's fill level).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from vrculture.pipeline.columns import column_max, column_min, take_rows

if TYPE_CHECKING:  # Pillow loads when an image is read: 15-20 ms a mesh conversion never needs
    from PIL import Image


@dataclass
class Texture:
    image: Image.Image  # RGB or RGBA, sRGB for colour maps, EXIF orientation already applied
    name: str = ""

    @property
    def has_alpha(self) -> bool:
        if self.image.mode != "RGBA":
            return False
        # Per-band extrema read in place (getchannel would copy the alpha plane of a large map).
        alpha = self.image.getextrema()[3:]  # RGBA: a tuple of (low, high) per band
        return alpha != ((255, 255),)  # somewhere not opaque


@dataclass
class Material:
    name: str = "material"
    base_color_factor: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    base_color_texture: Texture | None = None
    metallic_factor: float = 0.0
    roughness_factor: float = 0.8
    metallic_roughness_texture: Texture | None = None
    normal_texture: Texture | None = None
    occlusion_texture: Texture | None = None
    emissive_factor: tuple[float, float, float] = (0.0, 0.0, 0.0)
    emissive_texture: Texture | None = None
    alpha_mode: str = "OPAQUE"  # OPAQUE | MASK | BLEND
    alpha_cutoff: float = 0.5
    double_sided: bool = False
    unlit: bool = False  # KHR_materials_unlit (labels, screens)

    def textures(self) -> list[Texture]:
        maps = (
            self.base_color_texture,
            self.metallic_roughness_texture,
            self.normal_texture,
            self.occlusion_texture,
            self.emissive_texture,
        )
        return [t for t in maps if t is not None]


@dataclass
class Primitive:
    positions: np.ndarray  # (N, 3) float32; a reader's may be float64 until normalise
    indices: np.ndarray  # (M, 3) uint32, triangles
    normals: np.ndarray | None = None  # (N, 3) float32, unit length
    uvs: np.ndarray | None = None  # (N, 2) float32, glTF convention (origin top-left)
    colors: np.ndarray | None = None  # (N, 4) float32 linear 0..1
    material: int = 0  # index into Model.materials

    @property
    def triangle_count(self) -> int:
        return int(self.indices.shape[0])

    @property
    def vertex_count(self) -> int:
        return int(self.positions.shape[0])

    def copy(self, **changes: Any) -> Primitive:  # dataclasses.replace's own signature
        return replace(self, **changes)

    def with_vertices(self, selection: np.ndarray, indices: np.ndarray) -> Primitive:
        """A copy whose vertices are `self`'s at `selection` (index or boolean array), every
        attribute gathered alike, with triangles `indices` into the new vertex order."""

        def take(array: np.ndarray | None) -> np.ndarray | None:
            return None if array is None else take_rows(array, selection)

        return replace(
            self,
            positions=take_rows(self.positions, selection),
            normals=take(self.normals),
            uvs=take(self.uvs),
            colors=take(self.colors),
            indices=indices,
        )


@dataclass
class Node:
    name: str
    primitives: list[Primitive] = field(default_factory=list)
    translation: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rotation: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)  # quaternion x, y, z, w
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    children: list[int] = field(default_factory=list)  # indices into Model.nodes
    extras: dict[str, object] = field(default_factory=dict)


@dataclass
class Model:
    nodes: list[Node] = field(default_factory=list)
    materials: list[Material] = field(default_factory=list)
    roots: list[int] = field(default_factory=list)  # scene root node indices
    metadata: dict[str, str] = field(default_factory=dict)  # Dublin Core terms -> value
    warnings: list[str] = field(default_factory=list)
    crs: str | None = None  # coordinate reference system the source names, e.g. "EPSG:3006"

    def primitives(self) -> list[Primitive]:
        return [p for n in self.nodes for p in n.primitives]

    @property
    def triangle_count(self) -> int:
        return sum(p.triangle_count for p in self.primitives())

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned bounds of all geometry, node transforms ignored (readers bake them)."""
        prims = self.primitives()
        if not prims:
            zero = np.zeros(3, dtype=np.float64)
            return zero, zero
        lo = np.min([column_min(p.positions) for p in prims if p.vertex_count], axis=0)
        hi = np.max([column_max(p.positions) for p in prims if p.vertex_count], axis=0)
        return lo.astype(np.float64), hi.astype(np.float64)
