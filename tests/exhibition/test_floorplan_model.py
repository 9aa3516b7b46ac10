"""The studio's floor plan model: made from a built collection, changed, written back into
collection.toml (comments and order kept), and built where the model put the works."""

from __future__ import annotations

import copy
import json
import math
import re
import tomllib
from pathlib import Path

import pytest
from build_helpers import load_json, run_build

from vrculture.exhibition.collection import load_collection
from vrculture.exhibition.floorplan import (
    FloorPlanError,
    apply_floor_plan,
    check_model,
    floor_plan_model,
)

COMMENTED = """\
# Sjöstad: a small test collection (this comment must survive)
[exhibition]
id = "small"   # keep me
default_language = "sv"
languages = ["sv", "en"]
title = { sv = "Liten", en = "Small" }

[[objects]]
id = "klot"  # the sphere
source = "src/klot.obj"
title = { sv = "Klot", en = "Sphere" }
rights = "CC0-1.0"
height_m = 0.3

[[objects]]
id = "ring"
source = "src/ring.ply"
title = { sv = "Ring", en = "Ring" }
rights = "CC0-1.0"
units = "cm"
up = "+Y"

[[objects]]
id = "tavla"
source = "src/tavla.jpg"
title = { sv = "Tavla", en = "Painting" }
rights = "CC-BY-4.0"
height_m = 0.5
"""


def built_model(folder: Path, bundle: Path) -> dict:
    assert run_build(folder, "-o", bundle, "--quiet", "--levels", "low") == 0
    collection, _ = load_collection(folder)
    return floor_plan_model(collection, load_json(bundle / "exhibition.json"))


def move_klot_and_hang_tavla(model: dict) -> dict:
    """What the editor's onChange hands back after a drag and a wall change."""
    changed = copy.deepcopy(model)
    room = changed["rooms"][0]
    room.update(width=9.0, depth=11.0, sized=True)
    works = {w["id"]: w for w in changed["works"]}
    works["klot"].update(fixed=True, placement={"x": 2.1, "z": -1.3, "facing": 45.0})
    works["tavla"].update(fixed=True, placement={"wall": "north", "along": -2.5,
                                                 "height": 1.5})
    return changed


def test_the_model_describes_the_built_rooms_and_works(small_collection: Path,
                                                       tmp_path: Path) -> None:
    model = built_model(small_collection, tmp_path / "bundle")
    assert check_model(json.loads(json.dumps(model)))  # plain JSON, valid as it comes
    [room] = model["rooms"]
    assert room["id"] == "gallery" and room["sized"] is False
    works = {w["id"]: w for w in model["works"]}
    assert works["tavla"]["kind"] == "painting" and works["klot"]["kind"] == "object"
    assert works["tavla"]["placement"]["wall"] in ("west", "east")
    assert works["tavla"]["placement"]["height"] == pytest.approx(1.5, abs=0.01)
    assert all(not w["fixed"] for w in model["works"])
    manifest = load_json(tmp_path / "bundle" / "exhibition.json")
    [gallery] = manifest["rooms"]
    klot = next(o for o in manifest["objects"] if o["id"] == "klot")["placement"]
    x0, z0, x1, z1 = gallery["bounds"]
    assert works["klot"]["placement"]["x"] == pytest.approx(klot["position"][0] - (x0 + x1) / 2,
                                                            abs=1e-3)
    assert works["klot"]["placement"]["z"] == pytest.approx(klot["position"][2] - (z0 + z1) / 2,
                                                            abs=1e-3)


