"""Images cannot take unbounded memory: a decode over the budget is refused from the header
(naming the file, its claimed size and the budget), and a JPEG larger than any output needs is
decoded at a reduced DCT scale that the converted textures do not show."""

from __future__ import annotations

import importlib.util
import io
import json
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image
from readers_fixtures import write

from vrculture.pipeline.convert import LEVELS, ConvertSettings, convert_file
from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.model import Texture
from vrculture.pipeline.readers import ReadLimits, read_source
from vrculture.pipeline.readers.images import (
    KEEP_GAP,
    LARGEST_TEXTURE_PX,
    _grey_to_8bit,
    decode_bytes,
)
from vrculture.pipeline.textures import TextureOptions, encode_texture, psnr, resized

ROOT = Path(__file__).resolve().parents[2]
MIB = 1 << 20


def _bench() -> ModuleType:
    """tools/bench_image_memory.py (tools/ is no package): its large photograph and its bomb
    are the files these tests convert too."""
    spec = importlib.util.spec_from_file_location("bench_image_memory",
                                                  ROOT / "tools" / "bench_image_memory.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench()


def _photo_jpeg(corpus: Path, size: tuple[int, int], *, dpi: int | None = None) -> bytes:
    return BENCH.photo_jpeg(size, corpus=corpus, dpi=dpi)


def _zero_rows_png(width: int, height: int, rows: int = 10) -> bytes:
    return BENCH.zero_rows_png(width, height, rows)


def _full_decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _picture_texture(path: Path, **kwargs: object) -> tuple[Image.Image, dict[str, str]]:
    source = read_source(path, **kwargs)  # type: ignore[arg-type]
    material = next(m for m in source.model.materials if m.name == "picture")
    assert material.base_color_texture is not None
    return material.base_color_texture.image, source.model.metadata


def _glb_image(path: Path) -> Image.Image:
    """The first image stored in a GLB's binary chunk."""
    data = path.read_bytes()
    json_length = struct.unpack_from("<I", data, 12)[0]
    document = json.loads(data[20 : 20 + json_length])
    binary = data[20 + json_length + 8 :]
    view = document["bufferViews"][document["images"][0]["bufferView"]]
    start = view.get("byteOffset", 0)
    return Image.open(io.BytesIO(binary[start : start + view["byteLength"]])).convert("RGB")


# ---------------------------------------------------------------- the decode budget


def test_a_545_byte_png_claiming_16000_squared_is_refused_before_decoding(tmp_path: Path) -> None:
    """Under the pixel limit (16384^2) but ~2 GB to decode: the default budget refuses it."""
    path = write(tmp_path / "bomb.png", _zero_rows_png(16000, 16000))
    assert path.stat().st_size == 545 and ReadLimits().max_image_pixels >= 16000 * 16000
    with pytest.raises(ConversionError) as err:
        read_source(path)
    message = str(err.value)
    assert str(path) in message and "16000x16000" in message
    assert f"budget of {ReadLimits().max_decode_bytes // MIB} MiB" in message
    assert "refused before decoding" in message and "decompression bomb" in message
    assert "\n" not in message


def test_the_budget_is_a_limit_like_the_others(tmp_path: Path) -> None:
    """A real, well-compressed PNG over a configured budget: refused, and not called a bomb."""
    rng = np.random.default_rng(1)
    pixels = (rng.random((600, 800, 3)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    path = write(tmp_path / "scan.png", buf.getvalue())
    needed = decode_bytes("RGB", (800, 600))
    with pytest.raises(ConversionError) as err:
        read_source(path, limits=ReadLimits(max_decode_bytes=needed - 1))
    message = str(err.value)
    assert "800x600" in message and "over the image memory budget" in message
    assert "bomb" not in message
    assert read_source(path, limits=ReadLimits(max_decode_bytes=needed)).kind == "painting"


def test_a_flat_scan_over_the_budget_is_not_called_a_bomb(tmp_path: Path) -> None:
    """Flat images compress ~1000:1 legitimately: over the budget, but no bomb."""
    buf = io.BytesIO()
    Image.new("RGB", (4000, 4000), (200, 190, 170)).save(buf, "PNG")
    path = write(tmp_path / "flat.png", buf.getvalue())
    with pytest.raises(ConversionError) as err:
        read_source(path, limits=ReadLimits(max_decode_bytes=64 * MIB))
    assert "4000x4000" in str(err.value) and "bomb" not in str(err.value)


def test_the_budget_covers_textures_of_models(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    write(folder / "wall.obj", "mtllib wall.mtl\nv 0 0 0\nv 1 0 0\nv 1 1 0\nvt 0 0\nvt 1 0\n"
                               "vt 1 1\nusemtl m\nf 1/1 2/2 3/3\n")
    write(folder / "wall.mtl", "newmtl m\nmap_Kd huge.png\n")
    write(folder / "huge.png", _zero_rows_png(16000, 16000))
    with pytest.raises(ConversionError) as err:
        read_source(folder / "wall.obj")
    assert "huge.png" in str(err.value) and "16000x16000" in str(err.value)


def test_the_budget_counts_the_images_a_source_already_holds(tmp_path: Path) -> None:
    """Each texture fits alone; together they would not (a model naming twenty flat 180 MP
    PNGs of a few hundred KB each would otherwise hold 14 GB)."""
    folder = tmp_path / "model"
    obj = "mtllib wall.mtl\nv 0 0 0\nv 1 0 0\nv 1 1 0\nvt 0 0\nvt 1 0\nvt 1 1\n"
    mtl = ""
    for name in ("a", "b", "c"):
        obj += f"usemtl {name}\nf 1/1 2/2 3/3\n"
        mtl += f"newmtl {name}\nmap_Kd {name}.png\n"
        buf = io.BytesIO()
        Image.new("RGB", (1000, 1000), (90, 80, 70)).save(buf, "PNG")
        write(folder / f"{name}.png", buf.getvalue())
    write(folder / "wall.obj", obj)
    write(folder / "wall.mtl", mtl)
    one = decode_bytes("RGB", (1000, 1000))  # 8 bytes a pixel at the peak, 4 held after
    enough = ReadLimits(max_decode_bytes=one + 2 * 4_000_000)
    assert read_source(folder / "wall.obj", limits=enough).kind == "model"
    with pytest.raises(ConversionError) as err:
        read_source(folder / "wall.obj", limits=ReadLimits(max_decode_bytes=one + 4_000_000))
    message = str(err.value)
    assert "c.png" in message and "1000x1000" in message, message
    assert "beside the 8 MiB its source's other images hold" in message, message  # a and b


def test_convert_exits_non_zero_and_still_converts_the_rest(tmp_path: Path, corpus: Path) -> None:
    bomb = write(tmp_path / "bomb.png", _zero_rows_png(16000, 16000))
    result = subprocess.run(
        [sys.executable, "-m", "vrculture", "convert", str(corpus / "cockatoo_photo.jpg"),
         str(bomb), "-o", str(tmp_path / "out"), "--levels", "low", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert (tmp_path / "out" / "cockatoo_photo" / "cockatoo_photo.low.glb").is_file()
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "bomb.png" in errors[0] and "16000x16000" in errors[0], errors
    assert "MiB" in errors[0] and "Traceback" not in result.stderr


# ---------------------------------------------------------------- reduced JPEG decoding


def test_the_largest_texture_is_the_full_levels() -> None:
    assert max(px for _, px in LEVELS.values()) == LARGEST_TEXTURE_PX


def test_a_large_jpeg_is_decoded_reduced_and_keeps_its_size_and_dpi(
    tmp_path: Path, corpus: Path
) -> None:
    """16384 px tall at 600 dpi: decoded at half scale (still 2x the largest texture), while
    the panel's height, aspect and extent are the file's own."""
    path = write(tmp_path / "scan.jpg", _photo_jpeg(corpus, (512, 16384), dpi=600))
    image, metadata = _picture_texture(path)
    assert image.size == (256, KEEP_GAP * LARGEST_TEXTURE_PX)
    assert metadata["extent_px"] == "512x16384"
    source = read_source(path)
    picture = next(n for n in source.model.nodes if n.name == "picture").primitives[0]
    width_m, height_m = (picture.positions.max(0) - picture.positions.min(0))[:2]
    assert height_m == pytest.approx(16384 / 600 * 0.0254, rel=1e-5)
    assert width_m / height_m == pytest.approx(512 / 16384, rel=1e-5)


def test_a_reduced_jpeg_converts_like_the_full_decode(tmp_path: Path, corpus: Path) -> None:
    """Each level's texture, measured against the full decode resized to the level's size,
    is as faithful as the full decode's own encoding (within 0.5 dB)."""
    data = _photo_jpeg(corpus, (16384, 1024))
    path = write(tmp_path / "frieze.jpg", data)
    summary = convert_file(path, tmp_path / "out", ConvertSettings(levels=("full", "high")))
    assert [level.name for level in summary.levels] == ["full", "high"]
    full = _full_decode(data)
    reduced, _ = _picture_texture(path)
    assert reduced.size == (8192, 512)
    for level, px in (("full", 4096), ("high", 2048)):
        written = _glb_image(tmp_path / "out" / f"frieze.{level}.glb")
        assert written.size == (px, px // 16)
        reference = resized(full, px)
        own = encode_texture(Texture(full), TextureOptions(max_px=px))
        ours = psnr(reference, written)
        assert own.psnr is not None and ours is not None
        assert ours > own.psnr - 0.5, (level, ours, own.psnr)
        assert psnr(reference, resized(reduced, px)) > 45  # type: ignore[operator]


def test_over_budget_at_2x_a_jpeg_is_decoded_down_to_the_largest_texture(
    tmp_path: Path, corpus: Path
) -> None:
    data = _photo_jpeg(corpus, (8192, 512))
    path = write(tmp_path / "strip.jpg", data)
    fits_half = ReadLimits(max_decode_bytes=decode_bytes("RGB", (4096, 256)))
    image, _ = _picture_texture(path, limits=fits_half)
    assert image.size == (LARGEST_TEXTURE_PX, 256)
    assert psnr(resized(_full_decode(data), 4096), image) > 40  # type: ignore[operator]
    with pytest.raises(ConversionError) as err:
        read_source(path, limits=ReadLimits(max_decode_bytes=MIB))
    assert "8192x512" in str(err.value) and "even decoded at 4096x256" in str(err.value)


def test_a_jpeg_no_larger_than_needed_is_decoded_whole(tmp_path: Path, corpus: Path) -> None:
    data = _photo_jpeg(corpus, (KEEP_GAP * LARGEST_TEXTURE_PX * 2 - 8, 64))
    image, _ = _picture_texture(write(tmp_path / "long.jpg", data))
    assert image.size == _full_decode(data).size
    assert psnr(_full_decode(data), image) is None  # the very same pixels


# ---------------------------------------------------------------- no needless full-size copies


def test_sixteen_bit_grey_is_scaled_in_strips_exactly_as_whole() -> None:
    rng = np.random.default_rng(5)
    grey = rng.integers(0, 65536, (1500, 1000), dtype=np.uint16)
    whole = np.clip(grey.astype(np.float64) / 65535.0 * 255.0, 0, 255).astype(np.uint8)
    assert np.array_equal(_grey_to_8bit(grey, "I;16"), whole)
    floats = rng.random((1200, 1000)).astype(np.float32) * 1.2 - 0.1
    assert np.array_equal(_grey_to_8bit(floats, "F"),
                          (np.clip(floats, 0.0, 1.0) * 255.0).astype(np.uint8))
