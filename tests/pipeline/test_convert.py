"""convert_model / convert_file: levels by budget, summaries, textures per level, metadata."""

from __future__ import annotations

import io
import json
import math
import re

import numpy as np
import pytest
import trimesh
from gltf_validator import assert_valid
from PIL import Image
from pipeline_helpers import primitive_from_trimesh, read_glb, single_node_model, textured_sphere

from vrculture.pipeline.convert import LEVELS, ConvertSettings, convert_model
from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.model import Material, Model, Node
from vrculture.pipeline.readers import SourceModel
from vrculture.pipeline.summary import ConversionSummary


def _source(model: Model, *, fmt: str = "ply", up: str = "+Z", metric: bool = False,
            kind: str = "model") -> SourceModel:
    return SourceModel(model=model, kind=kind, default_up=up, format=fmt, already_metric=metric)


def _dense_sphere(subdivisions: int = 5, radius: float = 150.0) -> Model:
    sphere = trimesh.creation.icosphere(subdivisions=subdivisions, radius=radius)
    return single_node_model(primitive_from_trimesh(sphere), name="bust")


def _written(summary: ConversionSummary, out) -> list:
    return [out / level.file for level in summary.written]


def test_levels_follow_the_budgets_and_small_sources_are_not_repeated(tmp_path):
    model = _dense_sphere()  # 20480 triangles: under the high and medium budgets
    summary = convert_model(_source(model), tmp_path, "bust", ConvertSettings())
    levels = {level.name: level for level in summary.levels}
    assert [level.name for level in summary.levels] == list(LEVELS)
    assert levels["full"].written and levels["full"].triangles == 20480
    assert levels["full"].error == 0.0
    for name in ("high", "medium"):
        assert levels[name].written is False
        assert levels[name].same_as == "full"
        assert levels[name].file == "bust.full.glb"
    low = levels["low"]
    assert low.written and low.file == "bust.low.glb"
    assert low.triangles <= LEVELS["low"][0]
    assert 0 < low.error < 0.01  # metres, on a 0.3 m sphere
    assert (tmp_path / "bust.full.glb").is_file() and (tmp_path / "bust.low.glb").is_file()
    assert not (tmp_path / "bust.high.glb").exists()
    assert summary.as_json() == json.loads((tmp_path / "bust.json").read_text())
    assert ConversionSummary.from_json(summary.as_json()) == summary
    assert summary.source_triangles == 20480 and summary.units == "mm"
    assert summary.up_axis == "+Z" and summary.kind == "model"
    reports = assert_valid(_written(summary, tmp_path))
    assert [r["totalTriangleCount"] for r in reports] == [20480, low.triangles]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files


def test_every_level_is_within_budget_on_a_large_source(tmp_path):
    model = _dense_sphere(subdivisions=7)  # 327680 triangles
    summary = convert_model(_source(model), tmp_path, "big",
                            ConvertSettings(levels=("full", "high", "medium", "low")))
    counts = [level.triangles for level in summary.levels]
    assert all(level.written for level in summary.levels)
    assert counts[0] == 327680
    for count, (budget, _) in zip(counts[1:], list(LEVELS.values())[1:], strict=True):
        assert 0.5 * budget <= count <= budget
    errors = [level.error for level in summary.levels]
    assert errors == sorted(errors) and errors[1] > 0
    sizes = [level.bytes for level in summary.levels]
    assert sizes == sorted(sizes, reverse=True)
    assert_valid(_written(summary, tmp_path))


