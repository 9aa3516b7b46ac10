"""Decode an image safely: size checked from the header before decoding, colour managed to sRGB.

Used for textures of models (MTL, glTF) and for paintings. Pillow reads only the header on
`Image.open`, so a 100 000 x 100 000 header is refused before a single pixel is allocated.

Memory: no level writes a texture over LARGEST_TEXTURE_PX, so a large JPEG is decoded at a
reduced DCT scale; what is still decoded whole must fit `ReadLimits.max_decode_bytes`, estimated
from the header (`decode_bytes`), or it is refused before decoding. The steps after the decode
make no full-size copy they can avoid (no copy when already upright or already RGB, colour
profiles applied in place, 16-bit grey scaled in strips).
"""

from __future__ import annotations

import io
import struct
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.readers.common import SourceBudget
from vrculture.pipeline.readers.png_rows import ShortData, short_data

# The largest texture any level writes (convert.LEVELS "full"; a test keeps them equal) and how
# many times that a JPEG is decoded at, at least, when it fits the decode budget.
LARGEST_TEXTURE_PX = 4096
KEEP_GAP = 2
# Deflate (PNG, most TIFFs) cannot compress better than ~1032:1, and no image stores a pixel
# in less than a bit: a file under pixels / 8 / 1032 bytes cannot hold the image it claims.
DEFLATE_BEST_RATIO = 1032
_PILLOW_LIMIT_LOCK = threading.Lock()
_SRGB = ImageCms.createProfile("sRGB")


@contextmanager
def _pillow_pixel_limit(max_pixels: int) -> Iterator[None]:
    """Pillow's own bomb guard (a module global) set to our limit for this decode only."""
    with _PILLOW_LIMIT_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def decode_image(
    source: Path,
    data: bytes,
    label: str,
    budget: SourceBudget,
    *,
    color: bool = True,
    exif_orientation: bool = False,
) -> Image.Image:
    """Bytes -> RGB/RGBA PIL image, fully loaded; any failure is a ConversionError naming `label`.

    A JPEG larger than the output needs is decoded at a reduced DCT scale (see `_reduce_jpeg`),
    so the image may be smaller than the file's own size (its header still says that). An image
    whose decode, beside the images `budget`'s source already holds, would not fit
    `max_decode_bytes` is refused before a pixel is allocated; the decoded one is charged.

    color: convert an embedded ICC profile to sRGB (colour maps, paintings). Data maps (normal,
    metallic-roughness, occlusion) keep their numbers as stored.
    exif_orientation: rotate as the camera's EXIF tag says (photographs of paintings). Texture maps
    of models keep the stored pixel grid, because their UVs were authored against it.
    """
    limits = budget.limits
    max_pixels = limits.max_image_pixels
    try:
        with _pillow_pixel_limit(max_pixels):
            img: Image.Image = Image.open(io.BytesIO(data))
            width, height = img.size
            if width <= 0 or height <= 0:
                raise ConversionError(source, f"image {label} has an empty size {width}x{height}")
            if width * height > max_pixels:
                raise ConversionError(
                    source,
                    f"image {label} is {width}x{height} pixels, over the limit of "
                    f"{max_pixels} pixels (refused before decoding)",
                )
            img.seek(0)
            _reduce_jpeg(img, limits.max_decode_bytes - budget.decoded)
            _check_decode_budget(source, img, label, len(data), (width, height), budget)
            if (short := short_data(data)) is not None:  # Pillow would fill it in black
                raise ConversionError(source, _short_png_message(label, short))
            img.load()
            if exif_orientation:
                ImageOps.exif_transpose(img, in_place=True)  # no copy when already upright
            decoded = _to_srgb_rgb(img, color)
            budget.decoded += decoded.width * decoded.height * 4  # Pillow: 4 bytes for RGB(A)
            return decoded
    except ConversionError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's guard fired while reading the header; say how big it claimed to be.
        raise ConversionError(
            source,
            f"image {label} is {_claimed_size(data)} pixels, over the limit of {max_pixels} "
            "pixels (refused before decoding)",
        ) from exc
    except Image.UnidentifiedImageError as exc:
        raise ConversionError(source, f"image {label} is not a readable image") from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, ImageCms.PyCMSError) as exc:
        raise ConversionError(source, f"image {label} is truncated or corrupt ({exc})") from exc
    except MemoryError as exc:
        raise ConversionError(source, f"image {label} needs more memory than available") from exc


