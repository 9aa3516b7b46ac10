"""Wavefront OBJ reader (with MTL materials), vectorised.

obj_scan.py classifies the lines and parses their numbers in bulk (a careful line-by-line parse
here takes the files it declines); polygons are fanned into triangles with index arithmetic, each
distinct (v, vt, vn) corner becomes one vertex via `np.unique` on an integer key, and triangles
are grouped into one primitive per material with a single sort.
Our own parser rather than trimesh's: trimesh silently ignores MTL/texture failures and does not
check indices, and we need every external path confined to the source's folder.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.model import Material, Model, Node
from vrculture.pipeline.readers.common import (
    SourceBudget,
    check_counts,
    checked_primitive,
    parse_numbers,
    srgb_to_linear,
)
from vrculture.pipeline.readers.georef import crs_in_hash_comments
from vrculture.pipeline.readers.mtl import MtlLibrary
from vrculture.pipeline.readers.obj_scan import ScannedObj, scan_obj
from vrculture.pipeline.readers.orientation import orient_outward


class _Lines:
    def __init__(self) -> None:
        self.v: list[str] = []
        self.vt: list[str] = []
        self.vn: list[str] = []
        self.faces: list[str] = []
        self.face_material: list[int] = []
        # Counts of v/vt/vn seen before each face line: OBJ negative indices are relative to them.
        self.seen: list[tuple[int, int, int]] = []
        self.material_names: list[str] = []
        self.mtllibs: list[str] = []


def read_obj(source: Path, data: bytes, budget: SourceBudget) -> Model:
    parsed = scan_obj(data) or _careful_scan(source, data)
    model = Model(crs=crs_in_hash_comments(data))
    library = MtlLibrary(source, budget, model.warnings)
    for reference in parsed.mtllibs:
        library.load(reference)

    n_v = parsed.v.shape[0]
    n_vt = 0 if parsed.vt is None else parsed.vt.shape[0]
    n_vn = 0 if parsed.vn is None else parsed.vn.shape[0]
    if n_v == 0:
        raise ConversionError(source, "OBJ has no vertices (no 'v' lines)")
    if parsed.counts.size == 0:
        raise ConversionError(source, "OBJ has zero triangles (no 'f' lines: a point cloud?)")
    check_counts(source, budget.limits, n_v, parsed.counts.size)
    positions, colors = _split_colors(parsed.v)
    uv_table, normal_table = parsed.vt, parsed.vn
    corners, counts, seen = parsed.corners, parsed.counts, parsed.seen
    short = int((counts < 3).sum())
    if short:
        model.warnings.append(f"{short} OBJ faces with fewer than 3 corners skipped")

    v_idx = _resolve(source, corners[:, 0], counts, seen[:, 0], n_v, "vertex")
    triangles, triangle_face = _fan(counts)
    check_counts(source, budget.limits, n_v, triangles.shape[0])
    face_material = np.asarray(parsed.face_material, dtype=np.int64)
    n_materials = len(parsed.material_names)
    # Old exports mix textured and untextured materials: each material keeps UVs / normals
    # when every corner of its faces has them, independently of the other materials.
    # Faces with fewer than 3 corners draw nothing (skipped above): they have no say.
    corner_material = np.repeat(np.where(counts >= 3, face_material, n_materials), counts)
    vt_idx, uv_material = _optional_index(
        source, corners[:, 1], counts, seen[:, 1], n_vt, "uv", corner_material, n_materials
    )
    if uv_table is not None:
        given = np.bincount(corner_material[corners[:, 1] != 0], minlength=n_materials + 1)
        has_some = given[:n_materials] > 0
        for index in np.flatnonzero(has_some & ~uv_material):
            model.warnings.append(
                f"OBJ material {parsed.material_names[index]!r}: some faces have no texture "
                "coordinates, UVs dropped for this material"
            )
    vn_idx, normal_material = _optional_index(
        source, corners[:, 2], counts, seen[:, 2], n_vn, "normal", corner_material, n_materials
    )

    # One output vertex per distinct (v, vt, vn) combination used by a corner; a corner of a
    # material without UVs (or normals) has index -1 there, so it never shares a vertex with a
    # textured corner.
    if vt_idx is None and vn_idx is None:
        vertex_of_corner = v_idx
        out_v = np.arange(n_v)
        out_vt = out_vn = None
    else:
        key = v_idx
        if vt_idx is not None:
            key = key * (n_vt + 1) + (vt_idx + 1)
        if vn_idx is not None:
            key = np.unique(key, return_inverse=True)[1].astype(np.int64) * (n_vn + 1) + (
                vn_idx + 1
            )
        _, first_corner, vertex_of_corner = np.unique(key, return_index=True, return_inverse=True)
        out_v = v_idx[first_corner]
        out_vt = vt_idx[first_corner] if vt_idx is not None else None
        out_vn = vn_idx[first_corner] if vn_idx is not None else None

    out_positions = positions[out_v]
    out_colors = colors[out_v] if colors is not None else None
    out_uvs = None
    if out_vt is not None and uv_table is not None:
        out_uvs = uv_table[np.maximum(out_vt, 0)].copy()
        out_uvs[:, 1] = 1.0 - out_uvs[:, 1]  # OBJ's v runs up from the bottom; glTF's runs down
    out_normals = None
    if out_vn is not None and normal_table is not None:
        out_normals = normal_table[np.maximum(out_vn, 0)]
    triangle_vertices = vertex_of_corner.reshape(-1)[triangles]

    model.materials = [_material(name, library, model.warnings) for name in parsed.material_names]
    if len(model.materials) > budget.limits.max_nodes:
        raise ConversionError(
            source, f"OBJ uses {len(model.materials)} materials, over {budget.limits.max_nodes}"
        )
    _drop_unmapped_textures(model, uv_material, corner_material, model.warnings)
    face_material = face_material[triangle_face]
    node = Node(name=source.stem)
    # Group triangles by material with one sort (not one pass per material: a hostile file can
    # name a material per face), and give each group only the vertices it uses.
    order = np.argsort(face_material, kind="stable")
    groups, starts = np.unique(face_material[order], return_index=True)
    for index, chunk in zip(groups, np.split(order, starts[1:]), strict=True):
        used, local = np.unique(triangle_vertices[chunk], return_inverse=True)
        prim = checked_primitive(
            source, model.warnings, out_positions[used], local.reshape(-1, 3),
            normals=None if out_normals is None or not normal_material[index]
            else out_normals[used],
            uvs=None if out_uvs is None or not uv_material[index] else out_uvs[used],
            colors=None if out_colors is None else out_colors[used],
            material=int(index), label=f"OBJ material {model.materials[index].name!r}",
        )  # fmt: skip
        if prim is not None:
            node.primitives.append(prim)
    if not node.primitives:
        raise ConversionError(source, "OBJ has zero drawable triangles")
    if len(node.primitives) == 1:  # one closed surface can be judged; parts of one cannot
        node.primitives[0] = orient_outward(node.primitives[0], model.warnings, "OBJ mesh")
    model.nodes.append(node)
    model.roots.append(0)
    return model


def _careful_scan(source: Path, data: bytes) -> ScannedObj:
    """Line-by-line parse for files the bulk scanner declines; also the source of exact errors."""
    text = data.decode("utf-8", errors="replace").replace("\\\r\n", "").replace("\\\n", "")
    lines = _sort_lines(text)
    vertices = _vertices(source, lines.v) if lines.v else np.zeros((0, 3))
    corners, counts = (
        _face_corners(source, lines.faces)
        if lines.faces
        else (np.zeros((0, 3), np.int64), np.zeros(0, np.int64))
    )
    return ScannedObj(
        v=vertices,
        vt=_table(source, lines.vt, 2, "vt") if lines.vt else None,
        vn=_table(source, lines.vn, 3, "vn") if lines.vn else None,
        corners=corners,
        counts=counts,
        seen=np.asarray(lines.seen, dtype=np.int64).reshape(-1, 3),
        face_material=np.asarray(lines.face_material, dtype=np.int64),
        material_names=lines.material_names,
        mtllibs=lines.mtllibs,
    )


def _sort_lines(text: str) -> _Lines:
    out = _Lines()
    material = -1
    names: dict[str, int] = {}
    for line in text.splitlines():
        if "#" in line:
            line = line.split("#", 1)[0]
        if not line:
            continue
        if line[0] in " \t":
            line = line.lstrip()
            if not line:
                continue
        head = line[0]
        if head == "v":
            tag = line[:3]
            if tag[1:2] in (" ", "\t"):
                out.v.append(line[2:])
            elif tag[1:2] == "t" and tag[2:3] in (" ", "\t"):
                out.vt.append(line[3:])
            elif tag[1:2] == "n" and tag[2:3] in (" ", "\t"):
                out.vn.append(line[3:])
        elif head == "f" and line[1:2] in (" ", "\t"):
            if material < 0:
                material = names.setdefault("default", len(names))
                out.material_names.append("default")
            out.faces.append(line[2:])
            out.face_material.append(material)
            out.seen.append((len(out.v), len(out.vt), len(out.vn)))
        elif line.startswith("usemtl"):
            name = line[6:].strip() or "default"
            if name not in names:
                names[name] = len(names)
                out.material_names.append(name)
            material = names[name]
        elif line.startswith("mtllib"):
            reference = line[6:].strip()
            if reference:
                out.mtllibs.append(reference)
    return out


def _table(source: Path, lines: list[str], width: int, label: str) -> np.ndarray:
    """Numbers of v/vt/vn lines -> (N, width); lines with extra numbers keep the first `width`."""
    numbers = parse_numbers(source, " ".join(lines), f"OBJ '{label}' line")
    if numbers.size == len(lines) * width:
        return numbers.reshape(-1, width)
    rows = []
    for number, line in enumerate(lines):
        values = parse_numbers(source, line, f"OBJ '{label}' line")
        fewest = 1 if label == "vt" else 3  # "vt u" alone means v = 0
        if values.size < fewest:
            raise ConversionError(source, f"OBJ '{label}' entry {number + 1} has too few numbers")
        rows.append(np.pad(values[:width], (0, max(0, width - values.size))))
    return np.asarray(rows, dtype=np.float64).reshape(-1, width)


def _vertices(source: Path, lines: list[str]) -> np.ndarray:
    """'v' lines -> (N, 3), or (N, 6) when every line carries an RGB colour too."""
    numbers = parse_numbers(source, " ".join(lines), "OBJ 'v' line")
    n = len(lines)
    if numbers.size == n * 6:
        return numbers.reshape(n, 6)
    if numbers.size == n * 3:
        return numbers.reshape(n, 3)
    return _table(source, lines, 3, "v")


def _split_colors(table: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Positions, and linear RGBA colours from the "v x y z r g b" extension if present."""
    if table.shape[1] != 6:
        return table[:, :3], None
    rgb = np.clip(table[:, 3:6], 0.0, 1.0)
    alpha = np.ones((table.shape[0], 1), np.float32)
    return table[:, :3], np.concatenate([srgb_to_linear(rgb), alpha], axis=1)


