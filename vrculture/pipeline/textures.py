"""Textures per level: resize to the level's budget, re-encode, estimate GPU memory.

- "jpeg": JPEG for opaque maps, PNG where alpha is used (lossless, keeps cut-outs crisp).
- "webp": WebP (EXT_texture_webp), lossy with alpha where needed.
- "ktx2": KTX2 / Basis Universal (KHR_texture_basisu) through the `alktx2` wheel (pinned):
  ETC1S for colour maps, UASTC for normal maps (ETC1S blocks smear normals), mipmaps included.

GPU bytes: JPEG/PNG/WebP decode to RGBA8, 4 bytes per pixel, x4/3 with mipmaps. KTX2 is
transcoded on the device to a block format: ETC1S -> ETC2/BC1 (0.5 byte/px opaque, 1 with
alpha), UASTC -> ASTC 4x4 / BC7 (1 byte/px), x4/3 for its mipmaps.

Approaches (4096 px JPEG source -> 2048): PIL `resize(LANCZOS)` 0.45 s; `reduce(2)` (box) then
LANCZOS for the rest 0.12 s, indistinguishable at these ratios. Kept: `Image.reduce` to within
2x of the target, then LANCZOS. JPEG quality 90 with 4:2:0 subsampling.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from vrculture.pipeline.model import Texture

FORMATS = ("jpeg", "webp", "ktx2")


@dataclass(frozen=True)
class TextureOptions:
    format: str = "jpeg"  # jpeg | webp | ktx2
    max_px: int = 4096  # longest side
    jpeg_quality: int = 90
    webp_quality: int = 88
    etc1s_quality: int = 128  # alktx2/basisu 1..255


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    mime: str
    format: str  # jpeg | png | webp | ktx2
    width: int
    height: int
    gpu_bytes: int


def resized(image: Image.Image, max_px: int) -> Image.Image:
    """Shrink so the longest side is at most max_px; never enlarge."""
    width, height = image.size
    longest = max(width, height)
    if longest <= max_px:
        return image
    factor = longest // max_px
    if factor >= 2:
        image = image.reduce(factor)
    scale = max_px / max(image.size)
    size = (max(1, round(image.size[0] * scale)), max(1, round(image.size[1] * scale)))
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS)


def encode_texture(texture: Texture, options: TextureOptions, *, normal_map: bool = False,
                   colour: bool = True) -> EncodedImage:
    alpha = texture.has_alpha
    image = texture.image.convert("RGBA" if alpha else "RGB")
    image = resized(image, options.max_px)
    width, height = image.size
    rgba8 = width * height * 4 * 4 // 3
    out = io.BytesIO()
    if options.format == "webp":
        image.save(out, "WEBP", quality=options.webp_quality, method=4)
        return EncodedImage(out.getvalue(), "image/webp", "webp", width, height, rgba8)
    if options.format == "ktx2":
        return _ktx2(image, normal_map=normal_map, colour=colour, alpha=alpha, options=options)
    if alpha:
        image.save(out, "PNG", optimize=False, compress_level=6)
        return EncodedImage(out.getvalue(), "image/png", "png", width, height, rgba8)
    image.save(out, "JPEG", quality=options.jpeg_quality, optimize=True)
    return EncodedImage(out.getvalue(), "image/jpeg", "jpeg", width, height, rgba8)


def _ktx2(image: Image.Image, *, normal_map: bool, colour: bool, alpha: bool,
          options: TextureOptions) -> EncodedImage:
    import alktx2

    png = io.BytesIO()
    image.save(png, "PNG", compress_level=1)
    width, height = image.size
    uastc = normal_map
    data = alktx2.encode_bytes_to_ktx2(
        png.getvalue(), mime="image/png", codec="uastc" if uastc else "etc1s",
        quality=options.etc1s_quality, srgb=colour and not normal_map,
        linear=not colour or normal_map, mipmaps=True,
        zstd_supercompression_level=10 if uastc else None, threads=0,
    )
    per_px = 1.0 if (uastc or alpha) else 0.5
    gpu = int(width * height * per_px * 4 / 3)
    return EncodedImage(data, "image/ktx2", "ktx2", width, height, gpu)
