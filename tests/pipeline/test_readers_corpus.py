"""Each corpus file reads with the triangle counts and attributes that MANIFEST.tsv lists."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from vrculture.pipeline.readers import SourceModel, read_source

# corpus file -> (format, default up, attributes expected on every primitive)
EXPECTED = {
    "nefertiti.obj": ("obj", "+Y", set()),
    "stanford-bunny.obj": ("obj", "+Y", set()),
    "beast.obj": ("obj", "+Y", {"uvs"}),
    "ogre.obj": ("obj", "+Y", set()),
    "spot/spot.obj": ("obj", "+Y", {"uvs"}),
    "igea.ply": ("ply", "+Z", set()),
    "horse.ply": ("ply", "+Z", {"normals"}),
    "laurana.ply": ("ply", "+Z", {"colors", "normals"}),
    "gargoyle.ply": ("ply", "+Z", {"colors", "normals"}),
    "mask_gltf/mask.gltf": ("gltf", "+Y", {"uvs", "normals"}),
    "USNM_1145291_draco.glb": ("glb", "+Y", {"uvs", "normals"}),
    "DamagedHelmet.glb": ("glb", "+Y", {"uvs", "normals"}),
    "BoxTextured.glb": ("glb", "+Y", {"uvs", "normals"}),
    "derived/igea_from_tristrips.stl": ("stl", "+Z", set()),
}


def _manifest(corpus: Path) -> dict[str, dict[str, str]]:
    with (corpus / "MANIFEST.tsv").open(newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    out = {}
    for row in rows:
        name = row["file"].split(" + ")[0]  # "spot/spot.obj + spot.mtl + ..." -> the model file
        out[name] = row
    return out


def _read(corpus: Path, name: str) -> SourceModel:
    return read_source(corpus / name)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_reads_with_manifest_triangle_count(corpus: Path, name: str) -> None:
    row = _manifest(corpus)[name]
    fmt, up, attributes = EXPECTED[name]
    source = _read(corpus, name)
    assert source.format == fmt
    assert source.default_up == up
    assert source.kind == "model"
    assert source.already_metric == (fmt in ("gltf", "glb"))
    expected = int(row["triangles"])
    # Degenerate triangles are dropped: allow 0.1 % fewer, never more.
    assert expected * 0.999 <= source.model.triangle_count <= expected
    for prim in source.model.primitives():
        # float64 where the source has more than 32 bits (text, doubles) until normalise
        assert prim.positions.dtype in (np.float32, np.float64)
        assert prim.positions.shape[1] == 3
        assert prim.indices.dtype == np.uint32 and prim.indices.shape[1] == 3
        assert int(prim.indices.max()) < prim.vertex_count
        assert np.isfinite(prim.positions).all()
        for attribute in ("normals", "uvs", "colors"):
            value = getattr(prim, attribute)
            assert (value is not None) == (attribute in attributes), attribute
            if value is not None:
                assert value.dtype == np.float32 and value.shape[0] == prim.vertex_count
        if prim.normals is not None:
            assert np.allclose(np.linalg.norm(prim.normals, axis=1), 1.0, atol=1e-3)


def test_igea_strips_decode_to_a_closed_outward_surface(corpus: Path) -> None:
    """The strip decoder alternates winding: a consistent surface has a large positive volume."""
    prim = _read(corpus, "igea.ply").model.primitives()[0]
    v = prim.positions.astype(np.float64)
    t = prim.indices
    signed = np.einsum("ij,ij->i", v[t[:, 0]], np.cross(v[t[:, 1]], v[t[:, 2]])).sum() / 6
    lo, hi = prim.positions.min(0), prim.positions.max(0)
    box = float(np.prod(hi - lo))
    # Consistent winding gives the head's volume (a good fraction of its box); a decoder that
    # forgets to alternate cancels itself out to about zero.
    assert signed > 0.2 * box


def test_igea_ply_and_its_stl_are_the_same_geometry(corpus: Path) -> None:
    ply = _read(corpus, "igea.ply").model.primitives()[0]
    stl = _read(corpus, "derived/igea_from_tristrips.stl").model.primitives()[0]
    assert ply.triangle_count == stl.triangle_count
    assert np.allclose(
        np.sort(ply.positions[ply.indices].reshape(-1, 3), axis=0),
        np.sort(stl.positions[stl.indices].reshape(-1, 3), axis=0),
    )


@pytest.mark.parametrize("name", ["laurana.ply", "gargoyle.ply"])
def test_vertex_colours_are_float_rgba_in_range_and_varied(corpus: Path, name: str) -> None:
    colors = _read(corpus, name).model.primitives()[0].colors
    assert colors is not None and colors.shape[1] == 4
    assert colors.min() >= 0.0 and colors.max() <= 1.0
    assert colors[:, :3].std() > 0.01  # a real scan's colours, not a constant fill


def test_beast_keeps_uvs_outside_unit_square(corpus: Path) -> None:
    uvs = _read(corpus, "beast.obj").model.primitives()[0].uvs
    assert uvs is not None
    assert (uvs < 0).any() or (uvs > 1).any()


@pytest.mark.parametrize(
    ("name", "maps"),
    [
        ("spot/spot.obj", {"base_color_texture": (1024, 1024)}),
        ("mask_gltf/mask.gltf", {"base_color_texture": (4096, 4096)}),
        (
            "USNM_1145291_draco.glb",
            {
                "base_color_texture": (2048, 2048),
                "normal_texture": (2048, 2048),
                "occlusion_texture": (2048, 2048),
            },
        ),
        (
            "DamagedHelmet.glb",
            {
                "base_color_texture": (2048, 2048),
                "metallic_roughness_texture": (2048, 2048),
                "normal_texture": (2048, 2048),
                "occlusion_texture": (2048, 2048),
                "emissive_texture": (2048, 2048),
            },
        ),
        ("BoxTextured.glb", {"base_color_texture": (256, 256)}),
    ],
)
def test_texture_maps_arrive_as_decoded_images(
    corpus: Path, name: str, maps: dict[str, tuple[int, int]]
) -> None:
    model = _read(corpus, name).model
    used = {p.material for p in model.primitives()}
    material = model.materials[used.pop()]
    for slot in (
        "base_color_texture",
        "metallic_roughness_texture",
        "normal_texture",
        "occlusion_texture",
        "emissive_texture",
    ):
        texture = getattr(material, slot)
        if slot not in maps:
            assert texture is None, slot
            continue
        assert texture is not None, slot
        assert texture.image.size == maps[slot]
        assert texture.image.mode in ("RGB", "RGBA")
        texture.image.getpixel((0, 0))  # decoded, not a lazy handle


def test_damaged_helmet_pbr_factors(corpus: Path) -> None:
    material = _read(corpus, "DamagedHelmet.glb").model.materials[0]
    assert material.metallic_factor == pytest.approx(1.0)
    assert material.roughness_factor == pytest.approx(1.0)
    assert material.emissive_factor == pytest.approx((1.0, 1.0, 1.0))


def test_draco_box_has_its_node_matrix_baked(corpus: Path) -> None:
    """BoxTextured's root node rotates -90 deg about X (Z-up to Y-up): the box must stay a unit
    cube, and each normal must still point away from the centre after the rotation."""
    prim = _read(corpus, "BoxTextured.glb").model.primitives()[0]
    assert prim.triangle_count == 12
    assert np.allclose(prim.positions.min(0), -0.5) and np.allclose(prim.positions.max(0), 0.5)
    centre_dir = prim.positions / np.linalg.norm(prim.positions, axis=1)[:, None]
    assert (np.einsum("ij,ij->i", centre_dir, prim.normals) > 0.5).all()


def test_usnm_draco_decodes_to_source_coordinates(corpus: Path) -> None:
    model = _read(corpus, "USNM_1145291_draco.glb").model
    prim = model.primitives()[0]
    assert prim.triangle_count == 100_000
    assert prim.uvs is not None and prim.uvs.min() >= 0.0 and prim.uvs.max() <= 1.0


def test_fbx_reads_through_assimp(corpus: Path) -> None:
    """DancingGirl.fbx: 19 294 polygons per its README; a statue about 1.8 m tall, Y up."""
    source = read_source(corpus / "danish" / "DancingGirl.fbx")
    assert (source.format, source.default_up, source.already_metric) == ("fbx", "+Y", False)
    prims = source.model.primitives()
    assert source.model.triangle_count == 19294
    assert all(p.normals is not None and p.uvs is not None for p in prims)
    lo, hi = source.model.bounds()
    assert 1.7 < hi[1] - lo[1] < 1.9
    # The file's material is black; a black statue is never meant, so it reads as grey.
    assert source.model.materials[prims[0].material].base_color_factor[0] > 0.5


def test_painting_from_cockatoo_photo(corpus: Path) -> None:
    source = read_source(corpus / "cockatoo_photo.jpg", painting_height_m=0.5)
    assert (source.kind, source.format, source.default_up) == ("painting", "image", "+Y")
    assert source.already_metric
    lo, hi = source.model.bounds()
    assert lo[1] == pytest.approx(0.0)
    picture = next(n for n in source.model.nodes if n.name == "picture").primitives[0]
    p_lo, p_hi = picture.positions.min(0), picture.positions.max(0)
    assert p_hi[1] - p_lo[1] == pytest.approx(0.5)  # the picture itself is the given height
    assert p_hi[0] - p_lo[0] == pytest.approx(0.5)  # 800x800 px: square
    texture = source.model.materials[picture.material].base_color_texture
    assert texture is not None and texture.image.size == (800, 800)


@pytest.mark.parametrize("name", ["spot/spot.obj", "laurana.ply"])
def test_our_own_compressed_glbs_read_back(corpus: Path, tmp_path: Path, name: str) -> None:
    """The converter's meshopt-compressed, quantised output is valid input for the readers,
    with the triangle counts and bounds its summary reports."""
    from vrculture.pipeline.convert import ConvertSettings, convert_file

    summary = convert_file(corpus / name, tmp_path, ConvertSettings(levels=("full", "low")))
    for level in summary.levels:
        if not level.written:
            continue
        source = read_source(tmp_path / level.file)
        assert source.model.triangle_count == level.triangles
        lo, hi = source.model.bounds()
        assert np.allclose(lo, level.bounds.min, atol=2e-3)
        assert np.allclose(hi, level.bounds.max, atol=2e-3)
