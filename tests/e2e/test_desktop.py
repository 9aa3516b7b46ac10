"""Without a headset: mouse, keyboard, screen-reader structure, self-guided tours, no WebGL."""

from __future__ import annotations

from .conftest import ROOT, TEST_HOOKS_SCRIPT, state, wait_for, wait_ready

AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def screen_point(page, x: float, y: float, z: float) -> tuple[float, float]:
    p = page.evaluate(f"viewerTest.project({x}, {y}, {z})")
    vp = page.viewport_size
    assert p["visible"], p
    return p["x"] * vp["width"], p["y"] * vp["height"]


def test_click_picks_an_object_and_the_floor_teleports(server, new_page):
    page = new_page(server.url("/exhibitions/e2e?room=0"), lang="sv-SE")
    wait_ready(page)
    # Clicked before its geometry has loaded, the vase is not there to be hit: the click lands
    # on the floor behind it and teleports (seen on a loaded machine).
    wait_for(page, "!['placeholder', undefined].includes(viewerState.levels['red-vase'])")
    page.mouse.click(*screen_point(page, 0, 1.15, -1))
    wait_for(page, "viewerState.selected === 'red-vase'")
    assert state(page, "viewerState.picks[0].via") == "mouse"
    assert page.inner_text("#panel-title") == "Röd vas"
    assert "CC BY 4.0" in page.inner_text("#panel .credit")
    page.select_option("#lang", "en")
    wait_for(page, "document.querySelector('#panel-title').textContent === 'Red vase'")
    assert state(page, "viewerState.panel") | {"lang": "en", "title": "Red vase"} == state(
        page, "viewerState.panel")
    page.mouse.click(*screen_point(page, 1.2, 0, -2.0))
    wait_for(page, "viewerState.counts.teleports === 1")
    pos = state(page, "viewerState.viewerPos")
    assert abs(pos["x"] - 1.2) < 0.1 and abs(pos["z"] + 2.0) < 0.1


def test_wasd_walks_and_a_drag_looks_around(server, new_page):
    page = new_page(server.url("/exhibitions/e2e?room=0"))
    wait_ready(page)
    page.focus("#stage canvas")
    page.keyboard.down("w")
    wait_for(page, "viewerState.viewerPos.z < 1.5")
    page.keyboard.up("w")
    yaw = state(page, "viewerState.viewerPos.yaw")
    box = page.locator("#stage canvas").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.8
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 120, cy, steps=6)
    page.mouse.up()
    wait_for(page, f"viewerState.viewerPos.yaw < {yaw} - 0.2")
    assert state(page, "viewerState.counts.teleports") == 0  # a drag is not a click


def test_keyboard_reaches_the_objects_and_panels(server, new_page):
    page = new_page(server.url("/exhibitions/e2e?room=0"))
    wait_ready(page)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.id") == "red-vase"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    wait_for(page, "viewerState.selected === 'green-bowl'")
    assert page.evaluate("document.activeElement.id") == "panel-title"
    assert page.get_attribute("#object-list [data-id=green-bowl]", "aria-pressed") == "true"
    page.keyboard.press("Escape")
    wait_for(page, "viewerState.selected === null")
    assert page.is_hidden("#panel")
    assert page.evaluate("document.activeElement.dataset.id") == "green-bowl"


def test_axe_finds_no_serious_accessibility_issue(server, new_page):
    page = new_page(server.url("/exhibitions/e2e?room=0"))
    wait_ready(page)
    page.evaluate("viewer.select('street-lamp')")  # a panel with live values and a chart
    page.wait_for_selector("#panel .live")
    page.evaluate("viewer.startTour('highlights')")
    page.wait_for_selector("#tour-bar:not([hidden])")
    assert serious_axe_violations(page) == []


def serious_axe_violations(page) -> list:
    # Evaluated through DevTools: the page's CSP (rightly) refuses an injected inline <script>.
    page.evaluate(AXE_JS.read_text() + "\n;void 0")
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_axe_is_also_content_with_the_list_page_and_the_embed(server, new_page):
    index = new_page(server.url("/"))
    index.wait_for_selector("#exhibitions a[href='/exhibitions/e2e']")
    assert serious_axe_violations(index) == []
    embed = new_page(server.url("/embed/e2e/red-vase?lang=sv"))
    wait_ready(embed)
    embed.evaluate("viewer.select('red-vase')")
    embed.wait_for_selector("#panel:not([hidden])")
    assert serious_axe_violations(embed) == []