def test_applied_model_keeps_comments_and_builds_where_placed(small_collection: Path,
                                                               tmp_path: Path) -> None:
    toml = small_collection / "collection.toml"
    toml.write_text(COMMENTED, "utf-8")
    model = built_model(small_collection, tmp_path / "first")
    text = apply_floor_plan(COMMENTED, move_klot_and_hang_tavla(model))
    for line in ("# Sjöstad: a small test collection (this comment must survive)",
                 'id = "small"   # keep me', 'id = "klot"  # the sphere'):
        assert line in text
    assert text.index('id = "klot"') < text.index('id = "ring"') < text.index('id = "tavla"')
    assert "placement = {x = 2.1, z = -1.3, facing = 45.0}" in text
    ring = next(o for o in tomllib.loads(text)["objects"] if o["id"] == "ring")
    assert "placement" not in ring  # the untouched work stays automatic
    toml.write_text(text, "utf-8")

    again = built_model(small_collection, tmp_path / "second")
    manifest = load_json(tmp_path / "second" / "exhibition.json")
    [room] = manifest["rooms"]
    x0, z0, x1, z1 = room["bounds"]
    assert (x1 - x0, z1 - z0) == pytest.approx((9.0, 11.0))
    klot = next(o for o in manifest["objects"] if o["id"] == "klot")["placement"]
    assert klot["position"][0] == pytest.approx((x0 + x1) / 2 + 2.1)
    assert klot["position"][2] == pytest.approx((z0 + z1) / 2 - 1.3)
    assert klot["yaw"] == pytest.approx(math.radians(45))
    works = {w["id"]: w for w in again["works"]}
    assert works["klot"]["fixed"] and works["klot"]["placement"] == {
        "x": 2.1, "z": -1.3, "facing": 45.0}
    assert works["tavla"]["placement"] == {"wall": "north", "along": -2.5, "height": 1.5}
    assert not works["ring"]["fixed"]
    assert again["rooms"][0]["sized"] is True


def test_new_rooms_are_added_and_rooms_reordered(tmp_path: Path) -> None:
    text = COMMENTED + '\n[[rooms]]\nid = "a"  # first\ntitle = "A"\n\n' \
        '[[rooms]]\nid = "b"\ntitle = "B"\n'
    model = {"version": 1, "rooms": [
        {"id": "b", "title": {"sv": "B"}, "width": 6, "depth": 6, "height": 3.5},
        {"id": "ny", "title": {"sv": "Ny sal", "en": "New room"}, "width": 7, "depth": 8,
         "height": 4, "sized": True},
        {"id": "a", "title": {"sv": "A"}, "width": 6, "depth": 6, "height": 3.5}],
        "works": [{"id": "klot", "kind": "object", "room": "ny", "fixed": True,
                   "placement": {"x": 0, "z": 1, "facing": 0}}]}
    out = apply_floor_plan(text, model)
    assert out.index('id = "b"') < out.index('id = "ny"') < out.index('id = "a"  # first')
    assert 'room = "ny"' in out and "width = 7.0" in out and "depth = 8.0" in out
    assert 'title = {sv = "Ny sal", en = "New room"}' in out


@pytest.mark.parametrize(("change", "words"), [
    (lambda m: m["works"][0]["placement"].update(x=float("nan")), "placement.x: must be"),
    (lambda m: m["works"][0]["placement"].update(x=1e6), "placement.x: 1000000.0 is outside"),
    (lambda m: m["works"][0].update(room="nowhere"), "works[0].room: no room 'nowhere'"),
    (lambda m: m["works"][0].update(id="../x"), "works[0].id: not a valid id"),
    (lambda m: m["rooms"][0].update(width=-3), "rooms[0].width"),
    (lambda m: m["works"].append({**m["works"][0]}), "duplicate work id"),
    (lambda m: m.update(version=7), "version"),
    (lambda m: m["works"][0].update(kind="painting",
                                    placement={"wall": "roof", "along": 0}), "unknown wall"),
])
def test_hostile_models_are_refused_with_the_field(change, words: str) -> None:
    model = {"version": 1, "rooms": [{"id": "gallery", "title": {"sv": "S"}, "width": 6,
                                      "depth": 6, "height": 3.5}],
             "works": [{"id": "klot", "kind": "object", "room": "gallery", "fixed": True,
                        "placement": {"x": 0, "z": 0, "facing": 0}}]}
    change(model)
    with pytest.raises(FloorPlanError, match=re.escape(words)):
        apply_floor_plan(COMMENTED, model)


def test_a_csv_object_cannot_be_fixed_from_the_model() -> None:
    model = {"version": 1, "rooms": [{"id": "gallery", "title": {"sv": "S"}, "width": 6,
                                      "depth": 6, "height": 3.5}],
             "works": [{"id": "fromcsv", "kind": "object", "room": "gallery", "fixed": True,
                        "placement": {"x": 0, "z": 0, "facing": 0}}]}
    with pytest.raises(FloorPlanError, match="collection.csv"):
        apply_floor_plan(COMMENTED, model)
