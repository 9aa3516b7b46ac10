"""Images of 2D works become framed panels at their real size, upright and in sRGB."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms
from readers_fixtures import (
    ADOBE_RGB,
    SWAPPED_RED_GREEN,
    icc_gray_profile,
    icc_rgb_profile,
    png_bytes,
    tiff_rgb16,
    write,
)

from vrculture.pipeline.model import Model, Primitive
from vrculture.pipeline.readers import SourceModel, read_source
from vrculture.pipeline.readers.painting import DEFAULT_HEIGHT_M


def _picture(model: Model) -> Primitive:
    return next(n for n in model.nodes if n.name == "picture").primitives[0]


def _picture_size(source: SourceModel) -> tuple[float, float]:
    p = _picture(source.model)
    extent = p.positions.max(0) - p.positions.min(0)
    return float(extent[0]), float(extent[1])


def _image(source: SourceModel) -> Image.Image:
    texture = source.model.materials[_picture(source.model).material].base_color_texture
    assert texture is not None
    return texture.image


def _jpeg(image: Image.Image, **save: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=95, **save)
    return buf.getvalue()


def _two_halves(size: tuple[int, int] = (60, 30)) -> Image.Image:
    """Left half red, right half blue: orientation is visible in the pixels."""
    image = Image.new("RGB", size, (220, 20, 20))
    image.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    return image


def test_panel_geometry_faces_plus_z_with_correct_uvs(tmp_path: Path) -> None:
    source = read_source(write(tmp_path / "p.png", png_bytes(_two_halves())), painting_height_m=1.0)
    assert (source.kind, source.format, source.default_up, source.already_metric) == (
        "painting", "image", "+Y", True,
    )  # fmt: skip
    picture = _picture(source.model)
    assert np.allclose(picture.normals, (0, 0, 1))
    v = picture.positions[picture.indices]
    face_normals = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
    assert (face_normals[:, 2] > 0).all()  # counter-clockwise seen from +Z: the front
    # glTF UVs: (0, 0) is the image's top-left, so the highest corner on the left has v = 0.
    top_left = np.argmin(picture.positions[:, 0] * 10 - picture.positions[:, 1])
    assert np.allclose(picture.uvs[top_left], (0, 0))
    width, height = _picture_size(source)
    assert height == pytest.approx(1.0) and width == pytest.approx(2.0)
    lo, hi = source.model.bounds()
    assert lo[1] == pytest.approx(0.0)  # rests on y = 0
    assert lo[0] == pytest.approx(-hi[0])  # centred on x
    assert hi[2] > picture.positions[0, 2]  # the frame stands proud of the picture


def test_frame_is_closed_wooden_boxes(tmp_path: Path) -> None:
    source = read_source(write(tmp_path / "p.png", png_bytes(_two_halves())))
    frame = next(n for n in source.model.nodes if n.name == "frame").primitives[0]
    material = source.model.materials[frame.material]
    assert material.base_color_texture is None
    r, g, b, _ = material.base_color_factor
    assert r > g > b  # brown
    v = frame.positions[frame.indices]
    face_normals = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
    face_normals /= np.linalg.norm(face_normals, axis=1)[:, None]
    assert np.allclose(face_normals, frame.normals[frame.indices[:, 0]], atol=1e-5)
    picture = _picture(source.model)
    p_lo, p_hi = picture.positions.min(0), picture.positions.max(0)
    f_lo, f_hi = frame.positions.min(0), frame.positions.max(0)
    assert (f_lo[:2] < p_lo[:2]).all() and (f_hi[:2] > p_hi[:2]).all()  # surrounds the picture


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    """Orientation 6: the camera was turned; the stored left edge is the displayed top."""
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _jpeg(_two_halves((60, 30)), exif=exif.tobytes())
    source = read_source(write(tmp_path / "turned.jpg", data), painting_height_m=0.6)
    image = _image(source)
    assert image.size == (30, 60)
    top = np.asarray(image.crop((0, 0, 30, 10)), dtype=float).mean(axis=(0, 1))
    bottom = np.asarray(image.crop((0, 50, 30, 60)), dtype=float).mean(axis=(0, 1))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]
    width, height = _picture_size(source)
    assert height == pytest.approx(0.6) and width == pytest.approx(0.3)


def test_non_srgb_icc_profile_is_converted(tmp_path: Path) -> None:
    """With red and green primaries swapped in the profile, stored red must show as green."""
    profile = icc_rgb_profile("test swapped primaries", *SWAPPED_RED_GREEN)
    data = png_bytes(Image.new("RGB", (16, 16), (200, 30, 30)), icc_profile=profile)
    image = _image(read_source(write(tmp_path / "swapped.png", data)))
    r, g, b = image.getpixel((8, 8))
    assert g > 150 and r < 100, (r, g, b)
    assert "icc_profile" not in image.info  # pixels are sRGB now; no stale profile travels on


def test_adobe_rgb_jpeg_is_converted_to_srgb(tmp_path: Path) -> None:
    profile = icc_rgb_profile("Adobe RGB (1998) test", *ADOBE_RGB)
    colour = (60, 170, 90)
    data = _jpeg(Image.new("RGB", (16, 16), colour), icc_profile=profile)
    image = _image(read_source(write(tmp_path / "adobe.jpg", data)))
    expected = ImageCms.profileToProfile(
        Image.new("RGB", (1, 1), colour),
        ImageCms.ImageCmsProfile(io.BytesIO(profile)),
        ImageCms.createProfile("sRGB"),
    ).getpixel((0, 0))
    got = image.getpixel((8, 8))
    assert np.abs(np.subtract(got, expected)).max() <= 4  # JPEG rounding only
    assert np.abs(np.subtract(got, colour)).max() >= 10  # a real shift: Adobe greens are wider


def test_srgb_profile_leaves_pixels_alone(tmp_path: Path) -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = png_bytes(Image.new("RGB", (4, 4), (12, 34, 56)), icc_profile=srgb)
    assert _image(read_source(write(tmp_path / "s.png", data))).getpixel((1, 1)) == (12, 34, 56)


def test_height_from_plausible_dpi(tmp_path: Path) -> None:
    data = png_bytes(Image.new("RGB", (300, 400)), dpi=(100, 100))  # 4 inches high
    source = read_source(write(tmp_path / "scan.png", data))
    width, height = _picture_size(source)
    assert height == pytest.approx(4 * 0.0254, rel=1e-3)
    assert width == pytest.approx(3 * 0.0254, rel=1e-3)
    assert any("dpi" in w for w in source.model.warnings)


@pytest.mark.parametrize("dpi", [72, 96, 1, 100_000])
def test_implausible_or_default_dpi_falls_back_to_default_height(tmp_path: Path, dpi: int) -> None:
    data = png_bytes(Image.new("RGB", (500, 1000)), dpi=(dpi, dpi))
    source = read_source(write(tmp_path / "photo.png", data))
    assert _picture_size(source)[1] == pytest.approx(DEFAULT_HEIGHT_M)
    assert any("--height-m" in w for w in source.model.warnings)


def test_given_height_wins_over_dpi(tmp_path: Path) -> None:
    data = png_bytes(Image.new("RGB", (300, 400)), dpi=(100, 100))
    source = read_source(write(tmp_path / "scan.png", data), painting_height_m=1.2)
    assert _picture_size(source)[1] == pytest.approx(1.2)


@pytest.mark.parametrize(
    ("mode", "fmt", "alpha"),
    [("RGBA", "PNG", True), ("P", "PNG", False), ("L", "PNG", False), ("I;16", "PNG", False),
     ("CMYK", "JPEG", False), ("RGB", "WEBP", False), ("RGB", "TIFF", False), ("LA", "PNG", True)],
)  # fmt: skip
def test_image_modes_become_rgb_or_rgba(tmp_path: Path, mode: str, fmt: str, alpha: bool) -> None:
    image = Image.new("RGB", (16, 8), (40, 160, 90)).convert(mode)
    if alpha:
        image.putalpha(Image.new("L", (16, 8), 128))
    buf = io.BytesIO()
    image.save(buf, fmt)
    source = read_source(write(tmp_path / f"w.{fmt.lower()}", buf.getvalue()))
    decoded = _image(source)
    assert decoded.mode == ("RGBA" if alpha else "RGB")
    assert decoded.size == (16, 8)


@pytest.mark.parametrize(
    ("name", "pixels"),
    [
        ("cockatoo_photo.jpg", (800, 800)),
        ("cockatoo_texture.jpg", (1024, 1024)),
        ("parthenon_frieze_texture.jpg", (4096, 4096)),
    ],
)
def test_corpus_images_become_panels(corpus: Path, name: str, pixels: tuple[int, int]) -> None:
    source = read_source(corpus / name)
    assert _picture_size(source)[1] == pytest.approx(DEFAULT_HEIGHT_M)
    image = _image(source)
    assert image.mode == "RGB" and image.size == pixels


def test_grey_scan_with_a_grey_icc_profile(tmp_path: Path) -> None:
    """Black-and-white photographs often carry a GRAY profile; it must be applied, not crash."""
    profile = icc_gray_profile("linear grey test", gamma=1.0)
    data = _jpeg(Image.new("L", (16, 16), 64), icc_profile=profile)
    image = _image(read_source(write(tmp_path / "bw.jpg", data)))
    r, g, b = image.getpixel((8, 8))
    assert r == g == b or max(r, g, b) - min(r, g, b) <= 2
    assert r > 120  # linear 64/255 is a much lighter sRGB grey (about 137)


def test_broken_icc_profile_is_ignored(tmp_path: Path) -> None:
    data = png_bytes(Image.new("RGB", (4, 4), (10, 20, 30)), icc_profile=b"not a profile" * 10)
    assert _image(read_source(write(tmp_path / "b.png", data))).getpixel((1, 1)) == (10, 20, 30)


def test_rgba_with_a_wide_gamut_profile_keeps_its_alpha(tmp_path: Path) -> None:
    profile = icc_rgb_profile("Adobe RGB (1998) test", *ADOBE_RGB)
    image = Image.new("RGBA", (4, 4), (60, 170, 90, 100))
    decoded = _image(read_source(write(tmp_path / "a.png", png_bytes(image, icc_profile=profile))))
    assert decoded.mode == "RGBA"
    assert decoded.getpixel((1, 1))[3] == 100
    assert decoded.getpixel((1, 1))[:3] != (60, 170, 90)


def test_sixteen_bit_tiff_master(tmp_path: Path) -> None:
    pixels = np.zeros((2, 4, 3), dtype=np.uint16)
    pixels[..., 0] = 65535  # full red in 16 bits
    pixels[..., 2] = 32768
    source = read_source(write(tmp_path / "master.tif", tiff_rgb16(4, 2, pixels)))
    image = _image(source)
    assert image.mode == "RGB" and image.size == (4, 2)
    r, g, b = image.getpixel((1, 1))
    assert (r, g) == (255, 0) and 127 <= b <= 128


def test_camera_photo_dpi_is_ignored_but_scan_dpi_used(tmp_path: Path) -> None:
    image = Image.new("RGB", (300, 400))
    camera = Image.Exif()
    camera.get_ifd(0x8769)[0x829D] = 5.6  # FNumber: a camera took this
    photo = _jpeg(image, dpi=(50, 50), exif=camera.tobytes())
    source = read_source(write(tmp_path / "photo.jpg", photo))
    assert _picture_size(source)[1] == pytest.approx(DEFAULT_HEIGHT_M)
    assert any("camera" in w for w in source.model.warnings)
    scan = _jpeg(image, dpi=(50, 50))
    assert _picture_size(read_source(write(tmp_path / "scan.jpg", scan)))[1] == pytest.approx(
        400 / 50 * 0.0254, rel=1e-3
    )


def test_dpi_follows_the_exif_rotation(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: the upright height is the stored width
    data = _jpeg(Image.new("RGB", (400, 300)), dpi=(200, 100), exif=exif.tobytes())
    source = read_source(write(tmp_path / "turned.jpg", data))
    assert _picture_size(source)[1] == pytest.approx(400 / 200 * 0.0254, rel=1e-3)
