"""The GLB writer: quantisation, meshopt compression (decoded back), metadata, textures."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from gltf_validator import assert_valid
from pipeline_helpers import (
    accessor_array,
    canonical_triangles,
    primitive_from_trimesh,
    read_glb,
    single_node_model,
    textured_sphere,
)

from vrculture.pipeline.model import Material, Model, Node
from vrculture.pipeline.textures import TextureOptions, encode_texture
from vrculture.pipeline.transforms.normals import repair_normals
from vrculture.pipeline.transforms.optimize import optimize
from vrculture.pipeline.writer.glb import WriterOptions, write_glb


def _images(model: Model, fmt: str = "jpeg", max_px: int = 4096) -> dict:
    return {id(t): encode_texture(t, TextureOptions(format=fmt, max_px=max_px))
            for m in model.materials for t in m.textures()}


def _write(tmp_path, model: Model, name: str, fmt: str = "jpeg", **options):
    result = write_glb(model, _images(model, fmt), WriterOptions(**options))
    path = tmp_path / f"{name}.glb"
    path.write_bytes(result.data)
    return path, result


def _scan_model() -> Model:
    mesh = trimesh.creation.icosphere(subdivisions=5, radius=0.3)
    model = single_node_model(primitive_from_trimesh(mesh), name="scan")
    return optimize(repair_normals(model))


def test_meshopt_streams_decode_to_the_quantised_positions(tmp_path):
    model = _scan_model()
    prim = model.nodes[0].primitives[0]
    path, result = _write(tmp_path, model, "scan")
    assert_valid(path)
    gltf, binary = read_glb(path)
    assert gltf["extensionsRequired"] == ["EXT_meshopt_compression", "KHR_mesh_quantization"]
    views = gltf["bufferViews"]
    assert all("EXT_meshopt_compression" in v["extensions"] for v in views)
    fallback = gltf["buffers"][1]
    assert fallback["extensions"]["EXT_meshopt_compression"]["fallback"] is True
    assert "uri" not in fallback

    attributes = gltf["meshes"][0]["primitives"][0]["attributes"]
    positions = accessor_array(gltf, binary, attributes["POSITION"])
    accessor = gltf["accessors"][attributes["POSITION"]]
    assert accessor["componentType"] == 5123 and not accessor.get("normalized")  # integers
    # 14-bit grid from the low corner, as gltfpack: the extremes on the grid's edges.
    assert positions.min() == 0 and positions.max() == (1 << 14) - 1
    geometry_node = next(n for n in gltf["nodes"] if "mesh" in n)
    scale = geometry_node["scale"][0]
    corner = np.array(geometry_node["translation"])
    # Dequantise as a viewer does and compare with the metres we started from.
    restored = positions * scale + corner
    step = result.quantization["scan"]["step"]
    assert np.abs(restored - prim.positions).max() <= step / 2 + 1e-7
    assert step < 0.6 / 16000
    # The index stream decodes to the same triangles in the same order (each may be rotated,
    # keeping its winding).
    index = accessor_array(gltf, binary, gltf["meshes"][0]["primitives"][0]["indices"])
    np.testing.assert_array_equal(canonical_triangles(index), canonical_triangles(prim.indices))
    # Normals through the OCTAHEDRAL filter: within ~1.5 degrees of the originals.
    normals = accessor_array(gltf, binary, attributes["NORMAL"]).astype(np.float64)
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    cos = np.einsum("ij,ij->i", normals, prim.normals)
    assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 1.5


def test_compressed_is_much_smaller_than_plain(tmp_path):
    model = _scan_model()
    packed, _ = _write(tmp_path, model, "packed")
    plain, plain_result = _write(tmp_path, model, "plain", compress=False)
    assert_valid([packed, plain])
    assert plain_result.extensions_required == []
    gltf, _ = read_glb(plain)
    assert "extensionsRequired" not in gltf
    assert packed.stat().st_size * 3 < plain.stat().st_size


def test_colours_uvs_texture_and_names_survive(tmp_path):
    model = optimize(repair_normals(textured_sphere()))
    prim = model.nodes[0].primitives[0]
    path, _ = _write(tmp_path, model, "sphere")
    assert_valid(path)
    gltf, binary = read_glb(path)
    assert gltf["nodes"][0]["name"] == "sphere"
    attributes = gltf["meshes"][0]["primitives"][0]["attributes"]
    colors = accessor_array(gltf, binary, attributes["COLOR_0"]) / 255.0
    assert np.abs(colors - prim.colors).max() <= 0.5 / 255 + 1e-6
    # 12-bit UVs on the material's UV bounds, mapped back by KHR_texture_transform.
    info = gltf["materials"][0]["pbrMetallicRoughness"]["baseColorTexture"]
    transform = info["extensions"]["KHR_texture_transform"]
    stored = accessor_array(gltf, binary, attributes["TEXCOORD_0"])
    assert stored.max() <= 4095
    uvs = np.array(transform["offset"]) + stored / 65535.0 * np.array(transform["scale"])
    extent = prim.uvs.max(axis=0) - prim.uvs.min(axis=0)
    assert (np.abs(uvs - prim.uvs) <= extent / 4095 / 2 + 1e-6).all()
    assert "KHR_texture_transform" in gltf["extensionsRequired"]
    assert gltf["images"][0]["mimeType"] == "image/jpeg"
    assert info["index"] == 0


def test_sixteen_bit_colours_on_request(tmp_path):
    model = optimize(repair_normals(textured_sphere()))
    prim = model.nodes[0].primitives[0]
    path, _ = _write(tmp_path, model, "deep", color_bits=16)
    assert_valid(path)
    gltf, binary = read_glb(path)
    accessor = gltf["meshes"][0]["primitives"][0]["attributes"]["COLOR_0"]
    assert gltf["accessors"][accessor]["componentType"] == 5123
    colors = accessor_array(gltf, binary, accessor) / 65535.0
    assert np.abs(colors - prim.colors).max() <= 0.5 / 65535 + 1e-7


def test_tiled_uvs_of_a_textured_material_use_the_texture_transform(tmp_path):
    model = optimize(repair_normals(textured_sphere()))
    prim = model.nodes[0].primitives[0]
    prim.uvs = prim.uvs * 3.0 - 1.0  # a tiled texture
    path, _ = _write(tmp_path, model, "tiled")
    assert_valid(path)
    gltf, binary = read_glb(path)
    transform = (gltf["materials"][0]["pbrMetallicRoughness"]["baseColorTexture"]
                 ["extensions"]["KHR_texture_transform"])
    stored = accessor_array(gltf, binary,
                            gltf["meshes"][0]["primitives"][0]["attributes"]["TEXCOORD_0"])
    uvs = np.array(transform["offset"]) + stored / 65535.0 * np.array(transform["scale"])
    assert np.abs(uvs - prim.uvs).max() <= 3.0 / 4095 / 2 + 1e-6


def test_untextured_uvs_outside_unit_square_use_the_exponential_filter(tmp_path):
    model = optimize(repair_normals(textured_sphere()))
    model.materials[0].base_color_texture = None  # UVs kept for later, as beast.obj has
    prim = model.nodes[0].primitives[0]
    prim.uvs = prim.uvs * 3.0 - 1.0
    path, _ = _write(tmp_path, model, "tiled")
    assert_valid(path)
    gltf, binary = read_glb(path)
    accessor = gltf["meshes"][0]["primitives"][0]["attributes"]["TEXCOORD_0"]
    view = gltf["bufferViews"][gltf["accessors"][accessor]["bufferView"]]
    assert view["extensions"]["EXT_meshopt_compression"]["filter"] == "EXPONENTIAL"
    uvs = accessor_array(gltf, binary, accessor)
    # A step of at most 1/4096 of the UV range (here 3 units), so at most half of that off.
    assert np.abs(uvs - prim.uvs).max() <= 3.0 / 4096 / 2 + 1e-7


def test_metadata_is_embedded_as_dublin_core(tmp_path):
    model = _scan_model()
    model.metadata = {"title": "Nefertiti", "creator": "Thutmose", "date": "-1345",
                      "rights": "CC BY 4.0", "source": "https://example.org/scan"}
    path, result = _write(tmp_path, model, "meta")
    assert_valid(path)
    gltf, _ = read_glb(path)
    assert "KHR_xmp_json_ld" in result.extensions_used
    assert "KHR_xmp_json_ld" not in result.extensions_required
    assert gltf["asset"]["extensions"]["KHR_xmp_json_ld"] == {"packet": 0}
    packet = gltf["extensions"]["KHR_xmp_json_ld"]["packets"][0]
    assert packet["dc:title"]["rdf:_1"]["@value"] == "Nefertiti"
    assert packet["dc:creator"] == {"@list": ["Thutmose"]}
    assert packet["dc:rights"]["rdf:_1"]["@value"] == "CC BY 4.0"
    assert packet["dc:source"] == "https://example.org/scan"


def test_named_nodes_transforms_and_unlit_survive(tmp_path):
    box = primitive_from_trimesh(trimesh.creation.box((0.2, 0.4, 0.2)))
    lamp = primitive_from_trimesh(trimesh.creation.icosphere(2, 0.1), material=1)
    model = Model(
        nodes=[Node("post", [box], children=[1]),
               Node("lamp_light", [lamp], translation=(0.0, 0.5, 0.0), scale=(1.0, 2.0, 1.0))],
        materials=[Material("metal"), Material("glow", unlit=True)],
        roots=[0],
    )
    model = optimize(repair_normals(model))
    path, result = _write(tmp_path, model, "lamp")
    assert_valid(path)
    gltf, _ = read_glb(path)
    by_name = {n["name"]: n for n in gltf["nodes"]}
    assert by_name["lamp_light"]["translation"] == [0.0, 0.5, 0.0]
    assert by_name["lamp_light"]["scale"] == [1.0, 2.0, 1.0]
    # The mesh hangs on a child so the named node's transform stays the curator's.
    child = gltf["nodes"][by_name["lamp_light"]["children"][0]]
    assert child["name"] == "lamp_light_geometry" and "mesh" in child
    assert gltf["materials"][1]["extensions"] == {"KHR_materials_unlit": {}}
    assert "KHR_materials_unlit" in result.extensions_used


@pytest.mark.parametrize("fmt, mime, extension", [
    ("webp", "image/webp", "EXT_texture_webp"),
    ("ktx2", "image/ktx2", "KHR_texture_basisu"),
])
def test_webp_and_ktx2_textures_validate(tmp_path, fmt, mime, extension):
    model = optimize(repair_normals(textured_sphere(size_px=128)))
    path, result = _write(tmp_path, model, fmt, fmt=fmt)
    reports = assert_valid(path)
    assert extension in reports[0]["extensionsUsed"]
    gltf, _ = read_glb(path)
    assert gltf["images"][0]["mimeType"] == mime
    assert gltf["textures"][0]["extensions"][extension] == {"source": 0}
    assert extension in result.extensions_required


def test_alpha_texture_is_png(tmp_path):
    model = optimize(repair_normals(textured_sphere(alpha=True)))
    path, _ = _write(tmp_path, model, "alpha")
    assert_valid(path)
    gltf, _ = read_glb(path)
    assert gltf["images"][0]["mimeType"] == "image/png"


def test_model_without_materials_gets_the_default_material(tmp_path):
    model = _scan_model()
    model.materials = []
    path, _ = _write(tmp_path, model, "bare")
    assert_valid(path)
    gltf, _ = read_glb(path)
    assert "material" not in gltf["meshes"][0]["primitives"][0]
    assert "materials" not in gltf
