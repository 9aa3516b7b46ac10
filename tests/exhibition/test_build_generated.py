"""Generated models: the architecture lines up with the layout; every smart-exhibit kind
(a gauge included) converts into a valid GLB with its animated nodes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
from build_helpers import glb_json, load_json, run_build, write_shape
from gltf_validator import assert_valid

from vrculture.exhibition.bundle import report_path
from vrculture.exhibition.layout import WALL_T


def _world_bounds(doc: dict, node_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of a named part: its quantised positions through the geometry node's transform."""
    parent = next(n for n in doc["nodes"] if n.get("name") == node_name)
    (child,) = parent["children"]
    node = doc["nodes"][child]
    accessor = doc["accessors"][doc["meshes"][node["mesh"]]["primitives"][0]["attributes"][
        "POSITION"]]
    scale = {5123: 65535.0, 5122: 32767.0, 5121: 255.0, 5120: 127.0,
             5126: 1.0}[accessor["componentType"]]
    if not accessor.get("normalized"):
        scale = 1.0
    lo = np.array(accessor["min"]) / scale * np.array(node.get("scale", [1, 1, 1]))
    hi = np.array(accessor["max"]) / scale * np.array(node.get("scale", [1, 1, 1]))
    offset = np.array(node.get("translation", [0, 0, 0]))
    return lo + offset, hi + offset


def test_architecture_matches_the_rooms(demo_bundle: Path) -> None:
    manifest = load_json(demo_bundle / "exhibition.json")
    doc = glb_json(demo_bundle / manifest["architecture"]["url"])
    lo, hi = _world_bounds(doc, "walls")
    rooms = manifest["rooms"]
    widest = max(r["bounds"][2] - r["bounds"][0] for r in rooms)
    assert hi[0] - lo[0] >= widest + 2 * WALL_T - 0.01
    assert lo[2] <= min(r["bounds"][1] for r in rooms) + 1e-3
    assert hi[2] >= max(r["bounds"][3] for r in rooms) - 1e-3
    floor_lo, floor_hi = _world_bounds(doc, "floor_gallery")
    assert abs(floor_hi[1]) < 0.002  # floors' top at y = 0, where placements stand
    plinth_lo, plinth_hi = _world_bounds(doc, "plinths")
    tops = [o["placement"]["plinth_height"] for o in manifest["objects"]
            if o["placement"]["mount"] == "plinth"]
    assert abs(plinth_hi[1] - max(tops)) < 0.01
    assert {"light_panels", "ceiling"} <= {n.get("name") for n in doc["nodes"]}
    emissive = [m for m in doc["materials"] if max(m.get("emissiveFactor", [0, 0, 0])) > 0.5]
    assert emissive, "ceiling lights are emissive panels"


def test_every_smart_exhibit_kind(tmp_path: Path) -> None:
    folder = tmp_path / "smart"
    write_shape(folder / "a.obj")
    (folder / "collection.toml").write_text(textwrap.dedent("""\
        [[objects]]
        id = "a"
        source = "a.obj"
        title = "A"
        rights = "CC0-1.0"

        [[smart_exhibits]]
        id = "luft"
        kind = "gauge"
        title = { sv = "Luftkvalitet", en = "Air quality" }
        goal = "democratic"
        feeds = ["pm25-torget"]
        gauge = { unit = "µg/m³", min = 0, max = 50 }

        [[smart_exhibits]]
        id = "lampor"
        kind = "street-lighting"
        title = "Lampor"
        goal = "climate"
        feeds = ["lamp-1", "lamp-2", "lamp-3"]

        [[smart_exhibits]]
        id = "tunnor"
        kind = "smart-bin"
        title = "Tunnor"
        goal = "economic"
        feeds = ["bin-1", "bin-2", "bin-3"]

        [[smart_exhibits]]
        id = "skola"
        kind = "eye-tracking-screening"
        title = "Skola"
        goal = "social"
        feeds = ["screening-1"]

        [[smart_exhibits]]
        id = "dubbel"
        kind = "gauge"
        title = "Dubbel"
        goal = "climate"
        feeds = ["bin-2"]
        gauge = { unit = "x", min = 0, max = 1 }
        """), "utf-8")
    out = tmp_path / "bundle"
    assert run_build(folder, "-o", out, "--levels", "low", "--quiet") == 3  # feed reused
    manifest = load_json(out / "exhibition.json")
    exhibits = {e["id"]: e for e in manifest["smart_exhibits"]}
    assert set(exhibits) == {"luft", "lampor", "tunnor", "skola"}
    assert manifest["feeds"]["pm25-torget"] == {"kind": "gauge", "exhibit": "luft",
                                                "unit": "µg/m³", "min": 0, "max": 50}
    assert exhibits["luft"]["gauge"]["max"] == 50
    files = [out / e["model"]["url"] for e in exhibits.values()]
    assert_valid(files)
    for exhibit in exhibits.values():
        names = {n.get("name") for n in glb_json(out / exhibit["model"]["url"])["nodes"]}
        assert set(exhibit["model"]["nodes"].values()) <= names, exhibit["id"]
    bins = exhibits["tunnor"]["model"]["nodes"]
    assert [bins[f"fill:bin-{i}"] for i in (1, 2, 3)] == ["bin_fill", "bin_fill_2", "bin_fill_3"]
    needle = next(n for n in glb_json(out / exhibits["luft"]["model"]["url"])["nodes"]
                  if n.get("name") == "gauge_needle")
    assert needle["translation"][1] > 1.0  # the pivot is the dial's centre, not the floor
    report = load_json(report_path(out))
    assert any(i["field"] == "smart_exhibits[4].feeds" for i in report["issues"])


def test_over_budget_is_a_warning_with_the_numbers(tmp_path: Path,
                                                   small_collection: Path) -> None:
    out = tmp_path / "bundle"
    assert run_build(small_collection, "-o", out, "--levels", "low", "--quiet",
                     "--budget-triangles", "500", "--budget-texture-mb", "1") == 0
    report = load_json(report_path(out))
    assert report["budget"]["fits"] is False
    assert report["budget"]["triangles"] > 500
    assert any("over the Quest-class budget" in w for w in report["warnings"])
    assert load_json(out / "exhibition.json")["budget"] == {"triangles": 500,
                                                             "gpu_texture_bytes": 2**20}


def test_converter_options_apply_to_the_whole_build(tmp_path: Path,
                                                    small_collection: Path) -> None:
    out = tmp_path / "bundle"
    assert run_build(small_collection, "-o", out, "--levels", "low", "--quiet",
                     "--textures", "ktx2", "--no-compress") == 0
    manifest = load_json(out / "exhibition.json")
    tavla = next(o for o in manifest["objects"] if o["id"] == "tavla")
    (level,) = tavla["levels"]
    assert level["texture_format"] == "ktx2" and level["compression"] == "none"
    doc = glb_json(out / level["url"])
    assert "KHR_texture_basisu" in doc.get("extensionsUsed", [])
    assert "EXT_meshopt_compression" not in doc.get("extensionsUsed", [])
    assert_valid(sorted(out.rglob("*.glb")))
    assert load_json(report_path(out))["settings"]["textures"] == "ktx2"
