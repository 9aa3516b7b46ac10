"""The demo collection, built by `vrculture build`, in the viewer."""

from __future__ import annotations

import json
import urllib.request

from .conftest import TIMEOUT_MS, state, wait_for, wait_ready


def test_the_demo_renders_each_object_where_it_projects(server, new_page):
    demo = server.demo.manifest
    page = new_page(server.url(f"/exhibitions/{demo['id']}?room=0"))
    wait_ready(page)
    assert state(page, "viewerState.errors") == []
    assert state(page, "viewerState.levelFailures") == []
    checked = []
    for obj in demo["objects"]:
        # the pixel where the object's centre projects changes when the object is hidden: it is
        # the object (not the wall behind it) that is drawn there
        result = page.evaluate("""async (id) => {
            const p = viewerTest.unoccludedCentre(id);
            if (!p) return null;
            const holder = viewerTest.app.viewer.scene.getObjectByName(`object:${id}`);
            const shown = await viewerTest.sample(p.x, p.y);
            holder.visible = false;
            const hidden = await viewerTest.sample(p.x, p.y);
            holder.visible = true;
            return {shown, hidden};
        }""", obj["id"])
        if result is None:
            continue
        diff = sum(abs(a - b) for a, b in zip(result["shown"][:3], result["hidden"][:3],
                                              strict=True))
        assert diff > 30, (obj["id"], result)
        checked.append(obj["id"])
    assert len(checked) >= 2, "the entrance view shows several objects"


def post(server, feed: str, reading: dict) -> None:
    req = urllib.request.Request(server.url(f"/api/feeds/{feed}/readings"),
                                 data=json.dumps(reading).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {server.feed_tokens[feed]}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as res:
        assert res.status == 201


def test_demo_smart_bins_animate_the_node_of_each_feed(server, new_page):
    demo = server.demo.manifest
    bins = next(s for s in demo["smart_exhibits"] if s["kind"] == "smart-bin")
    assert len(bins["feeds"]) >= 2
    page = new_page(server.url(f"/exhibitions/{demo['id']}"))
    wait_ready(page)
    wait_for(page, "viewerState.ws.status === 'open'", timeout=TIMEOUT_MS)
    feed = bins["feeds"][1]
    node_name = bins["model"]["nodes"].get(f"fill:{feed}") or bins["model"]["nodes"]["fill"]
    post(server, feed, {"t": server.clock(), "bin": "B2", "fill_pct": 25, "compactions": 0,
                        "emptied": False})
    wait_for(page,
        f"viewerState.smart[{json.dumps(bins['id'])}]?.feeds?.[{json.dumps(feed)}] === 25")
    scale = page.evaluate(f"""() => viewerTest.app.viewer.scene
        .getObjectByName({json.dumps('smart:' + bins['id'])})
        .getObjectByName({json.dumps(node_name)}).scale.y""")
    assert abs(scale - 0.25) < 1e-6


def test_demo_screening_screen_shows_todays_sessions_and_the_lamp_brightens(server, new_page):
    demo = server.demo.manifest
    screening = next(s for s in demo["smart_exhibits"] if s["kind"] == "eye-tracking-screening")
    lamp = next(s for s in demo["smart_exhibits"] if s["kind"] == "street-lighting")
    page = new_page(server.url(f"/exhibitions/{demo['id']}"))
    wait_ready(page)
    wait_for(page, "viewerState.ws.status === 'open'", timeout=TIMEOUT_MS)
    post(server, screening["feeds"][0], {"t": server.clock(), "period": "2026-11-28",
                                         "sessions": 17, "referred": 2})
    wait_for(page, f"viewerState.smart[{json.dumps(screening['id'])}]?.text === '17'")
    painted = page.evaluate(f"""() => {{
        const scene = viewerTest.app.viewer.scene;
        const g = scene.getObjectByName({json.dumps('smart:' + screening['id'])});
        let canvas = null;
        g.getObjectByName({json.dumps(screening['model']['nodes']['screen'])})
         .traverse((o) => {{ if (o.userData.screenCanvas) canvas = o.userData.screenCanvas; }});
        return canvas ? `${{canvas.width}}x${{canvas.height}}` : null;
    }}""")
    assert painted == "256x128"  # the screen node now shows the canvas with the count
    post(server, lamp["feeds"][0], {"t": server.clock(), "lamp": "P1", "presence": True,
                                    "level": 100, "power_w": 30, "rated_w": 60})
    wait_for(page, f"viewerState.smart[{json.dumps(lamp['id'])}]?.value === 100")
    assert state(page, f"viewerState.smart[{json.dumps(lamp['id'])}].emissiveIntensity") > 2
    page.evaluate(f"viewer.select({json.dumps(lamp['id'])})")
    wait_for(page, "document.querySelector('#panel .live-value')?.textContent"
                           ".includes('50 %')")


def test_a_suppressed_screening_count_is_shown_as_such(server, new_page):
    # 3 sessions is a small count: the server publishes "<5" (readings.py), never the number
    demo = server.demo.manifest
    screening = next(s for s in demo["smart_exhibits"] if s["kind"] == "eye-tracking-screening")
    page = new_page(server.url(f"/exhibitions/{demo['id']}"))
    wait_ready(page)
    wait_for(page, "viewerState.ws.status === 'open'", timeout=TIMEOUT_MS)
    post(server, screening["feeds"][0], {"t": server.clock(), "period": "2026-11-29",
                                         "sessions": 3, "referred": 1})
    wait_for(page, f"viewerState.smart[{json.dumps(screening['id'])}]?.text === '<5'")
    assert state(page, f"viewerState.smart[{json.dumps(screening['id'])}].value") is None
    page.evaluate(f"viewer.select({json.dumps(screening['id'])})")
    wait_for(page, "document.querySelector('#panel .live-value')?.textContent"
                           ".startsWith('<5 ')")
    label = page.evaluate("document.querySelector('#panel .live-value').textContent")
    assert "3" not in label and "1" not in label, label
