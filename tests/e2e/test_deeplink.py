"""Objects' deep links (/exhibitions/{id}/objects/{object}, a wall label's QR code) and the
object list: both put the visitor at the object's view point, facing it, with its panel open."""

from __future__ import annotations

from .conftest import TIMEOUT_MS, state, wait_for, wait_ready
from .test_xr import enter_vr

# tests/e2e/bundle_factory.py: the green bowl stands at (-2.5, 0.9, -1), its view point is
# (-2.5, 0.5) facing -Z; the distant globe (1.2 m wide at (3.5, 0, -18)) has no view point in
# the manifest, so the viewer derives one in front of it as the builder's layout would: 1.5 m.
BOWL_VIEW = (-2.5, 0.5)
GLOBE_VIEW = (3.5, -16.5)


def at(page, x: float, z: float) -> str:
    return (f"Math.abs(viewerState.viewerPos.x - ({x})) < 0.05"
            f" && Math.abs(viewerState.viewerPos.z - ({z})) < 0.05")


def faces(page, x: float, y: float, z: float) -> None:
    """The point is on screen, near the middle of the view."""
    p = page.evaluate(f"viewerTest.project({x}, {y}, {z})")
    assert p["visible"] and abs(p["x"] - 0.5) < 0.1, p


def test_a_deep_link_opens_the_viewer_at_the_object_with_its_panel(server, new_page):
    page = new_page(server.url("/exhibitions/e2e/objects/green-bowl?room=0"))
    wait_ready(page)
    wait_for(page, at(page, *BOWL_VIEW))
    assert state(page, "viewerState.viewerPos.yaw") == 0
    faces(page, -2.5, 1.15, -1)
    assert state(page, "viewerState.selected") == "green-bowl"
    assert page.is_visible("#panel")
    assert page.inner_text("#panel-title") == "Green bowl"
    assert page.get_attribute("#object-list [data-id=green-bowl]", "aria-pressed") == "true"
    assert page.evaluate("location.pathname") == "/exhibitions/e2e/objects/green-bowl"
    assert page.errors == []


def test_a_deep_link_to_an_unknown_object_is_not_found(server, new_page):
    page = new_page()
    assert page.goto(server.url("/exhibitions/e2e/objects/no-such-thing")).status == 404


def test_choosing_in_the_list_goes_to_the_view_point_and_names_it_in_the_address(
        server, new_page):
    page = new_page(server.url("/exhibitions/e2e?room=0"))
    wait_ready(page)
    page.click("#object-list [data-id=green-bowl]")
    wait_for(page, at(page, *BOWL_VIEW))
    faces(page, -2.5, 1.15, -1)
    assert page.inner_text("#panel-title") == "Green bowl"
    assert page.evaluate("location.pathname + location.search") == (
        "/exhibitions/e2e/objects/green-bowl?room=0")
    # an object without a view point in the manifest: one in front of it, facing it
    page.click("#panel .close")
    page.click("#object-list [data-id=far-globe]")
    wait_for(page, at(page, *GLOBE_VIEW))
    faces(page, 3.5, 0.6, -18)
    assert page.evaluate("location.pathname") == "/exhibitions/e2e/objects/far-globe"
    # closing the panel: the address is the exhibition's again
    page.click("#panel .close")
    wait_for(page, "location.pathname === '/exhibitions/e2e'")
    assert state(page, "viewerState.teleports.map(t => t.via)") == ["keyboard", "keyboard"]
    assert page.errors == []


def test_in_a_headset_the_jump_happens_behind_a_fade(server, new_page):
    page = new_page(server.url("/exhibitions/e2e?room=0"), quest=True)
    enter_vr(page)
    before = state(page, "viewerState.viewerPos")
    # goTo asks for the jump; it waits for the view to go black, so nothing has moved yet
    after_call = page.evaluate("""() => {
        const app = viewerTest.app;
        window.fadeAtJump = null;
        app.viewer.addEventListener('teleport', () => {
            const fade = app.xr.fade;
            window.fadeAtJump = {opacity: fade.material.opacity, visible: fade.visible};
        }, {once: true});
        viewer.goTo('green-bowl');
        return JSON.parse(JSON.stringify(viewerState.viewerPos));
    }""")
    assert after_call == before
    wait_for(page, at(page, *BOWL_VIEW), timeout=TIMEOUT_MS)
    assert page.evaluate("window.fadeAtJump") == {"opacity": 1, "visible": True}
    wait_for(page, "viewerTest.app.xr.fading === null && !viewerTest.app.xr.fade.visible")
    assert state(page, "viewerState.xrFades") == 1
    assert state(page, "viewerState.panel.vr") is True
    assert page.errors == []


def test_a_wall_labels_link_opens_the_built_demo_at_that_painting(server, demo_bundle, new_page):
    """The demo as `vrculture build` makes it, with its room: the QR code's link (from the
    labels page) lands at the view point the builder's layout chose."""
    exhibition = demo_bundle.manifest["id"]
    painting = next(o for o in demo_bundle.manifest["objects"] if o["kind"] == "painting")
    labels = new_page(server.url(f"/exhibitions/{exhibition}/labels"))
    link = labels.get_attribute(f"[data-object={painting['id']}] figure", "data-url")
    assert link == server.url(f"/exhibitions/{exhibition}/objects/{painting['id']}")
    page = new_page(link)
    wait_ready(page)
    vp = painting["placement"]["view_point"]
    wait_for(page, at(page, vp["position"][0], vp["position"][2]))
    assert abs(state(page, "viewerState.viewerPos.yaw") - vp["yaw"]) < 0.01
    wait_for(page, "viewerState.panel.open")
    assert state(page, "viewerState.panel.id") == painting["id"]
    x, _, z = painting["placement"]["position"]
    faces(page, x, 1.5, z)
    assert page.errors == []
