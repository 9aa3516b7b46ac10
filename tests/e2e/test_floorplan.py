"""The studio's floor plan editor (web/studio/floorplan.js) in headless Chromium: a work dragged
with the mouse or moved with the keyboard lands in the onChange model, a painting dropped in the
middle of a room snaps to the nearest wall, axe finds no serious issue; and the model, written
back into collection.toml (comments kept), builds with the work where it was dropped."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from vrculture.cli import main
from vrculture.exhibition.collection import load_collection
from vrculture.exhibition.floorplan import apply_floor_plan, floor_plan_model

from .conftest import ROOT, TIMEOUT_MS, wait_for
from .test_desktop import serious_axe_violations

ORIGIN = "http://studio.test"
STUDIO = ROOT / "web" / "studio"
PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Floor plan</title>
<link rel="stylesheet" href="/studio/floorplan.css"></head>
<body><main><h1>Floor plan</h1><div id="plan"></div></main>
<script type="module">
import {{ mountFloorPlan }} from '/studio/floorplan.js';
window.changes = [];
window.plan = mountFloorPlan(document.getElementById('plan'), {{
  layout: window.initialModel, language: document.documentElement.lang,
  onChange: (model) => window.changes.push(model) }});
</script></body></html>
"""
TOML = """\
# A two-work collection for the floor plan (this comment must survive)
[exhibition]
id = "plan"
default_language = "sv"
languages = ["sv", "en"]
title = { sv = "Plan", en = "Plan" }

[[objects]]
id = "klot"  # the box
source = "src/klot.obj"
title = { sv = "Låda", en = "Box" }
rights = "CC0-1.0"
height_m = 0.4

[[objects]]
id = "tavla"
source = "src/tavla.png"
title = { sv = "Tavla", en = "Painting" }
rights = "CC0-1.0"
height_m = 0.5
"""


