"""PLY reader (ASCII and binary, either endianness), including triangle-strip files.

Our own parser (ply_elements.py) rather than trimesh's because (a) `igea.ply`-style files store
a `tristrips` element instead of faces and trimesh reads them as a point cloud, and (b) every
count in a hostile header must be checked against the bytes present BEFORE anything is
allocated. This module turns the elements into a Model: faces fanned, strips decoded, vertex
normals / colours / UVs (per vertex or MeshLab's per-corner texcoord) and a TextureFile map.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.model import Material, Model, Node, Texture
from vrculture.pipeline.readers.common import (
    ReadLimits,
    SourceBudget,
    check_counts,
    checked_primitive,
    resolve_inside,
    srgb_to_linear,
)
from vrculture.pipeline.readers.georef import crs_in_lines
from vrculture.pipeline.readers.images import decode_image
from vrculture.pipeline.readers.orientation import orient_outward
from vrculture.pipeline.readers.ply_elements import (
    Column,
    Groups,
    parse_header,
    read_ascii,
    read_binary,
)
from vrculture.pipeline.readers.tristrips import strips_to_triangles


def read_ply(source: Path, data: bytes, budget: SourceBudget) -> Model:
    fmt, elements, body, texture_files = parse_header(source, data)
    if fmt == "ascii":
        values = read_ascii(source, elements, body)
    else:
        order = "<" if fmt == "binary_little_endian" else ">"
        values = read_binary(source, elements, body, order)
    model = _build_model(source, values, budget.limits)
    model.crs = _header_crs(data[: len(data) - len(body)])
    if texture_files and model.primitives()[0].uvs is not None:
        _attach_texture(source, model, texture_files, budget)
    return model


def _header_crs(header: bytes) -> str | None:
    """A CRS named in the header's `comment` / `obj_info` lines (georeferenced scans)."""
    lines = header.decode("ascii", errors="replace").splitlines()
    return crs_in_lines(
        line.split(None, 1)[1] for line in lines
        if line.startswith(("comment", "obj_info")) and len(line.split(None, 1)) == 2
    )


def _attach_texture(source: Path, model: Model, names: list[str], budget: SourceBudget) -> None:
    """MeshLab's `comment TextureFile name.jpg`: the base colour map, read from the folder."""
    if len(names) > 1:
        model.warnings.append(f"PLY names {len(names)} textures; only {names[0]!r} is used")
    path = resolve_inside(
        source, source.parent, names[0], must_exist=False, listings=budget.listings
    )
    if not path.is_file():
        model.warnings.append(f"texture {names[0]!r} not found next to the source; ignored")
        return
    image = decode_image(source, budget.read(path), names[0], budget)
    model.materials[0].base_color_texture = Texture(image=image, name=path.stem)


def _polygons_to_triangles(column: object) -> np.ndarray:
    """Face lists (uniform 2-D array, or groups of them) -> triangles by fan (convex polygons)."""
    if isinstance(column, Groups):
        tris = [_polygons_to_triangles(group) for group in column]
        return np.concatenate(tris) if tris else np.zeros((0, 3), np.int64)
    faces = np.asarray(column)
    if faces.ndim != 2 or faces.shape[1] < 3:
        return np.zeros((0, 3), np.int64)
    k = faces.shape[1]
    if k == 3:  # triangles already: the fan below would only copy them (1.6M: ~15 ms)
        return faces.astype(np.int64)
    first = np.repeat(faces[:, :1], k - 2, axis=1)
    return np.stack([first, faces[:, 1:-1], faces[:, 2:]], axis=2).reshape(-1, 3).astype(np.int64)


def _face_texcoords(face: dict[str, Column], indices: object) -> np.ndarray | None:
    """Per-corner UVs from a face `texcoord` list, fanned exactly like the vertex indices."""
    column = _first(face, "texcoord", "texcoords")
    if column is None:
        return None
    index_groups = list(indices) if isinstance(indices, Groups) else [np.asarray(indices)]
    uv_groups = list(column) if isinstance(column, Groups) else [np.asarray(column)]
    if len(index_groups) != len(uv_groups) or any(
        u.shape != (i.shape[0], 2 * i.shape[1])
        for i, u in zip(index_groups, uv_groups, strict=True)
    ):
        return None  # lengths disagree with the polygons: unusable, the mesh reads without UVs
    fanned = []
    for uv in uv_groups:
        pairs = uv.reshape(uv.shape[0], -1, 2)
        k = pairs.shape[1]
        first = np.repeat(pairs[:, :1], k - 2, axis=1)
        fanned.append(np.stack([first, pairs[:, 1:-1], pairs[:, 2:]], axis=2).reshape(-1, 3, 2))
    return np.concatenate(fanned)


def _first(columns: dict[str, Column], *names: str) -> Column | None:
    for name in names:
        if name in columns:
            return columns[name]
    return None


