"""The studio's rooms in headless Chromium: sign in, open the plan from the exhibition page,
move an object with the keyboard, save, build the private preview, open it in a new tab, and
find the object standing at its new place in the real viewer; axe-core finds no serious issue
on the plan page."""

from __future__ import annotations

import re

import pytest
import trimesh
from PIL import Image

from .conftest import wait_for, wait_ready
from .studio_session import add_curator, signed_in_page
from .test_desktop import serious_axe_violations

NAME, PASSWORD = "e2e-plan", "e2e-plan-password"
EXHIBITION = "e2e-plan"
TOML = """\
# Written by hand; the studio keeps this comment.
[exhibition]
id = "e2e-plan"
default_language = "sv"
languages = ["sv", "en"]
title = { sv = "Salar", en = "Rooms" }

[[objects]]
id = "lada"
source = "sources/lada.obj"
title = { sv = "Låda", en = "Box" }
rights = "CC0-1.0"
height_m = 0.5

[[objects]]
id = "tavla"
source = "sources/tavla.png"
title = { sv = "Tavla", en = "Painting" }
rights = "CC0-1.0"
height_m = 0.5
"""


@pytest.fixture(scope="module")
def folder(server):
    add_curator(server, NAME, PASSWORD, member_of=EXHIBITION)
    path = server.data_dir / "studio" / "exhibitions" / EXHIBITION
    (path / "sources").mkdir(parents=True)
    (path / "collection.toml").write_text(TOML, encoding="utf-8")
    trimesh.creation.box((0.5, 0.5, 0.5)).export(path / "sources" / "lada.obj")
    Image.new("RGB", (90, 60), (160, 60, 40)).save(path / "sources" / "tavla.png")
    return path


def test_move_an_object_save_and_walk_through_the_preview(server, folder, new_page):
    page = signed_in_page(server, new_page, NAME, PASSWORD, viewport=(1100, 900))
    page.goto(server.url(f"/studio/exhibitions/{EXHIBITION}"))
    page.get_by_role("link", name="Arrange the rooms and preview them").click()
    page.wait_for_url(f"**/studio/exhibitions/{EXHIBITION}/plan")
    page.wait_for_selector("[data-id='lada']")  # built on first opening, then mounted
    assert serious_axe_violations(page) == []

    start = page.evaluate(f"fetch('/studio/api/exhibitions/{EXHIBITION}/floorplan')"
                          ".then(r => r.json())")
    box = next(w for w in start["works"] if w["id"] == "lada")
    room = next(r for r in start["rooms"] if r["id"] == box["room"])
    page.locator("[data-id='lada']").focus()
    for key in ("ArrowLeft",) * 10 + ("ArrowUp",) * 5:  # 1 m west, 0.5 m north
        page.keyboard.press(key)
    assert page.evaluate("document.activeElement.dataset.id") == "lada"
    # saved a moment later (not "Changes not saved yet.", which has-text would match too)
    page.locator("#plan-status").filter(has_text=re.compile(r"^Saved\.$")).wait_for()
    saved = page.evaluate(f"fetch('/studio/api/exhibitions/{EXHIBITION}/floorplan')"
                          ".then(r => r.json())")
    moved = next(w for w in saved["works"] if w["id"] == "lada")
    half_w = room["width"] / 2 - max(box["footprint"]) / 2
    half_d = room["depth"] / 2 - max(box["footprint"]) / 2
    expected_x = max(box["placement"]["x"] - 1.0, -half_w)
    expected_z = max(box["placement"]["z"] - 0.5, -half_d)
    assert moved["fixed"]
    assert moved["placement"]["x"] == pytest.approx(expected_x, abs=0.02)
    assert moved["placement"]["z"] == pytest.approx(expected_z, abs=0.02)
    text = (folder / "collection.toml").read_text("utf-8")
    assert "# Written by hand" in text and "placement" in text

    page.get_by_role("button", name="Build the preview").click()
    link = page.get_by_role("link", name="Open the preview (new tab)")
    link.wait_for()
    preview_errors: list[str] = []  # the new tab's uncaught errors, from its first script on
    page.context.on("weberror", lambda error: preview_errors.append(str(error.error)))
    with page.context.expect_page() as opened:
        link.click()
    preview = opened.value
    preview.wait_for_url(f"**/studio/exhibitions/{EXHIBITION}/preview/")
    wait_ready(preview, first_frame=False)
    wait_for(preview, "window.viewerTest && viewerTest.objectCentre('lada')")
    centre = preview.evaluate("viewerTest.objectCentre('lada')")
    manifest = preview.evaluate(f"fetch('/studio/preview/{EXHIBITION}/exhibition.json')"
                                ".then(r => r.json())")
    bounds = next(r for r in manifest["rooms"] if r["id"] == box["room"])["bounds"]
    x0, z0, x1, z1 = bounds
    assert centre[0] == pytest.approx((x0 + x1) / 2 + expected_x, abs=0.05)
    assert centre[2] == pytest.approx((z0 + z1) / 2 + expected_z, abs=0.05)
    assert preview_errors == []
    assert page.errors == []

    # Visitors never see it: the public viewer has no such exhibition.
    visitor = new_page(server.url(f"/exhibitions/{EXHIBITION}"))
    assert "no such exhibition" in visitor.content()

    page.select_option("#ui-lang", "sv")
    page.wait_for_selector("#plan-heading:has-text('Ordna salarna')")
    assert serious_axe_violations(page) == []
