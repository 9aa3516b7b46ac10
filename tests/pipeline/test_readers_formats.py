"""Format details each reader must get right, on small files built in the test."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from readers_fixtures import (
    QUAD,
    TRIANGLE,
    data_uri,
    glb,
    gltf_document,
    meshopt_glb,
    obj_text,
    off_text,
    ply_ascii,
    ply_binary,
    png_bytes,
    stl_ascii,
    stl_binary,
    write,
)

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.model import Primitive
from vrculture.pipeline.readers import SourceModel, read_source
from vrculture.pipeline.readers.obj_scan import scan_obj
from vrculture.pipeline.readers.tristrips import fan_to_triangles, strips_to_triangles


def _only(source: SourceModel) -> Primitive:
    prims = source.model.primitives()
    assert len(prims) == 1
    return prims[0]


def _corners(prim: Primitive) -> np.ndarray:
    """Triangles as corner positions, for comparisons independent of vertex order."""
    return prim.positions[prim.indices]


def _front_normals(prim: Primitive) -> np.ndarray:
    v = _corners(prim)
    n = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
    return n / np.linalg.norm(n, axis=1)[:, None]


# ---------------------------------------------------------------- triangle strips


def test_strip_alternates_winding_so_all_triangles_face_one_way() -> None:
    # A zig-zag strip over a row of quads in the z = 0 plane.
    positions = np.array([[i // 2, i % 2, 0] for i in range(8)], dtype=float)
    strip = np.array([1, 0, 3, 2, 5, 4, 7, 6])
    tris = strips_to_triangles(strip)
    assert len(tris) == 6
    v = positions[tris]
    z = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])[:, 2]
    assert (z > 0).all() or (z < 0).all()
    assert (z > 0).all()  # first triangle (1, 0, 3) is counter-clockwise; the rest follow it


def test_strip_restarts_and_degenerates() -> None:
    strip = np.array([0, 1, 2, 3, -1, 4, 5, 6, 6, 7, 8])
    tris = strips_to_triangles(strip)
    # strip 1: (0,1,2), (2,1,3); strip 2 starts fresh (even again): (4,5,6), then two
    # degenerate windows through the repeated 6 (dropped), then (6,7,8) at odd offset 3, so
    # flipped: a repeated index is how strip encoders switch parity on purpose.
    assert tris.tolist() == [[0, 1, 2], [2, 1, 3], [4, 5, 6], [7, 6, 8]]


def test_fan() -> None:
    assert fan_to_triangles(np.array([0, 1, 2, 3])).tolist() == [[0, 1, 2], [0, 2, 3]]


def test_ply_tristrips_element(tmp_path: Path) -> None:
    strip = [1, 0, 3, 2, -1, 3, 2, 4]
    header = (
        "ply\nformat binary_little_endian 1.0\nelement vertex 5\n"
        "property float x\nproperty float y\nproperty float z\n"
        "element tristrips 1\nproperty list int int vertex_indices\nend_header\n"
    )
    verts = np.array([[0, 1, 0], [0, 0, 0], [1, 1, 0], [1, 0, 0], [2, 1, 0]], "<f4")
    body = verts.tobytes() + struct.pack("<i", len(strip)) + np.array(strip, "<i4").tobytes()
    prim = _only(read_source(write(tmp_path / "s.ply", header.encode() + body)))
    assert prim.triangle_count == 3
    assert (_front_normals(prim)[:, 2] > 0).all() or (_front_normals(prim)[:, 2] < 0).all()


# ---------------------------------------------------------------- OBJ


def test_obj_quads_and_polygons_fan_into_triangles(tmp_path: Path) -> None:
    vertices = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [-1, 0.5, 0]])
    text = obj_text("f 1 2 3 4\nf 1 4 5\n", vertices)
    prim = _only(read_source(write(tmp_path / "poly.obj", text)))
    assert prim.triangle_count == 3
    assert (_front_normals(prim)[:, 2] > 0.99).all()


@pytest.mark.parametrize(
    ("faces", "uv", "normals"),
    [
        ("f 1/1 2/2 3/3\n", True, False),
        ("f 1//1 2//1 3//1\n", False, True),
        ("f 1/1/1 2/2/1 3/3/1\n", True, True),
        ("f 1/1/1 2//1 3/3/1\n", False, True),  # mixed within a face: UVs incomplete, dropped
        ("f -3/-3 -2/-2 -1/-1\n", True, False),  # relative indices
    ],
)
def test_obj_corner_formats(tmp_path: Path, faces: str, uv: bool, normals: bool) -> None:
    text = obj_text("vt 0 0\nvt 1 0\nvt 0 1\nvn 0 0 1\n" + faces, TRIANGLE)
    source = read_source(write(tmp_path / "t.obj", text))
    prim = _only(source)
    assert prim.triangle_count == 1
    assert (prim.uvs is not None) == uv
    assert (prim.normals is not None) == normals
    if uv:
        # OBJ v runs up; glTF's runs down: vt (0, 1) becomes (0, 0).
        corner = np.argmax(prim.positions[:, 1])
        assert np.allclose(prim.uvs[corner], (0, 0))
        corner = np.argmin(prim.positions[:, 0] + prim.positions[:, 1])
        assert np.allclose(prim.uvs[corner], (0, 1))


def test_obj_uv_seam_splits_vertices_and_uvs_outside_unit_square_survive(tmp_path: Path) -> None:
    text = obj_text("vt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\nvt 2.5 -1\nf 1/1 2/2 3/3\nf 1/5 3/3 4/4\n")
    prim = _only(read_source(write(tmp_path / "seam.obj", text)))
    assert prim.vertex_count == 5  # vertex 1 has two UVs: it is split
    assert prim.uvs.max() == pytest.approx(2.5) and prim.uvs.max(axis=0)[1] == pytest.approx(2.0)


def test_obj_vertex_colours_are_linear_rgba(tmp_path: Path) -> None:
    text = "v 0 0 0 1 0 0\nv 1 0 0 0 1 0\nv 0 1 0 0.5 0.5 0.5\nf 1 2 3\n"
    prim = _only(read_source(write(tmp_path / "c.obj", text)))
    assert prim.colors is not None and prim.colors.shape == (3, 4)
    grey = prim.colors[np.argmax(prim.positions[:, 1])]
    assert grey[0] == pytest.approx(0.214, abs=0.002)  # sRGB 0.5 in linear light
    assert grey[3] == 1.0


def test_obj_materials_split_primitives_and_map_to_pbr(tmp_path: Path) -> None:
    write(tmp_path / "tex.png", png_bytes(Image.new("RGB", (4, 4), (255, 0, 0))))
    write(
        tmp_path / "two.mtl",
        "newmtl red\nKd 1 0 0\nd 0.5\nNs 900\n"
        "newmtl tex\nKd 1 1 1\nmap_Kd tex.png\nKe 0.1 0.2 0.3\nPr 0.25\nPm 1\n",
    )
    faces = "vt 0 0\nvt 1 1\nvt 0 1\nusemtl red\nf 1 2 3\nusemtl tex\nf 1/1 3/2 4/3\nusemtl red\n"
    text = "mtllib two.mtl\n" + obj_text(faces)
    source = read_source(write(tmp_path / "two.obj", text))
    assert len(source.model.primitives()) == 2
    red, tex = source.model.materials
    assert red.base_color_factor == (1.0, 0.0, 0.0, 0.5) and red.alpha_mode == "BLEND"
    assert red.roughness_factor < 0.3  # shiny (Ns 900)
    assert tex.base_color_texture is not None and tex.base_color_texture.image.size == (4, 4)
    assert tex.emissive_factor == (0.1, 0.2, 0.3)
    assert (tex.roughness_factor, tex.metallic_factor) == (0.25, 1.0)


def test_obj_unknown_material_warns(tmp_path: Path) -> None:
    write(tmp_path / "m.mtl", "newmtl known\nKd 0 0 1\n")
    text = "mtllib m.mtl\nusemtl unknown\n" + obj_text()
    source = read_source(write(tmp_path / "u.obj", text))
    assert any("'unknown'" in w for w in source.model.warnings)


# ---------------------------------------------------------------- PLY


def test_ply_ascii_and_binary_agree(tmp_path: Path) -> None:
    a = _only(read_source(write(tmp_path / "a.ply", ply_ascii())))
    b = _only(read_source(write(tmp_path / "b.ply", ply_binary())))
    assert np.array_equal(_corners(a), _corners(b))


def test_ply_big_endian_with_mixed_polygons_and_extra_element(tmp_path: Path) -> None:
    header = (
        "ply\nformat binary_big_endian 1.0\ncomment made in a test\nelement vertex 5\n"
        "property double x\nproperty double y\nproperty double z\nproperty uchar quality\n"
        "element face 2\nproperty uchar flags\nproperty list uchar uint vertex_indices\n"
        "element material 1\nproperty float shine\nend_header\n"
    )
    body = b""
    for v in [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [-1, 0.5, 0]]:
        body += struct.pack(">3dB", *v, 7)
    body += struct.pack(">BB4I", 0, 4, 0, 1, 2, 3) + struct.pack(">BB3I", 0, 3, 0, 3, 4)
    body += struct.pack(">f", 0.5)
    prim = _only(read_source(write(tmp_path / "be.ply", header.encode() + body)))
    assert prim.triangle_count == 3
    assert (_front_normals(prim)[:, 2] > 0.99).all()


def test_ply_uchar_colours_become_linear_float_rgba(tmp_path: Path) -> None:
    colors = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 128, 128]])
    prim = _only(read_source(write(tmp_path / "c.ply", ply_binary(QUAD, colors=colors))))
    assert prim.colors is not None and prim.colors.dtype == np.float32
    assert prim.colors.shape == (4, 4)
    assert prim.colors[:, 3].min() == 1.0
    grey = prim.colors[np.argmax(prim.positions[:, 1] - prim.positions[:, 0])]
    assert grey[0] == pytest.approx(0.2158, abs=0.002)  # sRGB 128 -> linear


def test_ply_vertex_colour_declared_as_a_list_is_ignored_with_a_warning(tmp_path: Path) -> None:
    header = (
        "ply\nformat binary_little_endian 1.0\nelement vertex 3\n"
        "property float x\nproperty float y\nproperty float z\nproperty list uchar uchar red\n"
        "property uchar green\nproperty uchar blue\n"
        "element face 1\nproperty list uchar int vertex_indices\nend_header\n"
    )
    body = b"".join(struct.pack("<3f4B", *v, 1, 200, 10, 10) for v in TRIANGLE)
    body += struct.pack("<B3i", 3, 0, 1, 2)
    source = read_source(write(tmp_path / "l.ply", header.encode() + body))
    assert _only(source).colors is None
    assert any("'red' is a list" in w for w in source.model.warnings)


# ---------------------------------------------------------------- STL


def test_stl_ascii_and_binary_agree(tmp_path: Path) -> None:
    tris = np.stack([TRIANGLE, TRIANGLE + 1])
    a = _only(read_source(write(tmp_path / "a.stl", stl_ascii(tris))))
    b = _only(read_source(write(tmp_path / "b.stl", stl_binary(tris, header=b"solid x"))))
    assert a.triangle_count == b.triangle_count == 2
    assert np.array_equal(_corners(a), _corners(b))


# ---------------------------------------------------------------- glTF


def _textured_doc(image: bytes) -> tuple[dict, bytes]:
    doc, data = gltf_document()
    doc["images"] = [{"uri": data_uri(image, "image/png")}]
    doc["textures"] = [{"source": 0}]
    doc["materials"] = [
        {
            "name": "m",
            "pbrMetallicRoughness": {
                "baseColorTexture": {"index": 0},
                "baseColorFactor": [0.5, 0.5, 0.5, 1],
                "metallicFactor": 0.25,
                "roughnessFactor": 0.75,
                "metallicRoughnessTexture": {"index": 0},
            },
            "normalTexture": {"index": 0},
            "occlusionTexture": {"index": 0},
            "emissiveTexture": {"index": 0},
            "emissiveFactor": [1, 0.5, 0],
            "alphaMode": "MASK",
            "alphaCutoff": 0.3,
            "doubleSided": True,
            "extensions": {"KHR_materials_unlit": {}},
        }
    ]
    doc["meshes"][0]["primitives"][0]["material"] = 0
    return doc, data


def test_gltf_material_maps_and_factors(tmp_path: Path) -> None:
    doc, data = _textured_doc(png_bytes(Image.new("RGB", (8, 8), (1, 2, 3))))
    doc["buffers"][0]["uri"] = data_uri(data)
    source = read_source(write(tmp_path / "m.gltf", json.dumps(doc)))
    m = source.model.materials[0]
    assert m.base_color_factor == (0.5, 0.5, 0.5, 1.0)
    assert (m.metallic_factor, m.roughness_factor) == (0.25, 0.75)
    assert m.emissive_factor == (1.0, 0.5, 0.0)
    assert (m.alpha_mode, m.alpha_cutoff, m.double_sided, m.unlit) == ("MASK", 0.3, True, True)
    for texture in m.textures():
        assert texture.image.size == (8, 8)
    assert len(m.textures()) == 5


def test_gltf_node_transforms_are_baked(tmp_path: Path) -> None:
    doc, data = gltf_document()
    # Parent: translate by (10, 0, 0); child: rotate 90 degrees about Z, scale 2.
    half = np.sqrt(0.5)
    doc["nodes"] = [
        {"translation": [10, 0, 0], "children": [1]},
        {"mesh": 0, "rotation": [0, 0, half, half], "scale": [2, 2, 2], "name": "rotated"},
    ]
    prim = _only(read_source(write(tmp_path / "t.glb", glb(doc, data))))
    expected = np.array([[10, 0, 0], [10, 2, 0], [8, 0, 0]])
    assert np.allclose(prim.positions, expected, atol=1e-5)


def test_gltf_mirroring_flips_winding_and_normals(tmp_path: Path) -> None:
    doc, data = gltf_document()
    normals = np.tile([0, 0, 1], (3, 1)).astype("<f4").tobytes()
    doc["bufferViews"].append({"buffer": 0, "byteOffset": len(data), "byteLength": 36})
    doc["accessors"].append({"bufferView": 2, "componentType": 5126, "count": 3, "type": "VEC3"})
    doc["buffers"][0]["byteLength"] = len(data) + 36
    doc["meshes"][0]["primitives"][0]["attributes"]["NORMAL"] = 2
    doc["nodes"][0]["scale"] = [1, 1, -1]
    prim = _only(read_source(write(tmp_path / "m.glb", glb(doc, data + normals))))
    assert np.allclose(prim.normals, (0, 0, -1))
    assert np.allclose(_front_normals(prim), (0, 0, -1))  # winding agrees with the normals


def test_gltf_mesh_instanced_twice(tmp_path: Path) -> None:
    doc, data = gltf_document()
    doc["nodes"] = [{"children": [1, 2]}, {"mesh": 0, "name": "a"},
                    {"mesh": 0, "name": "b", "translation": [5, 0, 0]}]  # fmt: skip
    source = read_source(write(tmp_path / "i.glb", glb(doc, data)))
    assert [n.name for n in source.model.nodes] == ["a", "b"]
    assert source.model.triangle_count == 2


def test_gltf_strided_normalised_sparse_and_strip(tmp_path: Path) -> None:
    """Interleaved positions + normalised uint8 UVs in one strided view, a sparse override, and
    a TRIANGLE_STRIP without indices."""
    positions = np.array([[0, 1, 0], [0, 0, 0], [1, 1, 0], [1, 0, 0]], "<f4")
    uvs = np.array([[0, 0], [0, 255], [255, 0], [255, 255]], "u1")
    interleaved = b"".join(
        p.tobytes() + u.tobytes() + b"\x00\x00" for p, u in zip(positions, uvs, strict=True)
    )
    sparse_index = struct.pack("<H", 3) + b"\x00\x00"
    sparse_value = np.array([2, 0, 0], "<f4").tobytes()
    data = interleaved + sparse_index + sparse_value
    doc = {
        "asset": {"version": "2.0"},
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0, "TEXCOORD_0": 1}, "mode": 5}]}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3",
             "sparse": {"count": 1, "indices": {"bufferView": 1, "componentType": 5123},
                        "values": {"bufferView": 2}}},
            {"bufferView": 0, "byteOffset": 12, "componentType": 5121, "normalized": True,
             "count": 4, "type": "VEC2"},
        ],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": 64, "byteStride": 16},
            {"buffer": 0, "byteOffset": 64, "byteLength": 2},
            {"buffer": 0, "byteOffset": 68, "byteLength": 12},
        ],
        "buffers": [{"byteLength": len(data), "uri": data_uri(data)}],
    }  # fmt: skip
    prim = _only(read_source(write(tmp_path / "s.gltf", json.dumps(doc))))
    assert prim.triangle_count == 2
    assert prim.positions[:, 0].max() == pytest.approx(2.0)  # the sparse override applied
    assert sorted(map(tuple, prim.uvs.tolist())) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert (_front_normals(prim)[:, 2] > 0).all()


def test_gltf_colours_as_normalised_ushort_vec3(tmp_path: Path) -> None:
    doc, data = gltf_document()
    colors = np.array([[65535, 0, 0, 0], [0, 65535, 0, 0], [0, 0, 32768, 0]], "<u2")
    extra = colors[:, :3].tobytes() + b"\x00" * 6  # 3 x VEC3 of u16 = 18 bytes, padded
    doc["bufferViews"].append({"buffer": 0, "byteOffset": len(data), "byteLength": 18})
    doc["accessors"].append(
        {"bufferView": 2, "componentType": 5123, "normalized": True, "count": 3, "type": "VEC3"}
    )
    doc["buffers"][0]["byteLength"] = len(data) + len(extra)
    doc["meshes"][0]["primitives"][0]["attributes"]["COLOR_0"] = 2
    prim = _only(read_source(write(tmp_path / "c.glb", glb(doc, data + extra))))
    assert prim.colors.shape == (3, 4)
    assert np.allclose(prim.colors[:, 3], 1.0)
    assert prim.colors[:, :3].max(axis=0) == pytest.approx([1.0, 1.0, 0.5], abs=1e-3)


def test_gltf_without_scenes_uses_parentless_nodes(tmp_path: Path) -> None:
    doc, data = gltf_document()
    del doc["scenes"], doc["scene"]
    assert _only(read_source(write(tmp_path / "n.glb", glb(doc, data)))).triangle_count == 1


def test_ply_ascii_mixed_polygons(tmp_path: Path) -> None:
    vertices = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [-1, 0.5, 0]])
    data = ply_ascii(vertices, faces="4 0 1 2 3\n3 0 3 4\n")
    prim = _only(read_source(write(tmp_path / "m.ply", data)))
    assert prim.triangle_count == 3
    assert (_front_normals(prim)[:, 2] > 0.99).all()


def test_ply_several_strips_of_different_lengths(tmp_path: Path) -> None:
    header = (
        "ply\nformat binary_little_endian 1.0\nelement vertex 5\n"
        "property float x\nproperty float y\nproperty float z\n"
        "element tristrips 2\nproperty list uchar int vertex_indices\nend_header\n"
    )
    verts = np.array([[0, 1, 0], [0, 0, 0], [1, 1, 0], [1, 0, 0], [2, 1, 0]], "<f4")
    body = verts.tobytes()
    for strip in ([1, 0, 3, 2], [3, 2, 4]):  # two items: the uniform fast path cannot apply
        body += struct.pack("<B", len(strip)) + np.array(strip, "<i4").tobytes()
    prim = _only(read_source(write(tmp_path / "s.ply", header.encode() + body)))
    assert prim.triangle_count == 3
    z = _front_normals(prim)[:, 2]
    assert (z < 0).all()  # all three face the same way (this strip starts clockwise)


def _textured_ply(texture_file: str) -> bytes:
    header = (
        f"ply\nformat ascii 1.0\ncomment TextureFile {texture_file}\nelement vertex 4\n"
        "property float x\nproperty float y\nproperty float z\nelement face 1\n"
        "property list uchar int vertex_indices\nproperty list uchar float texcoord\nend_header\n"
    )
    body = "0 0 0\n1 0 0\n1 1 0\n0 1 0\n4 0 1 2 3 8 0 0 1 0 1 1 0 1\n"
    return (header + body).encode()


def test_ply_face_texcoords_and_texture_file(tmp_path: Path) -> None:
    write(tmp_path / "skin.png", png_bytes(Image.new("RGB", (8, 8), (9, 9, 9))))
    source = read_source(write(tmp_path / "t.ply", _textured_ply("skin.png")))
    prim = _only(source)
    assert prim.triangle_count == 2 and prim.uvs is not None
    for position, uv in zip(prim.positions, prim.uvs, strict=True):
        # The quad's UVs equal its x/y, with v flipped to glTF's top-left origin.
        assert np.allclose(uv, (position[0], 1 - position[1]))
    texture = source.model.materials[prim.material].base_color_texture
    assert texture is not None and texture.image.size == (8, 8)


def test_ply_texture_file_outside_the_folder_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "skin.png", png_bytes(Image.new("RGB", (8, 8))))
    with pytest.raises(ConversionError, match="outside"):
        read_source(write(tmp_path / "src" / "t.ply", _textured_ply("../skin.png")))


_OBJ_VARIANTS = {
    "plain": obj_text(),
    "uv_normals_materials": (
        "mtllib none.mtl\n"
        + obj_text(
            "vt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\nvn 0 0 1\n"
            "usemtl a\nf 1/1/1 2/2/1 3/3/1\nusemtl b\nf 1/1/1 3/3/1 4/4/1\nusemtl a\n"
            "f 4/4/1 1/1/1 2/2/1\n"
        )
    ),
    "relative_and_polygons": obj_text("f -4 -3 -2 -1\nf 1 2 3\n"),
    "normals_only": obj_text("vn 0 0 1\nf 1//1 2//1 3//1 4//1\n"),
    "colours": "v 0 0 0 1 0 0\nv 1 0 0 0 1 0\nv 0 1 0 0 0 1\nf 1 2 3\n",
}


@pytest.mark.parametrize("name", sorted(_OBJ_VARIANTS))
def test_obj_bulk_scan_and_line_parser_agree(tmp_path: Path, name: str) -> None:
    """The numpy bulk scanner must give exactly what the careful line parser gives."""
    text = _OBJ_VARIANTS[name]
    assert scan_obj(text.encode()) is not None  # the fast path really is taken
    careful = " " + text.replace("\nf", "\n f", 1)  # indentation sends it down the careful path
    assert scan_obj(careful.encode()) is None
    fast = read_source(write(tmp_path / "fast.obj", text))
    slow = read_source(write(tmp_path / "slow.obj", careful))
    assert [m.name for m in fast.model.materials] == [m.name for m in slow.model.materials]
    for a, b in zip(fast.model.primitives(), slow.model.primitives(), strict=True):
        assert a.material == b.material
        for attribute in ("positions", "indices", "normals", "uvs", "colors"):
            x, y = getattr(a, attribute), getattr(b, attribute)
            assert (x is None) == (y is None), attribute
            if x is not None:
                assert np.array_equal(x, y), attribute


def test_obj_trailing_comments_and_crlf(tmp_path: Path) -> None:
    text = obj_text().replace("\n", "  # note\r\n")
    assert read_source(write(tmp_path / "c.obj", text)).model.triangle_count == 2


def test_obj_vt_with_only_u(tmp_path: Path) -> None:
    text = obj_text("vt 0.25\nvt 0.5 1\nvt 1 1\nf 1/1 2/2 3/3\n", TRIANGLE)
    prim = _only(read_source(write(tmp_path / "u.obj", text)))
    corner = np.argmin(prim.positions[:, 0] + prim.positions[:, 1])  # the first vertex
    assert np.allclose(prim.uvs[corner], (0.25, 1.0))  # v = 0 then flipped to glTF's 1


def test_gltf_texture_transform_is_baked_into_uvs(tmp_path: Path) -> None:
    doc, data = _textured_doc(png_bytes(Image.new("RGB", (4, 4))))
    uvs = np.array([[0, 0], [1, 0], [0, 1]], "<f4").tobytes()
    doc["bufferViews"].append({"buffer": 0, "byteOffset": len(data), "byteLength": 24})
    doc["accessors"].append({"bufferView": 2, "componentType": 5126, "count": 3, "type": "VEC2"})
    doc["buffers"][0]["byteLength"] = len(data) + 24
    doc["meshes"][0]["primitives"][0]["attributes"]["TEXCOORD_0"] = 2
    transform = {"offset": [0.5, 0], "scale": [2, 2], "rotation": np.pi / 2}
    for info in ("baseColorTexture", "metallicRoughnessTexture"):
        doc["materials"][0]["pbrMetallicRoughness"][info]["extensions"] = {
            "KHR_texture_transform": transform
        }
    for info in ("normalTexture", "occlusionTexture", "emissiveTexture"):
        doc["materials"][0][info]["extensions"] = {"KHR_texture_transform": transform}
    source = read_source(write(tmp_path / "t.glb", glb(doc, data + uvs)))
    prim = _only(source)
    # uv' = T R S uv: (1, 0) -> scale (2, 0) -> rotate a quarter turn (0, -2) -> offset (0.5, -2)
    by_position = {tuple(p): tuple(uv) for p, uv in zip(prim.positions, prim.uvs, strict=True)}
    assert np.allclose(by_position[(0.0, 0.0, 0.0)], (0.5, 0.0))
    assert np.allclose(by_position[(1.0, 0.0, 0.0)], (0.5, -2.0))
    assert np.allclose(by_position[(0.0, 1.0, 0.0)], (2.5, 0.0))
    assert not any("KHR_texture_transform" in w for w in source.model.warnings)


def test_gltf_meshopt_compressed_views_decode(tmp_path: Path) -> None:
    prim = _only(read_source(write(tmp_path / "m.glb", meshopt_glb())))
    assert prim.triangle_count == 2
    assert np.array_equal(np.sort(_corners(prim).reshape(-1, 3), axis=0),
                          np.sort(QUAD[[0, 1, 2, 0, 2, 3]], axis=0))  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"stride": 6}, ("byteStride 6",)),
        ({"mode": "POINTS"}, ("unknown mode",)),
        ({"garbage": True}, ("does not decode",)),
    ],
)
def test_gltf_meshopt_bad_views_are_refused(tmp_path: Path, kwargs: dict, words: tuple) -> None:
    with pytest.raises(ConversionError) as err:
        read_source(write(tmp_path / "m.glb", meshopt_glb(**kwargs)))
    assert "EXT_meshopt_compression" in str(err.value)
    for word in words:
        assert word in str(err.value)


COLLADA_TRIANGLE = """<?xml version="1.0" encoding="utf-8"?>
<COLLADA xmlns="http://www.collada.org/2005/11/COLLADASchema" version="1.4.1">
  <asset><unit name="meter" meter="1"/><up_axis>Y_UP</up_axis></asset>
  <library_images><image id="img"><init_from>{texture}</init_from></image></library_images>
  <library_effects><effect id="fx"><profile_COMMON>
    <newparam sid="surf"><surface type="2D"><init_from>img</init_from></surface></newparam>
    <newparam sid="samp"><sampler2D><source>surf</source></sampler2D></newparam>
    <technique sid="t"><lambert><diffuse><texture texture="samp" texcoord="UV"/></diffuse>
    </lambert></technique>
  </profile_COMMON></effect></library_effects>
  <library_materials><material id="mat"><instance_effect url="#fx"/></material></library_materials>
  <library_geometries><geometry id="g"><mesh>
    <source id="p"><float_array id="pa" count="9">0 0 0 1 0 0 0 1 0</float_array>
      <technique_common><accessor source="#pa" count="3" stride="3">
        <param name="X" type="float"/><param name="Y" type="float"/><param name="Z" type="float"/>
      </accessor></technique_common></source>
    <source id="t"><float_array id="ta" count="6">0 0 1 0 0 1</float_array>
      <technique_common><accessor source="#ta" count="3" stride="2">
        <param name="S" type="float"/><param name="T" type="float"/>
      </accessor></technique_common></source>
    <vertices id="v"><input semantic="POSITION" source="#p"/></vertices>
    <triangles count="1" material="m"><input semantic="VERTEX" source="#v" offset="0"/>
      <input semantic="TEXCOORD" source="#t" offset="0" set="0"/><p>0 1 2</p></triangles>
  </mesh></geometry></library_geometries>
  <library_visual_scenes><visual_scene id="s"><node id="n"><instance_geometry url="#g">
    <bind_material><technique_common><instance_material symbol="m" target="#mat"/>
    </technique_common></bind_material>
  </instance_geometry></node></visual_scene></library_visual_scenes>
  <scene><instance_visual_scene url="#s"/></scene>
