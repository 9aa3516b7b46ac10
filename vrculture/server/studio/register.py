"""New objects entered in the studio collection's `collection.toml`.

The studio's editor (a separate module) owns the rest of the file; this only appends a minimal
`[[objects]]` entry for a converted upload so that `vrculture build` and the editor see it:
its id, its source, its file name as a provisional title, and the most careful rights
statement ("InC", in copyright) until the curator sets the real one. Appending keeps the
curator's comments and order untouched; the file is replaced atomically.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path, PurePosixPath

from vrculture.pipeline.atomic import write_atomic

COLLECTION_TOML = "collection.toml"
PROVISIONAL_RIGHTS = "InC"


def _toml_string(text: str) -> str:
    # A JSON string is a TOML basic string (both escape quotes, backslashes and controls).
    return json.dumps(text, ensure_ascii=False)


def object_ids(collection_root: Path) -> set[str]:
    """The ids of the objects already in collection.toml (none when it is missing/unreadable)."""
    try:
        document = tomllib.loads((collection_root / COLLECTION_TOML).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return set()
    objects = document.get("objects", [])
    if not isinstance(objects, list):
        return set()
    return {str(item["id"]) for item in objects if isinstance(item, dict) and "id" in item}


def register_object(collection_root: Path, object_id: str, source: PurePosixPath) -> bool:
    """Append an entry for `object_id` (source `sources/...`) to collection.toml when the file
    exists and does not list the id yet. Returns whether it was added. Blocking."""
    path = collection_root / COLLECTION_TOML
    if not path.is_file() or object_id in object_ids(collection_root):
        return False
    text = path.read_text("utf-8")
    entry = (f"\n[[objects]]\nid = {_toml_string(object_id)}\n"
             f"source = {_toml_string(source.as_posix())}\n"
             f"title = {_toml_string(source.stem)}\n"
             f"rights = {_toml_string(PROVISIONAL_RIGHTS)}  # provisional: set the real rights\n")
    write_atomic(path, (text.rstrip("\n") + "\n" + entry).encode("utf-8"))
    return True
