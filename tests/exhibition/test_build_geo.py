"""A georeferenced scan's place (offset and CRS) reaches the manifest as the object's `geo`
record, which the schema describes and the server accepts; other objects have none."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import numpy as np
import trimesh
from build_helpers import SCHEMA, load_json, run_build, write_shape

import vrculture.server.app  # noqa: F401  (registry alone is a circular import)
from vrculture.server.registry import load_bundle

CENTRE = np.array([674032.437, 6580119.281, 31.113])  # SWEREF 99 TM
RADIUS = 0.25

TOML = """\
[exhibition]
id = "geo"
languages = ["sv", "en"]
title = { sv = "Runstenar", en = "Runestones" }

[[objects]]
id = "runsten"
source = "src/runsten.obj"
title = { sv = "Runsten", en = "Runestone" }
rights = "CC0-1.0"
up = "+Z"

[[objects]]
id = "klot"
source = "src/klot.obj"
title = { sv = "Klot", en = "Sphere" }
rights = "CC0-1.0"
height_m = 0.3
"""


def _georeferenced_obj(path: Path) -> None:
    mesh = trimesh.creation.icosphere(subdivisions=3, radius=RADIUS)
    lines = ["# Coordinate system: SWEREF99 TM (EPSG:3006)"]
    lines += [f"v {x!r} {y!r} {z!r}" for x, y, z in (mesh.vertices + CENTRE).tolist()]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in mesh.faces]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def test_the_manifest_carries_the_geo_record_and_the_server_accepts_it(tmp_path):
    folder = tmp_path / "collection"
    _georeferenced_obj(folder / "src" / "runsten.obj")
    write_shape(folder / "src" / "klot.obj", "sphere", 2)
    (folder / "collection.toml").write_text(TOML, "utf-8")
    bundle = tmp_path / "geo"
    assert run_build(folder, "-o", bundle, "--quiet", "--jobs", "1") == 0

    manifest = load_json(bundle / "exhibition.json")
    jsonschema.Draft202012Validator(load_json(SCHEMA)).validate(manifest)
    assert load_bundle(bundle).manifest == manifest  # the server's own check
    objects = {o["id"]: o for o in manifest["objects"]}
    assert "geo" not in objects["klot"]
    geo = objects["runsten"]["geo"]
    assert geo["crs"] == "EPSG:3006" and geo["up_axis"] == "+Z"
    bottom = CENTRE - [0.0, 0.0, RADIUS]  # the object's origin is the centre of its base
    assert np.abs(np.asarray(geo["offset"]) - bottom).max() < 0.001
    assert manifest["schema_version"] == 1  # an optional field: old bundles stay valid