</COLLADA>
"""


def test_collada_reads_through_assimp_with_its_texture(tmp_path: Path) -> None:
    write(tmp_path / "skin.png", png_bytes(Image.new("RGB", (4, 2), (200, 100, 0))))
    path = write(tmp_path / "tri.dae", COLLADA_TRIANGLE.format(texture="skin.png"))
    source = read_source(path)
    assert (source.format, source.default_up, source.already_metric) == ("dae", "+Y", False)
    prim = _only(source)
    assert prim.triangle_count == 1 and prim.uvs is not None
    # Collada's t runs up like OBJ's; glTF's v runs down: the vertex at y = 1 has v = 0.
    assert np.allclose(prim.uvs[np.argmax(prim.positions[:, 1])], (0, 0))
    texture = source.model.materials[prim.material].base_color_texture
    assert texture is not None and texture.image.size == (4, 2)


def test_collada_texture_outside_the_folder_is_only_looked_up_by_name_inside(
    tmp_path: Path,
) -> None:
    """An assimp format's texture path leaving the folder is never followed; only a file of the
    same name next to the source would be used (FBX files carry the artist's absolute paths)."""
    write(tmp_path / "secret" / "skin.png", png_bytes(Image.new("RGB", (4, 4))))
    folder = tmp_path / "src"
    path = write(folder / "tri.dae", COLLADA_TRIANGLE.format(texture="../secret/skin.png"))
    source = read_source(path)
    prim = _only(source)
    assert source.model.materials[prim.material].base_color_texture is None
    assert any("not found next to the source" in w for w in source.model.warnings)


def test_obj_whose_first_vertex_is_beyond_the_sniffed_head(tmp_path: Path) -> None:
    header = "".join(f"# exported by a very chatty tool, line {i}\n" for i in range(3000))
    source = read_source(write(tmp_path / "chatty.obj", header + obj_text()))
    assert source.format == "obj" and source.model.triangle_count == 2


def test_obj_with_several_material_libraries_on_one_line(tmp_path: Path) -> None:
    write(tmp_path / "a.mtl", "newmtl red\nKd 1 0 0\n")
    write(tmp_path / "b.mtl", "newmtl blue\nKd 0 0 1\n")
    text = "mtllib a.mtl b.mtl\n" + obj_text("usemtl red\nf 1 2 3\nusemtl blue\nf 1 3 4\n")
    source = read_source(write(tmp_path / "two.obj", text))
    colours = {m.name: m.base_color_factor[:3] for m in source.model.materials}
    assert colours == {"red": (1.0, 0.0, 0.0), "blue": (0.0, 0.0, 1.0)}


def test_gltf_emissive_strength(tmp_path: Path) -> None:
    doc, data = _textured_doc(png_bytes(Image.new("RGB", (4, 4))))
    doc["materials"][0]["emissiveFactor"] = [0.2, 0.1, 0.0]
    doc["materials"][0]["extensions"] = {"KHR_materials_emissive_strength": {"emissiveStrength": 3}}
    source = read_source(write(tmp_path / "e.glb", glb(doc, data)))
    assert source.model.materials[0].emissive_factor == pytest.approx((0.6, 0.3, 0.0))
    doc["materials"][0]["extensions"]["KHR_materials_emissive_strength"]["emissiveStrength"] = 9
    source = read_source(write(tmp_path / "f.glb", glb(doc, data)))
    assert source.model.materials[0].emissive_factor == pytest.approx((1.0, 0.9, 0.0))
    assert any("capped" in w for w in source.model.warnings)


def _cube(inside_out: bool) -> tuple[np.ndarray, np.ndarray]:
    corners = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], np.float32)
    quads = [[0, 1, 3, 2], [4, 6, 7, 5], [0, 4, 5, 1], [2, 3, 7, 6], [0, 2, 6, 4], [1, 5, 7, 3]]
    tris = np.array([[q[0], q[1], q[2]] for q in quads] + [[q[0], q[2], q[3]] for q in quads])
    return corners, tris[:, [0, 2, 1]] if inside_out else tris


