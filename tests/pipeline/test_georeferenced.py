"""Georeferenced scans: a 0.5 m sphere in SWEREF 99 TM metres keeps its shape in every format
that can carry 64-bit coordinates, and the summary keeps where it was (offset and CRS)."""

from __future__ import annotations

import json
import struct
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import trimesh
from gltf_validator import assert_valid
from pipeline_helpers import accessor_array, read_glb
from readers_fixtures import glb, gltf_document, stl_ascii, stl_binary

from vrculture.pipeline.convert import ConvertSettings, convert_file
from vrculture.pipeline.summary import ConversionSummary
from vrculture.pipeline.transforms.normalise import UP_ROTATIONS

CENTRE = np.array([674032.437, 6580119.281, 31.113])  # SWEREF 99 TM east, north, height
RADIUS = 0.25  # a 0.5 m sphere
TOLERANCE = 0.001  # metres
SETTINGS = ConvertSettings(levels=("full",))


def _sphere() -> trimesh.Trimesh:
    return trimesh.creation.icosphere(subdivisions=3, radius=RADIUS)


def _world(local: np.ndarray) -> np.ndarray:
    return local.astype(np.float64) + CENTRE


def _ply_header(fmt: str, vertices: int, faces: int) -> bytes:
    return (f"ply\nformat {fmt} 1.0\ncomment photogrammetry export\n"
            "comment CRS EPSG:3006 (SWEREF 99 TM)\n"
            f"element vertex {vertices}\nproperty double x\nproperty double y\n"
            f"property double z\nelement face {faces}\n"
            "property list uchar int vertex_indices\nend_header\n").encode()


def _write_ply_binary(folder: Path, mesh: trimesh.Trimesh, order: str = "<") -> Path:
    body = _world(mesh.vertices).astype(f"{order}f8").tobytes()
    body += b"".join(struct.pack(f"{order}B3i", 3, *face) for face in mesh.faces)
    fmt = "binary_little_endian" if order == "<" else "binary_big_endian"
    path = folder / "stone.ply"
    path.write_bytes(_ply_header(fmt, len(mesh.vertices), len(mesh.faces)) + body)
    return path


def _write_ply_ascii(folder: Path, mesh: trimesh.Trimesh) -> Path:
    body = "".join(f"{x!r} {y!r} {z!r}\n" for x, y, z in _world(mesh.vertices).tolist())
    body += "".join(f"3 {a} {b} {c}\n" for a, b, c in mesh.faces)
    path = folder / "stone.ply"
    path.write_bytes(_ply_header("ascii", len(mesh.vertices), len(mesh.faces))
                     + body.encode())
    return path


def _write_obj(folder: Path, mesh: trimesh.Trimesh) -> Path:
    lines = ["# Agisoft export", "# Coordinate system: SWEREF99 TM (EPSG:3006)"]
    lines += [f"v {x!r} {y!r} {z!r}" for x, y, z in _world(mesh.vertices).tolist()]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in mesh.faces]
    path = folder / "stone.obj"
    path.write_text("\n".join(lines) + "\n")
    return path


def _write_off(folder: Path, mesh: trimesh.Trimesh) -> Path:
    lines = ["OFF", "# EPSG:3006", f"{len(mesh.vertices)} {len(mesh.faces)} 0"]
    lines += [f"{x!r} {y!r} {z!r}" for x, y, z in _world(mesh.vertices).tolist()]
    lines += [f"3 {a} {b} {c}" for a, b, c in mesh.faces]
    path = folder / "stone.off"
    path.write_text("\n".join(lines) + "\n")
    return path


def _write_stl_ascii(folder: Path, mesh: trimesh.Trimesh) -> Path:
    path = folder / "stone.stl"
    path.write_bytes(stl_ascii(_world(mesh.vertices)[mesh.faces]))
    return path


def _write_glb(folder: Path, mesh: trimesh.Trimesh) -> Path:
    """float32 positions around the node's origin, the node translated into the grid (JSON
    numbers are 64-bit), and the CRS in the asset's extras."""
    doc, data = gltf_document(np.asarray(mesh.vertices, np.float32),
                              np.asarray(mesh.faces, np.uint16).reshape(-1))
    doc["nodes"][0]["translation"] = CENTRE.tolist()
    doc["asset"]["extras"] = {"crs": "EPSG:3006"}
    path = folder / "stone.glb"
    path.write_bytes(glb(doc, data))
    return path


WRITERS = {
    "ply-binary-double": (_write_ply_binary, "EPSG:3006"),
    "ply-binary-double-big-endian": (partial(_write_ply_binary, order=">"), "EPSG:3006"),
    "ply-ascii-double": (_write_ply_ascii, "EPSG:3006"),
    "obj": (_write_obj, "EPSG:3006"),
    "off": (_write_off, "EPSG:3006"),
    "stl-ascii": (_write_stl_ascii, None),  # STL has nowhere to name a CRS
    "gltf-node-translation": (_write_glb, "EPSG:3006"),
}


