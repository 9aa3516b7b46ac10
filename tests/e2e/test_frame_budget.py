"""The frame budget of the demo without timing (issue 14): draw calls in every view, desktop and
an emulated Quest 3 (both eyes, as three counts them), and arriving levels spread over frames."""

from __future__ import annotations

import math

import pytest

from .conftest import TIMEOUT_MS, state, wait_for

DRAW_CALL_GOAL = 50
# web/js/lod.js and viewer.js: what one frame of the level queue may do, and the XR frames that
# start a session without a queue step
MESHES_PER_UPLOAD = 4
CANVAS_PIXELS_PER_STEP = 256 * 1024
SESSION_START_FRAMES = 2
VIEWPORT = (1280, 720)
INSET = 0.6  # metres inside a room's entry wall


def views(manifest: dict) -> list[tuple[str, float, float, float]]:
    """The entrance and, for each room, its entry side facing in (the demo's rooms run along
    -z from the entrance)."""
    e = manifest["entrance"]
    out = [("entrance", e["position"][0], e["position"][2], e["yaw"])]
    for room in manifest["rooms"]:
        x0, _z0, x1, z1 = room["bounds"]
        out.append((room["id"], (x0 + x1) / 2, z1 - INSET, 0.0))
    return out


def settled_demo(server, new_page, *, quest: bool):
    page = new_page(server.url(f"/exhibitions/{server.demo.manifest['id']}?room=0"),
                    quest=quest, viewport=VIEWPORT)
    wait_for(page, "window.viewerState && viewerState.allHighAt != null",
                           timeout=TIMEOUT_MS * 2)
    return page


def calls_at(page, x: float, z: float, yaw: float) -> int:
    assert page.evaluate(f"viewer.teleport({x}, {z}, {yaw})") is True
    # matrices, level choices and swaps follow the move within a few frames
    frame = state(page, "viewerState.frames")
    wait_for(page, f"viewerState.frames > {frame + 8}", timeout=TIMEOUT_MS)
    wait_for(page, "viewerTest.app.viewer.levels.swaps.length === 0", timeout=TIMEOUT_MS)
    frame = state(page, "viewerState.frames")
    wait_for(page, f"viewerState.frames > {frame + 2}", timeout=TIMEOUT_MS)
    return state(page, "viewerTest.renderInfo().calls")


@pytest.mark.parametrize("quest", [False, True], ids=["desktop", "quest3"])
def test_every_view_of_the_demo_draws_at_most_50_calls(server, new_page, quest):
    page = settled_demo(server, new_page, quest=quest)
    if quest:
        wait_for(page, "viewerState.xrSupported === true")
        assert page.evaluate("viewer.enterVR()") is True
        wait_for(page, "viewerState.inXR && viewerState.xrFrames > 10")
    counts = {name: calls_at(page, x, z, yaw) for name, x, z, yaw in views(server.demo.manifest)}
    assert all(c > 0 for c in counts.values()), counts
    assert max(counts.values()) <= DRAW_CALL_GOAL, counts
    # the static parts are drawn merged and the small repeated shapes instanced
    names = page.evaluate("viewerTest.app.viewer.scene.children.map((o) => o.name)")
    assert {"merged-static", "contact-shadows", "annotation-markers"} <= set(names)
    assert page.errors == []


def step_up_to_a_painting(page, manifest: dict) -> int:
    """Walks up to a painting, facing it, so that its sharper image streams in (a level is chosen
    by its on-screen error and texel density, and the demo's smooth objects are sharp enough at
    their low levels even up close); returns the level loads before the walk."""
    loads = state(page, "viewerState.counts.levelLoads")
    first = next(o["id"] for o in manifest["objects"]
                 if o.get("kind") == "painting" and len(o["levels"]) > 1)
    teleports = state(page, "viewerState.teleports.length")
    page.evaluate("(id) => viewer.goTo(id)", first)
    wait_for(page, f"viewerState.teleports.length > {teleports}")
    x, _, z = page.evaluate("(id) => viewerTest.objectCentre(id)", first)
    at = state(page, "viewerState.viewerPos")
    dx, dz = at["x"] - x, at["z"] - z
    scale = 0.45 / max(math.hypot(dx, dz), 1e-6)
    page.evaluate(f"viewer.teleport({x + dx * scale}, {z + dz * scale}, {math.atan2(dx, dz)})")
    wait_for(page, f"viewerState.counts.levelLoads > {loads}", timeout=TIMEOUT_MS)
    # the loaded level waits in the queue for frames of its own before it is swapped in
    wait_for(page, f"viewerTest.frameLog().reduce((n, f) => n + f[1], 0) > {loads}",
                           timeout=TIMEOUT_MS)
    return loads


