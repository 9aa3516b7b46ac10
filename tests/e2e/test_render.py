"""The exhibition renders: colours where objects project, lowest levels first, byte accounting."""

from __future__ import annotations

from .conftest import TIMEOUT_MS, state, wait_for, wait_ready


def sample_at_object(page, object_id: str) -> list[int]:
    return page.evaluate("""async (id) => {
        const c = viewerTest.objectCentre(id);
        const p = viewerTest.project(c[0], c[1], c[2]);
        if (!p.visible) throw new Error(`${id} does not project into the view`);
        return await viewerTest.sample(p.x, p.y);
    }""", object_id)


def test_objects_render_in_their_own_colour_where_they_project(server, new_page):
    page = new_page(server.url("/exhibitions/e2e"))
    wait_ready(page)
    red = sample_at_object(page, "red-vase")
    green = sample_at_object(page, "green-bowl")
    assert red[0] > 2 * red[1] and red[0] > 2 * red[2] and red[0] > 80, red
    assert green[1] > 2 * green[0] and green[1] > 1.5 * green[2] and green[1] > 60, green
    assert page.errors == []


def test_lowest_levels_arrive_before_sharper_ones_and_bytes_are_reported(server, new_page):
    # the bytes before the first frame compare frame times with Resource Timing: real timers
    page = new_page(server.url("/exhibitions/e2e"), fixed_date=False)
    wait_ready(page)
    wait_for(page, "viewerState.allHighAt != null", timeout=TIMEOUT_MS)
    s = state(page)
    loads = s["levelLoads"]
    objects = {o["id"]: o for o in server.bundle.manifest["objects"]}
    firsts = [x for x in loads if x["index"] == 0]
    later = [x for x in loads if x["index"] > 0]
    assert {x["object"] for x in firsts} == set(objects), "every object's lowest level loads"
    assert later, "sharper levels follow"
    assert max(x["doneAt"] for x in firsts) <= min(x["startedAt"] for x in later)
    assert all(x["ok"] for x in loads)
    # the near objects end at their highest level; the painting has only one
    assert s["levels"]["red-vase"] == "high" and s["levels"]["green-bowl"] == "high"
    low_bytes = sum(o["levels"][0]["bytes"] for o in objects.values())
    assert s["assetBytesBeforeFirstFrame"] >= low_bytes
    assert s["bytesBeforeFirstFrame"] > s["assetBytesBeforeFirstFrame"] > 0
    assert s["assetBytesBeforeFirstFrame"] < s["assetBytesTotal"]
    assert s["firstFrameAt"] <= s["allHighAt"]
    assert s["render"]["calls"] > 0 and s["render"]["triangles"] > 0
