"""An image of a 2D work -> a framed panel at its real size (metres, +Y up, picture facing +Z).

Height comes from the curator (`painting_height_m`), else from the image's DPI if that is
plausible (not a software default like 72/96 dpi, and giving a real-world size between 5 cm and
6 m), else DEFAULT_HEIGHT_M. EXIF orientation is applied and an embedded ICC profile converted to
sRGB, so the pixels on the panel look as the photographer saw them.

Geometry: a textured front quad (the picture), a thin wooden frame of four boxes around it, and a
back board; base at y = 0, centred on x, back at z = 0 (the build hangs it on walls).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vrculture.pipeline.model import Material, Model, Node, Primitive, Texture
from vrculture.pipeline.readers.common import SourceBudget
from vrculture.pipeline.readers.images import decode_image, image_header

DEFAULT_HEIGHT_M = 0.8
SOFTWARE_DEFAULT_DPI = {1, 72, 96}  # writer defaults that say nothing about the real size
PLAUSIBLE_HEIGHT_M = (0.05, 6.0)
FRAME_DEPTH_M = 0.035
PICTURE_INSET_M = 0.01  # the picture sits this far behind the frame's front face
WOOD = Material(
    name="frame_wood",
    base_color_factor=(0.30, 0.17, 0.08, 1.0),  # linear; a warm mid-brown walnut
    metallic_factor=0.0,
    roughness_factor=0.55,
)


def read_painting(
    source: Path, data: bytes, budget: SourceBudget, height_m: float | None
) -> Model:
    image = decode_image(source, data, source.name, budget, color=True, exif_orientation=True)
    # The file's own size, upright: a large JPEG is decoded reduced (images._reduce_jpeg), but
    # its DPI, aspect and extent are those of the file.
    width_px, height_px = _upright_size(data) or image.size
    model = Model()
    if height_m is None:
        height_m, note = _height_from_metadata(data, height_px)
        model.warnings.append(note)
    width_m = height_m * width_px / height_px
    frame = float(np.clip(0.04 * max(width_m, height_m), 0.015, 0.08))

    picture = Material(
        name="picture",
        base_color_texture=Texture(image=image, name=source.stem),
        metallic_factor=0.0,
        roughness_factor=0.9,
        # Unlit: the picture shows the file's colours whatever the gallery's light (a museum
        # lights a painting evenly and neutrally for exactly this); the frame stays lit.
        unlit=True,
    )
    model.materials = [picture, _wood()]
    # The picture's bottom edge sits on the frame's bottom bar; the frame's base is at y = 0.
    x0, x1 = -width_m / 2, width_m / 2
    y0, y1 = frame, frame + height_m
    z_picture = FRAME_DEPTH_M - PICTURE_INSET_M
    model.nodes.append(Node(name="picture", primitives=[_picture_quad(x0, x1, y0, y1, z_picture)]))
    model.nodes.append(Node(name="frame", primitives=[_frame(x0, x1, y0, y1, frame)]))
    model.roots = [0, 1]
    model.metadata["extent_px"] = f"{width_px}x{height_px}"
    return model


def _wood() -> Material:
    return Material(
        name=WOOD.name,
        base_color_factor=WOOD.base_color_factor,
        metallic_factor=WOOD.metallic_factor,
        roughness_factor=WOOD.roughness_factor,
    )


def _height_from_metadata(data: bytes, height_px: int) -> tuple[float, str]:
    """Real height in metres from the DPI tag if plausible, with a note saying which was used.

    A camera's DPI tag is meaningless (it is whatever the firmware writes, often 300), so a
    photograph (EXIF exposure/aperture/focal length present) never sizes the panel; a scan's
    DPI does."""
    dpi, from_camera = _vertical_dpi(data)
    if dpi is not None and not from_camera and round(dpi) not in SOFTWARE_DEFAULT_DPI:
        height = height_px / dpi * 0.0254
        if PLAUSIBLE_HEIGHT_M[0] <= height <= PLAUSIBLE_HEIGHT_M[1]:
            return height, f"painting height {height:.3f} m from the image's {dpi:g} dpi"
    reason = "a camera photograph's DPI says nothing of size" if from_camera else "no plausible DPI"
    return DEFAULT_HEIGHT_M, (
        f"painting height unknown ({reason}); used {DEFAULT_HEIGHT_M} m, "
        "give the real height with --height-m"
    )


def _upright_size(data: bytes) -> tuple[int, int] | None:
    """The size the file's header states, turned as its EXIF orientation says (header only)."""
    try:
        with image_header(data) as img:
            width, height = img.size
            turned = img.getexif().get(0x0112) in (5, 6, 7, 8)
    except Exception:
        return None
    return (height, width) if turned else (width, height)


