"""Tours in the studio: stops that exist, narration per language (missing ones flagged), the
order a save sends, the curator's comments kept, versions and conflicts, the audit log, and a
studio-written tour that the builder turns into the manifest's tour."""

from __future__ import annotations

import asyncio
import json
import tomllib
from pathlib import Path

import pytest

from vrculture.exhibition.run import BuildOptions, build
from vrculture.server.studio.exhibitions import studio_root

from .test_studio_publish import add_painting

HAND_WRITTEN = """\
# Sjöstads museum: the spring exhibition.
[exhibition]
id = "var"
default_language = "sv"
languages = ["sv", "en"]
title = "Vårens utställning"

# The vase first: it is on the poster.
[[objects]]
id = "vas"
source = "sources/vas.glb"
title = { sv = "Vas" }
rights = "PDM-1.0"

[[objects]]
id = "stol"
source = "sources/stol.glb"
title = { sv = "Stol", en = "Chair" }
rights = "CC-BY-4.0"

# The short tour for school classes.
[[tours]]
id = "kort"
title = { sv = "Kort tur" }

[[tours.stops]]
object = "vas"   # start at the poster's vase
narration = { sv = "Vasen." }
"""
TOURS = "/studio/api/exhibitions/var/tours"
TWO_STOPS = {"id": "lang", "title": {"sv": "Lång tur", "en": "Long tour"},
             "stops": [{"object": "vas", "narration": {"sv": "Vasen.", "en": "The vase."}},
                       {"object": "stol", "narration": {"sv": "Stolen."}}]}


@pytest.fixture
def hand_written(config) -> Path:
    folder = studio_root(config.data_dir) / "var"
    (folder / "sources").mkdir(parents=True)
    (folder / "collection.toml").write_text(HAND_WRITTEN, encoding="utf-8")
    return folder


async def tours_of(curator):
    response = await curator.request("GET", TOURS)
    assert response.status == 200, await response.text()
    return await response.json(), response.headers["ETag"]


async def test_a_hand_written_tour_is_listed_with_its_missing_translations(alice, hand_written):
    listed, version = await tours_of(alice)
    assert listed["version"] == version
    assert [t["id"] for t in listed["targets"]] == ["vas", "stol"]
    [tour] = listed["tours"]
    assert tour["id"] == "kort" and tour["editable"]
    assert tour["stops"] == [{"object": "vas", "position": None, "narration": {"sv": "Vasen."},
                              "missing_languages": ["en"]}]
    assert {"where": "tour", "field": "title", "languages": ["en"]} in \
        tour["missing_translations"]


async def test_create_reorder_and_delete_keep_the_curators_comments(alice, hand_written):
    _, version = await tours_of(alice)
    created = await alice.request("POST", TOURS, json=TWO_STOPS, **{"If-Match": version})
    assert created.status == 201, await created.text()
    body = await created.json()
    tour = next(t for t in body["tours"] if t["id"] == "lang")
    assert [s["object"] for s in tour["stops"]] == ["vas", "stol"]
    assert tour["stops"][1]["missing_languages"] == ["en"]

    reordered = {"title": TWO_STOPS["title"],
                 "stops": [TWO_STOPS["stops"][1], TWO_STOPS["stops"][0]]}
    moved = await alice.request("PUT", f"{TOURS}/lang", json=reordered,
                                **{"If-Match": created.headers["ETag"]})
    assert moved.status == 200, await moved.text()
    text = (hand_written / "collection.toml").read_text(encoding="utf-8")
    assert text.index('object = "stol"', text.index('id = "lang"')) < \
        text.index('object = "vas"', text.index('id = "lang"'))

    # the hand-written tour's stop keeps its comment when its narration changes
    kort = {"title": {"sv": "Kort tur", "en": "Short tour"},
            "stops": [{"object": "vas", "narration": {"sv": "Vasen!\n\nMålad 1890.",
                                                      "en": "The vase!"}}]}
    edited = await alice.request("PUT", f"{TOURS}/kort", json=kort,
                                 **{"If-Match": moved.headers["ETag"]})
    assert edited.status == 200, await edited.text()
    text = (hand_written / "collection.toml").read_text(encoding="utf-8")
    for comment in ("# Sjöstads museum: the spring exhibition.",
                    "# The vase first: it is on the poster.",
                    "# The short tour for school classes.", "# start at the poster's vase"):
        assert comment in text
    tours = tomllib.loads(text)["tours"]
    assert [t["id"] for t in tours] == ["kort", "lang"]
    assert [s["object"] for s in tours[1]["stops"]] == ["stol", "vas"]
    assert tours[0]["stops"][0]["narration"] == {"sv": "Vasen!\n\nMålad 1890.",
                                                 "en": "The vase!"}

    deleted = await alice.request("DELETE", f"{TOURS}/lang",
                                  **{"If-Match": edited.headers["ETag"]})
    assert deleted.status == 200
    assert [t["id"] for t in (await deleted.json())["tours"]] == ["kort"]
    gone = await alice.request("DELETE", f"{TOURS}/lang",
                               **{"If-Match": deleted.headers["ETag"]})
    assert gone.status == 404


