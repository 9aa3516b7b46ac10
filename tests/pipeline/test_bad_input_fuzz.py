"""Seeded mutation fuzzing: damaged files must give a specific ConversionError, never anything else.

`read_source` wraps any unexpected exception as "unreadable (SomeError: ...)" so that a reader
bug is still one line for the curator; these tests demand that no mutated file needs that
safety net (nor the glTF reader's "malformed glTF JSON (...)" one), and that no numpy warning
leaks out. Seeds are fixed, so a failure is reproducible.
"""

from __future__ import annotations

import copy
import json
import random
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from readers_fixtures import (
    TRIANGLE,
    data_uri,
    glb,
    gltf_document,
    meshopt_glb,
    obj_text,
    off_text,
    ply_ascii,
    ply_binary,
    png_bytes,
    stl_ascii,
    stl_binary,
)

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.readers import ReadLimits, read_source

SAFETY_NETS = ("unreadable (", "malformed glTF JSON (")
LIMITS = ReadLimits(max_vertices=100_000, max_triangles=100_000, max_image_pixels=1 << 20)


def _seed_files() -> dict[str, bytes]:
    doc, data = gltf_document()
    embedded = {**doc, "buffers": [{"byteLength": len(data), "uri": data_uri(data)}]}
    return {
        "a.obj": obj_text(
            "vt 0 0\nvt 1 0\nvt 1 1\nvn 0 0 1\nf 1/1/1 2/2/1 3/3/1\nf 1/1/1 3/3/1 4/1/1\n"
        ).encode(),
        "b.ply": ply_binary(colors=np.array([[1, 2, 3]] * 4)),
        "c.ply": ply_ascii(),
        "d.stl": stl_binary(np.stack([TRIANGLE] * 3)),
        "e.stl": stl_ascii(np.stack([TRIANGLE] * 2)),
        "f.glb": glb(doc, data),
        "g.gltf": json.dumps(embedded).encode(),
        "h.png": png_bytes(Image.new("RGB", (8, 8))),
        "i.glb": meshopt_glb(),
        "j.off": off_text(faces="4 0 1 2 3\n3 0 2 3 255 0 0\n", keyword="OFF").encode(),
    }


def _mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 5)):
        if not b:
            break
        pos = rng.randrange(len(b))
        op = rng.randrange(4)
        if op == 0:
            b[pos] = rng.randrange(256)
        elif op == 1:
            del b[pos : pos + rng.randint(1, 20)]
        elif op == 2:
            b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        else:
            b[pos] = ord(rng.choice("0123456789-.e /#\n"))
    return bytes(b)


def _read_expecting_clean_outcome(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a leaked numpy/Pillow warning is a bug too
        try:
            read_source(path, limits=LIMITS)
        except ConversionError as err:
            message = str(err)
            assert str(path) in message
            assert not any(net in message for net in SAFETY_NETS), message


@pytest.mark.parametrize("name", sorted(_seed_files()))
def test_byte_mutations(tmp_path: Path, name: str) -> None:
    seed = _seed_files()[name]
    rng = random.Random(f"bytes-{name}")
    for i in range(150):
        path = tmp_path / f"{i}{Path(name).suffix}"
        path.write_bytes(_mutate(seed, rng))
        _read_expecting_clean_outcome(path)


_VALUES = [None, -1, 0, 1, 2, 3.5, 10**12, -(10**12), "x", "", [], {}, [1, 2], {"a": 1}, True,
           1e308]  # fmt: skip


def _json_paths(value: object, path: tuple = ()) -> list[tuple]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _json_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _json_paths(item, (*path, index))
    return found


def test_gltf_json_field_mutations(tmp_path: Path) -> None:
    """Every field of a textured glTF replaced by values of the wrong type, range or size."""
    doc, data = gltf_document()
    doc["images"] = [{"uri": data_uri(png_bytes(Image.new("RGB", (4, 4))), "image/png")}]
    doc["textures"] = [{"source": 0, "sampler": 0}]
    doc["samplers"] = [{}]
    doc["materials"] = [
        {
            "pbrMetallicRoughness": {"baseColorTexture": {"index": 0}, "metallicFactor": 0.5},
            "emissiveFactor": [0, 0, 0],
            "alphaMode": "MASK",
        }
    ]
    doc["meshes"][0]["primitives"][0]["material"] = 0
    doc["nodes"][0]["translation"] = [0, 0, 0]
    paths = _json_paths(doc)
    rng = random.Random("gltf-json")
    for i in range(600):
        mutated = copy.deepcopy(doc)
        for _ in range(rng.randint(1, 3)):
            path = rng.choice(paths)
            parent = mutated
            try:
                for key in path[:-1]:
                    parent = parent[key]
                if rng.random() < 0.2 and isinstance(parent, dict):
                    parent.pop(path[-1], None)
                else:
                    parent[path[-1]] = copy.deepcopy(rng.choice(_VALUES))
            except (KeyError, IndexError, TypeError):
                continue  # an earlier mutation removed this path
        target = tmp_path / f"{i}.glb"
        target.write_bytes(glb(mutated, data))
        _read_expecting_clean_outcome(target)
