"""Comfort in a headset (IWER's Quest 3): the comfort menu and what it remembers, snap and
smooth turning with the vignette, seated mode, text size, and captions of what is read aloud."""

from __future__ import annotations

import json
import math

from .conftest import TIMEOUT_MS, state, wait_for
from .test_xr import aim_and_select, enter_vr

HAND = {"x": 0.2, "y": 1.4, "z": -0.2}


def comfort(page) -> dict:
    return page.evaluate("({...viewerTest.app.xr.comfort})")


def open_menu(page) -> None:
    """B on the right controller opens the comfort menu."""
    page.evaluate("xrDevice.controllers.right.updateButtonValue('b-button', 1)")
    wait_for(page, "viewerState.panel.vrSettings === true")
    page.evaluate("xrDevice.controllers.right.updateButtonValue('b-button', 0)")


def setting_target(page, key: str, value) -> dict:
    """Reference-space (rig-local) point of the menu button that sets key to value."""
    return page.evaluate("""([key, value]) => {
        const p = viewerTest.app.vrPanel, v = viewerTest.app.viewer;
        const b = p.buttons.find((x) => x.action.type === 'setting' && x.action.key === key
            && x.action.value === value);
        if (!b) throw new Error(`no button for ${key}=${value}`);
        const size = p.mesh.geometry.parameters.width;
        const local = p.mesh.position.clone().set(
            ((b.x + b.w / 2) / 1024 - 0.5) * size, (0.5 - (b.y + b.h / 2) / 1024) * size, 0);
        p.mesh.updateMatrixWorld(true);
        v.rig.updateMatrixWorld(true);
        const w = v.rig.worldToLocal(p.mesh.localToWorld(local));
        return {x: w.x, y: w.y, z: w.z};
    }""", [key, value])


def choose(page, key: str, value) -> None:
    target = setting_target(page, key, value)
    aim_and_select(page, "right", HAND, target, expect="panel")
    wait_for(page, f"viewerTest.app.xr.comfort[{key!r}] === {json.dumps(value)}")


def test_each_setting_changed_in_the_vr_menu_is_remembered_after_a_reload(server, new_page):
    page = new_page(server.url("/exhibitions/e2e"), quest=True)
    enter_vr(page)
    assert comfort(page) == {"turn": "snap30", "turnSpeed": 90, "vignette": True,
                             "seated": False, "seatedHeight": 0.4, "textScale": 1}
    open_menu(page)
    choose(page, "turn", "smooth")
    choose(page, "turnSpeed", 135)
    choose(page, "vignette", False)
    choose(page, "seatedHeight", 0.5)
    choose(page, "seated", True)
    choose(page, "textScale", 1.5)
    # the text size scales the in-VR panel and the desktop panels
    assert page.evaluate("viewerTest.app.vrPanel.mesh.scale.x") == 1.5
    wanted = {"turn": "smooth", "turnSpeed": 135, "vignette": False, "seated": True,
              "seatedHeight": 0.5, "textScale": 1.5}
    page.reload()
    wait_for(page, "window.viewerTest && viewerTest.app.xr")
    assert comfort(page) == wanted
    assert page.evaluate(
        "getComputedStyle(document.documentElement).getPropertyValue('--text-scale').trim()"
    ) == "1.5"
    assert page.errors == []


def test_hostile_stored_settings_fall_back_to_the_defaults(server, new_page):
    page = new_page(server.url("/exhibitions/e2e"), quest=True)
    wait_for(page, "window.viewerTest && viewerTest.app.xr")
    page.evaluate("""localStorage.setItem('vrculture.comfort', JSON.stringify({
        turn: 'spin', turnSpeed: 1e9, vignette: 'yes', seated: true, seatedHeight: 40,
        textScale: -3}))""")
    page.reload()
    wait_for(page, "window.viewerTest && viewerTest.app.xr")
    assert comfort(page) == {"turn": "snap30", "turnSpeed": 90, "vignette": True,
                             "seated": True, "seatedHeight": 0.4, "textScale": 1}
    page.evaluate("localStorage.setItem('vrculture.comfort', '{not json')")
    page.reload()
    wait_for(page, "window.viewerTest && viewerTest.app.xr")
    assert comfort(page)["seated"] is False