def _face_corners(source: Path, faces: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Face lines -> (corners (K, 3) raw v/vt/vn indices with 0 = absent, counts per face)."""
    split = [f.split() for f in faces]
    counts = np.fromiter((len(s) for s in split), dtype=np.int64, count=len(split))
    tokens = [t for s in split for t in s]
    joined = " ".join(tokens)
    n = len(tokens)
    slashes = joined.count("/")
    doubles = joined.count("//")
    first = tokens[0] if tokens else ""
    corners = np.zeros((n, 3), dtype=np.int64)
    if slashes == 0:
        corners[:, 0] = _ints(source, joined, n)
    elif slashes == n and doubles == 0 and first.count("/") == 1:
        corners[:, :2] = _ints(source, joined.replace("/", " "), 2 * n).reshape(n, 2)
    elif slashes == 2 * n and doubles == n and "//" in first:
        pair = _ints(source, joined.replace("//", " "), 2 * n).reshape(n, 2)
        corners[:, 0], corners[:, 2] = pair[:, 0], pair[:, 1]
    elif slashes == 2 * n and doubles == 0:
        corners[:] = _ints(source, joined.replace("/", " "), 3 * n).reshape(n, 3)
    else:  # formats mixed within the file: parse corner by corner
        for i, token in enumerate(tokens):
            parts = token.split("/")
            if len(parts) > 3:
                raise ConversionError(source, f"OBJ face corner {token!r} is malformed")
            for j, part in enumerate(parts):
                if part:
                    corners[i, j] = _int(source, part)
    return corners, counts


def _ints(source: Path, text: str, expected: int) -> np.ndarray:
    values = parse_numbers(source, text, "OBJ 'f' line")
    if values.size != expected or not np.array_equal(values, np.floor(values)):
        raise ConversionError(source, "OBJ face lines hold malformed vertex indices")
    return values.astype(np.int64)


def _int(source: Path, text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise ConversionError(source, f"OBJ face index {text!r} is not an integer") from exc


def _resolve(
    source: Path,
    raw: np.ndarray,
    counts: np.ndarray,
    seen_per_face: np.ndarray,
    total: int,
    what: str,
) -> np.ndarray:
    """OBJ's 1-based / negative-relative indices -> 0-based, each checked against the table."""
    if (raw == 0).any():
        raise ConversionError(source, f"OBJ face uses {what} index 0 (indices start at 1)")
    idx = raw - 1
    negative = raw < 0
    if negative.any():
        seen = np.repeat(seen_per_face, counts)
        idx = np.where(negative, seen + raw, idx)
    bad = (idx < 0) | (idx >= total)
    if bad.any():
        value = int(raw[np.argmax(bad)])
        raise ConversionError(
            source, f"OBJ face uses {what} index {value}, out of range (the file has {total})"
        )
    return idx


def _optional_index(
    source: Path,
    raw: np.ndarray,
    counts: np.ndarray,
    seen_per_face: np.ndarray,
    total: int,
    what: str,
    corner_material: np.ndarray,
    n_materials: int,
) -> tuple[np.ndarray | None, np.ndarray]:
    """Resolved vt / vn indices per corner (-1 where the corner's material goes without), and
    per material whether every one of its corners has one."""
    present = raw != 0
    # corner_material is n_materials for the corners of skipped faces: one slot past the end.
    missing = np.bincount(corner_material[~present], minlength=n_materials + 1)[:n_materials]
    used = np.bincount(corner_material, minlength=n_materials + 1)[:n_materials] > 0
    with_it = (missing == 0) & used
    if total == 0 or not with_it.any():
        return None, np.zeros(n_materials, dtype=bool)
    keep = np.append(with_it, False)[corner_material]
    idx = np.full(raw.shape[0], -1, dtype=np.int64)
    # Check every index that is given, even in materials that drop them: a bad one is corruption.
    given = raw[present]
    if (given < 0).any():  # relative indices need the counts seen before each corner's face
        seen, ones = np.repeat(seen_per_face, counts)[present], np.ones(given.size, np.int64)
    else:
        seen = ones = np.zeros(0, np.int64)
    idx[present] = _resolve(source, given, ones, seen, total, what)
    idx[~keep] = -1
    return idx, with_it


def _drop_unmapped_textures(
    model: Model, uv_material: np.ndarray, corner_material: np.ndarray, warnings: list[str]
) -> None:
    """A textured material whose faces lack UVs cannot sample its maps (glTF requires
    TEXCOORD_0): it keeps its colours and loses the maps, with a warning."""
    used = np.bincount(corner_material, minlength=len(model.materials) + 1) > 0
    for index, material in enumerate(model.materials):
        if used[index] and not uv_material[index] and material.textures():
            warnings.append(
                f"OBJ material {material.name!r} has textures but its faces have no texture "
                "coordinates: textures dropped"
            )
            model.materials[index] = replace(
                material, base_color_texture=None, metallic_roughness_texture=None,
                normal_texture=None, occlusion_texture=None, emissive_texture=None,
            )  # fmt: skip


def _fan(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Polygons (corner counts) -> triangles as corner positions (T, 3) and each one's face."""
    per_face = np.maximum(counts - 2, 0)
    starts = np.cumsum(counts) - counts
    face = np.repeat(np.arange(counts.size), per_face)
    first_triangle = np.cumsum(per_face) - per_face
    j = np.arange(face.size) - np.repeat(first_triangle, per_face) + 1
    base = starts[face]
    return np.stack([base, base + j, base + j + 1], axis=1), face


def _material(name: str, library: MtlLibrary, warnings: list[str]) -> Material:
    if name in library.materials:
        return library.materials[name]
    if name != "default" and library.materials:
        warnings.append(f"material {name!r} is not defined in the MTL; using plain grey")
    return Material(name=name)
