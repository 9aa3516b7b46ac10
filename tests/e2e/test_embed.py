"""Embedding: the iframe pages, and the custom element on a museum page of another origin."""

from __future__ import annotations

from .conftest import TIMEOUT_MS, state, wait_for, wait_ready


def museum_page(server, body: str) -> str:
    """A museum's page (127.0.0.1, its own port) embedding the viewer served from localhost."""
    viewer = server.other_origin
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Museum</title>
      <link rel="icon" href="data:,">
      <script src="{viewer}/vrculture-embed.js"></script></head>
      <body><h1>Our collection</h1>{body.replace("VIEWER", viewer)}
      <script>
        window.events = [];
        for (const el of document.querySelectorAll('vrculture-exhibit')) {{
          for (const type of ['load', 'error', 'select']) {{
            el.addEventListener(type, (e) =>
              window.events.push({{type, id: el.id, detail: e.detail}}));
          }}
        }}
      </script></body></html>"""
    path = f"/museum-{len(server.museum_pages)}.html"
    server.museum_pages[path] = html
    return server.museum_url(path)


def open_museum(new_page, server, body: str):
    return new_page(museum_page(server, body), quest=True)


def embed_frame(page, path_part: str):
    wait_for(page,
        "document.querySelector('vrculture-exhibit').shadowRoot.querySelector('iframe')")
    for _ in range(2):
        frames = [f for f in page.frames if path_part in f.url]
        if frames:
            return frames[0]
        page.wait_for_event("framenavigated")
    raise AssertionError(f"no frame with {path_part}")


def test_custom_element_embeds_an_object_cross_origin_and_fires_load(server, new_page):
    page = open_museum(new_page, server, """<vrculture-exhibit id="vase"
        src="VIEWER/exhibitions/e2e" object="red-vase" lang="sv"
        title="Röd vas i 3D"></vrculture-exhibit>""")
    wait_for(page, "events.some(e => e.type === 'load')", timeout=TIMEOUT_MS)
    load = page.evaluate("events.find(e => e.type === 'load')")
    assert load["detail"] == {"exhibition": "e2e", "object": "red-vase"}
    iframe = page.evaluate("""(() => {
        const f = document.querySelector('vrculture-exhibit').shadowRoot.querySelector('iframe');
        return {src: f.src, allow: f.getAttribute('allow'), title: f.title};
    })()""")
    assert iframe["src"] == f"{server.other_origin}/embed/e2e/red-vase?lang=sv"
    assert iframe["allow"] == "xr-spatial-tracking; fullscreen"
    frame = embed_frame(page, "/embed/e2e/red-vase")
    # the permission policy really reaches the cross-origin frame
    assert frame.evaluate("document.featurePolicy.allowsFeature('xr-spatial-tracking')") is True
    wait_for(frame, "viewerState.firstFrameAt != null", timeout=TIMEOUT_MS)
    s = state(frame)
    assert s["mode"] == "turntable" and s["language"] == "sv"
    assert set(s["levels"]) == {"red-vase"}  # only the one object loads
    assert s["ws"]["status"] == "off"  # a single-object embed never joins a room
    # the turntable frames the object: red fills the middle of the view
    red = frame.evaluate("viewerTest.sample(0.5, 0.5)")
    assert red[0] > 2 * red[1] and red[0] > 2 * red[2], red
    # the museum page drives the viewer over postMessage and hears back
    page.evaluate("document.querySelector('vrculture-exhibit').select('red-vase')")
    wait_for(page,
        "events.some(e => e.type === 'select' && e.detail.object === 'red-vase')")
    wait_for(frame, "viewerState.panel.open && viewerState.panel.title === 'Röd vas'")
    # cross-site storage may be denied; the viewer never depends on it
    assert [e for e in s["errors"] if "localStorage" in e["message"]] == []


def test_whole_exhibition_embed_starts_a_tour_on_request_and_joins_no_room(server, new_page):
    page = open_museum(new_page, server, """<vrculture-exhibit id="all"
        src="VIEWER/embed/e2e" lang="en"></vrculture-exhibit>""")
    wait_for(page, "events.some(e => e.type === 'load')", timeout=TIMEOUT_MS)
    frame = embed_frame(page, "/embed/e2e")
    wait_ready(frame)
    assert state(frame, "viewerState.mode") == "embed"
    assert state(frame, "viewerState.ws.status") == "off"
    # the embed's object list starts folded and opens from its button
    assert frame.get_attribute("#objects-toggle", "aria-expanded") == "false"
    frame.click("#objects-toggle")
    frame.click("#object-list [data-id=green-bowl]")
    wait_for(frame, "viewerState.panel.open && viewerState.panel.title === 'Green bowl'")
    page.evaluate("document.querySelector('vrculture-exhibit').startTour('highlights')")
    wait_for(frame, "viewerState.tour.id === 'highlights' && viewerState.tour.stop === 0")
    wait_for(frame, "Math.abs(viewerState.viewerPos.z - 0.5) < 0.05")
    # an emulated headset in the embedded frame enters VR too (the iframe is allowed to)
    wait_for(frame, "viewerState.xrSupported === true")
    assert frame.evaluate("viewer.enterVR()") is True
    wait_for(frame, "viewerState.xrFrames > 3", timeout=TIMEOUT_MS)


def test_custom_element_reports_an_error_for_a_bad_source(server, new_page):
    page = open_museum(new_page, server, """<vrculture-exhibit id="bad"
        src="VIEWER/somewhere/else"></vrculture-exhibit>""")
    wait_for(page, "events.some(e => e.type === 'error')")
    assert "src must point at" in page.evaluate("events[0].detail.message")


def test_embed_page_of_an_unknown_object_is_not_found(server, new_page):
    page = new_page()
    response = page.goto(server.url("/embed/e2e/no-such-object"))
    assert response.status == 404


EYE_SAMPLES = """async (id) => {
    // the object's centre as each eye sees it, read from that eye's half of the XR frame
    const v = viewerTest.app.viewer;
    const gl = v.renderer.getContext();
    const c = v.objectCentre(id);
    const out = [];
    for (const cam of v.renderer.xr.getCamera().cameras) {
        const p = c.clone().project(cam);
        const vp = cam.viewport;
        const x = (vp.x + (p.x + 1) / 2 * vp.z) / gl.drawingBufferWidth;
        const y = 1 - (vp.y + (p.y + 1) / 2 * vp.w) / gl.drawingBufferHeight;
        out.push({x, rgba: await v.sample(x, y)});
    }
    return out;
}"""


def test_the_one_object_embed_enters_vr_with_the_object_before_the_visitor(server, new_page):
    page = new_page(server.url("/embed/e2e/red-vase"), quest=True)
    wait_ready(page)
    wait_for(page, "viewerState.xrSupported === true")
    assert page.is_visible("#enter-vr")
    page.click("#enter-vr")
    wait_for(page, "viewerState.inXR && viewerState.xrFrames > 10"
                           " && viewerState.turntable && viewerState.turntable.vr",
                           timeout=TIMEOUT_MS)
    # a comfortable place: the object's centre at chest height, about an arm's length ahead
    centre = page.evaluate("viewerTest.objectCentre('red-vase')")
    head = state(page, "viewerState.viewerPos")
    assert 1.1 <= centre[1] <= 1.3, centre
    ahead = ((centre[0] - head["x"]) ** 2 + (centre[2] - head["z"]) ** 2) ** 0.5
    assert 0.7 <= ahead <= 1.5, (centre, head)
    # both eyes draw it: red where each eye sees the object's centre, one sample per half
    eyes = page.evaluate(EYE_SAMPLES, "red-vase")
    assert len(eyes) == 2 and eyes[0]["x"] < 0.5 < eyes[1]["x"], eyes
    for eye in eyes:
        r, g, b, _ = eye["rgba"]
        assert r > 2 * g and r > 2 * b and r > 60, eyes

    # the thumbstick turns the object (against its own slow turn), not the visitor
    yaw = head["yaw"]
    spin = state(page, "viewerState.turntable.spin")
    page.evaluate("xrDevice.controllers.right.updateAxes('thumbstick', -1, 0)")
    wait_for(page, f"viewerState.turntable.spin < {spin - 0.5}", timeout=TIMEOUT_MS)
    page.evaluate("xrDevice.controllers.right.updateAxes('thumbstick', 0, 0)")
    assert state(page, "viewerState.snapTurns") == 0
    assert state(page, "viewerState.viewerPos.yaw") == yaw

    # grabbing it: squeeze beside the object and move the hand a quarter round it (from its
    # right to its front), and it turns with the hand (its own slow turn pauses meanwhile)
    rig_z = state(page, "viewerTest.app.viewer.rig.position.z")
    hand_at = """async ([x, z]) => { await xrDevice.remote.dispatch('set_transform',
        {device: 'controller-right', position: {x, y: 1.2, z}}); }"""
    page.evaluate(hand_at, [0.3, -rig_z])
    page.evaluate("xrDevice.controllers.right.updateButtonValue('squeeze', 1)")
    frames = state(page, "viewerState.xrFrames")
    wait_for(page, f"viewerState.xrFrames > {frames + 3}")
    spin = state(page, "viewerState.turntable.spin")
    page.evaluate(hand_at, [0.0, 0.3 - rig_z])
    wait_for(page, f"viewerState.turntable.spin < {spin - 1.2}", timeout=TIMEOUT_MS)
    page.evaluate("xrDevice.controllers.right.updateButtonValue('squeeze', 0)")

    # back on the page the object is framed for the desktop again
    page.evaluate("viewer.exitVR()")
    wait_for(page, "!viewerState.inXR && viewerState.turntable.vr === false")
    red = page.evaluate("viewerTest.sample(0.5, 0.5)")
    assert red[0] > 2 * red[1] and red[0] > 2 * red[2], red
    assert page.errors == []