async def test_every_change_is_audited_with_the_injected_clock(alice, hand_written, clock):
    _, version = await tours_of(alice)
    clock.now += 60
    await alice.request("POST", TOURS, json=TWO_STOPS, **{"If-Match": version})
    log = await (await alice.request("GET", "/studio/api/audit?exhibition=var")).json()
    newest = log["entries"][0]
    assert newest["action"] == "create_tour" and newest["at"] == clock.now
    assert newest["curator"] == "alice" and newest["detail"]["tour"] == "lang"


async def test_a_stale_version_is_a_409_naming_who_saved_since(alice, bob, hand_written):
    await alice.request("POST", "/studio/api/exhibitions/var/members", json={"curator": "bob"})
    _, version = await tours_of(alice)
    first = await bob.request("POST", TOURS, json=TWO_STOPS, **{"If-Match": version})
    assert first.status == 201
    stale = await alice.request("PUT", f"{TOURS}/kort", json={
        "title": {"sv": "X"}, "stops": [{"object": "stol", "narration": {"sv": "S"}}]},
        **{"If-Match": version})
    assert stale.status == 409
    conflict = await stale.json()
    assert conflict["changed_by"] == "bob" and conflict["version"] == first.headers["ETag"]
    missing = await alice.request("DELETE", f"{TOURS}/kort")
    assert missing.status == 428


BAD = {
    "unknown object": ({"stops": [{"object": "nothing", "narration": {"sv": "x"}}]},
                       "stops.0.object"),
    "hostile object id": ({"stops": [{"object": "../vas", "narration": {"sv": "x"}}]},
                          "stops.0.object"),
    "object id with a newline": ({"stops": [{"object": "vas\n", "narration": {"sv": "x"}}]},
                                 "stops.0.object"),
    "no stops": ({"stops": []}, "stops"),
    "silent stop": ({"stops": [{"object": "vas", "narration": {"sv": ""}}]},
                    "stops.0.narration"),
    "foreign language": ({"stops": [{"object": "vas", "narration": {"de": "x"}}]},
                         "stops.0.narration.de"),
    "too long": ({"stops": [{"object": "vas", "narration": {"sv": "x" * 4001}}]},
                 "stops.0.narration.sv"),
    "lone surrogate": ({"stops": [{"object": "vas", "narration": {"sv": "\ud800"}}]},
                       "$.stops[0].narration.sv"),  # refused by the JSON reader
    "control character": ({"title": {"sv": "a\u0007b"}}, "title.sv"),
    "narration control character": (
        {"stops": [{"object": "vas", "narration": {"sv": "a\u001bb"}}]}, "stops.0.narration.sv"),
    "line break in a title": ({"title": {"sv": "a\nb"}}, "title.sv"),
    "narration not an object": ({"stops": [{"object": "vas", "narration": "x"}]},
                                "stops.0.narration"),
    "no title": ({"title": {"sv": ""}}, "title"),
    "blank title": ({"title": {"sv": "   ", "en": " "}}, "title"),
    "blank narration": ({"stops": [{"object": "vas", "narration": {"sv": " \n "}}]},
                        "stops.0.narration"),
    "unknown stop field": ({"stops": [{"object": "vas", "narration": {"sv": "x"},
                                       "yaw": 1}]}, "stops.0.yaw"),
    "bad id": ({"id": "Lång"}, "id"),
}