def test_levels_stream_in_at_most_one_swap_and_one_upload_per_frame(server, new_page):
    page = settled_demo(server, new_page, quest=False)
    step_up_to_a_painting(page, server.demo.manifest)
    log = state(page, "viewerTest.frameLog()")
    swaps = sum(f[1] for f in log)
    # every object's lowest level and at least one sharper level came through the queue
    assert swaps >= len(server.demo.manifest["objects"]) + 1, swaps
    assert max(f[1] for f in log) == 1
    assert max(f[2] for f in log) == 1
    # and never both in one frame: a frame either uploads a texture or swaps a level in
    assert all(f[1] + f[2] <= 1 for f in log)
    assert page.errors == []


@pytest.mark.parametrize("quest", [False, True], ids=["desktop", "quest3"])
def test_no_drawn_frame_compiles_a_program_or_uploads_geometry(server, new_page, quest):
    """Programs are compiled (compileAsync) and linked, and geometry uploaded (a one-pixel draw
    in a frame of its own), before their part joins the scene, so no draw waits for the driver
    or uploads buffers: from the first frame (in XR: entered while the lowest levels still load)
    through a sharper level streaming in."""
    page = new_page(server.url(f"/exhibitions/{server.demo.manifest['id']}?room=0"),
                    quest=quest, viewport=VIEWPORT)
    if quest:
        wait_for(page, "window.viewerState && viewerState.xrSupported === true",
                               timeout=TIMEOUT_MS * 2)
        assert page.evaluate("viewer.enterVR()") is True
    wait_for(page, "window.viewerState && viewerState.allHighAt != null",
                           timeout=TIMEOUT_MS * 2)
    step_up_to_a_painting(page, server.demo.manifest)
    # a few more frames drawn with everything in
    frame = state(page, "viewerState.frames")
    wait_for(page, f"viewerState.frames > {frame + 3}", timeout=TIMEOUT_MS)
    log = state(page, "viewerTest.frameLog()")
    assert log[0][0] == 0, "the log starts at the first frame"
    drawn = [f for f in log if f[3]]
    assert len(drawn) > 3, drawn
    # never compiled by a draw (the frame's, or the queue's one-pixel upload draw) ...
    assert [f for f in log if f[5] != 0] == []
    # ... but in frames of their own, one step a frame
    assert sum(f[4] for f in log) >= 2 and max(f[4] for f in log) == 1, log
    # no geometry is first drawn (its buffers uploaded) by a drawn frame ...
    assert [f for f in drawn if f[6] != 0] == []
    # ... but by the queue, in frames that do nothing else, a few meshes a frame (each mesh's
    # first draw sets up its vertex arrays and uniforms: 19-25 at once cost 15-17 ms in XR)
    assert sum(f[7] for f in log) >= len(server.demo.manifest["objects"]) + 1, log
    assert all(f[1] + f[2] + f[4] == 0 for f in log if f[7]), log
    assert max(f[7] for f in log) <= MESHES_PER_UPLOAD, log
    # canvas textures (the VR panel, the programme wall) are read a strip a frame before their
    # upload: reading a whole canvas at once held a drawn XR frame for 10-33 ms
    assert sum(f[8] for f in log) > 0, log
    assert max(f[8] for f in log) <= CANVAS_PIXELS_PER_STEP, log
    assert all(f[2] == 1 for f in log if f[8]), log
    # ... and uploaded a strip a step too, into storage allocated once (a whole canvas in one
    # texSubImage2D held a drawn frame 6-17 ms), in steps that upload nothing else
    assert sum(f[11] for f in log) > 0, log
    assert max(f[11] for f in log) <= CANVAS_PIXELS_PER_STEP, log
    assert all(f[2] == 1 and f[8] == 0 for f in log if f[11]), log
    # what the GPU holds is the canvas, row for row (flipped as three would have)
    assert page.evaluate(CANVAS_TEXTURES_MATCH) == {"vr-panel": 0, "programme-wall": 0}
    if quest:
        assert state(page, "viewerState.inXR") is True
        assert [f for f in log if 0 <= f[9] < SESSION_START_FRAMES and step(f)] == []
        # the controllers' ray code ran before the session (Viewer.warmRays, on entering VR), so
        # the session's first casts are not its first runs (those held a drawn frame 4-14 ms)
        assert (state(page, "viewerTest.app.viewer.raysBeforeSession") or 0) > 0
        assert any(f[10] for f in log if f[9] >= 0), log
    assert page.errors == []


