"""Thumbnails are renders that fill the frame; rights ids and URIs decide what is published."""

from __future__ import annotations

import io

import numpy as np
import pytest
import trimesh
from PIL import Image

from vrculture.exhibition.rights import parse_rights, published_levels
from vrculture.exhibition.thumbnail import render, webp_bytes
from vrculture.pipeline.model import Material, Model, Node, Primitive, Texture
from vrculture.pipeline.transforms.normalise import UP_ROTATIONS, NormaliseOptions, normalise


def _model(mesh: trimesh.Trimesh, colour=(0.8, 0.3, 0.2, 1.0), texture=None) -> Model:
    prim = Primitive(mesh.vertices.astype(np.float32), mesh.faces.astype(np.uint32))
    if texture is not None:
        prim.uvs = (mesh.vertices[:, [0, 1]] - mesh.vertices[:, [0, 1]].min(0)).astype(np.float32)
    material = Material(base_color_factor=colour,
                        base_color_texture=Texture(texture) if texture else None)
    return Model(nodes=[Node("m", [prim])], materials=[material], roots=[0])


def _coverage(image: Image.Image) -> tuple[float, float]:
    """(object pixels / frame, object's bounding box / frame)."""
    alpha = np.asarray(image)[:, :, 3] > 0
    rows, cols = np.nonzero(alpha)
    bbox = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
    return alpha.mean(), bbox / alpha.size


def _upright_staff() -> trimesh.Trimesh:
    staff = trimesh.creation.cylinder(0.1, 3.0, sections=32)
    staff.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    return staff


@pytest.mark.parametrize("mesh", [
    trimesh.creation.icosphere(3), trimesh.creation.box((2.0, 0.5, 0.5)),
    trimesh.creation.torus(1.0, 0.3), trimesh.creation.box((0.5, 0.5, 0.05))])
def test_object_fills_at_least_half_the_frame(mesh: trimesh.Trimesh) -> None:
    image = render(_model(mesh))
    filled, bbox = _coverage(image)
    assert filled >= 0.5 and bbox >= 0.75
    assert max(image.size) == 256


def test_a_thin_object_spans_the_frame_along_its_length() -> None:
    image = render(_model(_upright_staff()))
    assert image.size[0] < image.size[1]  # the frame takes the object's (clamped) aspect
    alpha = np.asarray(image)[:, :, 3] > 0
    rows = np.nonzero(alpha.any(axis=1))[0]
    assert (rows.max() - rows.min() + 1) >= 0.9 * image.size[1]


AXES = {"+X": [1, 0, 0], "-X": [-1, 0, 0], "+Y": [0, 1, 0], "-Y": [0, -1, 0],
        "+Z": [0, 0, 1], "-Z": [0, 0, -1]}


def _cone_pointing(axis: str) -> trimesh.Trimesh:
    """A cone whose apex points along `axis` (trimesh builds it apex +Z)."""
    cone = trimesh.creation.cone(0.5, 1.0, sections=48)
    cone.apply_transform(trimesh.geometry.align_vectors([0, 0, 1], AXES[axis]))
    return cone