def test_snap_turn_rotates_by_the_set_angle(server, new_page):
    page = new_page(server.url("/exhibitions/e2e"), quest=True)
    enter_vr(page)
    page.evaluate("viewerTest.app.xr.setComfort('turn', 'snap45')")
    yaw = page.evaluate("viewerTest.app.viewer.rig.rotation.y")
    page.evaluate("xrDevice.controllers.right.updateAxes('thumbstick', 1, 0)")
    wait_for(page, "viewerState.snapTurns >= 1")
    page.evaluate("xrDevice.controllers.right.updateAxes('thumbstick', 0, 0)")
    frames = state(page, "viewerState.xrFrames")
    wait_for(page, f"viewerState.xrFrames > {frames + 5}")
    turned = page.evaluate("viewerTest.app.viewer.rig.rotation.y") - yaw
    assert math.isclose(turned, -math.pi / 4, abs_tol=1e-6)
    assert state(page, "viewerState.snapTurns") == 1


def test_smooth_turn_shows_the_vignette_while_turning_and_not_when_still(server, new_page):
    page = new_page(server.url("/exhibitions/e2e"), quest=True)
    enter_vr(page)
    page.evaluate("viewerTest.app.xr.setComfort('turn', 'smooth')")
    frames = state(page, "viewerState.xrFrames")
    wait_for(page, f"viewerState.xrFrames > {frames + 5}")
    assert page.evaluate("viewerTest.app.xr.vignette.visible") is False
    yaw = page.evaluate("viewerTest.app.viewer.rig.rotation.y")
    page.evaluate("xrDevice.controllers.right.updateAxes('thumbstick', -1, 0)")
    wait_for(page, "viewerTest.app.xr.vignette.visible"
                           " && viewerTest.app.xr.vignette.material.opacity > 0.5")
    # turning left, continuously: no snap
    wait_for(page, f"viewerTest.app.viewer.rig.rotation.y > {yaw} + 0.1")
    assert state(page, "viewerState.snapTurns") == 0
    page.evaluate("xrDevice.controllers.right.updateAxes('thumbstick', 0, 0)")
    wait_for(page, "!viewerTest.app.xr.vignette.visible")
    # with the vignette off, turning shows none
    page.evaluate("viewerTest.app.xr.setComfort('vignette', false)")
    page.evaluate("xrDevice.controllers.right.updateAxes('thumbstick', -1, 0)")
    moved = page.evaluate("viewerTest.app.viewer.rig.rotation.y")
    wait_for(page, f"viewerTest.app.viewer.rig.rotation.y > {moved} + 0.1")
    assert page.evaluate("viewerTest.app.xr.vignette.visible") is False


def test_seated_mode_raises_the_viewer_by_the_height(server, new_page):
    page = new_page(server.url("/exhibitions/e2e"), quest=True)
    enter_vr(page)
    eye = "viewerTest.app.viewer.eyePosition().y"
    standing = page.evaluate(eye)
    page.evaluate("viewerTest.app.xr.setComfort('seatedHeight', 0.6)")
    page.evaluate("viewerTest.app.xr.setComfort('seated', true)")
    wait_for(page, f"Math.abs({eye} - ({standing} + 0.6)) < 1e-6")
    # a teleport keeps the seated height
    assert page.evaluate("viewer.teleport(1, -2.5)") is True
    frames = state(page, "viewerState.xrFrames")
    wait_for(page, f"viewerState.xrFrames > {frames + 3}")
    assert math.isclose(page.evaluate(eye), standing + 0.6, abs_tol=1e-6)
    page.evaluate("viewerTest.app.xr.setComfort('seated', false)")
    wait_for(page, f"Math.abs({eye} - {standing}) < 1e-6")