def glb_world_positions(path: Path) -> np.ndarray:
    """Every vertex of a GLB where a viewer puts it: dequantised (KHR_mesh_quantization's
    normalised shorts) and moved by the node transforms (the dequantisation node included)."""
    gltf, binary = read_glb(path)
    nodes = gltf["nodes"]
    out = []

    def visit(index: int, parent: np.ndarray) -> None:
        node = nodes[index]
        matrix = np.eye(4)
        matrix[:3, :3] = np.diag(node.get("scale", [1, 1, 1]))
        assert node.get("rotation", [0, 0, 0, 1]) == [0, 0, 0, 1]
        matrix[:3, 3] = node.get("translation", [0, 0, 0])
        world = parent @ matrix
        if "mesh" in node:
            for prim in gltf["meshes"][node["mesh"]]["primitives"]:
                accessor = gltf["accessors"][prim["attributes"]["POSITION"]]
                values = accessor_array(gltf, binary, prim["attributes"]["POSITION"])[:, :3]
                local = values.astype(np.float64)
                if accessor.get("normalized"):
                    local = np.maximum(local / 32767.0, -1.0)  # SHORT, as glTF decodes it
                out.append(local @ world[:3, :3].T + world[:3, 3])
        for child in node.get("children", []):
            visit(child, world)

    for root in gltf["scenes"][gltf.get("scene", 0)]["nodes"]:
        visit(root, np.eye(4))
    return np.concatenate(out)


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_georeferenced_sphere_keeps_its_shape_and_its_place(tmp_path, name):
    write, crs = WRITERS[name]
    source = write(tmp_path, _sphere())
    summary = convert_file(source, tmp_path / "out", SETTINGS)
    glb_path = tmp_path / "out" / summary.highest.file
    assert_valid(glb_path)

    # The surface: every vertex on a sphere of the right radius around the GLB's centre,
    # which stands on the floor (y = 0) at the origin.
    positions = glb_world_positions(glb_path)
    centre_out = np.array([0.0, RADIUS, 0.0])
    distances = np.linalg.norm(positions - centre_out, axis=1)
    assert np.abs(distances - RADIUS).max() < TOLERANCE, (distances.min(), distances.max())

    # The place: offset + R^T p maps the GLB back into the grid; the sphere's centre lands on
    # the true centre.
    assert summary.geo is not None
    rotation = UP_ROTATIONS[summary.up_axis]
    back = np.asarray(summary.geo.offset) + rotation.T @ centre_out
    assert np.abs(back - CENTRE).max() < TOLERANCE, back - CENTRE
    assert summary.geo.crs == crs

    # The record travels through the summary's JSON (the build cache reads it back).
    written = json.loads((tmp_path / "out" / f"{summary.stem}.json").read_text())
    assert written["geo"]["crs"] == crs
    assert np.abs(np.asarray(written["geo"]["offset"]) - summary.geo.offset).max() < 1e-6
    assert ConversionSummary.from_json(written) == summary


def test_binary_stl_is_centred_in_64_bits_and_says_its_source_is_coarse(tmp_path):
    """Binary STL holds float32 only (0.5 m steps at 6.58e6 m): the shape cannot be saved,
    but the curator is told why and the object is still placed within a step."""
    mesh = _sphere()
    source = tmp_path / "stone.stl"
    source.write_bytes(stl_binary(_world(mesh.vertices)[mesh.faces].astype(np.float32)))
    summary = convert_file(source, tmp_path / "out", SETTINGS)
    assert any("32-bit coordinates" in warning for warning in summary.warnings)
    assert summary.geo is not None and summary.geo.crs is None
    bottom = CENTRE - [0.0, 0.0, RADIUS]
    assert np.abs(np.asarray(summary.geo.offset) - bottom).max() < 0.5


def test_an_object_near_its_origin_has_no_geo_record(tmp_path):
    mesh = _sphere()
    source = tmp_path / "stone.stl"
    source.write_bytes(stl_ascii(mesh.vertices[mesh.faces] + [300.0, -200.0, 5.0]))
    summary = convert_file(source, tmp_path / "out", SETTINGS)
    assert summary.geo is None
    assert json.loads((tmp_path / "out" / "stone.json").read_text())["geo"] is None
    assert not any("32-bit coordinates" in warning for warning in summary.warnings)


def test_a_named_crs_always_gives_a_geo_record(tmp_path):
    mesh = _sphere()
    doc, data = gltf_document(np.asarray(mesh.vertices, np.float32),
                              np.asarray(mesh.faces, np.uint16).reshape(-1))
    doc["scenes"][0]["extras"] = {"crs": "epsg:3011"}
    source = tmp_path / "stone.glb"
    source.write_bytes(glb(doc, data))
    summary = convert_file(source, tmp_path / "out", SETTINGS)
    assert summary.geo is not None and summary.geo.crs == "EPSG:3011"
    assert np.abs(np.asarray(summary.geo.offset) - [0.0, -RADIUS, 0.0]).max() < TOLERANCE


@pytest.mark.parametrize("comments, crs", [
    (b"# Coordinate system: SWEREF99 TM (EPSG:3006)\n", "EPSG:3006"),
    (b"#epsg:3011\n", "EPSG:3011"),
    (b"v 1 2 3 # crs EPSG:3006, heights RH 2000\n", "EPSG:3006"),  # a trailing comment
    (b"# EPSG:3006x\n# see notEPSG:3006\n", None),  # only a whole EPSG:<digits> word counts
    (b"# EPSG:\n# EPSG:12345678\n", None),
    (b"o EPSG:3006\n", None),  # not a comment
])
def test_only_a_whole_epsg_word_in_a_comment_names_the_crs(comments, crs):
    from vrculture.pipeline.readers.georef import crs_in_hash_comments

    assert crs_in_hash_comments(b"v 0 0 0\n" + comments + b"v 1 1 1\n") == crs