def build(folder: Path, bundle: Path) -> dict:
    assert main(["build", str(folder), "-o", str(bundle), "--quiet", "--levels", "low"]) == 0
    return json.loads((bundle / "exhibition.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("plan") / "collection"
    (folder / "src").mkdir(parents=True)
    trimesh.creation.box((0.4, 0.4, 0.4)).export(folder / "src" / "klot.obj")
    pixels = (np.random.default_rng(1).random((20, 30, 3)) * 255).astype(np.uint8)
    Image.fromarray(pixels).resize((300, 200)).save(folder / "src" / "tavla.png")
    (folder / "collection.toml").write_text(TOML, "utf-8")
    manifest = build(folder, folder.parent / "first")
    model = floor_plan_model(load_collection(folder)[0], manifest)
    return folder, model


@pytest.fixture
def plan_page(browser, collection):
    contexts = []

    def open_page(lang: str = "en"):
        ctx = browser.new_context(viewport={"width": 1100, "height": 700})
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        ctx.add_init_script(f"window.initialModel = {json.dumps(collection[1])};")

        def serve(route) -> None:
            path = route.request.url[len(ORIGIN):].split("?")[0]
            if path == "/plan.html":
                route.fulfill(body=PAGE.format(lang=lang), content_type="text/html")
            elif path in ("/studio/floorplan.js", "/studio/floorplan.css"):
                kind = "text/javascript" if path.endswith(".js") else "text/css"
                route.fulfill(body=(STUDIO / path.rsplit("/", 1)[1]).read_text("utf-8"),
                              content_type=kind)
            else:
                route.fulfill(status=404, body="")

        ctx.route(f"{ORIGIN}/**", serve)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{ORIGIN}/plan.html")
        page.wait_for_selector(".fp-item[data-id=klot]")
        page.errors = errors
        return page

    yield open_page
    for ctx in contexts:
        ctx.close()


def screen_point(page, x: float, z: float) -> tuple[float, float]:
    """Where the room-frame point (x, z) is on the screen."""
    return tuple(page.evaluate(
        """([x, z]) => { const m = document.querySelector('svg.fp-plan').getScreenCTM();
        const p = new DOMPoint(x, z).matrixTransform(m); return [p.x, p.y]; }""", [x, z]))


def drag(page, work: str, x: float, z: float) -> None:
    box = page.locator(f".fp-item[data-id={work}] .fp-footprint").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    tx, ty = screen_point(page, x, z)
    page.mouse.move(tx, ty, steps=8)
    page.mouse.up()


def last_work(page, work: str) -> dict:
    wait_for(page, "window.changes.length > 0")
    model = page.evaluate("window.changes[window.changes.length - 1]")
    return next(w for w in model["works"] if w["id"] == work)


def test_an_object_dragged_with_the_mouse_builds_where_it_was_dropped(plan_page, collection,
                                                                     tmp_path: Path) -> None:
    page = plan_page()
    drag(page, "klot", 1.0, -1.5)
    klot = last_work(page, "klot")
    assert klot["fixed"] is True
    assert klot["placement"]["x"] == pytest.approx(1.0, abs=0.03)
    assert klot["placement"]["z"] == pytest.approx(-1.5, abs=0.03)
    assert "x 1" in page.text_content(".fp-live")
    model = page.evaluate("window.changes[window.changes.length - 1]")
    assert page.errors == []

    folder, _ = collection
    text = apply_floor_plan((folder / "collection.toml").read_text("utf-8"), model)
    assert "# A two-work collection for the floor plan (this comment must survive)" in text
    assert 'id = "klot"  # the box' in text
    work = tmp_path / "collection"
    (work / "src").mkdir(parents=True)
    for name in ("klot.obj", "tavla.png"):
        (work / "src" / name).write_bytes((folder / "src" / name).read_bytes())
    (work / "collection.toml").write_text(text, "utf-8")
    manifest = build(work, tmp_path / "bundle")
    [room] = manifest["rooms"]
    x0, z0, x1, z1 = room["bounds"]
    placed = next(o for o in manifest["objects"] if o["id"] == "klot")["placement"]
    assert placed["position"][0] == pytest.approx((x0 + x1) / 2 + klot["placement"]["x"])
    assert placed["position"][2] == pytest.approx((z0 + z1) / 2 + klot["placement"]["z"])


def test_a_work_moved_with_the_keyboard(plan_page) -> None:
    page = plan_page("sv")
    start = next(w for w in page.evaluate("window.initialModel.works") if w["id"] == "klot")
    for _ in range(40):  # tab to the work
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.id") == "klot":
            break
    assert page.evaluate("document.activeElement.dataset.id") == "klot"
    for key in ("ArrowRight", "ArrowRight", "ArrowRight", "Shift+ArrowDown", "r"):
        page.keyboard.press(key)
    klot = last_work(page, "klot")
    assert page.evaluate("window.changes.length") == 5
    x0, z0 = start["placement"]["x"], start["placement"]["z"]
    room = page.evaluate("window.initialModel.rooms[0]")
    half = room["width"] / 2 - max(start["footprint"]) / 2
    assert klot["placement"]["x"] == pytest.approx(min(x0 + 0.3, half), abs=1e-6)
    assert klot["placement"]["z"] == pytest.approx(z0 + 0.01, abs=1e-6)
    assert klot["placement"]["facing"] == pytest.approx((start["placement"]["facing"] + 15) % 360)
    assert "vänt" in page.text_content(".fp-live")  # announced, in Swedish
    assert page.evaluate("document.activeElement.dataset.id") == "klot"  # focus stays
    assert page.errors == []


def test_a_painting_dropped_in_the_middle_snaps_to_the_nearest_wall(plan_page) -> None:
    page = plan_page()
    room = page.evaluate("window.initialModel.rooms[0]")
    hw, hd = room["width"] / 2, room["depth"] / 2
    start = next(w for w in page.evaluate("window.initialModel.works") if w["id"] == "tavla")
    # well inside the room, nearer the other long wall than the painting's own
    other, side = ("west", -1) if start["placement"]["wall"] == "east" else ("east", 1)
    x, z = side * hw * 0.3, -hd * 0.1
    drag(page, "tavla", x, z)
    tavla = last_work(page, "tavla")
    assert tavla["fixed"] and tavla["placement"]["wall"] == other
    assert tavla["placement"]["along"] == pytest.approx(z, abs=0.03)
    rect = page.locator(".fp-item[data-id=tavla] .fp-footprint")
    left = float(rect.get_attribute("x"))
    edge = left + float(rect.get_attribute("width")) if side > 0 else left
    assert math.isclose(edge, side * hw, abs_tol=1e-6)  # drawn flat against the wall
    # dropped near the far end, it hangs on the north wall, its middle where it was dropped
    drag(page, "tavla", -hw * 0.5, -hd * 0.85)
    tavla = last_work(page, "tavla")
    assert tavla["placement"]["wall"] == "north"
    assert tavla["placement"]["along"] == pytest.approx(-hw * 0.5, abs=0.03)
    # the wall can also be chosen by name, from the keyboard
    page.select_option(".fp-wall-select", "south")
    assert last_work(page, "tavla")["placement"]["wall"] == "south"
    assert page.errors == []


def test_rooms_are_added_resized_and_ordered(plan_page) -> None:
    page = plan_page()
    page.click(".fp-add-room")
    model = page.evaluate("window.changes[window.changes.length - 1]")
    assert [r["id"] for r in model["rooms"]][-1] == "sal-2" and model["rooms"][-1]["sized"]
    page.focus(".fp-handle-width")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("window.changes.at(-1).rooms.at(-1).width") == pytest.approx(8.2)
    page.fill(".fp-depth", "12.5")
    page.press(".fp-depth", "Enter")
    wait_for(page, "window.changes.at(-1).rooms.at(-1).depth === 12.5")
    page.click(".fp-room-list li:last-child .fp-earlier")
    assert [r["id"] for r in page.evaluate("window.changes.at(-1).rooms")] == ["sal-2", "gallery"]
    assert "room 1 of 2" in page.text_content(".fp-live")
    assert page.errors == []


def test_axe_finds_no_serious_issue_on_the_floor_plan(plan_page) -> None:
    page = plan_page()
    page.locator(".fp-item[data-id=tavla]").focus()
    page.wait_for_selector(".fp-wall-select")
    assert serious_axe_violations(page) == []