def _scalars(columns: dict[str, Column], warnings: list[str]) -> dict[str, np.ndarray]:
    """The vertex's one-number properties (x, red, ...); a list can be none of them."""
    out: dict[str, np.ndarray] = {}
    for name, column in columns.items():
        if isinstance(column, Groups) or column.ndim != 1:
            warnings.append(f"PLY vertex property {name!r} is a list, not a number; ignored")
        else:
            out[name] = column
    return out


def _unit(column: np.ndarray) -> np.ndarray:
    """Colour channel to 0..1: integers by their type's range, floats as given."""
    if column.dtype.kind in "ui":
        return column.astype(np.float32) / float(np.iinfo(column.dtype).max)
    return column.astype(np.float32)


def _build_model(
    source: Path, values: dict[str, dict[str, Column]], limits: ReadLimits
) -> Model:
    model = Model(materials=[Material(name="ply")])
    vertex_columns = values.get("vertex")
    vertex = None if vertex_columns is None else _scalars(vertex_columns, model.warnings)
    if vertex is None or not all(k in vertex for k in ("x", "y", "z")):
        raise ConversionError(source, "PLY has no vertex element with x, y, z")
    positions = np.stack([vertex["x"], vertex["y"], vertex["z"]], axis=1)

    triangles = np.zeros((0, 3), np.int64)
    face_uvs: np.ndarray | None = None
    face = values.get("face")
    if face is not None:
        column = _first(face, "vertex_indices", "vertex_index")
        if column is None:
            raise ConversionError(source, "PLY face element has no vertex_indices list")
        triangles = _polygons_to_triangles(column)
        face_uvs = _face_texcoords(face, column)
    strips = values.get("tristrips")
    if strips is not None:
        column = _first(strips, "vertex_indices", "vertex_index")
        if column is None:
            raise ConversionError(source, "PLY tristrips element has no vertex_indices list")
        groups = list(column) if isinstance(column, Groups) else [np.asarray(column)]
        # Each item is one strip: join them all with -1 restarts and decode in one go.
        flat = np.concatenate(
            [np.concatenate([g, -np.ones((len(g), 1))], axis=1).ravel() for g in groups]
            or [np.zeros(0)]
        )
        triangles = np.concatenate([triangles, strips_to_triangles(flat)])
    check_counts(source, limits, positions.shape[0], triangles.shape[0])
    if triangles.shape[0] == 0:
        raise ConversionError(
            source, "PLY has zero triangles (no face or tristrips element: a point cloud)"
        )

    normals = None
    if all(k in vertex for k in ("nx", "ny", "nz")):
        normals = np.stack([vertex["nx"], vertex["ny"], vertex["nz"]], axis=1)
    uvs = None
    for u, v in (("s", "t"), ("u", "v"), ("texture_u", "texture_v"), ("texture_s", "texture_t")):
        if u in vertex and v in vertex:
            # PLY texture coordinates have their origin bottom-left; glTF's is top-left.
            uvs = np.stack([vertex[u], 1.0 - vertex[v].astype(np.float64)], axis=1)
            break
    colors = None
    for r, g, b, a in (
        ("red", "green", "blue", "alpha"),
        ("r", "g", "b", "a"),
        ("diffuse_red", "diffuse_green", "diffuse_blue", "diffuse_alpha"),
    ):
        if r in vertex and g in vertex and b in vertex:
            rgb = srgb_to_linear(
                np.stack([_unit(vertex[r]), _unit(vertex[g]), _unit(vertex[b])], 1)
            )
            alpha = _unit(vertex[a]) if a in vertex else np.ones(rgb.shape[0], np.float32)
            colors = np.concatenate([rgb, alpha[:, None]], axis=1)
            break

    if face_uvs is not None and face_uvs.shape[0] == triangles.shape[0]:
        # UVs per face corner (MeshLab's `texcoord` list): one vertex per corner; weld re-shares.
        corners = triangles.reshape(-1)
        positions = positions[corners]
        normals = None if normals is None else normals[corners]
        colors = None if colors is None else colors[corners]
        uvs = face_uvs.reshape(-1, 2).astype(np.float64)
        uvs[:, 1] = 1.0 - uvs[:, 1]
        triangles = np.arange(corners.size, dtype=np.int64).reshape(-1, 3)
    prim = checked_primitive(
        source, model.warnings, positions, triangles,
        normals=normals, uvs=uvs, colors=colors, label="PLY mesh",
    )  # fmt: skip
    if prim is None:
        raise ConversionError(source, "PLY has zero drawable triangles")
    prim = orient_outward(prim, model.warnings, "PLY mesh")
    model.nodes.append(Node(name=source.stem, primitives=[prim]))
    model.roots.append(0)
    if strips is not None:
        model.warnings.append(f"decoded triangle strips into {prim.triangle_count} triangles")
    return model