# For each canvas texture of the VR panel and the programme wall: how many bytes of its level 0,
# read back from the GPU, differ from its canvas (rows in WebGL's order: bottom first if flipped).
CANVAS_TEXTURES_MATCH = """() => {
  const v = viewerTest.app.viewer, r = v.renderer, gl = r.getContext();
  const out = {};
  v.scene.traverse((o) => {
    const t = o.material && !Array.isArray(o.material) ? o.material.map : null;
    const name = o.name || (o.parent ? o.parent.name : '');
    const shown = ['vr-panel', 'programme-wall'].includes(name);
    if (!t || !(t.image instanceof HTMLCanvasElement) || !shown) return;
    const { width: w, height: h } = t.image;
    const fb = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
    const texture = r.properties.get(t).__webglTexture;
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
    const gpu = new Uint8Array(w * h * 4);
    gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, gpu);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.deleteFramebuffer(fb);
    r.resetState();
    const canvas = t.image.getContext('2d').getImageData(0, 0, w, h).data;
    let differ = 0;
    for (let y = 0; y < h; y++) {
      const row = (t.flipY ? h - 1 - y : y) * w * 4;
      for (let i = 0; i < w * 4; i++) if (gpu[y * w * 4 + i] !== canvas[row + i]) differ++;
    }
    out[name] = differ;
  });
  return out;
}"""


def step(f: list) -> bool:
    """Whether the frame did a level-queue step (a swap, a texture, a compile, an upload)."""
    return f[1] + f[2] + f[4] + f[7] > 0


def test_a_vr_sessions_first_frames_do_no_queue_step(server, new_page):
    """The session's first frames already start the session (three's first XR render, the
    controllers' first rays): the level queue waits for the frames after them."""
    page = settled_demo(server, new_page, quest=True)
    wait_for(page, "viewerState.xrSupported === true")
    # work for the queue across the session's start: the whole scene prepared again a few times
    # (one step a frame: a compile step for each kind of mesh, then the swap)
    assert page.evaluate("""() => {
      const v = viewerTest.app.viewer;
      for (let i = 0; i < 6; i++) v.levels.prepare(v.scene);
      return viewer.enterVR();
    }""") is True
    wait_for(page, "viewerState.inXR && viewerState.xrFrames > 10")
    xr = [f for f in state(page, "viewerTest.frameLog()") if f[9] >= 0]
    assert [f[9] for f in xr[:SESSION_START_FRAMES]] == list(range(SESSION_START_FRAMES)), xr
    # the queue still had work when the session started (jobs leave it only by its steps), and
    # did it after the first frames
    assert any(step(f) for f in xr[SESSION_START_FRAMES:]), xr
    assert [f for f in xr[:SESSION_START_FRAMES] if step(f)] == [], xr
    assert page.errors == []