def test_textures_shrink_per_level(tmp_path):
    model = textured_sphere(size_px=2048)
    summary = convert_model(_source(model, fmt="obj", up="+Y", metric=True), tmp_path, "ball",
                            ConvertSettings())
    levels = {level.name: level for level in summary.levels}
    # Geometry is tiny, so only the texture budget makes new levels.
    assert levels["full"].texture_px == 2048
    assert levels["high"].same_as == "full"
    assert levels["medium"].written and levels["medium"].texture_px == 1024
    assert levels["low"].written and levels["low"].texture_px == 512
    for name, px in (("full", 2048), ("medium", 1024), ("low", 512)):
        gltf, binary = read_glb(tmp_path / levels[name].file)
        view = gltf["bufferViews"][gltf["images"][0]["bufferView"]]
        start = view["byteOffset"]
        image = Image.open(io.BytesIO(binary[start:start + view["byteLength"]]))
        assert image.size == (px, px) and image.format == "JPEG"
        assert levels[name].texture_format == "jpeg"
        assert levels[name].gpu_texture_bytes == px * px * 4 * 4 // 3
    assert_valid(_written(summary, tmp_path))


def test_generated_models_keep_node_names_and_transforms(tmp_path):
    post = primitive_from_trimesh(trimesh.creation.box((0.1, 3.0, 0.1)))
    lamp = primitive_from_trimesh(trimesh.creation.icosphere(2, 0.2), material=1)
    model = Model(
        nodes=[Node("street_lamp", [post], translation=(0.0, 1.5, 0.0), children=[1]),
               Node("lamp_light", [lamp], translation=(0.0, 1.6, 0.0))],
        materials=[Material("steel"), Material("light", unlit=True,
                                                 emissive_factor=(1.0, 0.9, 0.6))],
        roots=[0],
    )
    summary = convert_model(_source(model, fmt="generated", up="+Y", metric=True), tmp_path,
                            "street_lamp", ConvertSettings(levels=("low",)),
                            source_label="build:street_lamp")
    assert summary.source == "build:street_lamp"
    path = tmp_path / "street_lamp.low.glb"
    assert_valid(path)
    gltf, _ = read_glb(path)
    names = [node["name"] for node in gltf["nodes"]]
    assert {"street_lamp", "lamp_light"} <= set(names)
    lamp_node = gltf["nodes"][names.index("lamp_light")]
    assert lamp_node["translation"] == [0.0, 1.6, 0.0]
    # Geometry stayed where the build put it: bounds are not re-centred or floored.
    bounds = summary.levels[0].bounds
    assert bounds.min[1] == pytest.approx(-1.5, abs=1e-4)


def test_units_height_and_up_axis(tmp_path):
    model = _dense_sphere(subdivisions=3, radius=100.0)  # 200 mm across
    by_units = convert_model(_source(model), tmp_path / "u", "s",
                             ConvertSettings(units="cm", levels=("full",)))
    assert by_units.units == "cm"
    assert by_units.levels[0].bounds.max[1] == pytest.approx(2.0, rel=1e-3)
    by_height = convert_model(_source(model), tmp_path / "h", "s",
                              ConvertSettings(height_m=0.5, levels=("full",)))
    bounds = by_height.levels[0].bounds
    assert bounds.max[1] - bounds.min[1] == pytest.approx(0.5, rel=1e-3)
    assert bounds.min[1] == pytest.approx(0.0, abs=1e-6)
    guessed = convert_model(_source(model), tmp_path / "g", "s", ConvertSettings(levels=("low",)))
    assert guessed.units == "mm" and any("millimetres" in w for w in guessed.warnings)
    turned = convert_model(_source(model, up="+Z"), tmp_path / "t", "s",
                           ConvertSettings(up="+X", units="mm", levels=("low",)))
    assert turned.up_axis == "+X"


def test_metadata_and_no_compress(tmp_path):
    settings = ConvertSettings(levels=("low",), compress=False,
                               metadata={"title": "Sphere", "rights": "CC0"})
    summary = convert_model(_source(_dense_sphere(3)), tmp_path, "s", settings)
    level = summary.levels[0]
    assert level.compression == "none" and level.extensions_required == ()
    gltf, _ = read_glb(tmp_path / level.file)
    packet = gltf["extensions"]["KHR_xmp_json_ld"]["packets"][0]
    assert packet["dc:title"]["rdf:_1"]["@value"] == "Sphere"
    assert gltf["accessors"][0]["componentType"] == 5126  # plain floats
    assert_valid(tmp_path / level.file)


