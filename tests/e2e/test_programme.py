"""The city's programme in the demo: open it, filter by a goal, see live data arrive."""

from __future__ import annotations

import json

from .conftest import TIMEOUT_MS, state, wait_for, wait_ready
from .test_demo import post
from .test_desktop import serious_axe_violations


def test_programme_filters_by_goal_and_marks_live_projects(server, new_page):
    demo = server.demo.manifest
    projects = demo["projects"]
    page = new_page(server.url(f"/exhibitions/{demo['id']}"))
    wait_ready(page, first_frame=False)
    wait_for(page, "viewerState.ws.status === 'open'", timeout=TIMEOUT_MS)

    assert page.is_hidden("#programme-body")
    page.click("#programme-toggle")
    assert page.get_attribute("#programme-toggle", "aria-expanded") == "true"
    assert page.inner_text("#programme-count") == f"{len(projects)} projects"
    assert page.locator("#programme-list > li").count() == len(projects)

    page.click(".programme-goals [data-goal=social]")
    social = [p["id"] for p in projects if "social" in p["goals"]]
    assert 0 < len(social) < len(projects)
    wait_for(page, f"viewerState.programme.shown === {len(social)}")
    assert page.inner_text("#programme-count") == f"{len(social)} of {len(projects)} projects"
    shown = page.eval_on_selector_all("#programme-list > li",
                                      "els => els.map(e => e.dataset.project)")
    assert shown == social
    assert page.get_attribute(".programme-goals [data-goal=social]", "aria-pressed") == "true"
    # a second goal widens the filter (any of the goals pressed)
    page.click(".programme-goals [data-goal=democratic]")
    either = [p["id"] for p in projects if {"social", "democratic"} & set(p["goals"])]
    wait_for(page, f"viewerState.programme.shown === {len(either)}")
    page.click(".programme-goals [data-goal=social]")
    page.click(".programme-goals [data-goal=democratic]")
    wait_for(page, f"viewerState.programme.shown === {len(projects)}")

    # a project without a feed never has the marker; one with a feed gets it with a reading
    no_feed = next(p for p in projects if "feed" not in p)
    assert page.locator(f"#programme-list li[data-project={no_feed['id']}] .live").count() == 0
    bins = next(p for p in projects if p.get("feed") == "bin-1")
    marker = f"#programme-list li[data-project={bins['id']}] .live"
    post(server, "bin-1", {"t": server.clock(), "bin": "B1", "fill_pct": 40, "compactions": 1,
                           "emptied": False})
    page.wait_for_selector(marker, state="visible")
    assert page.inner_text(marker) == "Live data"
    assert state(page, "viewerState.feeds")["bin-1"]["fill_pct"] == 40

    # Swedish: the same panel, translated
    page.select_option("#lang", "sv")
    wait_for(page, f"document.querySelector('#programme-count').textContent === "
                           f"{json.dumps(f'{len(projects)} projekt')}")
    assert page.inner_text(".programme-goals [data-goal=climate]") == "Klimat"
    assert serious_axe_violations(page) == []
    assert not page.errors


def test_programme_wall_in_the_smart_city_hall_filters_by_goal(server, new_page):
    demo = server.demo.manifest
    projects = demo["projects"]
    page = new_page(server.url(f"/exhibitions/{demo['id']}"))
    wait_ready(page)
    wait_for(page, "viewerTest.app.viewer.scene.getObjectByName('programme-wall')")
    hall = next(r for r in demo["rooms"] if r["kind"] == "smart-city")
    # stand 2.5 m in front of the wall, facing it, and click its "climate" chip on the screen
    where = page.evaluate("""() => {
        const v = viewerTest.app.viewer;
        const wall = v.scene.getObjectByName('programme-wall');
        const x = wall.position.x + 2.5 * Math.sin(wall.rotation.y);
        const z = wall.position.z + 2.5 * Math.cos(wall.rotation.y);
        v.setPose(x, z, wall.rotation.y);
        v.rig.updateMatrixWorld(true);
        const chip = wall.children.find((c) => c.userData.annotation === 'goal:climate');
        const p = chip.getWorldPosition(chip.position.clone()).project(v.camera);
        return {wall: [wall.position.x, wall.position.z], screen: [(p.x + 1) / 2, (1 - p.y) / 2]};
    }""")
    x0, z0, x1, z1 = hall["bounds"]
    assert x0 <= where["wall"][0] <= x1 and z0 <= where["wall"][1] <= z1
    sx, sy = where["screen"]
    assert 0 < sx < 1 and 0 < sy < 1
    page.evaluate(f"viewerTest.clickAt({sx}, {sy})")
    climate = [p for p in projects if "climate" in p["goals"]]
    wait_for(page, f"viewerState.programme.shown === {len(climate)}")
    assert state(page, "viewerState.programme.goals") == ["climate"]
    assert state(page, "viewerState.selected") is None  # the wall is not an exhibit
    # the desktop list follows the wall's filter
    assert page.locator("#programme-list > li").count() == len(climate)
    assert not page.errors