def decode_bytes(mode: str, size: tuple[int, int]) -> int:
    """Bytes decoding an image of `mode` and `size` holds at its peak (see _PEAK_BYTES)."""
    return size[0] * size[1] * _PEAK_BYTES.get(mode, 8)


# Per pixel: Pillow's own pixels (4 bytes for every colour mode, RGB included; 1 for L/P/1; 2
# for 16-bit grey; 4 for 32-bit), plus one 4-byte RGB/RGBA copy beside them (a colour profile,
# an EXIF rotation or a mode conversion makes one), plus for 16/32-bit grey the numpy copy and
# the 8-bit grey steps on the way to RGB.
_PEAK_BYTES = {
    "1": 5, "L": 5, "P": 5,
    "I;16": 10, "I;16B": 10, "I;16L": 10, "I;16N": 10, "I": 14, "F": 14,
}  # fmt: skip


def _reduce_jpeg(img: Image.Image, max_decode_bytes: int) -> None:
    """Decode a JPEG larger than the output needs at a reduced DCT scale (1/2, 1/4 or 1/8).

    Kept: at least KEEP_GAP x the largest texture a level writes, as Pillow's `thumbnail` does
    with its reducing_gap, so the final resample sees the same detail. When even that would not
    fit the decode budget (a JPEG of 134 to 268 MP under 16 384 px), down to 1x the largest
    texture: the final resample then starts nearer its size (measured on a 12 288 x 8192 scan:
    46 dB against the full decode at 4096 px, 58 dB at 2048, above the JPEG encoding's own).
    """
    if img.format not in ("JPEG", "MPO"):  # MPO: a camera's JPEG with a second picture
        return
    width, height = img.size
    scale = 1
    for keep in (KEEP_GAP * LARGEST_TEXTURE_PX, LARGEST_TEXTURE_PX):
        scale = _dct_scale(width, height, keep)
        reduced = (-(-width // scale), -(-height // scale))
        if decode_bytes(img.mode, reduced) <= max_decode_bytes:
            break
    if scale > 1:
        # Pillow picks the largest scale whose result is at least this size on both sides.
        img.draft(None, (width // scale, height // scale))


def _dct_scale(width: int, height: int, keep: int) -> int:
    """The largest of 8, 4, 2, 1 that keeps the longest side at least `keep`."""
    for scale in (8, 4, 2):
        if max(width, height) // scale >= keep and min(width, height) >= scale:
            return scale
    return 1


def _check_decode_budget(
    source: Path,
    img: Image.Image,
    label: str,
    file_bytes: int,
    claimed: tuple[int, int],
    budget: SourceBudget,
) -> None:
    """Refuse an image whose decode would not fit the budget, before any pixel is allocated."""
    limits = budget.limits
    needed = decode_bytes(img.mode, img.size)
    if needed + budget.decoded <= limits.max_decode_bytes:
        return
    mib = 1 << 20
    width, height = claimed
    reduced = f" even decoded at {img.size[0]}x{img.size[1]}" if img.size != claimed else ""
    held = (
        f" beside the {-(-budget.decoded // mib)} MiB its source's other images hold"
        if budget.decoded
        else ""
    )
    # A compression ratio alone refuses nothing (a flat scan compresses well), but a file too
    # small to hold its pixels at all tells the curator what they are most likely looking at.
    hint = (
        "; the file is too small to hold that many pixels: most likely a decompression bomb"
        if width * height / 8 > DEFLATE_BEST_RATIO * file_bytes
        else ""
    )
    raise ConversionError(
        source,
        f"image {label} claims {width}x{height} pixels in {file_bytes} bytes; decoding it"
        f"{reduced} needs about {-(-needed // mib)} MiB{held}, over the image memory budget of "
        f"{limits.max_decode_bytes // mib} MiB (ReadLimits.max_decode_bytes; refused before "
        f"decoding){hint}",
    )


@contextmanager
def image_header(data: bytes) -> Iterator[Image.Image]:
    """The image opened for its header and metadata only, with Pillow's guard off (its size was
    checked by decode_image; Pillow would refuse a real 200 MP scan's header). Never load it."""
    with _PILLOW_LIMIT_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            with Image.open(io.BytesIO(data)) as img:
                yield img
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _short_png_message(label: str, short: ShortData) -> str:
    rows = f"{short.rows} of {short.height} rows, " if short.rows >= 0 else ""
    return (f"image {label} is truncated: its pixel data ends early ({rows}{short.got} of "
            f"{short.expected} bytes); the missing part would show as black")


def _claimed_size(data: bytes) -> str:
    """The size an image header claims, read with Pillow's guard off (header only, no pixels)."""
    try:
        with image_header(data) as img:
            width, height = img.size
        return f"{width}x{height}"
    except Exception:  # only for the message; the refusal stands regardless
        return "too many"


def _profile_to_srgb(img: Image.Image, profile: ImageCms.ImageCmsProfile) -> Image.Image:
    if img.mode == "RGB":  # our own decoded pixels: converted in place, no second full copy
        ImageCms.profileToProfile(img, profile, _SRGB, outputMode="RGB", inPlace=True)
        return img
    converted = ImageCms.profileToProfile(img, profile, _SRGB, outputMode="RGB")
    assert converted is not None  # None only when converting in place
    return converted


def _to_srgb_rgb(img: Image.Image, color: bool) -> Image.Image:
    """RGB/RGBA pixels in sRGB. An embedded profile is applied when it matches the pixels'
    colour space (GRAY for L/LA, RGB for RGB/RGBA, CMYK for CMYK); a profile that is unreadable
    or does not match them is ignored rather than failing an otherwise good image."""
    profile = _profile(img.info.get("icc_profile")) if color else None
    space = profile.profile.xcolor_space.strip() if profile is not None else ""
    if img.mode in ("P", "PA", "1", "RGBa", "La"):  # palettes etc.: expand to plain channels
        img = _to_rgb_or_rgba(img)
    alpha = img.getchannel("A") if img.mode in ("RGBA", "LA", "PA") else None
    if profile is not None and _is_srgb(profile):
        profile = None  # already sRGB: skip a costly identity transform
    if profile is not None and (space, img.mode) in (("GRAY", "L"), ("GRAY", "LA")):
        img = _profile_to_srgb(img.convert("L"), profile)
    elif profile is not None and (space, img.mode) in (("RGB", "RGB"), ("RGB", "RGBA")):
        img = _profile_to_srgb(img if img.mode == "RGB" else img.convert("RGB"), profile)
    elif profile is not None and (space, img.mode) == ("CMYK", "CMYK"):
        img = _profile_to_srgb(img, profile)
    else:
        img = _to_rgb_or_rgba(img)
    if alpha is not None and img.mode == "RGB":
        img.putalpha(alpha)
    img.info.pop("icc_profile", None)
    img.info.pop("exif", None)
    return img


def _profile(icc: bytes | None) -> ImageCms.ImageCmsProfile | None:
    if not icc:
        return None
    try:
        return ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # a broken profile: the pixels are still usable as sRGB


def _is_srgb(profile: ImageCms.ImageCmsProfile) -> bool:
    try:
        description = ImageCms.getProfileDescription(profile) or ""
    except ImageCms.PyCMSError:
        return False
    return "srgb" in description.lower()


def _to_rgb_or_rgba(img: Image.Image) -> Image.Image:
    mode = img.mode
    if mode in ("RGB", "RGBA"):
        return img
    if mode.startswith("I") or mode == "F":  # 16/32-bit grey: scale to 8 bits
        return Image.fromarray(_grey_to_8bit(np.asarray(img), mode), "L").convert("RGB")
    has_alpha = mode in ("LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in img.info)
    return img.convert("RGBA" if has_alpha else "RGB")


_STRIP_PIXELS = 1 << 20  # float64 scratch of 8 MB per strip, not 8 bytes per pixel of the image


def _grey_to_8bit(arr: np.ndarray, mode: str) -> np.ndarray:
    """16/32-bit or float grey -> 8 bits, strip by strip (the same arithmetic as on the whole)."""
    out = np.empty(arr.shape, np.uint8)
    top = 65535.0 if mode != "F" and arr.max(initial=0) > 255 else 255.0
    rows = max(1, _STRIP_PIXELS // max(1, arr.shape[1]))
    for start in range(0, arr.shape[0], rows):
        strip = arr[start : start + rows]
        if mode == "F":
            scaled = np.clip(strip, 0.0, 1.0) * 255.0
        else:
            scaled = np.clip(strip.astype(np.float64) / top * 255.0, 0, 255)
        out[start : start + rows] = scaled.astype(np.uint8)
    return out
