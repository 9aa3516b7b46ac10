"""File names from a curator's browser: checked, normalised, and sorted into what they are.

A name arrives in tus metadata (a file's name, or its path inside a dropped folder) or inside
a zip. It becomes a path under the exhibition's `sources/` only if every part is a plain name:
no absolute paths, no '..', no hidden names, no backslashes or control characters; unicode is
normalised to NFC so that a name typed on a Mac (NFD) and on Windows is the same file.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

from vrculture.pipeline.readers.sniff import IMAGE_EXTENSIONS

MODEL_EXTENSIONS = frozenset({".obj", ".ply", ".stl", ".off", ".gltf", ".glb", ".fbx", ".dae"})
SUPPORT_EXTENSIONS = frozenset({".mtl", ".bin"})  # an OBJ's materials, a glTF's buffers
ARCHIVE_EXTENSIONS = frozenset({".zip"})
ACCEPTED_EXTENSIONS = (MODEL_EXTENSIONS | SUPPORT_EXTENSIONS | frozenset(IMAGE_EXTENSIONS)
                       | ARCHIVE_EXTENSIONS)
MAX_PART_CHARS = 200
MAX_PART_BYTES = 255  # NAME_MAX of Linux file systems: 200 characters of "é" are 400 bytes
# Controls, formats (bidi, zero-width), and line and paragraph separators
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
MAX_DEPTH = 8
ACCEPTED_WORDS = ("3D scans (OBJ with its MTL and textures, PLY, STL, OFF, glTF or GLB), "
                  "images of paintings (JPEG, PNG, WebP, TIFF), or a zip of them")
_ID_CHARS = re.compile(r"[^a-z0-9_-]+")


class RefusedName(ValueError):
    """A name the studio refuses; the message is for the curator."""


def safe_relative(name: str) -> PurePosixPath:
    """`name` as a normalised relative path, or RefusedName saying what is wrong with it."""
    name = unicodedata.normalize("NFC", name)
    if not name or len(name) > MAX_DEPTH * (MAX_PART_CHARS + 1):
        raise RefusedName("the file has no name, or a name that is far too long")
    if "\\" in name or any(unicodedata.category(c) in _REFUSED_CATEGORIES for c in name):
        raise RefusedName(f"{name!r}: backslashes and control characters are not allowed in "
                         "file names")
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        raise RefusedName(f"{name!r}: give a name relative to the dropped folder, not an "
                         "absolute path")
    parts = [part for part in name.split("/") if part]
    if not parts or len(parts) > MAX_DEPTH:
        raise RefusedName(f"{name!r}: folders may be at most {MAX_DEPTH} deep")
    for part in parts:
        if part in (".", "..") or part.startswith("."):
            raise RefusedName(f"{name!r}: '..' and hidden names (starting with '.') are not "
                             "allowed")
        if len(part) > MAX_PART_CHARS or part != part.strip():
            raise RefusedName(f"{name!r}: each part of a name must be at most "
                             f"{MAX_PART_CHARS} characters, without spaces at either end")
        if len(part.encode("utf-8")) > MAX_PART_BYTES:
            raise RefusedName(f"{name!r}: each part of a name must be at most "
                             f"{MAX_PART_BYTES} bytes in UTF-8 (fewer characters outside "
                             "ASCII); shorten it")
    return PurePosixPath(*parts)


def check_accepted(path: PurePosixPath) -> None:
    if path.suffix.lower() not in ACCEPTED_EXTENSIONS:
        raise RefusedName(f"{path.name}: the studio cannot use this kind of file; send "
                         f"{ACCEPTED_WORDS}")


def is_model(path: PurePosixPath) -> bool:
    return path.suffix.lower() in MODEL_EXTENSIONS


def is_image(path: PurePosixPath) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def is_archive(path: PurePosixPath) -> bool:
    return path.suffix.lower() in ARCHIVE_EXTENSIONS


def object_id_for(path: PurePosixPath, taken: set[str]) -> str:
    """A collection id (a-z, 0-9, '-', '_') made from the file's name, not in `taken`."""
    ascii_stem = (unicodedata.normalize("NFKD", path.stem).encode("ascii", "ignore")
                  .decode().lower())
    base = _ID_CHARS.sub("-", ascii_stem).strip("-_")[:56] or "object"
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate
