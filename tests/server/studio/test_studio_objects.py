"""Editing an object's shape in the studio: up axis, turn, height or units, annotations (the
hostile-input rules, If-Match and 409, the audit log, the curator's comments kept), the
private preview of its converted model, and what the builder makes of it all."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import pytest
import trimesh

from vrculture.exhibition.run import BuildOptions, build
from vrculture.server.studio.exhibitions import studio_root
from vrculture.server.studio.publish import builds_dir

COLLECTION = """\
# The studio's test exhibition.
[exhibition]
id = "form"
default_language = "sv"
languages = ["sv", "en"]
title = { sv = "Form", en = "Shape" }

[[objects]]
id = "kloss"
source = "sources/kloss.obj"
title = { sv = "Kloss", en = "Block" }
rights = "CC0-1.0"
units = "m"   # measured with a folding rule

[[objects.annotations]]
id = "gammal"
position = [0.1, 0.2, 0.3]
normal = [0.0, 1.0, 0.0]
title = "Gammal"
"""
OBJECT = "/studio/api/exhibitions/form/objects/kloss"


@pytest.fixture
def folder(config) -> Path:
    path = studio_root(config.data_dir) / "form"
    (path / "sources").mkdir(parents=True)
    (path / "collection.toml").write_text(COLLECTION, encoding="utf-8")
    # A block 0.6 wide (x), 0.4 deep (y) and 1.0 tall along +Z: stored lying as a scanner
    # that writes +Z up would.
    box = trimesh.creation.box((0.6, 0.4, 1.0))
    box.export(path / "sources" / "kloss.obj")
    return path


async def read_object(curator) -> tuple[dict, str]:
    response = await curator.request("GET", OBJECT)
    assert response.status == 200, await response.text()
    return await response.json(), response.headers["ETag"]


async def change(curator, method: str, path: str, body: dict, version: str):
    return await curator.request(method, path, json=body, **{"If-Match": version})


ANNOTATION = {"id": "horn", "position": [0.3, 1.0, 0.2], "normal": [0.0, 0.6, 0.8],
              "title": {"sv": "Hörnet", "en": "The corner"}, "text": {"sv": "Skarpt."}}


async def test_geometry_is_written_keeping_comments_and_audited(alice, folder):
    before, version = await read_object(alice)
    assert before["up"] is None and before["units"] == "m" and before["preview"] is None
    assert before["annotations"][0]["title"] == {"sv": "Gammal"}
    response = await change(alice, "PATCH", f"{OBJECT}/geometry",
                            {"up": "+Z", "turn": 90, "height_m": 0.5, "units": None}, version)
    assert response.status == 200, await response.text()
    text = (folder / "collection.toml").read_text("utf-8")
    assert "# The studio's test exhibition." in text
    assert 'up = "+Z"' in text and "turn = 90" in text and "height_m = 0.5" in text
    assert "units" not in text  # removed, with its comment
    after, _ = await read_object(alice)
    assert (after["up"], after["turn"], after["height_m"], after["units"]) == (
        "+Z", 90, 0.5, None)
    audit = await (await alice.request("GET", "/studio/api/audit?exhibition=form")).json()
    entry = audit["entries"][0]
    assert entry["curator"] == "alice" and entry["action"] == "edit_object_geometry"
    assert entry["detail"] == {"object": "kloss", "up": "+Z", "turn": 90, "height_m": 0.5,
                               "units": None}


@pytest.mark.parametrize("body", [
    {"up": "+W"}, {"up": "z"}, {"up": 1}, {"turn": 181}, {"turn": -180.5},
    {"turn": float("nan")}, {"turn": "90"}, {"turn": True}, {"height_m": 0},
    {"height_m": -1}, {"height_m": 101}, {"height_m": 1e400}, {"units": "inch"},
    {"units": "M"}, {"scale": 2}, {},
])
async def test_geometry_values_are_checked(alice, folder, body):
    _, version = await read_object(alice)
    before = (folder / "collection.toml").read_bytes()
    response = await alice.client.request(
        "PATCH", f"{OBJECT}/geometry", data=_json(body),
        headers=alice.headers(**{"If-Match": version, "Content-Type": "application/json"}))
    if body == {}:
        assert response.status == 200  # nothing to change, nothing written
    else:
        assert response.status in (400, 422), await response.text()  # 400: NaN is no JSON
    assert (folder / "collection.toml").read_bytes() == before


def _json(body: dict) -> str:
    return json.dumps(body, allow_nan=True)


async def test_annotations_are_replaced_keeping_the_rest(alice, folder):
    _, version = await read_object(alice)
    kept = {"id": "gammal", "position": [0.1, 0.2, 0.3], "normal": [0, 1, 0],
            "title": {"sv": "Gammal", "en": "Old"}}
    response = await change(alice, "PUT", f"{OBJECT}/annotations",
                            {"annotations": [kept, ANNOTATION]}, version)
    assert response.status == 200, await response.text()
    text = (folder / "collection.toml").read_text("utf-8")
    assert "# measured with a folding rule" in text
    after, version = await read_object(alice)
    assert [a["id"] for a in after["annotations"]] == ["gammal", "horn"]
    horn = after["annotations"][1]
    assert horn["position"] == [0.3, 1.0, 0.2] and horn["normal"] == [0.0, 0.6, 0.8]
    assert horn["title"] == {"sv": "Hörnet", "en": "The corner"}
    assert horn["text"] == {"sv": "Skarpt."}
    assert after["annotations"][0]["title"] == {"sv": "Gammal", "en": "Old"}
    response = await change(alice, "PUT", f"{OBJECT}/annotations", {"annotations": []}, version)
    assert response.status == 200
    assert "annotations" not in (folder / "collection.toml").read_text("utf-8")
    audit = await (await alice.request("GET", "/studio/api/audit?exhibition=form")).json()
    assert [e["action"] for e in audit["entries"][:2]] == ["edit_annotations"] * 2
    assert audit["entries"][1]["detail"]["annotations"][1]["id"] == "horn"


def _with(**fields) -> dict:
    return {"annotations": [{**ANNOTATION, **fields}]}


@pytest.mark.parametrize("body", [
    {"annotations": "x"},
    {"annotations": [ANNOTATION, ANNOTATION]},  # the same id twice
    {"annotations": [ANNOTATION] * 101},
    _with(id="Horn"), _with(id="horn\n"), _with(id=""), _with(id="-horn"),
    _with(position=[0, 1]), _with(position=[0, 1, "2"]), _with(position=[0, 1, 1e9]),
    _with(position=[0, True, 0]), _with(normal=[0, 0, 0]), _with(normal=[0, 2, 0]),
    _with(normal=[0, 0.5, 0.5]), _with(title={}), _with(title={"de": "Ecke"}),
    _with(title={"sv": "a\nb"}), _with(title={"sv": "x" * 201}), _with(text={"sv": "\ud800"}),
    _with(colour="red"), {"annotations": [ANNOTATION], "extra": 1},
])
async def test_annotations_are_checked_in_full(alice, folder, body):
    _, version = await read_object(alice)
    before = (folder / "collection.toml").read_bytes()
    response = await alice.client.request(
        "PUT", f"{OBJECT}/annotations", data=_json(body).encode("utf-8", "surrogatepass"),
        headers=alice.headers(**{"If-Match": version, "Content-Type": "application/json"}))
    assert response.status in (400, 422), await response.text()
    assert (folder / "collection.toml").read_bytes() == before


async def test_a_stale_version_is_a_409_naming_who_changed_it(alice, bob, folder):
    _, version = await read_object(alice)
    first = await change(alice, "PATCH", f"{OBJECT}/geometry", {"up": "+Z"}, version)
    assert first.status == 200
    await alice.request("POST", "/studio/api/exhibitions/form/members", json={"curator": "bob"})
    for method, path, body in (("PATCH", f"{OBJECT}/geometry", {"up": "-Z"}),
                               ("PUT", f"{OBJECT}/annotations", {"annotations": [ANNOTATION]})):
        late = await change(bob, method, path, body, version)
        assert late.status == 409, await late.text()
        assert (await late.json())["changed_by"] == "alice"
    missing = await bob.request("PATCH", f"{OBJECT}/geometry", json={"up": "-Z"})
    assert missing.status == 428


async def test_an_unknown_object_is_404(alice, folder):
    _, version = await read_object(alice)
    for method, path in (("GET", "/studio/api/exhibitions/form/objects/nothing"),
                         ("GET", "/studio/api/exhibitions/form/objects/nothing/preview")):
        assert (await alice.request(method, path)).status == 404
    response = await change(alice, "PATCH", "/studio/api/exhibitions/form/objects/nothing/"
                            "geometry", {"up": "+Z"}, version)
    assert response.status == 404
    assert (await alice.request("GET", "/studio/api/exhibitions/form/objects/No%20pe")
            ).status == 404


def _build(collection: Path, bundle: Path) -> dict:
    result = build(BuildOptions(collection=collection, bundle=bundle, jobs=1, quiet=True))
    assert result.exit_code == 0 and result.manifest is not None, result.report
    return result.manifest


def _entry(manifest: dict) -> dict:
    return next(o for o in manifest["objects"] if o["id"] == "kloss")


async def test_what_the_studio_writes_builds_into_the_manifest(alice, folder, tmp_path):
    plain = _entry(_build(folder, tmp_path / "plain" / "bundle"))
    assert plain["bounds"]["max"][1] == pytest.approx(0.4, abs=1e-3)  # +Y: lying on its side
    _, version = await read_object(alice)
    response = await change(alice, "PATCH", f"{OBJECT}/geometry",
                            {"up": "+Z", "turn": 90, "height_m": 0.5}, version)
    version = response.headers["ETag"]
    response = await change(alice, "PUT", f"{OBJECT}/annotations",
                            {"annotations": [ANNOTATION]}, version)
    assert response.status == 200
    entry = _entry(_build(folder, tmp_path / "studio" / "bundle"))
    size = [hi - lo for lo, hi in zip(entry["bounds"]["min"], entry["bounds"]["max"],
                                      strict=True)]
    assert size[1] == pytest.approx(0.5, abs=1e-3)  # stands on +Z, scaled to 0.5 m
    assert size[0] / size[2] == pytest.approx(0.6 / 0.4, rel=0.01)
    turned = entry["placement"]["yaw"] - plain["placement"]["yaw"]
    assert math.remainder(turned - math.pi / 2, 2 * math.pi) == pytest.approx(0, abs=1e-5)
    assert -math.pi <= entry["placement"]["yaw"] <= math.pi
    assert entry["annotations"] == [{"id": "horn", "position": [0.3, 1.0, 0.2],
                                     "normal": [0.0, 0.6, 0.8],
                                     "title": {"sv": "Hörnet", "en": "The corner"},
                                     "text": {"sv": "Skarpt.", "en": "Skarpt."}}]  # sv fills in


async def test_the_preview_is_the_studio_builds_model_for_members_only(alice, bob, folder,
                                                                       config):
    _, version = await read_object(alice)
    await change(alice, "PATCH", f"{OBJECT}/geometry", {"up": "+Z"}, version)
    assert (await alice.request("GET", f"{OBJECT}/preview")).status == 404
    _build(folder, builds_dir(config.data_dir) / "form" / "bundle")
    described, _ = await read_object(alice)
    preview = described["preview"]
    assert preview["url"] == f"{OBJECT}/preview" and preview["up"] == "+Z"
    assert preview["bounds"]["max"][1] == pytest.approx(1.0, abs=1e-3)
    response = await alice.request("GET", preview["url"])
    assert response.status == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    data = await response.read()
    assert struct.unpack_from("<I", data)[0] == 0x46546C67  # glTF
    assert "Access-Control-Allow-Origin" not in response.headers
    assert (await bob.request("GET", preview["url"])).status == 403
    assert (await alice.client.get(preview["url"])).status == 401


async def test_the_object_page_allows_three_js_and_its_import_map_only(alice, folder):
    response = await alice.request("GET", "/studio/exhibitions/form/objects/kloss")
    assert response.status == 200
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "'sha256-" in policy
    assert "'unsafe-inline'" not in policy
    assert (await alice.request("GET", "/studio/exhibitions/form/objects/Bad!")).status == 404


@pytest.mark.parametrize("url", ["../../exhibitions/form/collection.toml", "/etc/passwd",
                                 "objects/.hidden.glb", "objects/missing.glb"])
async def test_a_preview_url_leaving_the_build_is_never_served(alice, folder, config, url):
    bundle = builds_dir(config.data_dir) / "form" / "bundle"
    bundle.mkdir(parents=True)
    (bundle / "objects").mkdir()
    (bundle / "objects" / ".hidden.glb").write_bytes(b"glTF")
    (bundle / "exhibition.json").write_text(json.dumps({"objects": [
        {"id": "kloss", "levels": [{"name": "high", "url": url}]}]}), encoding="utf-8")
    response = await alice.request("GET", f"{OBJECT}/preview")
    assert response.status == 404
    assert (await response.json())["code"] == "no_preview"


async def test_a_broken_build_manifest_means_no_preview(alice, folder, config):
    bundle = builds_dir(config.data_dir) / "form" / "bundle"
    bundle.mkdir(parents=True)
    (bundle / "exhibition.json").write_text("{not json", encoding="utf-8")
    described, _ = await read_object(alice)
    assert described["preview"] is None
    assert (await alice.request("GET", f"{OBJECT}/preview")).status == 404


async def test_presentation_is_written_checked_against_the_rest_and_audited(alice, folder):
    before, version = await read_object(alice)
    assert before["presentation"] == {}
    response = await change(alice, "PATCH", f"{OBJECT}/presentation",
                            {"mount": "vitrine", "plinth_height": 0.9, "light": 1.5}, version)
    assert response.status == 200, await response.text()
    text = (folder / "collection.toml").read_text("utf-8")
    assert 'presentation = {mount = "vitrine", plinth_height = 0.9, light = 1.5}' in text
    assert "# measured with a folding rule" in text
    after, version = await read_object(alice)
    assert after["presentation"] == {"mount": "vitrine", "plinth_height": 0.9, "light": 1.5}
    # floor has no plinth: refused against the plinth height already written
    refused = await change(alice, "PATCH", f"{OBJECT}/presentation", {"mount": "floor"},
                           version)
    assert refused.status == 422, await refused.text()
    response = await change(alice, "PATCH", f"{OBJECT}/presentation",
                            {"mount": "floor", "plinth_height": None}, version)
    assert response.status == 200, await response.text()
    after, version = await read_object(alice)
    assert after["presentation"] == {"mount": "floor", "light": 1.5}
    audit = await (await alice.request("GET", "/studio/api/audit?exhibition=form")).json()
    entry = audit["entries"][0]
    assert entry["action"] == "edit_object_presentation"
    assert entry["detail"] == {"object": "kloss", "mount": "floor", "plinth_height": None}
    response = await change(alice, "PATCH", f"{OBJECT}/presentation",
                            {"mount": None, "light": None}, version)
    assert response.status == 200
    assert "presentation" not in (folder / "collection.toml").read_text("utf-8")


@pytest.mark.parametrize("body", [
    {"mount": "shelf"}, {"mount": 1}, {"mount": "Plinth"}, {"light": 2.5}, {"light": -1},
    {"light": float("nan")}, {"light": "1"}, {"light": True}, {"plinth_height": 0.01},
    {"plinth_height": 3}, {"wall_height": 0.1}, {"wall_height": 1e400}, {"glass": True},
    {"mount": "wall", "plinth_height": 0.5}, {"mount": "plinth", "wall_height": 1.4},
    {"plinth_height": 0.5, "wall_height": 1.4},
])
async def test_presentation_values_are_checked(alice, folder, body):
    _, version = await read_object(alice)
    before = (folder / "collection.toml").read_bytes()
    response = await alice.client.request(
        "PATCH", f"{OBJECT}/presentation", data=_json(body),
        headers=alice.headers(**{"If-Match": version, "Content-Type": "application/json"}))
    assert response.status in (400, 422), await response.text()
    assert (folder / "collection.toml").read_bytes() == before
