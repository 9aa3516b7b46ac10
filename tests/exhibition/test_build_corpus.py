"""A collection made of real scans and models from ../shared/corpus builds into a valid bundle."""

from __future__ import annotations

from pathlib import Path

import jsonschema
from build_helpers import SCHEMA, load_json, make_corpus_collection, run_build
from gltf_validator import assert_valid

from vrculture.exhibition.bundle import report_path

# A spread of the corpus's formats and traps, kept small enough for the default test run:
# OBJ+MTL+PNG, PLY vertex colours, glTF with a 4K JPEG, Draco GLB, PBR GLB, triangle strips,
# and a photograph as a painting.
IDS = ["spot", "laurana", "mask", "usnm-1145291", "helmet", "igea", "cockatoo"]


def test_corpus_collection_builds(corpus: Path, tmp_path: Path) -> None:
    folder = make_corpus_collection(corpus, tmp_path / "collection", IDS)
    out = tmp_path / "bundle"
    code = run_build(folder, "-o", out, "--levels", "low,medium", "--jobs", "2", "--quiet")
    assert code == 0
    manifest = load_json(out / "exhibition.json")
    jsonschema.Draft202012Validator(load_json(SCHEMA)).validate(manifest)
    by_id = {o["id"]: o for o in manifest["objects"]}
    assert set(by_id) == set(IDS)
    assert by_id["cockatoo"]["kind"] == "painting"
    assert by_id["igea"]["levels"][-1]["triangles"] == 25_000  # strips decoded, then simplified
    assert by_id["laurana"]["rights"]["max_level"] == "medium"
    for obj in manifest["objects"]:
        assert obj["levels"][0]["triangles"] <= 5_000
        assert (out / obj["thumbnail"]["url"]).stat().st_size > 1000
    assert_valid(sorted(out.rglob("*.glb")))
    report = load_json(report_path(out))
    assert report["budget"]["fits"] is True
    assert report["counts"]["reconverted"] == len(IDS)
    # Scans that do not say which way is up stand as they were made (laurana was stored lying
    # on its back, +Z, by the PLY habit); igea stands on its broken neck (the crease ringing
    # it), against the PLY habit too, and none of them needs a warning.
    orientation = {o["id"]: o["orientation"] for o in report["objects"]}
    assert orientation["laurana"]["axis"] == "+Y"
    assert orientation["laurana"]["source"] == "estimated"
    assert orientation["igea"]["axis"] == "+Y"
    assert orientation["igea"]["source"] == "estimated"
    assert orientation["spot"]["axis"] == "+Y"
    assert orientation["mask"]["source"] == "declared"  # glTF is +Y up by specification
    unsure = {i["record"] for i in report["issues"] if i["field"].endswith(".up")}
    assert unsure == set()
