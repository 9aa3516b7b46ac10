"""The curator studio's whole flow in headless Chromium, from an empty exhibition: sign in,
create it, drop two corpus scans and a painting image, wait for their conversion, fix one
object's up axis, place an annotation by clicking, drag an object to a new place on the plan,
make a two-stop tour, publish, see the change in the public viewer in a second browser
context, then roll back from the publishing table and see the earlier version again."""

from __future__ import annotations

import base64
import re
import tomllib
from pathlib import Path

import pytest

from .conftest import wait_for, wait_ready
from .studio_session import add_curator, signed_in_page

NAME, PASSWORD = "e2e-flow", "e2e-flow-password"
EXHIBITION = "e2e-flow"
CONVERSION_MS = 180_000
# Two small scans (spot with its material and texture; a textured box) and a painting image.
DROPPED = ("spot/spot.obj", "spot/spot.mtl", "spot/spot_texture.png", "BoxTextured.glb",
           "cockatoo_photo.jpg")
OBJECTS = {"spot", "boxtextured", "cockatoo_photo"}


@pytest.fixture(scope="module")
def curator(server) -> str:
    return add_curator(server, NAME, PASSWORD)


def drop_files(page, selector: str, paths: list[Path]) -> None:
    """Drop files on an element as a drag from the desktop does: a drop event whose
    DataTransfer holds the files (Playwright cannot drag from outside the page)."""
    files = [{"name": p.name, "data": base64.b64encode(p.read_bytes()).decode()} for p in paths]
    transfer = page.evaluate_handle("""files => {
        const transfer = new DataTransfer();
        for (const { name, data } of files) {
          const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
          transfer.items.add(new File([bytes], name));
        }
        return transfer;
    }""", files)
    page.dispatch_event(selector, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def public_manifest(page) -> dict:
    return page.evaluate(f"fetch('/api/exhibitions/{EXHIBITION}', {{cache: 'no-store'}})"
                         ".then(r => r.json())")


def test_the_whole_flow_from_an_empty_exhibition(server, curator, new_page, corpus: Path):
    folder = server.data_dir / "studio" / "exhibitions" / EXHIBITION
    toml = folder / "collection.toml"

    # Sign in and create the exhibition.
    page = signed_in_page(server, new_page, NAME, PASSWORD, viewport=(1100, 900))
    page.get_by_label("Id (a-z, 0-9, - and _)").fill(EXHIBITION)
    page.get_by_label("Title (sv)").fill("Hela flödet")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(f"**/studio/exhibitions/{EXHIBITION}")
    page.wait_for_selector("#exhibition-heading:has-text('Hela flödet')")
    assert "[[objects]]" not in toml.read_text("utf-8")

    # Drop two scans and a painting image on the page's drop zone; each converts.
    drop_files(page, "#uploads .studio-drop", [corpus / name for name in DROPPED])
    for object_id in sorted(OBJECTS):
        done = page.locator(f".studio-object[data-object='{object_id}'][data-state=done]")
        done.wait_for(timeout=CONVERSION_MS)
        assert "triangles" in done.inner_text()
    assert page.locator(".studio-object[data-object=spot_texture]").count() == 0
    entered = {o["id"] for o in tomllib.loads(toml.read_text("utf-8"))["objects"]}
    assert entered == OBJECTS
    page.reload()
    for object_id in OBJECTS:
        page.get_by_role("link", name=f"Edit object {object_id}: 3D view, up, size and "
                         "annotations").wait_for()

    # A first version for visitors: what the roll back returns to.
    page.get_by_role("button", name="Publish").click()
    page.wait_for_selector("#publish-status:has-text('Published version')")
    first = re.search(r"Published version (\w+)", page.inner_text("#publish-status"))
    assert first is not None
    first_version = first.group(1)

    # The box's up axis.
    page.get_by_role("link", name="Edit object boxtextured: 3D view, up, size and "
                     "annotations").click()
    page.wait_for_url(f"**/studio/exhibitions/{EXHIBITION}/objects/boxtextured")
    page.wait_for_selector("#view[data-ready='true']")
    assert not page.get_by_label("+Z", exact=True).is_checked()
    page.get_by_label("+Z", exact=True).check()
    page.get_by_role("button", name="Save up, turn and size").click()
    page.wait_for_selector("#edit-status:has-text('Saved')")
    box_entry = next(o for o in tomllib.loads(toml.read_text("utf-8"))["objects"]
                     if o["id"] == "boxtextured")
    assert box_entry["up"] == "+Z"

    # An annotation on the cow, placed by clicking in its view.
    page.goto(server.url(f"/studio/exhibitions/{EXHIBITION}/objects/spot"))
    page.wait_for_selector("#view[data-ready='true']")
    page.get_by_role("button", name="Place an annotation").click()
    view = page.locator("#view").bounding_box()
    assert view is not None
    page.mouse.click(view["x"] + view["width"] / 2, view["y"] + view["height"] / 2)
    page.wait_for_selector("#edit-status:has-text('note-1 placed')")
    page.locator("#note-1-title-sv").fill("Kons flank")
    page.locator("#note-1-text-sv").fill("Målad för hand.")
    page.get_by_role("button", name="Save annotations").click()
    page.wait_for_selector("#edit-status:has-text('Saved')")
    spot_entry = next(o for o in tomllib.loads(toml.read_text("utf-8"))["objects"]
                      if o["id"] == "spot")
    assert spot_entry["annotations"][0]["title"] == {"sv": "Kons flank"}

    # The cow dragged to a new place on the plan.
    page.goto(server.url(f"/studio/exhibitions/{EXHIBITION}"))
    page.get_by_role("link", name="Arrange the rooms and preview them").click()
    page.wait_for_url(f"**/studio/exhibitions/{EXHIBITION}/plan")
    cow = page.locator("[data-id='spot']")
    cow.wait_for()
    floorplan = f"fetch('/studio/api/exhibitions/{EXHIBITION}/floorplan').then(r => r.json())"
    before = next(w for w in page.evaluate(floorplan)["works"] if w["id"] == "spot")
    handle = cow.bounding_box()
    assert handle is not None
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 30, y + 20, steps=5)
    page.mouse.move(x + 60, y + 40, steps=5)
    page.mouse.up()
    page.locator("#plan-status").filter(has_text=re.compile(r"^Saved\.$")).wait_for()
    after = next(w for w in page.evaluate(floorplan)["works"] if w["id"] == "spot")
    assert after["fixed"]
    moved_by = (after["placement"]["x"] - before["placement"]["x"],
                after["placement"]["z"] - before["placement"]["z"])
    assert moved_by[0] > 0.1 and moved_by[1] > 0.1, (before, after)

    # A two-stop tour: the cow, then the painting.
    page.goto(server.url(f"/studio/exhibitions/{EXHIBITION}"))
    page.wait_for_selector("#tours-heading")
    page.get_by_label("Tour id").fill("highlights")
    page.get_by_role("button", name="Make tour").click()
    page.get_by_label("Name of the tour (sv)").fill("Höjdpunkter")
    add = page.locator("#tour-highlights-add-stop")
    add.select_option("spot")
    page.get_by_role("button", name="Add stop").click()
    page.locator("#tour-highlights-stop-0-narration-sv").fill("Kon.")
    add.select_option("cockatoo_photo")
    page.get_by_role("button", name="Add stop").click()
    page.locator("#tour-highlights-stop-1-narration-sv").fill("Kakaduan.")
    page.get_by_role("button", name="Save tour").click()
    page.wait_for_selector("#tours-status:has-text('Tour saved')")
    [tour] = tomllib.loads(toml.read_text("utf-8"))["tours"]
    assert [s["object"] for s in tour["stops"]] == ["spot", "cockatoo_photo"]

    # Publish; a visitor (a second browser context) sees the changes.
    page.get_by_role("button", name="Publish").click()
    page.wait_for_selector(f"#publish-status:has-text('Published version'):not("
                           f":has-text('{first_version}'))")
    visitor = new_page(server.url("/"))
    # The server swaps the new version in at its next poll of the data folder.
    wait_for(visitor,
        f"fetch('/api/exhibitions/{EXHIBITION}', {{cache: 'no-store'}}).then(r => r.json())"
        ".then(m => (m.tours || []).length === 1)")
    manifest = public_manifest(visitor)
    assert [s["object"] for s in manifest["tours"][0]["stops"]] == ["spot", "cockatoo_photo"]
    spot = next(o for o in manifest["objects"] if o["id"] == "spot")
    assert [a["title"]["sv"] for a in spot["annotations"]] == ["Kons flank"]
    visitor.goto(server.url(f"/exhibitions/{EXHIBITION}"))
    assert_spot_stands_where_placed(visitor, manifest, after)

    # Roll back from the publishing table: visitors see the first version again.
    page.get_by_role("button", name=f"Roll back to {first_version}").click()
    page.wait_for_selector(f"#publish-status:has-text('Visitors now see version {first_version}')")
    page.wait_for_selector(f"#versions-table tbody tr:has-text('{first_version}')"
                           ":has-text('shown to visitors')")
    wait_for(visitor,
        f"fetch('/api/exhibitions/{EXHIBITION}', {{cache: 'no-store'}}).then(r => r.json())"
        ".then(m => (m.tours || []).length === 0)")
    manifest = public_manifest(visitor)
    spot = next(o for o in manifest["objects"] if o["id"] == "spot")
    assert not spot.get("annotations")
    visitor.reload()
    assert_spot_stands_where_placed(visitor, manifest, before)
    assert page.errors == []
    assert visitor.errors == []


def assert_spot_stands_where_placed(visitor, manifest: dict, placed: dict) -> None:
    """The visitor's freshly loaded viewer draws spot at `placed` (its room and placement)."""
    wait_ready(visitor, first_frame=False)
    wait_for(visitor, "window.viewerTest && viewerTest.objectCentre('spot')")
    centre = visitor.evaluate("viewerTest.objectCentre('spot')")
    room = next(r for r in manifest["rooms"] if r["id"] == placed["room"])
    x0, z0, x1, z1 = room["bounds"]
    assert centre[0] == pytest.approx((x0 + x1) / 2 + placed["placement"]["x"], abs=0.05)
    assert centre[2] == pytest.approx((z0 + z1) / 2 + placed["placement"]["z"], abs=0.05)
