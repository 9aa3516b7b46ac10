"""The studio's floor plan API and its private preview: the model read from the studio's own
build, written back into collection.toml (If-Match, 409 on a stale version, 422 naming the
field of a hostile model, an audit entry), and the preview served to members only, privately,
never through the public /exhibitions/ and /bundles/ routes."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest
import trimesh
from PIL import Image

from vrculture.server.studio.exhibitions import studio_root

PLAN = "/studio/api/exhibitions/sjostad/floorplan"
PREVIEW = "/studio/api/exhibitions/sjostad/preview"
WORKS = """
# Added by hand: the box and the painting (this comment must survive)
[[objects]]
id = "lada"
source = "sources/lada.obj"
title = { sv = "Låda", en = "Box" }
rights = "CC0-1.0"
height_m = 0.4

[[objects]]
id = "tavla"
source = "sources/tavla.png"
title = { sv = "Tavla", en = "Painting" }
rights = "CC0-1.0"
height_m = 0.5
"""


def add_works(folder: Path) -> None:
    trimesh.creation.box((0.4, 0.4, 0.4)).export(folder / "sources" / "lada.obj")
    Image.new("RGB", (60, 40), (30, 90, 160)).save(folder / "sources" / "tavla.png")
    with open(folder / "collection.toml", "a", encoding="utf-8") as f:
        f.write(WORKS)


@pytest.fixture
def works(config, exhibition) -> Path:
    folder = studio_root(config.data_dir) / exhibition
    add_works(folder)
    return folder


async def read_plan(curator) -> tuple[dict, str]:
    response = await curator.request("GET", PLAN)
    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    return await response.json(), response.headers["ETag"]


def work(model: dict, work_id: str) -> dict:
    return next(w for w in model["works"] if w["id"] == work_id)


async def test_the_plan_is_read_moved_saved_and_built_there(alice, works, client):
    model, version = await read_plan(alice)
    assert [w["id"] for w in model["works"]] == ["lada", "tavla"]
    assert work(model, "lada")["kind"] == "object" and not work(model, "lada")["fixed"]
    assert work(model, "tavla")["kind"] == "painting"
    box = work(model, "lada")
    box["fixed"] = True
    box["placement"] = {"x": 1.5, "z": -1.0, "facing": 90}
    saved = await alice.request("PUT", PLAN, json=model, **{"If-Match": version})
    assert saved.status == 200, await saved.text()
    new_version = saved.headers["ETag"]
    assert new_version != version and (await saved.json())["version"] == new_version
    text = (works / "collection.toml").read_text("utf-8")
    assert "this comment must survive" in text
    box_toml = next(o for o in tomllib.loads(text)["objects"] if o["id"] == "lada")
    assert box_toml["placement"]["x"] == 1.5 and box_toml["placement"]["z"] == -1.0

    # Read again: rebuilt from the saved file, the box stands where it was put.
    again, etag = await read_plan(alice)
    assert etag == new_version
    moved = work(again, "lada")
    assert moved["fixed"] and moved["placement"]["x"] == pytest.approx(1.5, abs=0.01)
    assert moved["placement"]["z"] == pytest.approx(-1.0, abs=0.01)

    audit = await (await alice.request("GET", "/studio/api/audit?exhibition=sjostad")).json()
    latest = audit["entries"][0]
    assert latest["action"] == "edit_floor_plan" and latest["curator"] == "alice"
    assert "lada" in latest["detail"]["fixed"]


async def test_a_stale_version_gets_409_and_changes_nothing(alice, works):
    model, version = await read_plan(alice)
    first = copy.deepcopy(model)
    work(first, "lada").update(fixed=True, placement={"x": 1.0, "z": 0.0, "facing": 0})
    assert (await alice.request("PUT", PLAN, json=first, **{"If-Match": version})).status == 200
    before = (works / "collection.toml").read_bytes()
    work(model, "lada").update(fixed=True, placement={"x": -1.0, "z": 0.0, "facing": 0})
    stale = await alice.request("PUT", PLAN, json=model, **{"If-Match": version})
    assert stale.status == 409
    body = await stale.json()
    assert body["code"] == "conflict" and body["changed_by"] == "alice"
    assert (works / "collection.toml").read_bytes() == before
    missing = await alice.request("PUT", PLAN, json=model)
    assert missing.status == 428


async def test_a_plan_saved_over_another_curators_edit_gets_409_naming_them(alice, bob,
                                                                              works, clock):
    # Any edit of collection.toml makes a plan stale, and the 409 says it was the floor plan
    # that was not saved and who changed the file; the other way round as well.
    await alice.request("POST", "/studio/api/exhibitions/sjostad/members",
                        json={"curator": "bob"})
    model, version = await read_plan(alice)
    clock.now += 60
    texts = await bob.request("PATCH", "/studio/api/exhibitions/sjostad",
                              json={"title": {"en": "Lake town"}}, **{"If-Match": version})
    assert texts.status == 200, await texts.text()
    before = (works / "collection.toml").read_bytes()
    work(model, "lada").update(fixed=True, placement={"x": 1.0, "z": 0.0, "facing": 0})
    stale = await alice.request("PUT", PLAN, json=model, **{"If-Match": version})
    assert stale.status == 409
    conflict = await stale.json()
    assert conflict["code"] == "conflict" and conflict["changed_by"] == "bob"
    assert conflict["changed_at"] == clock.now and conflict["version"] == texts.headers["ETag"]
    assert conflict["message"].startswith("the floor plan of 'sjostad' was not saved: bob")
    assert "Reload the plan" in conflict["message"]
    assert (works / "collection.toml").read_bytes() == before

    saved = await alice.request("PUT", PLAN, json=model,
                                **{"If-Match": texts.headers["ETag"]})
    assert saved.status == 200, await saved.text()
    late = await bob.request("PATCH", "/studio/api/exhibitions/sjostad",
                             json={"title": {"en": "Other"}},
                             **{"If-Match": texts.headers["ETag"]})
    assert late.status == 409 and (await late.json())["changed_by"] == "alice"


HOSTILE = {
    "not an object": ([1, 2, 3], None),
    "a position far outside": ({"works.0": {"placement": {"x": 1e9, "z": 0, "facing": 0}}},
                               "works"),
    "NaN is not JSON": ("nan", None),
    "a path as an id": ({"works.0": {"id": "../../etc"}}, "works"),
    "an unknown wall": ({"works.1": {"placement": {"wall": "ceiling", "along": 0,
                                                  "height": 1.5}}}, "works"),
    "a huge room": ({"rooms.0": {"width": 1e6, "sized": True}}, "rooms"),
}


@pytest.mark.parametrize("case", HOSTILE)
async def test_a_hostile_model_is_refused_with_its_field(alice, works, case):
    model, version = await read_plan(alice)
    before = (works / "collection.toml").read_bytes()
    change, field = HOSTILE[case]
    if isinstance(change, dict):
        for where, values in change.items():
            key, index = where.split(".")
            model[key][int(index)].update(values, fixed=True) if key == "works" else \
                model[key][int(index)].update(values)
        body = model
    else:
        body = change
    if body == "nan":
        response = await alice.client.request(
            "PUT", PLAN, data=b'{"version": NaN}',
            headers=alice.headers(**{"If-Match": version, "Content-Type": "application/json"}))
    else:
        response = await alice.request("PUT", PLAN, json=body, **{"If-Match": version})
    assert response.status in (400, 422), await response.text()
    if field is not None:
        answer = await response.json()
        assert answer["field"].startswith(field), answer
    assert (works / "collection.toml").read_bytes() == before


async def test_a_collection_that_does_not_build_gets_422_with_the_builders_words(alice,
                                                                                 exhibition):
    response = await alice.request("POST", PREVIEW)
    assert response.status == 422
    assert "no objects" in (await response.json())["message"]
    plan = await alice.request("GET", PLAN)
    assert plan.status == 422


async def test_the_preview_is_private_to_members(alice, bob, works, client):
    built = await alice.request("POST", PREVIEW)
    assert built.status == 201, await built.text()
    assert (await built.json())["url"] == "/studio/exhibitions/sjostad/preview/"

    page = await alice.request("GET", "/studio/exhibitions/sjostad/preview/")
    assert page.status == 200
    assert page.headers["Cache-Control"] == "private, no-store"
    assert "main.js" in await page.text()
    policy = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "frame-ancestors 'self'" not in policy
    manifest = await alice.request("GET", "/studio/preview/sjostad/exhibition.json")
    assert manifest.status == 200
    assert manifest.headers["Cache-Control"] == "private, no-store"
    assert "ETag" in manifest.headers
    data = await manifest.json()
    level = data["objects"][0]["levels"][0]["url"]
    whole = await alice.request("GET", f"/studio/preview/sjostad/{level}")
    assert whole.status == 200
    part = await alice.request("GET", f"/studio/preview/sjostad/{level}", Range="bytes=0-3")
    assert part.status == 206 and await part.read() == b"glTF"

    for path in ("/studio/preview/sjostad/exhibition.json",
                 f"/studio/preview/sjostad/{level}"):
        assert (await client.get(path)).status == 401
        assert (await bob.request("GET", path)).status == 403
    assert (await bob.request("GET", "/studio/exhibitions/sjostad/preview/")).status == 403
    anonymous = await client.get("/studio/exhibitions/sjostad/preview/", allow_redirects=False)
    assert anonymous.status == 303
    for hostile in ("../../../studio/exhibitions/sjostad/collection.toml", "%2e%2e/built-from",
                    "build-report.json"):
        response = await alice.request("GET", f"/studio/preview/sjostad/{hostile}")
        assert response.status in (400, 404), hostile

    # Never published: the public routes know nothing of it.
    for path in ("/exhibitions/sjostad", "/bundles/sjostad/exhibition.json",
                 f"/bundles/sjostad/{level}", "/api/exhibitions/sjostad"):
        assert (await client.get(path)).status == 404, path


async def test_no_preview_page_before_a_build(alice, exhibition):
    response = await alice.request("GET", "/studio/exhibitions/sjostad/preview/")
    assert response.status == 404


async def test_reading_a_current_plan_does_not_wait_for_a_publication(alice, works, client):
    from vrculture.server.admin import PUBLISH_LOCK

    model, version = await read_plan(alice)  # built now
    async with client.app[PUBLISH_LOCK]:  # as while a publication runs
        again = await alice.request("GET", PLAN)
        assert again.status == 200
        assert (await again.json()) == model
        work(model, "lada").update(fixed=True, placement={"x": 0.5, "z": 0.5, "facing": 0})
        saved = await alice.request("PUT", PLAN, json=model, **{"If-Match": version})
        assert saved.status == 200  # writing the collection needs no build
        stale = await alice.request("GET", PLAN)  # a build is needed: it would wait
        assert stale.status == 409 and (await stale.json())["code"] == "busy"
        assert (await alice.request("POST", PREVIEW)).status == 409
    assert (await alice.request("GET", PLAN)).status == 200
