"""The studio's object editor in headless Chromium: a cone stored lying on its side is shown
from the studio's build; the curator places an annotation by clicking, sets the up axis (the
annotation moves with the object), places another from the keyboard, writes their texts and
saves. The next build's mesh has the annotation on its
surface (within a few millimetres) with a unit normal pointing out of it; axe-core finds no
serious issue on the page."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh

from vrculture.exhibition.run import BuildOptions, build
from vrculture.server.studio.publish import builds_dir

from .studio_session import add_curator, signed_in_page
from .test_desktop import serious_axe_violations

NAME, PASSWORD = "e2e-objects", "e2e-objects-password"
EXHIBITION = "e2e-object"
TOML = """\
# Written by hand; the studio keeps this comment.
[exhibition]
id = "e2e-object"
default_language = "sv"
languages = ["sv", "en"]
title = { sv = "Kon", en = "Cone" }

[[objects]]
id = "kon"
source = "sources/kon.obj"
title = { sv = "Kon" }
rights = "CC0-1.0"
up = "+X"   # wrong: the cone's axis is +Z
height_m = 0.8
"""


@pytest.fixture(scope="module")
def folder(server):
    add_curator(server, NAME, PASSWORD, member_of=EXHIBITION)
    path = server.data_dir / "studio" / "exhibitions" / EXHIBITION
    (path / "sources").mkdir(parents=True)
    (path / "collection.toml").write_text(TOML, encoding="utf-8")
    # Apex along +Z, base at z = 0; not symmetric about its middle, so a wrong frame shows.
    trimesh.creation.cone(0.3, 1.0, sections=48).export(path / "sources" / "kon.obj")
    # The studio's build (what publishing makes), converted with the wrong up axis.
    result = build(BuildOptions(collection=path, bundle=builds_dir(server.data_dir)
                                / EXHIBITION / "bundle", jobs=1, quiet=True))
    assert result.exit_code == 0, result.report
    return path


def _distance_and_normal(mesh: trimesh.Trimesh, point: list[float]) -> tuple[float, np.ndarray]:
    # Every triangle's closest point (no spatial index: a few hundred triangles).
    points = np.repeat([point], len(mesh.triangles), axis=0)
    closest = trimesh.triangles.closest_point(mesh.triangles, points)
    distances = np.linalg.norm(closest - points, axis=1)
    nearest = int(np.argmin(distances))
    return float(distances[nearest]), mesh.face_normals[nearest]


def test_set_up_and_place_an_annotation_by_clicking(server, folder, new_page, tmp_path):
    page = signed_in_page(server, new_page, NAME, PASSWORD, viewport=(1100, 900))
    page.goto(server.url(f"/studio/exhibitions/{EXHIBITION}"))
    page.get_by_role("link", name="Edit object kon: 3D view, up, size and annotations").click()
    page.wait_for_url(f"**/studio/exhibitions/{EXHIBITION}/objects/kon")
    page.wait_for_selector("#view[data-ready='true']")
    page.wait_for_selector("#obj-title-en-missing")  # the English title is flagged
    assert page.get_by_label("+X", exact=True).is_checked()

    # One annotation placed by clicking while the up axis is still wrong...
    view = page.locator("#view")
    page.get_by_role("button", name="Place an annotation").click()
    box = view.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#edit-status:has-text('note-1 placed')")
    title = page.get_by_label("Title (sv)").first
    assert title.evaluate("e => e.id") == "note-1-title-sv"  # focus went to its first field
    title.fill("Mantelytan")
    page.locator("#note-1-text-sv").fill("Slät och jämn.")
    assert page.is_visible("#note-1-title-en-missing")
    page.get_by_role("button", name="Save annotations").click()
    page.wait_for_selector("#edit-status:has-text('Saved')")

    # ...moves with the object when its up axis is set right,
    page.get_by_label("+Z", exact=True).check()  # the radio group is also reachable by keyboard
    page.get_by_role("button", name="Save up, turn and size").click()
    page.wait_for_selector("#edit-status:has-text('the annotations moved with the object')")
    text = (folder / "collection.toml").read_text("utf-8")
    assert 'up = "+Z"' in text and "# Written by hand" in text

    # and a second one is placed from the keyboard: Enter in the view, at its centre.
    page.get_by_role("button", name="Place an annotation").press("Enter")
    assert page.evaluate("document.activeElement.id") == "view"
    page.keyboard.press("Enter")
    page.wait_for_selector("#edit-status:has-text('note-2 placed')")
    page.keyboard.type("Spetsen")
    page.locator("#note-2-text-sv").fill("Mot taket.")
    assert serious_axe_violations(page) == []
    page.get_by_role("button", name="Save annotations").click()
    page.wait_for_selector("#edit-status:has-text('Saved')")
    page.wait_for_selector("#note-2-title-sv")

    # What was stored is on the surface of the mesh the next build converts.
    described = page.evaluate(
        f"fetch('/studio/api/exhibitions/{EXHIBITION}/objects/kon').then(r => r.json())")
    notes = {a["id"]: a for a in described["annotations"]}
    assert notes["note-1"]["title"] == {"sv": "Mantelytan"}
    assert notes["note-1"]["text"] == {"sv": "Slät och jämn."}
    assert notes["note-2"]["title"] == {"sv": "Spetsen"}
    for note in notes.values():
        assert abs(np.linalg.norm(note["normal"]) - 1) < 1e-3
    bundle = tmp_path / "check" / "bundle"
    result = build(BuildOptions(collection=folder, bundle=bundle, jobs=1, quiet=True,
                                compress=False, levels=("full",)))
    assert result.exit_code == 0, result.report
    manifest = json.loads((bundle / "exhibition.json").read_text("utf-8"))
    (entry,) = manifest["objects"]
    height = entry["bounds"]["max"][1] - entry["bounds"]["min"][1]
    assert height == pytest.approx(0.8, abs=1e-3)  # stands on its base now
    mesh = trimesh.load(bundle / entry["levels"][0]["url"], force="mesh")
    for note in notes.values():
        distance, face_normal = _distance_and_normal(mesh, note["position"])
        assert distance < 0.003, (note, distance)
        assert float(np.dot(face_normal, note["normal"])) > 0.9  # out of its surface
        assert 0.05 < note["position"][1] < 0.75  # on the cone's side, not its base
    assert page.errors == []

    page.select_option("#ui-lang", "sv")
    page.wait_for_selector("#annotations-heading:has-text('Anteckningar')")
    assert serious_axe_violations(page) == []


def test_set_the_presentation_from_the_object_page(server, folder, new_page):
    page = new_page(server.url("/studio/sign-in"), viewport=(1100, 900))
    page.get_by_label("Name").fill(NAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url("**/studio/")
    page.goto(server.url(f"/studio/exhibitions/{EXHIBITION}/objects/kon"))
    page.wait_for_selector("#view[data-ready='true']")
    assert page.get_by_label("Mount").input_value() == ""  # the defaults by kind and size
    page.get_by_label("Mount").select_option("vitrine")
    page.get_by_label("Light (1 as the room, 0 to 2)").fill("1.4")
    page.get_by_role("button", name="Save presentation").click()
    page.wait_for_selector("#edit-status:has-text('Saved')")
    text = (folder / "collection.toml").read_text("utf-8")
    assert 'presentation = {mount = "vitrine", light = 1.4}' in text
    # a plinth height on the floor is refused, naming the field; nothing is written
    page.get_by_label("Mount").select_option("floor")
    page.get_by_label("Plinth height in metres (empty: to bring the object to eye level)").fill(
        "0.5")
    page.get_by_role("button", name="Save presentation").click()
    page.wait_for_selector("#edit-error:has-text('plinth_height')")
    assert (folder / "collection.toml").read_text("utf-8") == text
    assert page.errors == []
