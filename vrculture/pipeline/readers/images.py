"""Decode an image safely: size checked from the header before decoding, colour managed to sRGB.

Used for textures of models (MTL, glTF) and for paintings. Pillow reads only the header on
`Image.open`, so a 100 000 x 100 000 header is refused before a single pixel is allocated.
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
    max_pixels: int,
    *,
    color: bool = True,
    exif_orientation: bool = False,
) -> Image.Image:
    """Bytes -> RGB/RGBA PIL image, fully loaded; any failure is a ConversionError naming `label`.

    color: convert an embedded ICC profile to sRGB (colour maps, paintings). Data maps (normal,
    metallic-roughness, occlusion) keep their numbers as stored.
    exif_orientation: rotate as the camera's EXIF tag says (photographs of paintings). Texture maps
    of models keep the stored pixel grid, because their UVs were authored against it.
    """
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
            img.load()
            if exif_orientation:
                img = ImageOps.exif_transpose(img)
            return _to_srgb_rgb(img, color)
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


def _claimed_size(data: bytes) -> str:
    """The size an image header claims, read with Pillow's guard off (header only, no pixels)."""
    with _PILLOW_LIMIT_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
            return f"{width}x{height}"
        except Exception:  # only for the message; the refusal stands regardless
            return "too many"
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _profile_to_srgb(img: Image.Image, profile: ImageCms.ImageCmsProfile) -> Image.Image:
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
        img = _profile_to_srgb(img.convert("RGB"), profile)
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
        arr = np.asarray(img)
        if mode == "F":
            scaled = np.clip(arr, 0.0, 1.0) * 255.0
        else:
            top = 65535.0 if arr.max(initial=0) > 255 else 255.0
            scaled = np.clip(arr.astype(np.float64) / top * 255.0, 0, 255)
        return Image.fromarray(scaled.astype(np.uint8), "L").convert("RGB")
    has_alpha = mode in ("LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in img.info)
    return img.convert("RGBA" if has_alpha else "RGB")