def test_narration_shows_a_caption_while_spoken_and_clears_it(server, new_page):
    page = new_page(server.url("/exhibitions/e2e?room=0"), quest=True)
    enter_vr(page)
    page.evaluate("viewer.startTour('highlights')")
    wait_for(page, "viewerState.tour.stop === 0")
    assert page.evaluate("document.querySelector('#caption')") is None
    # everything the caption shows, read in the same task that starts the narration: the
    # caption lasts its reading time (2 s here), which a loaded machine can spend between calls
    shown = page.evaluate("""() => {
        viewer.speak(true);
        const panel = viewerTest.app.vrPanel, box = document.querySelector('#caption');
        return {spoken: viewerState.tour.spoken, caption: viewerState.tour.caption,
                text: box && box.textContent, live: box && box.getAttribute('aria-live'),
                vrVisible: panel.caption.visible, vrText: panel.captionText,
                headLocked: panel.caption.parent === viewerTest.app.viewer.camera};
    }""")
    spoken = "Here stands the red vase."
    assert shown == {"spoken": 1, "caption": spoken, "text": spoken, "live": "polite",
                     "vrVisible": True, "vrText": spoken, "headLocked": True}
    # headless Chromium has no voice: the caption stays for the reading time, then clears
    wait_for(page, "viewerState.tour.caption === null", timeout=TIMEOUT_MS)
    assert page.is_hidden("#caption")
    assert page.evaluate("viewerTest.app.vrPanel.caption.visible") is False
    # switching read-aloud off clears a caption at once
    page.evaluate("viewer.speak(true)")
    wait_for(page, "viewerState.tour.caption !== null")
    page.evaluate("viewer.speak(false)")
    assert state(page, "viewerState.tour.caption") is None
    assert page.errors == []


def test_the_text_size_is_chosen_on_the_desktop_too(server, new_page):
    page = new_page(server.url("/exhibitions/e2e"))
    wait_for(page, "window.viewerTest && viewerTest.app.xr")
    page.select_option("#text-size", "1.25")
    wait_for(page, "viewerTest.app.xr.comfort.textScale === 1.25")
    assert page.evaluate("viewerTest.app.vrPanel.mesh.scale.x") == 1.25
    page.reload()
    wait_for(page, "window.viewerTest && viewerTest.app.xr")
    assert page.input_value("#text-size") == "1.25"
    assert page.get_attribute("#text-size", "aria-label") == "Text size"
    page.evaluate("viewer.setLanguage('sv')")
    assert page.get_attribute("#text-size", "aria-label") == "Textstorlek"
    assert page.evaluate(
        "getComputedStyle(document.documentElement).getPropertyValue('--text-scale').trim()"
    ) == "1.25"


def test_a_tour_stop_in_a_headset_jumps_behind_a_fade(server, new_page):
    page = new_page(server.url("/exhibitions/e2e?room=0"), quest=True)
    enter_vr(page)
    page.evaluate("""() => {
        const app = viewerTest.app;
        window.fadeAtJumps = [];
        app.viewer.addEventListener('teleport', () => {
            const fade = app.xr.fade;
            window.fadeAtJumps.push({opacity: fade.material.opacity, visible: fade.visible});
        });
    }""")
    # the stop is shown at once; the jump waits for the view to go black
    moved = page.evaluate("""() => {
        const before = JSON.stringify(viewerState.viewerPos);
        const started = viewer.startTour('highlights');
        return {started, stop: viewerState.tour.stop,
                moved: JSON.stringify(viewerState.viewerPos) !== before};
    }""")
    assert moved == {"started": True, "stop": 0, "moved": False}
    wait_for(page, "Math.abs(viewerState.viewerPos.x) < 0.05"
                           " && Math.abs(viewerState.viewerPos.z - 0.5) < 0.05", timeout=TIMEOUT_MS)
    wait_for(page, "viewerTest.app.xr.fading === null")
    page.evaluate("viewer.nextStop()")
    wait_for(page, "Math.abs(viewerState.viewerPos.x + 2.5) < 0.05"
                           " && Math.abs(viewerState.viewerPos.z - 0.5) < 0.05", timeout=TIMEOUT_MS)
    wait_for(page, "viewerTest.app.xr.fading === null && !viewerTest.app.xr.fade.visible")
    assert page.evaluate("window.fadeAtJumps") == [{"opacity": 1, "visible": True}] * 2
    assert state(page, "viewerState.xrFades") == 2
    assert state(page, "viewerState.panel.vr") is True
    assert page.errors == []
