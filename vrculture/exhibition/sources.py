"""The files a source pulls in (OBJ's MTL and textures, glTF's buffers and images), so that the
cache key changes when any of them changes, not only the main file."""

from __future__ import annotations

import json
import re
from pathlib import Path

_MTLLIB = re.compile(r"^\s*mtllib\s+(.+?)\s*$", re.MULTILINE)
_MAP = re.compile(r"^\s*(?:map_\w+|bump|disp|decal|norm)\s+(.+?)\s*$", re.MULTILINE)
MAX_SCAN_BYTES = 64 * 1024 * 1024  # an OBJ larger than this is scanned only in its first part


def _inside(root: Path, base: Path, name: str) -> Path | None:
    # MTL map lines may carry options before the file name (-s 1 1 1 file.png): take the last
    # word; names with spaces are rare in exports and still read as whole when they exist.
    for candidate_name in (name, name.split()[-1] if name.split() else name):
        candidate = (base / candidate_name.replace("\\", "/")).resolve()
        if candidate.is_file() and root in candidate.parents:
            return candidate
    return None


def referenced_files(source: Path, root: Path) -> list[Path]:
    """Files inside `root` that `source` refers to, sorted, without the source itself."""
    root = root.resolve()
    found: set[Path] = set()
    suffix = source.suffix.lower()
    try:
        if suffix == ".obj":
            with source.open("rb") as handle:
                head = handle.read(MAX_SCAN_BYTES).decode("utf-8", "replace")
            for lib in _MTLLIB.findall(head):
                mtl = _inside(root, source.parent, lib)
                if mtl is None:
                    continue
                found.add(mtl)
                for texture in _MAP.findall(mtl.read_text("utf-8", "replace")):
                    path = _inside(root, mtl.parent, texture)
                    if path:
                        found.add(path)
        elif suffix == ".gltf":
            doc = json.loads(source.read_text("utf-8"))
            for item in list(doc.get("buffers", [])) + list(doc.get("images", [])):
                uri = item.get("uri") if isinstance(item, dict) else None
                if isinstance(uri, str) and not uri.startswith("data:"):
                    path = _inside(root, source.parent, uri)
                    if path:
                        found.add(path)
    except (OSError, ValueError, AttributeError, TypeError):
        pass  # unreadable: the converter will report the problem itself
    found.discard(source.resolve())
    return sorted(found)