def _volume(prim: Primitive) -> float:
    v = prim.positions.astype(np.float64)
    t = prim.indices
    return float(np.einsum("ij,ij->i", v[t[:, 0]], np.cross(v[t[:, 1]], v[t[:, 2]])).sum() / 6)


@pytest.mark.parametrize("fmt", ["ply", "stl"])
def test_closed_inside_out_scan_is_turned_outward(tmp_path: Path, fmt: str) -> None:
    corners, tris = _cube(inside_out=True)
    data = ply_binary(corners, tris) if fmt == "ply" else stl_binary(corners[tris])
    source = read_source(write(tmp_path / f"cube.{fmt}", data))
    assert _volume(_only(source)) == pytest.approx(1.0)
    assert any("inside-out" in w for w in source.model.warnings)


def test_correct_cube_and_open_inside_out_surface_are_left_alone(tmp_path: Path) -> None:
    corners, tris = _cube(inside_out=False)
    source = read_source(write(tmp_path / "cube.ply", ply_binary(corners, tris)))
    assert _volume(_only(source)) == pytest.approx(1.0) and not source.model.warnings
    corners, tris = _cube(inside_out=True)
    open_box = tris[2:]  # one side missing: the sign of its "volume" means nothing
    source = read_source(write(tmp_path / "open.ply", ply_binary(corners, open_box)))
    assert np.array_equal(_only(source).indices, open_box)