@pytest.mark.parametrize("problem, change", [
    ("NaN", lambda p: p.positions.__setitem__((0, 0), math.nan)),
    ("index out of range", lambda p: p.indices.__setitem__((0, 0), 10**6)),
])
def test_bad_generated_geometry_is_a_conversion_error(tmp_path, problem, change):
    model = _dense_sphere(2)
    change(model.nodes[0].primitives[0])
    with pytest.raises(ConversionError, match=problem):
        convert_model(_source(model), tmp_path, "bad", ConvertSettings())
    assert not list(tmp_path.glob("*.glb"))


def test_bad_settings_are_conversion_errors(tmp_path):
    for settings in (ConvertSettings(levels=("huge",)), ConvertSettings(textures="gif"),
                     ConvertSettings(up="+W"), ConvertSettings(units="ft"),
                     ConvertSettings(height_m=-1.0)):
        with pytest.raises(ConversionError):
            convert_model(_source(_dense_sphere(1)), tmp_path, "s", settings)


def test_empty_model_is_a_conversion_error(tmp_path):
    empty = single_node_model(primitive_from_trimesh(trimesh.creation.box()))
    empty.nodes[0].primitives[0].indices = np.zeros((0, 3), dtype=np.uint32)
    with pytest.raises(ConversionError, match="no triangles"):
        convert_model(_source(empty), tmp_path, "empty", ConvertSettings())


def _sphere_with_uv_seams() -> Model:
    """A sphere whose vertices are split along UV seams (faceted UVs), no texture anywhere."""
    mesh = trimesh.creation.icosphere(subdivisions=3, radius=150.0)
    corners = mesh.faces.reshape(-1)
    positions = np.asarray(mesh.vertices[corners], dtype=np.float32)
    uvs = np.tile(np.array([[0, 0], [1, 0], [0, 1]], np.float32), (len(mesh.faces), 1))
    prim = primitive_from_trimesh(mesh).copy(
        positions=positions, uvs=uvs,
        indices=np.arange(len(corners), dtype=np.uint32).reshape(-1, 3))
    return single_node_model(prim)


def test_uvs_no_texture_reads_are_dropped_from_files_but_not_from_generated(tmp_path):
    summary = convert_model(_source(_sphere_with_uv_seams()), tmp_path / "scan", "scan",
                            ConvertSettings(levels=("full",)))
    path = tmp_path / "scan" / summary.levels[0].file
    gltf, _ = read_glb(path)
    prim = gltf["meshes"][0]["primitives"][0]
    assert "TEXCOORD_0" not in prim["attributes"]
    # Without UVs the seams are gone: the weld joins the sphere again (642 positions).
    assert gltf["accessors"][prim["attributes"]["POSITION"]]["count"] == 642
    assert_valid(path)
    # A generated model keeps them: the viewer paints some untextured materials at run time.
    generated = SourceModel(model=_sphere_with_uv_seams(), kind="model", default_up="+Y",
                            format="generated", already_metric=True)
    summary = convert_model(generated, tmp_path / "gen", "gen", ConvertSettings(levels=("full",)))
    gltf, _ = read_glb(tmp_path / "gen" / summary.levels[0].file)
    assert "TEXCOORD_0" in gltf["meshes"][0]["primitives"][0]["attributes"]


def test_glb_json_leaves_out_defaults_and_long_floats(tmp_path):
    summary = convert_model(_source(_dense_sphere(3)), tmp_path, "bust",
                            ConvertSettings(levels=("full",)))
    data = (tmp_path / summary.levels[0].file).read_bytes()
    gltf, _ = read_glb(data)
    assert "mode" not in gltf["meshes"][0]["primitives"][0]  # TRIANGLES, the default
    assert "baseColorFactor" not in gltf["materials"][0]["pbrMetallicRoughness"]
    assert "name" not in gltf["meshes"][0]
    text = data[20:20 + int.from_bytes(data[12:16], "little")].decode()
    floats = re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text)
    assert floats and all(len(re.sub(r"[-.]|e.*", "", f).lstrip("0")) <= 9 for f in floats)
