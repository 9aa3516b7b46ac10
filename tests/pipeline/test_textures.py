"""Texture encoding per level: KTX2 sizes, the quality reached (PSNR), "auto" per level, and one
encode per distinct texture size."""

from __future__ import annotations

import json

import alktx2
import numpy as np
import pytest
import trimesh
from gltf_validator import assert_valid
from PIL import Image
from pipeline_helpers import primitive_from_trimesh, read_glb, single_node_model, textured_sphere

import vrculture.pipeline.textures as textures
from vrculture.pipeline.convert import ConvertSettings, convert_model
from vrculture.pipeline.model import Texture
from vrculture.pipeline.readers import SourceModel
from vrculture.pipeline.summary import ConversionSummary, TextureStats
from vrculture.pipeline.textures import TextureOptions, encode_texture, level_format, psnr


def _photo_like(width: int, height: int) -> Image.Image:
    """Smooth gradients with some texture-like noise, reproducible."""
    rng = np.random.default_rng(7)
    x = np.linspace(0, 1, width)[None, :, None]
    y = np.linspace(0, 1, height)[:, None, None]
    base = np.concatenate([x * 200 + 20 + 0 * y, y * 180 + 30 + 0 * x, (x + y) * 100 + 10],
                          axis=2)
    noisy = base + rng.normal(0, 4, size=(height, width, 3))
    return Image.fromarray(noisy.clip(0, 255).astype(np.uint8), "RGB")


def _textured_ball(triangles_subdivisions: int = 6) -> SourceModel:
    """A textured icosphere dense enough (82k triangles) for "medium" to be simplified."""
    sphere = trimesh.creation.icosphere(subdivisions=triangles_subdivisions, radius=0.3)
    v = np.asarray(sphere.vertices, dtype=np.float32)
    uv = np.column_stack([(np.arctan2(v[:, 2], v[:, 0]) / (2 * np.pi)) % 1.0,
                          np.arccos(np.clip(v[:, 1] / 0.3, -1, 1)) / np.pi]).astype(np.float32)
    model = single_node_model(primitive_from_trimesh(sphere, uvs=uv), name="ball",
                              base_color_texture=Texture(_photo_like(1024, 1024), "photo"))
    return SourceModel(model=model, kind="model", default_up="+Y", format="obj",
                       already_metric=True)


def test_psnr_of_a_known_error_and_of_identical_images():
    reference = Image.fromarray(np.full((8, 8, 3), 100, np.uint8), "RGB")
    off_by_one = Image.fromarray(np.full((8, 8, 3), 101, np.uint8), "RGB")
    assert psnr(reference, reference) is None
    assert psnr(reference, off_by_one) == pytest.approx(48.13, abs=0.01)  # 10 log10(255²/1)


def test_ktx2_is_block_aligned_with_mipmaps_and_reports_its_quality():
    texture = Texture(_photo_like(1001, 683), "photo")
    encoded = encode_texture(texture, TextureOptions(format="ktx2", max_px=1024))
    info = alktx2.inspect_ktx2(encoded.data)
    # A multiple of 4 on both sides: WebGL refuses BC1/BC7 level 0 of any other size.
    assert (info["width"], info["height"]) == (encoded.width, encoded.height) == (1000, 684)
    assert info["is_etc1s"] and info["is_srgb"] and info["levels"] == 10  # 1000 px down to 1
    assert encoded.gpu_bytes == 1000 * 684 // 2 * 4 // 3  # ETC1S -> ETC2/BC1, mipmaps
    assert encoded.psnr is not None and 30.0 < encoded.psnr < 60.0
    jpeg = encode_texture(texture, TextureOptions(format="jpeg", max_px=512))
    assert jpeg.format == "jpeg" and jpeg.psnr is not None and jpeg.psnr > 30.0


def test_png_with_alpha_is_lossless():
    model = textured_sphere(size_px=64, alpha=True)
    texture = model.materials[0].base_color_texture
    encoded = encode_texture(texture, TextureOptions(format="jpeg"))
    assert encoded.format == "png" and encoded.psnr is None


def test_auto_means_ktx2_except_on_the_full_level():
    assert [level_format("auto", name) for name in ("full", "high", "medium", "low")] == \
        ["jpeg", "ktx2", "ktx2", "ktx2"]
    assert level_format("webp", "full") == "webp"


def test_auto_writes_ktx2_levels_beside_a_jpeg_full_one_encoding_each_size_once(tmp_path,
                                                                               monkeypatch):
    calls: list[tuple[str, int]] = []
    real_encode = textures.encode_texture

    def counting_encode(texture, options, **kwargs):
        calls.append((options.format, options.max_px))
        return real_encode(texture, options, **kwargs)

    monkeypatch.setattr(textures, "encode_texture", counting_encode)
    summary = convert_model(_textured_ball(), tmp_path, "ball", ConvertSettings(textures="auto"))
    levels = {level.name: level for level in summary.levels}
    # Same geometry and texture size as "full", but another format: written, not repeated.
    assert levels["full"].texture_format == "jpeg"
    assert levels["high"].written and levels["high"].texture_format == "ktx2"
    assert levels["medium"].written and levels["medium"].triangles < levels["high"].triangles
    assert levels["low"].written and levels["low"].textures[0].width == 512
    # The 1024 px texture is encoded once for KTX2: "high" and "medium" both keep it whole.
    assert calls == [("jpeg", 4096), ("ktx2", 2048), ("ktx2", 512)]
    for name in ("full", "high", "medium", "low"):
        stats = levels[name].textures
        assert len(stats) == 1 and stats[0].psnr is not None and stats[0].psnr > 25.0
        gltf, _ = read_glb(tmp_path / levels[name].file)
        expected = "KHR_texture_basisu" if name != "full" else None
        assert (expected in gltf.get("extensionsRequired", [])) if expected else \
            "KHR_texture_basisu" not in gltf.get("extensionsUsed", [])
    assert_valid([tmp_path / level.file for level in summary.written])


def test_texture_stats_survive_the_summary_json_and_old_summaries_still_load(tmp_path):
    summary = convert_model(
        SourceModel(model=textured_sphere(size_px=128), kind="model", default_up="+Y",
                    format="obj", already_metric=True),
        tmp_path, "ball", ConvertSettings(levels=("low",), textures="ktx2"))
    document = json.loads(json.dumps(summary.as_json()))
    assert ConversionSummary.from_json(document) == summary
    assert isinstance(summary.levels[0].textures[0], TextureStats)
    for level in document["levels"]:
        del level["textures"]  # written before the field existed (a cached entry)
    assert ConversionSummary.from_json(document).levels[0].textures == ()


def test_a_level_asking_for_the_same_ktx2_texture_repeats_the_previous_one(tmp_path):
    # 1003 px asks for 1003 on "high" and "medium"; KTX2 stores 1004 (blocks of 4), which
    # must not make "medium" look sharper than "high" and be written again.
    sphere = textured_sphere(size_px=8)
    sphere.materials[0].base_color_texture = Texture(_photo_like(1003, 1003), "odd")
    source = SourceModel(model=sphere, kind="model", default_up="+Y", format="obj",
                         already_metric=True)
    summary = convert_model(source, tmp_path, "odd",
                            ConvertSettings(levels=("high", "medium"), textures="ktx2"))
    high, medium = summary.levels
    assert high.written and high.textures[0].width == 1004
    assert medium.same_as == "high"
