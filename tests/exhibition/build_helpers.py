"""Helpers for the build tests: running the CLI, reading GLB JSON, writing small sources."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

from vrculture.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "assets" / "demo"
SCHEMA = ROOT / "vrculture" / "schemas" / "exhibition.schema.json"


def run_build(*args: str | Path) -> int:
    """`vrculture build ...` in this process (the real CLI entry point)."""
    return main(["build", *map(str, args)])


def load_json(path: Path) -> dict:
    return json.loads(path.read_text("utf-8"))


def glb_json(path: Path) -> dict:
    """The JSON chunk of a GLB file."""
    data = path.read_bytes()
    magic, _, _ = struct.unpack_from("<III", data, 0)
    assert magic == 0x46546C67
    length, kind = struct.unpack_from("<II", data, 12)
    assert kind == 0x4E4F534A
    return json.loads(data[20:20 + length])


def write_shape(path: Path, kind: str = "sphere", subdivisions: int = 3, scale: float = 1.0,
                seed: int = 0) -> Path:
    """A small mesh file (OBJ/PLY/STL by suffix), in the given units; shapes differ by kind."""
    if kind == "sphere":
        mesh = trimesh.creation.icosphere(subdivisions=subdivisions)
    elif kind == "torus":
        mesh = trimesh.creation.torus(0.6, 0.25, major_sections=48, minor_sections=24)
    elif kind == "cone":
        mesh = trimesh.creation.cone(0.5, 1.2, sections=64)
    else:
        mesh = trimesh.creation.box((0.6, 1.0, 0.4))
    rng = np.random.default_rng(seed)
    mesh.vertices = mesh.vertices * scale * (1 + 0.02 * rng.random(mesh.vertices.shape))
    path.parent.mkdir(parents=True, exist_ok=True)
    mesh.export(path)
    return path


def write_painting(path: Path, size: tuple[int, int] = (300, 200), seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    pixels = (rng.random((size[1] // 10, size[0] // 10, 3)) * 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).resize(size, Image.Resampling.BICUBIC).save(path, quality=85)
    return path


SMALL_TOML = """\
[exhibition]
id = "small"
default_language = "sv"
languages = ["sv", "en"]
title = {{ sv = "Liten", en = "Small" }}

[[objects]]
id = "klot"
source = "src/klot.obj"
title = {{ sv = "Klot", en = "Sphere" }}
rights = "CC0-1.0"
height_m = 0.3

[[objects]]
id = "ring"
source = "src/ring.ply"
title = {{ sv = "Ring", en = "Ring" }}
rights = "{ring_rights}"
units = "cm"
up = "+Y"

[[objects]]
id = "tavla"
source = "src/tavla.jpg"
title = {{ sv = "Tavla", en = "Painting" }}
rights = "CC-BY-4.0"
height_m = 0.5
"""


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


# Corpus files as a museum would catalogue them: (id, files to copy, source, rights, extra TOML).
CORPUS_OBJECTS = [
    ("spot", ["spot/spot.obj", "spot/spot.mtl", "spot/spot_texture.png"], "spot/spot.obj",
     "CC0-1.0", "height_m = 0.4"),
    ("laurana", ["laurana.ply"], "laurana.ply", "CNE", "height_m = 0.5"),
    ("gargoyle", ["gargoyle.ply"], "gargoyle.ply", "CNE", "height_m = 0.45"),
    ("mask", ["mask_gltf/mask.gltf", "mask_gltf/mask-gltf-2.0-binary-valid.bin",
              "mask_gltf/Image_0.jpg"], "mask_gltf/mask.gltf", "CC-BY-SA-4.0", ""),
    ("usnm-1145291", ["USNM_1145291_draco.glb"], "USNM_1145291_draco.glb", "CC0-1.0", ""),
    ("helmet", ["DamagedHelmet.glb"], "DamagedHelmet.glb", "CC-BY-4.0", "height_m = 0.35"),
    ("igea", ["igea.ply"], "igea.ply", "UND", "height_m = 0.5"),
    ("cockatoo", ["cockatoo_photo.jpg"], "cockatoo_photo.jpg", "CC-BY-SA-4.0", "height_m = 0.6"),
    ("nefertiti", ["nefertiti.obj"], "nefertiti.obj", "InC", "height_m = 0.5"),
    ("bunny", ["stanford-bunny.obj"], "stanford-bunny.obj", "CNE", "height_m = 0.3"),
    ("horse", ["horse.ply"], "horse.ply", "CNE", "height_m = 0.4"),
    ("beast", ["beast.obj"], "beast.obj", "CNE", "height_m = 0.6"),
    ("ogre", ["ogre.obj"], "ogre.obj", "CNE", "height_m = 0.6"),
    ("box-textured", ["BoxTextured.glb"], "BoxTextured.glb", "CC-BY-4.0", "height_m = 0.2"),
    ("igea-stl", ["derived/igea_from_tristrips.stl"], "derived/igea_from_tristrips.stl", "UND",
     "height_m = 0.5"),
    ("frieze", ["parthenon_frieze_texture.jpg"], "parthenon_frieze_texture.jpg",
     "CC-BY-NC-SA-4.0", "height_m = 1.0"),
]


def make_corpus_collection(corpus: Path, dest: Path, ids: list[str] | None = None) -> Path:
    """A collection folder holding copies of corpus files (never links out of the folder)."""
    chosen = [o for o in CORPUS_OBJECTS if ids is None or o[0] in ids]
    lines = ['[exhibition]', 'id = "corpus"', 'languages = ["sv", "en"]',
             'title = { sv = "Testsamlingen", en = "The test corpus" }', '']
    for oid, files, source, rights, extra in chosen:
        for name in files:
            target = dest / "sources" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(corpus / name, target)  # copyfile: not the read-only mode
        lines += ["[[objects]]", f'id = "{oid}"', f'source = "sources/{source}"',
                  f'title = {{ sv = "{oid}", en = "{oid}" }}', f'rights = "{rights}"', extra, ""]
    (dest / "collection.toml").write_text("\n".join(lines), "utf-8")
    return dest
