"""The city's programme in the demo: open it, filter by a goal, see live data arrive."""

from __future__ import annotations

import json
import time

from .conftest import TIMEOUT_MS, state, wait_ready
from .test_demo import post
from .test_desktop import serious_axe_violations


def test_programme_filters_by_goal_and_marks_live_projects(server, new_page):
    demo = server.demo.manifest
    projects = demo["projects"]
    page = new_page(server.url(f"/exhibitions/{demo['id']}"))
    wait_ready(page, first_frame=False)
    page.wait_for_function("viewerState.ws.status === 'open'", timeout=TIMEOUT_MS)

    assert page.is_hidden("#programme-body")
    page.click("#programme-toggle")
    assert page.get_attribute("#programme-toggle", "aria-expanded") == "true"
    assert page.inner_text("#programme-count") == f"{len(projects)} projects"
    assert page.locator("#programme-list > li").count() == len(projects)

    page.click(".programme-goals [data-goal=social]")
    social = [p["id"] for p in projects if "social" in p["goals"]]
    assert 0 < len(social) < len(projects)
    page.wait_for_function(f"viewerState.programme.shown === {len(social)}")
    assert page.inner_text("#programme-count") == f"{len(social)} of {len(projects)} projects"
    shown = page.eval_on_selector_all("#programme-list > li",
                                      "els => els.map(e => e.dataset.project)")
    assert shown == social
    assert page.get_attribute(".programme-goals [data-goal=social]", "aria-pressed") == "true"
    # a second goal widens the filter (any of the goals pressed)
    page.click(".programme-goals [data-goal=democratic]")
    either = [p["id"] for p in projects if {"social", "democratic"} & set(p["goals"])]
    page.wait_for_function(f"viewerState.programme.shown === {len(either)}")
    page.click(".programme-goals [data-goal=social]")
    page.click(".programme-goals [data-goal=democratic]")
    page.wait_for_function(f"viewerState.programme.shown === {len(projects)}")

    # a project without a feed never has the marker; one with a feed gets it with a reading
    no_feed = next(p for p in projects if "feed" not in p)
    assert page.locator(f"#programme-list li[data-project={no_feed['id']}] .live").count() == 0
    bins = next(p for p in projects if p.get("feed") == "bin-1")
    marker = f"#programme-list li[data-project={bins['id']}] .live"
    post(server, "bin-1", {"t": time.time(), "bin": "B1", "fill_pct": 40, "compactions": 1,
                           "emptied": False})
    page.wait_for_selector(marker, state="visible")
    assert page.inner_text(marker) == "Live data"
    assert state(page, "viewerState.feeds")["bin-1"]["fill_pct"] == 40

    # Swedish: the same panel, translated
    page.select_option("#lang", "sv")
    page.wait_for_function(f"document.querySelector('#programme-count').textContent === "
                           f"{json.dumps(f'{len(projects)} projekt')}")
    assert page.inner_text(".programme-goals [data-goal=climate]") == "Klimat"
    assert serious_axe_violations(page) == []
    assert not page.errors
