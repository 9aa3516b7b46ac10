"""Real corpus files through the whole converter; every GLB validated and loaded by three.js."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from gltf_validator import ROOT, assert_valid
from pipeline_helpers import read_glb

from vrculture.pipeline.convert import LEVELS, ConvertSettings, convert_file

THREE_CHECK = ROOT / "tools" / "three_load_check.mjs"


def three_load(paths) -> list[dict]:
    """Load GLBs with three.js's GLTFLoader + MeshoptDecoder in Node (geometry; see script)."""
    out = subprocess.run(["node", str(THREE_CHECK), *map(str, paths)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, check=True)
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


CASES = [
    # file, expected source triangles, attribute that must survive, up axis
    ("nefertiti.obj", 99938, "NORMAL", "+Z"),  # estimated: its cut base faces -Z
    ("laurana.ply", 50000, "COLOR_0", "+Y"),  # estimated: open at its base, -Y
    ("spot/spot.obj", 5856, "TEXCOORD_0", "+Y"),
    ("mask_gltf/mask.gltf", 100000, "TEXCOORD_0", "+Y"),
]


@pytest.mark.parametrize("name, triangles, attribute, up", CASES)
def test_corpus_file_converts_validates_and_loads(tmp_path, corpus, name, triangles,
                                                  attribute, up):
    summary = convert_file(corpus / name, tmp_path, ConvertSettings())
    assert summary.source_triangles == triangles
    assert summary.up_axis == up
    written = [level for level in summary.levels if level.written]
    paths = [tmp_path / level.file for level in written]
    reports = assert_valid(paths)
    for report in reports:
        assert report["numWarnings"] == 0, report["warnings"][:5]
    loaded = three_load(paths)
    for level, report, three in zip(written, reports, loaded, strict=True):
        budget = LEVELS[level.name][0]
        assert level.triangles <= min(budget, triangles)
        assert report["totalTriangleCount"] == level.triangles
        assert "error" not in three and three["errors"] == [], three
        assert three["triangles"] == level.triangles
        # three.js dequantises to the bounds we report, within one 14-bit grid step.
        size = np.subtract(level.bounds.max, level.bounds.min).max()
        np.testing.assert_allclose(three["bounds"]["min"], level.bounds.min,
                                   atol=size / 8000)
        np.testing.assert_allclose(three["bounds"]["max"], level.bounds.max,
                                   atol=size / 8000)
        expected = {"EXT_meshopt_compression", "KHR_mesh_quantization"}
        if attribute == "TEXCOORD_0":  # textured: 12-bit UVs mapped back by the transform
            expected.add("KHR_texture_transform")
        assert set(level.extensions_required) == expected
        gltf, _ = read_glb(paths[written.index(level)])
        assert attribute in gltf["meshes"][0]["primitives"][0]["attributes"]
    # The object stands on the floor, centred.
    bounds = written[0].bounds
    assert bounds.min[1] == pytest.approx(0.0, abs=1e-6)
    assert bounds.min[0] == pytest.approx(-bounds.max[0], abs=1e-5)


def test_igea_strips_become_levels(tmp_path, corpus):
    summary = convert_file(corpus / "igea.ply", tmp_path, ConvertSettings(units="m"))
    counts = [level.triangles for level in summary.levels]
    assert counts[0] == 268686
    assert all(a > b for a, b in zip(counts, counts[1:], strict=False))
    assert_valid([tmp_path / level.file for level in summary.levels])


def test_mask_textures_as_ktx2_and_webp(tmp_path, corpus):
    for fmt, mime in (("webp", "image/webp"), ("ktx2", "image/ktx2")):
        settings = ConvertSettings(levels=("low",), textures=fmt)
        summary = convert_file(corpus / "mask_gltf" / "mask.gltf", tmp_path / fmt, settings)
        level = summary.levels[0]
        assert level.texture_format == fmt and level.texture_px == 512
        path = tmp_path / fmt / level.file
        assert_valid(path)
        gltf, _ = read_glb(path)
        assert {image["mimeType"] for image in gltf["images"]} == {mime}
    ktx = summary.levels[0]
    # ETC1S transcodes to about half a byte per pixel (plus mipmaps) instead of RGBA8's four.
    assert ktx.gpu_texture_bytes < 512 * 512 * 4 // 4