_CAMERA_TAGS = (0x829A, 0x829D, 0x920A)  # ExposureTime, FNumber, FocalLength (Exif IFD)


def _vertical_dpi(data: bytes) -> tuple[float | None, bool]:
    """(DPI along the upright image's height, whether a camera took it); metadata is optional,
    so any problem reading it just means "unknown"."""
    try:
        with image_header(data) as img:
            dpi = img.info.get("dpi")
            exif = img.getexif()
            camera = any(tag in exif.get_ifd(0x8769) for tag in _CAMERA_TAGS)
            turned = exif.get(0x0112) in (5, 6, 7, 8)  # EXIF orientation swaps the axes
    except Exception:
        return None, False
    if dpi is None:
        return None, camera
    try:
        value = float(dpi[0] if turned else dpi[1])
    except (TypeError, ValueError, IndexError):
        return None, camera
    return (value if np.isfinite(value) and value > 0 else None), camera


def _picture_quad(x0: float, x1: float, y0: float, y1: float, z: float) -> Primitive:
    positions = np.array([[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]], np.float32)
    # glTF UV origin is the image's top-left: the top edge of the panel gets v = 0.
    uvs = np.array([[0, 1], [1, 1], [1, 0], [0, 0]], np.float32)
    normals = np.tile(np.array([0, 0, 1], np.float32), (4, 1))
    indices = np.array([[0, 1, 2], [0, 2, 3]], np.uint32)
    return Primitive(positions=positions, indices=indices, normals=normals, uvs=uvs, material=0)


def _frame(x0: float, x1: float, y0: float, y1: float, bar: float) -> Primitive:
    """Four bars around the picture plus a thin back board, as flat-shaded boxes."""
    d = FRAME_DEPTH_M
    boxes = [
        (x0 - bar, x1 + bar, y0 - bar, y0, 0.0, d),  # bottom (its base is y = 0)
        (x0 - bar, x1 + bar, y1, y1 + bar, 0.0, d),  # top
        (x0 - bar, x0, y0, y1, 0.0, d),  # left
        (x1, x1 + bar, y0, y1, 0.0, d),  # right
        (x0, x1, y0, y1, 0.0, 0.004),  # back board behind the picture
    ]
    parts = [_box(*b) for b in boxes]
    positions = np.concatenate([p for p, _, _ in parts])
    normals = np.concatenate([n for _, n, _ in parts])
    indices = np.concatenate([i + 24 * k for k, (_, _, i) in enumerate(parts)])
    return Primitive(
        positions=positions.astype(np.float32),
        indices=indices.astype(np.uint32),
        normals=normals.astype(np.float32),
        material=1,
    )


def _box(
    xa: float, xb: float, ya: float, yb: float, za: float, zb: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Axis-aligned box with 4 vertices per face (hard edges), counter-clockwise from outside."""
    faces = [
        ((1, 0, 0), [(xb, ya, zb), (xb, ya, za), (xb, yb, za), (xb, yb, zb)]),
        ((-1, 0, 0), [(xa, ya, za), (xa, ya, zb), (xa, yb, zb), (xa, yb, za)]),
        ((0, 1, 0), [(xa, yb, zb), (xb, yb, zb), (xb, yb, za), (xa, yb, za)]),
        ((0, -1, 0), [(xa, ya, za), (xb, ya, za), (xb, ya, zb), (xa, ya, zb)]),
        ((0, 0, 1), [(xa, ya, zb), (xb, ya, zb), (xb, yb, zb), (xa, yb, zb)]),
        ((0, 0, -1), [(xb, ya, za), (xa, ya, za), (xa, yb, za), (xb, yb, za)]),
    ]
    positions = np.array([corner for _, quad in faces for corner in quad], np.float64)
    normals = np.repeat(np.array([n for n, _ in faces], np.float64), 4, axis=0)
    quad = np.array([[0, 1, 2], [0, 2, 3]])
    indices = np.concatenate([quad + 4 * f for f in range(6)])
    return positions, normals, indices