def test_inside_out_normals_are_flipped_with_the_faces(corpus: Path) -> None:
    """horse.ply is watertight but inside-out, its normals pointing inwards as well."""
    prim = _only(read_source(corpus / "horse.ply"))
    assert _volume(prim) > 0
    outward = prim.positions - prim.positions.mean(axis=0)
    assert (np.einsum("ij,ij->i", outward, prim.normals) > 0).mean() > 0.75


def test_off_polygons(tmp_path: Path) -> None:
    vertices = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [-1, 0.5, 0]])
    source = read_source(write(tmp_path / "m.off", off_text(vertices, "4 0 1 2 3\n3 0 3 4\n")))
    assert (source.format, source.default_up) == ("off", "+Y")
    prim = _only(source)
    assert prim.triangle_count == 3
    assert (_front_normals(prim)[:, 2] > 0.99).all()


def test_coff_vertex_colours_and_face_colours(tmp_path: Path) -> None:
    vertices = np.hstack(
        [QUAD, [[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255], [9, 9, 9, 255]]]
    )
    text = off_text(vertices, "3 0 1 2 255 0 0\n3 0 2 3 0 255 0\n", keyword="COFF")
    prim = _only(read_source(write(tmp_path / "c.off", text)))
    assert prim.triangle_count == 2
    assert prim.colors is not None and prim.colors.max() == pytest.approx(1.0)


def test_off_named_obj_is_read_as_off(tmp_path: Path) -> None:
    source = read_source(write(tmp_path / "x.obj", off_text()))
    assert source.format == "off" and source.model.triangle_count == 2


def test_gltf_textures_sharing_an_image_decode_it_once(tmp_path: Path) -> None:
    doc, data = _textured_doc(png_bytes(Image.new("RGB", (4, 4))))
    doc["textures"] = [{"source": 0}, {"source": 0, "sampler": 0}]
    doc["samplers"] = [{}]
    doc["materials"][0]["emissiveTexture"] = {"index": 1}  # base colour uses texture 0
    doc["materials"][0]["normalTexture"] = {"index": 1}
    doc["materials"][0]["occlusionTexture"] = {"index": 0}
    material = read_source(write(tmp_path / "s.glb", glb(doc, data))).model.materials[0]
    # Colour maps share one decoded image, data maps another (no colour management for them).
    assert material.base_color_texture is material.emissive_texture
    assert material.normal_texture is material.occlusion_texture
    assert material.normal_texture is material.metallic_roughness_texture