# The meshes of the headset's own parts (rig: controllers, rays, grips, vignette, fade; the
# reticle; the VR panel) that three has no program for yet.
HEADSET_PARTS_WITHOUT_PROGRAM = """() => {
  const app = viewerTest.app, r = app.viewer.renderer, out = [];
  for (const part of [app.viewer.rig, app.xr.reticle, app.vrPanel.mesh]) {
    part.traverse((o) => {
      if (!(o.isMesh || o.isLine) || !o.material.visible) return;
      if (!r.properties.get(o.material).currentProgram) out.push(o.name || o.type);
    });
  }
  return out;
}"""


def test_vr_is_offered_once_the_headsets_own_parts_are_compiled(server, new_page):
    """The headset's own parts go through the level queue ahead of the exhibition, behind the
    loading status, before the page offers VR: a session entered at once does not compile them
    in its drawn frames (7 compile steps in its frames instead of 13)."""
    page = new_page(server.url(f"/exhibitions/{server.demo.manifest['id']}?room=0"),
                    quest=True, viewport=VIEWPORT)
    wait_for(page, "window.viewerState && viewerState.xrSupported === true",
             timeout=TIMEOUT_MS * 2)
    assert page.evaluate(HEADSET_PARTS_WITHOUT_PROGRAM) == []
    assert page.errors == []


def test_a_program_that_does_not_link_is_reported(server, new_page):
    """three's own shader check (reading a new program's and its shaders' info logs on its first
    use: round trips to the GPU process inside a frame) is off; the level queue checks each new
    program's link status, which the first use already fetched, and reports one that failed."""
    page = settled_demo(server, new_page, quest=False)
    assert state(page, "viewerTest.app.viewer.renderer.debug.checkShaderErrors") is False
    page.evaluate("""async () => {
      const THREE = await import('three');
      const broken = new THREE.Mesh(new THREE.PlaneGeometry(), new THREE.ShaderMaterial({
        vertexShader: 'void main() { gl_Position = vec4(0.0); }',
        fragmentShader: 'void main() { gl_FragColor = vec4(notDeclared); }' }));
      window.__linkCheck = viewerTest.app.viewer.levels.prepare(broken).then(() => true);
    }""")
    wait_for(page, "viewerState.errors.some((e) => e.where.startsWith('shader program'))",
             timeout=TIMEOUT_MS)
    assert page.errors == []


def test_clicks_still_pick_the_demos_objects_through_the_merged_scene(server, new_page):
    page = settled_demo(server, new_page, quest=False)
    m = server.demo.manifest

    def click(o: dict) -> bool:
        p = page.evaluate("(id) => viewerTest.unoccludedCentre(id)", o["id"])
        if p is None:
            return False
        page.evaluate("viewer.select(null)")
        page.evaluate(f"viewerTest.clickAt({p['x']}, {p['y']})")
        wait_for(page, f"viewerState.selected === {o['id']!r}")
        return True

    picked = []
    for o in m["objects"] + m["smart_exhibits"]:
        # stand at its view point (its panel opens), close the panel, then click on it
        page.evaluate("(id) => viewer.goTo(id)", o["id"])
        page.evaluate("viewer.select(null)")
        frame = state(page, "viewerState.frames")
        wait_for(page, f"viewerState.frames > {frame + 3}")
        if click(o):
            picked.append(o["id"])
    # objects (levels, drawn as they are) and smart exhibits (static parts now drawn merged,
    # their own meshes only hit by rays) are still picked by a click on them
    assert {o["id"] for o in m["objects"]} <= set(picked), picked
    assert {o["id"] for o in m["smart_exhibits"]} & set(picked), picked
    # and from the entrance, every object of the first room, seen at a slant (livets-trad, an
    # openwork relief, among them: a ray through its bounding box's centre meets the wall)
    name, x, z, yaw = views(m)[0]
    assert page.evaluate(f"viewer.teleport({x}, {z}, {yaw})") is True
    page.evaluate("viewerTest.app.viewer.camera.rotation.x = 0")
    frame = state(page, "viewerState.frames")
    wait_for(page, f"viewerState.frames > {frame + 3}")
    first_room = [o for o in m["objects"] if o["placement"]["room"] == m["rooms"][0]["id"]]
    assert len(first_room) >= 3
    assert [o["id"] for o in first_room if not click(o)] == [], name
    assert page.errors == []
