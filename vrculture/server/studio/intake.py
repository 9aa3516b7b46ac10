"""Which of the files that landed in `sources/` are objects to convert.

A 3D file is an object. An image is a painting unless it is a texture: referenced by a model
that arrived with it (its MTL, a glTF's images) or named in an MTL or glTF beside it. Files
dropped together (a folder, a zip, or several files at once) are judged together, so an OBJ's
texture that arrives before the OBJ is not taken for a painting.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from vrculture.exhibition.sources import referenced_files
from vrculture.server.studio.names import is_image, is_model, object_id_for

MAX_SIBLING_SCAN_BYTES = 4 << 20  # an MTL or a .gltf beside an image: small text files


def _named_beside(image: Path) -> bool:
    """Whether an MTL or glTF in the image's folder mentions it by name."""
    for sibling in image.parent.iterdir():
        if sibling.suffix.lower() not in (".mtl", ".gltf") or not sibling.is_file():
            continue
        try:
            with sibling.open("rb") as handle:
                text = handle.read(MAX_SIBLING_SCAN_BYTES).decode("utf-8", "replace")
        except OSError:
            continue
        if image.name in text:
            return True
    return False


def objects_among(files: list[PurePosixPath], collection_root: Path,
                  taken_ids: set[str]) -> list[tuple[str, PurePosixPath]]:
    """(object id, source relative to the collection folder) for the objects among `files`
    (relative to the collection folder). Blocking: it reads the models' references."""
    root = collection_root.resolve()
    models = [f for f in files if is_model(f)]
    textures: set[Path] = set()
    for model in models:
        textures.update(referenced_files(root / model, root))
    found: list[tuple[str, PurePosixPath]] = []
    taken = set(taken_ids)
    for file in files:
        path = root / file
        if not is_model(file) and (not is_image(file) or path.resolve() in textures
                                   or _named_beside(path)):
            continue
        object_id = object_id_for(file, taken)
        taken.add(object_id)
        found.append((object_id, file))
    return found
