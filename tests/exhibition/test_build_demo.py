"""The demo collection builds into a complete, valid bundle."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import numpy as np
from build_helpers import SCHEMA, glb_json, load_json
from gltf_validator import assert_valid
from PIL import Image

from vrculture.exhibition.bundle import report_path

LANGS = ("sv", "en")


def test_manifest_matches_schema(demo_bundle: Path) -> None:
    manifest = load_json(demo_bundle / "exhibition.json")
    jsonschema.Draft202012Validator(load_json(SCHEMA)).validate(manifest)
    assert manifest["schema_version"] == 1
    assert manifest["id"] == "sjostad"
    assert {o["id"] for o in manifest["objects"]} == {
        "fajansvas", "saltglaserad-kanna", "livets-trad", "radmansbyst", "sommarkvall",
        "vinterkvall"}
    assert {e["kind"] for e in manifest["smart_exhibits"]} == {
        "street-lighting", "smart-bin", "eye-tracking-screening"}


def test_every_glb_passes_the_khronos_validator(demo_bundle: Path) -> None:
    files = sorted(demo_bundle.rglob("*.glb"))
    assert len(files) >= 6 * 2 + 3 + 1
    assert_valid(files)


def test_every_url_exists_and_sizes_match(demo_bundle: Path) -> None:
    manifest = load_json(demo_bundle / "exhibition.json")
    files = [manifest["architecture"]]
    for obj in manifest["objects"]:
        files += obj["levels"] + [obj["thumbnail"]]
    files += [e["model"] for e in manifest["smart_exhibits"]]
    for item in files:
        path = demo_bundle / item["url"]
        assert path.is_file(), item["url"]
        assert path.stat().st_size == item["bytes"]
        # Content-hashed names: the 12 hex digits before the suffix.
        digest = path.name.rsplit(".", 2)[-2]
        assert len(digest) == 12 and all(c in "0123456789abcdef" for c in digest)


def test_levels_really_differ_and_go_low_to_high(demo_bundle: Path) -> None:
    manifest = load_json(demo_bundle / "exhibition.json")
    order = ["low", "medium", "high", "full"]
    for obj in manifest["objects"]:
        names = [lv["name"] for lv in obj["levels"]]
        assert names == sorted(names, key=order.index), obj["id"]
        if obj["kind"] == "model":
            tris = [lv["triangles"] for lv in obj["levels"]]
            assert len(tris) >= 2 and tris == sorted(tris) and tris[0] * 4 <= tris[-1], obj["id"]


def test_restricted_rights_cap_the_published_level(demo_bundle: Path) -> None:
    manifest = load_json(demo_bundle / "exhibition.json")
    by_id = {o["id"]: o for o in manifest["objects"]}
    for oid in ("sommarkvall", "livets-trad"):  # InC and CC-BY-NC-4.0
        obj = by_id[oid]
        assert obj["rights"]["free_reuse"] is False
        assert obj["rights"]["max_level"] == "medium"
        assert {lv["name"] for lv in obj["levels"]} <= {"low", "medium"}
        assert not list((demo_bundle / "objects" / oid).glob("*.full.*.glb"))
    assert by_id["fajansvas"]["levels"][-1]["name"] == "full"
    assert by_id["fajansvas"]["rights"]["free_reuse"] is True


def test_credit_and_licence_travel_with_every_object_and_glb(demo_bundle: Path) -> None:
    manifest = load_json(demo_bundle / "exhibition.json")
    for obj in manifest["objects"]:
        assert obj["rights"]["uri"].startswith("http")
        assert set(LANGS) <= set(obj["credit"]) and set(LANGS) <= set(obj["title"])
        for level in obj["levels"]:
            doc = glb_json(demo_bundle / level["url"])
            packets = doc.get("extensions", {}).get("KHR_xmp_json_ld", {}).get("packets", [])
            text = str(packets)
            assert obj["rights"]["uri"] in text, (obj["id"], level["name"])
            assert obj["credit"]["sv"] in text


def test_smart_exhibit_models_carry_the_animated_nodes(demo_bundle: Path) -> None:
    manifest = load_json(demo_bundle / "exhibition.json")
    expected = {"street-lighting": {"lamp_light", "lamp_pole"},
                "smart-bin": {"bin_fill", "bin_body", "solar_panel"},
                "eye-tracking-screening": {"screen", "eye_tracker", "desk"}}
    for exhibit in manifest["smart_exhibits"]:
        names = {n.get("name") for n in glb_json(demo_bundle / exhibit["model"]["url"])["nodes"]}
        assert expected[exhibit["kind"]] <= names
        assert set(exhibit["model"]["nodes"].values()) <= names
        for feed in exhibit["feeds"]:
            assert manifest["feeds"][feed]["exhibit"] == exhibit["id"]
    bins = next(e for e in manifest["smart_exhibits"] if e["kind"] == "smart-bin")
    assert bins["feeds"] == ["bin-1", "bin-2"]
    nodes = glb_json(demo_bundle / bins["model"]["url"])["nodes"]
    fill = next(n for n in nodes if n.get("name") == "bin_fill")
    assert fill.get("translation", [0, 0, 0])[1] > 0  # the fill scales up from the bin's floor


def test_thumbnails_are_renders(demo_bundle: Path) -> None:
    manifest = load_json(demo_bundle / "exhibition.json")
    seen = set()
    for obj in manifest["objects"]:
        with Image.open(demo_bundle / obj["thumbnail"]["url"]) as image:
            assert image.format == "WEBP"
            rgba = image.convert("RGBA")
        alpha = np.asarray(rgba)[:, :, 3] > 0
        assert alpha.mean() >= 0.5, obj["id"]  # the object fills at least half the frame
        seen.add(rgba.tobytes())
    assert len(seen) == len(manifest["objects"])


def test_tour_and_texts(demo_bundle: Path) -> None:
    manifest = load_json(demo_bundle / "exhibition.json")
    (tour,) = manifest["tours"]
    assert 4 <= len(tour["stops"]) <= 6
    placements = {o["id"]: o["placement"] for o in manifest["objects"]}
    placements.update({e["id"]: e["placement"] for e in manifest["smart_exhibits"]})
    for stop in tour["stops"]:
        assert set(LANGS) <= set(stop["narration"])
        if "object" in stop:
            assert stop["view_point"] == placements[stop["object"]]["view_point"]
    for obj in manifest["objects"]:
        for annotation in obj.get("annotations", []):
            assert set(LANGS) <= set(annotation["title"])


def test_totals_and_budget(demo_bundle: Path) -> None:
    manifest = load_json(demo_bundle / "exhibition.json")
    report = load_json(report_path(demo_bundle))
    totals = manifest["totals"]
    assert totals["low"]["triangles"] < totals["medium"]["triangles"] <= totals["full"]["triangles"]
    low = sum(o["levels"][0]["triangles"] for o in manifest["objects"])
    assert totals["low"]["triangles"] == low
    assert report["budget"]["fits"] is True
    assert report["budget"]["triangles"] > totals["low"]["triangles"]  # scenery counted too
    assert report["counts"]["built"] == 6 and report["counts"]["failed"] == 0


def test_headset_levels_default_to_ktx2_and_full_to_jpeg(demo_bundle: Path) -> None:
    manifest = load_json(demo_bundle / "exhibition.json")
    vase = next(o for o in manifest["objects"] if o["id"] == "fajansvas")
    formats = {lv["name"]: lv["texture_format"] for lv in vase["levels"]}
    assert formats == {"low": "ktx2", "medium": "ktx2", "high": "ktx2", "full": "jpeg"}
    high = next(lv for lv in vase["levels"] if lv["name"] == "high")
    assert "KHR_texture_basisu" in glb_json(demo_bundle / high["url"])["extensionsRequired"]
    report = load_json(report_path(demo_bundle))
    assert report["settings"]["textures"] == "auto"
    item = next(o for o in report["objects"] if o["id"] == "fajansvas")
    textures = [t for lv in item["levels"] if lv["written"] for t in lv["textures"]]
    assert textures and all(t["psnr"] > 25.0 for t in textures)  # the quality reached