def test_a_self_guided_tour_moves_the_visitor_and_speaks_on_request(server, new_page):
    page = new_page(server.url("/exhibitions/e2e?room=0"), lang="sv-SE")
    wait_ready(page)
    page.click("#tours button[data-tour=highlights]")
    wait_for(page, "viewerState.tour.stop === 0 && viewerState.selected === 'red-vase'")
    assert page.inner_text("#tour-bar .tour-narration") == "Här står den röda vasen."
    page.click("#tour-bar [data-action=speak]")
    wait_for(page, "viewerState.tour.spoken === 1")
    assert state(page, "viewerState.tour.spokenLang") == "sv"
    page.click("#tour-bar [data-action=next]")
    wait_for(page, "viewerState.tour.stop === 1 && viewerState.selected === 'green-bowl'")
    pos = state(page, "viewerState.viewerPos")
    assert abs(pos["x"] + 2.5) < 0.05 and abs(pos["z"] - 0.5) < 0.05
    assert state(page, "viewerState.tour.spoken") == 2  # each stop is read while speech is on


def test_without_webgl_the_list_and_panels_still_work(server, new_page):
    page = new_page()
    page.add_init_script("""(() => {
        const orig = HTMLCanvasElement.prototype.getContext;
        HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
            return /webgl/.test(kind) ? null : orig.call(this, kind, ...rest);
        };
    })()""")
    page.goto(server.url("/exhibitions/e2e?room=0"))
    wait_for(page, "window.viewerState && viewerState.ready")
    assert state(page, "viewerState.webgl") is False
    assert page.is_visible("#fatal")
    assert "WebGL" in page.inner_text("#fatal")
    page.click("#object-list [data-id=red-vase]")
    page.wait_for_selector("#panel:not([hidden])")
    assert page.inner_text("#panel-title") == "Red vase"


def test_a_phone_taps_to_select_and_to_walk(server, browser):
    ctx = browser.new_context(viewport={"width": 390, "height": 700}, has_touch=True,
                              is_mobile=True, device_scale_factor=2)
    ctx.add_init_script(TEST_HOOKS_SCRIPT)
    try:
        page = ctx.new_page()
        page.goto(server.url("/exhibitions/e2e?room=0"))
        wait_ready(page)
        page.touchscreen.tap(*screen_point(page, 0, 1.15, -1))
        wait_for(page, "viewerState.selected === 'red-vase'")
        assert state(page, "viewerState.picks[0].via") == "touch"
        page.tap("#panel .close")  # the panel covers the lower half of a phone's screen
        wait_for(page, "viewerState.selected === null")
        page.touchscreen.tap(*screen_point(page, 0.6, 0, -1.0))
        wait_for(page, "viewerState.counts.teleports === 1")
        assert state(page, "viewerState.teleports[0].via") == "touch"
    finally:
        ctx.close()


PUBLIC_API = ["endTour", "enterVR", "exitVR", "followGuide", "goTo", "lead", "nextStop",
              "previousStop", "react", "select", "setLanguage", "speak", "startTour", "teleport"]


def test_test_hooks_stay_out_of_the_public_api(server, new_page):
    visitor = new_page(server.url("/exhibitions/e2e?room=0"), test_hooks=False)
    wait_ready(visitor)
    assert visitor.evaluate("Object.keys(window.viewer).sort()") == PUBLIC_API
    assert visitor.evaluate("window.viewerTest") is None
    tester = new_page(server.url("/exhibitions/e2e?room=0"))
    wait_ready(tester)
    assert tester.evaluate("Object.keys(window.viewer).sort()") == PUBLIC_API
    assert tester.evaluate("Object.keys(window.viewerTest).sort()") == [
        "app", "clickAt", "disconnectRoom", "frameLog", "objectCentre", "project",
        "renderInfo", "sample", "unoccludedCentre"]


def test_a_kiosk_that_runs_for_weeks_keeps_its_logs_bounded(server, new_page):
    page = new_page(server.url("/exhibitions/e2e?room=0"))
    wait_ready(page)
    limit = state(page, "viewerState.logLimit")
    n = limit + 57
    page.evaluate(f"""() => {{
        for (let i = 0; i < {n}; i++) {{
            viewer.select(i % 2 ? 'red-vase' : 'green-bowl');
            viewer.teleport(i % 2 ? 1.2 : 0.6, i % 2 ? -2.0 : -1.0);
        }}
    }}""")
    s = state(page)
    assert s["counts"]["picks"] == n and s["counts"]["teleports"] == n
    assert len(s["picks"]) == limit and len(s["teleports"]) == limit
    # the newest entries stay, the oldest go
    assert s["picks"][-1]["id"] == ("red-vase" if (n - 1) % 2 else "green-bowl")
    assert s["teleports"][-1]["x"] == (1.2 if (n - 1) % 2 else 0.6)
    assert len(s["levelLoads"]) <= limit and len(s["errors"]) <= limit
