"""Textures per level: resize to the level's budget, re-encode, estimate GPU memory, measure
the quality reached.

- "jpeg": JPEG for opaque maps, PNG where alpha is used (lossless, keeps cut-outs crisp).
- "webp": WebP (EXT_texture_webp), lossy with alpha where needed.
- "ktx2": KTX2 / Basis Universal (KHR_texture_basisu) through the `alktx2` wheel (pinned):
  ETC1S for colour maps, UASTC for normal maps (ETC1S blocks smear normals), mipmaps included.
- "auto": KTX2 on the levels a headset loads (high, medium, low), JPEG/PNG on "full" (up to
  4096 px, where the encoder would cost most, and which only a desktop with room loads).

GPU bytes: JPEG/PNG/WebP decode to RGBA8, 4 bytes per pixel, x4/3 with mipmaps. KTX2 is
transcoded on the device to a block format: ETC1S -> ETC2/BC1 (0.5 byte/px opaque, 1 with
alpha), UASTC -> ASTC 4x4 / BC7 (1 byte/px), x4/3 for its mipmaps.

Quality: every encoded texture is decoded again and compared with the resized source it was
made from (PSNR over RGB, alpha too where used); the build reports it per texture.

Encoder settings (1024x683 photo, ETC1S with mipmaps, CPU seconds on one thread, PSNR):
quality 100 effort 3 (the old setting) 1.3-1.8 s, 37.2 dB; quality 100 effort 0 0.75 s,
36.9 dB; quality 50 effort 0 0.63 s, 35.2 dB (JPEG q90: 0.02 s, 39.7 dB). Kept: quality 100,
effort 0. UASTC effort 0 is faster still (0.26 s, 50.6 dB) but its files are 5x the size, so it
stays for normal maps only. Pixels go to the encoder raw (no PNG round trip), on one thread
per process: the build already runs one conversion per core.

Resizing (4096 px JPEG source -> 2048): PIL `resize(LANCZOS)` 0.45 s; `reduce(2)` (box) then
LANCZOS for the rest 0.12 s, indistinguishable at these ratios. Kept: `Image.reduce` to within
2x of the target, then LANCZOS. JPEG quality 90 with 4:2:0 subsampling.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from vrculture.pipeline.model import Texture

if TYPE_CHECKING:  # Pillow loads with the first texture: a mesh conversion never needs it
    from PIL import Image

FORMATS = ("jpeg", "webp", "ktx2", "auto")
ENCODINGS = ("jpeg", "webp", "ktx2")  # what one level's textures are written as
DESKTOP_ONLY_LEVELS = ("full",)  # "auto" keeps these in JPEG/PNG


def level_format(textures: str, level: str) -> str:
    """The encoding of `level`'s textures under the `textures` setting."""
    if textures == "auto":
        return "jpeg" if level in DESKTOP_ONLY_LEVELS else "ktx2"
    return textures


@dataclass(frozen=True)
class TextureOptions:
    format: str = "jpeg"  # jpeg | webp | ktx2
    max_px: int = 4096  # longest side
    jpeg_quality: int = 90
    webp_quality: int = 88
    etc1s_quality: int = 100  # alktx2/basisu 1..100
    basis_effort: int = 0  # alktx2/basisu 0..10: 0 halves the time of 3 for 0.3 dB
    threads: int = 1  # encoder threads; the build runs a conversion per core already


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    mime: str
    format: str  # jpeg | png | webp | ktx2
    width: int
    height: int
    gpu_bytes: int
    psnr: float | None = None  # dB against the resized source; None = identical (lossless)