def _silhouette_widths(image: Image.Image) -> tuple[float, float]:
    """Mean silhouette width over the top and the bottom quarter of the object's rows."""
    alpha = np.asarray(image)[:, :, 3] > 127
    rows = np.nonzero(alpha.any(axis=1))[0]
    widths = alpha[rows].sum(axis=1)
    quarter = max(1, len(rows) // 4)
    return float(widths[:quarter].mean()), float(widths[-quarter:].mean())


def test_the_table_covers_every_axis() -> None:
    assert set(AXES) == set(UP_ROTATIONS)


@pytest.mark.parametrize("axis", list(AXES))
def test_a_cone_declared_up_stands_apex_up(axis: str) -> None:
    top, bottom = _silhouette_widths(render(_model(_cone_pointing(axis)), up=axis))
    assert top < 0.5 * bottom, f"{axis}: apex not at the top ({top:.0f} vs {bottom:.0f} px)"


@pytest.mark.parametrize("axis", list(AXES))
def test_thumbnail_stands_as_the_converter_turns_it(axis: str) -> None:
    model = _model(_cone_pointing(axis))
    turned = normalise(model, NormaliseOptions(up=axis)).model
    ours = np.asarray(render(model, up=axis))[:, :, 3] > 127
    converted = np.asarray(render(turned, up="+Y"))[:, :, 3] > 127
    assert ours.shape == converted.shape
    assert (ours != converted).mean() < 0.01


def test_an_unknown_up_axis_is_refused() -> None:
    with pytest.raises(ValueError, match="up axis"):
        render(_model(_cone_pointing("+Y")), up="up")


def test_different_objects_give_different_images() -> None:
    a = np.asarray(render(_model(trimesh.creation.icosphere(3))), np.int16)
    b = np.asarray(render(_model(trimesh.creation.torus(1.0, 0.3))), np.int16)
    c = np.asarray(render(_model(trimesh.creation.icosphere(3), colour=(0.1, 0.4, 0.9, 1))),
                   np.int16)
    assert a.shape != b.shape or np.abs(a - b).mean() > 10
    assert np.abs(a - c).mean() > 10  # same shape, other colour


def test_nearest_surface_wins_and_textures_are_sampled() -> None:
    near = trimesh.creation.box((1.0, 1.0, 0.1))
    near.apply_translation((0, 0, 1.0))
    far = trimesh.creation.box((1.0, 1.0, 0.1))
    red, blue = _model(near, (1, 0, 0, 1)), _model(far, (0, 0, 1, 1))
    both = Model(nodes=[Node("far", blue.nodes[0].primitives),
                        Node("near", [red.nodes[0].primitives[0].copy(material=1)])],
                 materials=[blue.materials[0], red.materials[0]], roots=[0, 1])
    centre = np.asarray(render(both, painting=True))[128, 128]
    assert centre[0] > 100 and centre[2] < 30  # the red box in front hides the blue one
    stripes = np.zeros((64, 64, 3), np.uint8)
    stripes[:, :32] = (255, 255, 0)
    textured = render(_model(trimesh.creation.box((1.0, 1.0, 0.01)), (1, 1, 1, 1),
                             Image.fromarray(stripes)), painting=True)
    pixels = np.asarray(textured)
    assert pixels[128, 60, 1] > 150 and pixels[128, 196, 1] < 60


def test_thumbnail_is_webp() -> None:
    data = webp_bytes(render(_model(trimesh.creation.icosphere(2))))
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "WEBP" and image.mode == "RGBA"


@pytest.mark.parametrize(("text", "rid", "free"), [
    ("CC0-1.0", "CC0-1.0", True), ("cc-by-4.0", "CC-BY-4.0", True),
    ("CC-BY-SA-4.0", "CC-BY-SA-4.0", True), ("CC-BY-NC-4.0", "CC-BY-NC-4.0", False),
    ("CC-BY-ND-3.0", "CC-BY-ND-3.0", False), ("PDM", "PDM-1.0", True),
    ("https://creativecommons.org/licenses/by-nc-sa/4.0/", "CC-BY-NC-SA-4.0", False),
    ("https://creativecommons.org/publicdomain/zero/1.0/deed.sv", "CC0-1.0", True),
    ("InC", "InC", False), ("http://rightsstatements.org/vocab/InC-EDU/1.0/", "InC-EDU", False),
    ("https://rightsstatements.org/page/NoC-US/1.0/", "NoC-US", False)])
def test_rights_ids_and_uris(text: str, rid: str, free: bool) -> None:
    rights = parse_rights(text)
    assert rights is not None and rights.id == rid and rights.free_reuse is free
    assert rights.uri.startswith("http")


@pytest.mark.parametrize("text", ["All rights reserved", "CC-BY-5.0", "MIT-ish", "",
                                  "http://rightsstatements.org/vocab/Nope/1.0/"])
def test_unknown_rights_are_refused(text: str) -> None:
    assert parse_rights(text) is None


def test_restricted_works_stop_at_the_configured_level() -> None:
    every = ("full", "high", "medium", "low")
    inc, cc0 = parse_rights("InC"), parse_rights("CC0-1.0")
    assert inc is not None and cc0 is not None
    assert published_levels(every, cc0, "medium") == every
    assert published_levels(every, inc, "medium") == ("medium", "low")
    assert published_levels(every, inc, "low") == ("low",)
    assert published_levels(("full",), inc, "medium") == ("medium",)  # never above the cap


def test_chunked_rasterisation_gives_the_same_image(monkeypatch: pytest.MonkeyPatch) -> None:
    import vrculture.exhibition.thumbnail as thumbnail

    model = _model(trimesh.creation.torus(1.0, 0.3, major_sections=96, minor_sections=48))
    whole = np.asarray(render(model))
    monkeypatch.setattr(thumbnail, "TRIANGLE_CHUNK", 500)  # bounded memory for huge scans
    assert (np.asarray(render(model)) == whole).all()


@pytest.mark.parametrize("size", [(1025, 1025), (4096, 1), (1, 4096), (3000, 2999), (2048, 2047),
                                  (4999, 37), (1100, 1024), (1024, 1100), (12288, 8192)])
def test_a_large_rgb_texture_is_sampled_as_convert_and_thumbnail_would(
    size: tuple[int, int],
) -> None:
    """The thumbnail shrinks a large RGB map without a full-size copy first; same pixels."""
    from vrculture.exhibition.thumbnail import MAX_TEXTURE_SIDE, _sample, _thumbnail_size

    proxy = Image.new("1", size)
    proxy.thumbnail((MAX_TEXTURE_SIDE, MAX_TEXTURE_SIDE))
    assert _thumbnail_size(size) == proxy.size
    if size[0] * size[1] > 10_000_000:
        return  # the size rule is what this one checks
    rng = np.random.default_rng(size[0])
    texture = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    old = texture.convert("RGB")
    old.thumbnail((MAX_TEXTURE_SIDE, MAX_TEXTURE_SIDE))
    uv = rng.random((500, 2))
    assert np.array_equal(_sample(texture, uv), _sample(old, uv))  # old: small, sampled as is