@pytest.mark.parametrize("case", BAD)
async def test_invalid_tours_are_refused_and_nothing_is_written(alice, hand_written, case):
    change, field = BAD[case]
    before = (hand_written / "collection.toml").read_bytes()
    _, version = await tours_of(alice)
    body = json.dumps({**TWO_STOPS, **change}).encode("utf-8", "surrogatepass")
    response = await alice.client.post(TOURS, data=body, headers=alice.headers(
        **{"If-Match": version, "Content-Type": "application/json"}))
    assert response.status == 422, await response.text()
    assert (await response.json())["field"] == field
    assert (hand_written / "collection.toml").read_bytes() == before


async def test_a_tour_with_stops_at_a_position_is_not_rewritten(alice, hand_written):
    toml = hand_written / "collection.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + """
[[tours.stops]]
position = [0.0, 0.0, -0.5]
narration = { sv = "Välkommen" }
""", encoding="utf-8")
    listed, version = await tours_of(alice)
    assert not listed["tours"][0]["editable"]
    response = await alice.request("PUT", f"{TOURS}/kort", json={
        "title": {"sv": "Kort"}, "stops": [{"object": "vas", "narration": {"sv": "x"}}]},
        **{"If-Match": version})
    assert response.status == 422
    assert (await response.json())["code"] == "position_stops"


async def test_a_studio_written_tour_builds_into_the_manifest(alice, exhibition, config,
                                                              tmp_path):
    folder = studio_root(config.data_dir) / exhibition
    add_painting(folder)
    listed = await alice.request("GET", f"/studio/api/exhibitions/{exhibition}/tours")
    response = await alice.request("POST", f"/studio/api/exhibitions/{exhibition}/tours", json={
        "id": "visning", "title": {"sv": "Visning", "en": "Showing"},
        "stops": [{"object": "portratt", "narration": {"sv": "Titta.", "en": "Look."}}]},
        **{"If-Match": listed.headers["ETag"]})
    assert response.status == 201, await response.text()

    result = await asyncio.to_thread(build, BuildOptions(
        collection=folder, bundle=tmp_path / "bundle", jobs=1, quiet=True))
    assert result.exit_code == 0 and result.manifest is not None
    [tour] = result.manifest["tours"]
    assert tour["id"] == "visning" and tour["title"] == {"sv": "Visning", "en": "Showing"}
    assert [s["object"] for s in tour["stops"]] == ["portratt"]
    assert tour["stops"][0]["narration"] == {"sv": "Titta.", "en": "Look."}
    assert "view_point" in tour["stops"][0]


async def test_a_malformed_hand_written_tour_is_shown_not_a_crash(alice, hand_written):
    toml = hand_written / "collection.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + """
[[tours.stops]]
position = 5
narration = 7

[[tours]]
id = "trasig"
title = 3
stops = "none"
""", encoding="utf-8")
    listed, _ = await tours_of(alice)
    kort, trasig = listed["tours"]
    assert kort["stops"][1] == {"object": None, "position": None, "narration": {},
                                "missing_languages": ["sv", "en"]}
    assert not kort["editable"]
    assert trasig["stops"] == [] and trasig["title"] == {}