def resized(image: Image.Image, max_px: int, *, multiple: int = 1) -> Image.Image:
    """Shrink so the longest side is at most max_px; never enlarge. With `multiple` > 1 both
    sides become multiples of it (block-compressed formats), which may enlarge by less than a
    block."""
    width, height = image.size
    longest = max(width, height)
    if longest > max_px:
        factor = longest // max_px
        if factor >= 2:
            image = image.reduce(factor)
        scale = max_px / max(image.size)
        size = (max(1, round(image.size[0] * scale)), max(1, round(image.size[1] * scale)))
    else:
        size = image.size
    if multiple > 1:
        size = (_round_to(size[0], multiple), _round_to(size[1], multiple))
    if size == image.size:
        return image
    from PIL import Image

    return image.resize(size, Image.Resampling.LANCZOS)


def _round_to(value: int, multiple: int) -> int:
    return max(multiple, round(value / multiple) * multiple)


def psnr(reference: Image.Image, decoded: Image.Image) -> float | None:
    """Peak signal-to-noise ratio in dB over the reference's channels; None if identical.
    `decoded` may be larger (block padding): its top-left part is compared. Pillow's
    difference histogram keeps a 4096 px map at one extra 8-bit image (float arrays of two
    would take 400 MB)."""
    from PIL import ImageChops

    width, height = reference.size
    if decoded.size != reference.size:
        decoded = decoded.crop((0, 0, width, height))
    difference = ImageChops.difference(reference, decoded.convert(reference.mode))
    histogram = np.asarray(difference.histogram(), dtype=np.float64).reshape(-1, 256)
    squares = np.arange(256, dtype=np.float64) ** 2
    mse = float((histogram * squares).sum() / histogram.sum())
    if mse == 0.0:
        return None
    return round(10.0 * float(np.log10(255.0 ** 2 / mse)), 2)


def encode_texture(texture: Texture, options: TextureOptions, *, normal_map: bool = False,
                   colour: bool = True) -> EncodedImage:
    from PIL import Image

    alpha = texture.has_alpha
    image = texture.image
    if image.mode != ("RGBA" if alpha else "RGB"):  # convert() copies even to the same mode
        image = image.convert("RGBA" if alpha else "RGB")
    if options.format == "ktx2":
        image = resized(image, options.max_px, multiple=4)
        return _ktx2(image, normal_map=normal_map, colour=colour, alpha=alpha, options=options)
    image = resized(image, options.max_px)
    width, height = image.size
    rgba8 = width * height * 4 * 4 // 3
    out = io.BytesIO()
    if options.format == "webp":
        image.save(out, "WEBP", quality=options.webp_quality, method=4)
        mime, fmt = "image/webp", "webp"
    elif alpha:
        image.save(out, "PNG", optimize=False, compress_level=6)
        mime, fmt = "image/png", "png"
    else:
        image.save(out, "JPEG", quality=options.jpeg_quality, optimize=True)
        mime, fmt = "image/jpeg", "jpeg"
    data = out.getvalue()
    quality = None if fmt == "png" else psnr(image, Image.open(io.BytesIO(data)))
    return EncodedImage(data, mime, fmt, width, height, rgba8, quality)


def _ktx2(image: Image.Image, *, normal_map: bool, colour: bool, alpha: bool,
          options: TextureOptions) -> EncodedImage:
    import alktx2
    from PIL import Image

    width, height = image.size
    uastc = normal_map
    data = alktx2.encode_raw_rgba_to_ktx2(
        image.convert("RGBA").tobytes(), width, height, alpha,
        codec="uastc" if uastc else "etc1s", quality=options.etc1s_quality,
        effort=options.basis_effort, srgb=colour and not normal_map,
        linear=not colour or normal_map, mipmaps=True,
        zstd_supercompression_level=10 if uastc else None, threads=options.threads,
    )
    decoded, _ = alktx2.decode_ktx2_to_bytes(data, format="tga")
    quality = psnr(image, Image.open(io.BytesIO(decoded)))
    per_px = 1.0 if (uastc or alpha) else 0.5
    gpu = int(width * height * per_px * 4 / 3)
    return EncodedImage(data, "image/ktx2", "ktx2", width, height, gpu, quality)
