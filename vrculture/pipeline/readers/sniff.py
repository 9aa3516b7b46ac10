"""Tell a file's real format from its first bytes, not from its name (names lie)."""

from __future__ import annotations

import re
from pathlib import Path

SNIFF_BYTES = 64 * 1024

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"}

_OBJ_LINE = re.compile(rb"^[ \t]*(v|vt|vn|f|o|g|mtllib|usemtl|s)[ \t]", re.MULTILINE)
_OFF_KEYWORD = re.compile(rb"^(ST)?C?N?4?n?OFF\b")
_STL_FACET = re.compile(rb"\bfacet\b|\bendsolid\b", re.IGNORECASE)


def sniff(head: bytes, size: int) -> str:
    """Format name for a file whose first bytes are `head` and whose length is `size`.

    Returns one of: "empty", "glb", "ply", "stl", "obj", "off", "gltf", "image:<kind>", "fbx",
    "dae", "draco", "zip", "text" (unknown text), "binary" (unknown binary).
    """
    if size == 0:
        return "empty"
    if head.startswith(b"glTF"):
        return "glb"
    if head.startswith((b"ply\n", b"ply\r\n", b"ply\r")):
        return "ply"
    image = _image_kind(head)
    if image:
        return f"image:{image}"
    if head.startswith(b"Kaydara FBX Binary"):
        return "fbx"
    if head.startswith(b"DRACO"):
        return "draco"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    # Binary STL has an arbitrary 80-byte header (often starting "solid"!), so its exact length
    # 84 + 50 * count is the reliable test, and it comes before the text checks.
    if size >= 84 and len(head) >= 84:
        count = int.from_bytes(head[80:84], "little")
        if size == 84 + 50 * count and count > 0:
            return "stl"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"\x00" in head[:4096]:
        return "binary"
    if text.startswith(b"{"):
        return "gltf"
    if text[:5].lower() == b"solid" and _STL_FACET.search(head):
        return "stl"
    if _OFF_KEYWORD.match(text):
        return "off"
    if text.startswith(b"; FBX") or b"FBXHeaderExtension" in head[:4096]:
        return "fbx"
    if b"<COLLADA" in head[:4096]:
        return "dae"
    if _OBJ_LINE.search(head):
        return "obj"
    if text[:5].lower() == b"solid":
        return "stl"  # an ASCII STL with no facets: the STL reader reports "zero triangles"
    return "text"


def looks_like_obj(data: bytes) -> bool:
    return _OBJ_LINE.search(data) is not None


def _image_kind(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"BM") and int.from_bytes(head[14:18], "little") in (
        12,
        40,
        52,
        56,
        108,
        124,
    ):
        return "bmp"
    if head[4:12] in (b"ftypavif", b"ftypheic", b"ftypmif1"):
        return "heif"
    return None


def read_head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(SNIFF_BYTES)
