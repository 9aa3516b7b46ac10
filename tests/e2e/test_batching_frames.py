"""The paintings' frames drawn as one call (web/js/batching.js `SlottedProxy`, issue 14's frame
budget): every frame stays in the scene graph for picking and bounds, a proxy draws them all, and
it follows a painting's level swaps and moves."""

from __future__ import annotations

from .conftest import TIMEOUT_MS, state, wait_for

VIEWPORT = (1280, 720)
INSET = 0.6  # metres inside a room's entry wall

# For a painting: whether the proxy's range holds its shown level's frame, in world space.
FRAME_IN_PROXY = """(id) => {
  const v = viewerTest.app.viewer;
  const holder = v.pickables.find((g) => g.userData.selectId === id);
  const slot = v.frames.byKey.get(holder);
  const meshes = [];
  holder.traverse((o) => { if (o.isMesh && o.material.name === 'frame_wood') meshes.push(o); });
  const merged = v.frames.mesh.geometry.attributes.position;
  const a = holder.position.clone();
  const b = holder.position.clone();
  let at = slot.vertexStart;
  let worst = 0;
  for (const m of meshes) {
    m.updateWorldMatrix(true, false);
    const p = m.geometry.attributes.position;
    for (let i = 0; i < p.count; i++) {
      a.fromBufferAttribute(p, i).applyMatrix4(m.matrixWorld);
      worst = Math.max(worst, a.distanceTo(b.fromBufferAttribute(merged, at + i)));
    }
    at += p.count;
  }
  return {
    frames: meshes.length,
    followed: slot.meshes.length === meshes.length && meshes.every((m, i) => slot.meshes[i] === m),
    hidden: meshes.every((m) => !m.material.visible),
    drawn: slot.drawn, worst, level: viewerState.levels[id],
  };
}"""


def paintings(manifest: dict) -> list[dict]:
    return [o for o in manifest["objects"] if o.get("kind") == "painting"]


def open_demo(server, new_page, query: str = ""):
    page = new_page(server.url(f"/exhibitions/{server.demo.manifest['id']}?room=0{query}"),
                    viewport=VIEWPORT)
    wait_for(page, "window.viewerState && viewerState.allHighAt != null", timeout=TIMEOUT_MS * 2)
    return page


def frames_later(page, n: int = 3) -> None:
    frame = state(page, "viewerState.frames")
    wait_for(page, f"viewerState.frames > {frame + n}", timeout=TIMEOUT_MS)


def calls_now(page) -> int:
    frames_later(page)
    return state(page, "viewerTest.renderInfo().calls")


def stand_in_room(page, manifest: dict, room_id: str) -> None:
    """At the room's entry side, facing in (the demo's rooms run along -z), levels settled."""
    x0, _z0, x1, z1 = next(r for r in manifest["rooms"] if r["id"] == room_id)["bounds"]
    assert page.evaluate(f"viewer.teleport({(x0 + x1) / 2}, {z1 - INSET}, 0)") is True
    frames_later(page, 8)
    wait_for(page, "viewerTest.app.viewer.levels.swaps.length === 0", timeout=TIMEOUT_MS)


def test_every_paintings_frame_is_drawn_by_one_call(server, new_page):
    m = server.demo.manifest
    framed = paintings(m)
    assert len(framed) >= 2, "the demo hangs paintings to batch"
    page = open_demo(server, new_page)
    names = page.evaluate("viewerTest.app.viewer.scene.children.map((o) => o.name)")
    assert "painting-frames" in names
    for p in framed:
        f = page.evaluate(FRAME_IN_PROXY, p["id"])
        assert f["frames"] >= 1 and f["followed"] and f["hidden"] and f["drawn"], (p["id"], f)
        assert f["worst"] < 1e-5, (p["id"], f)
    room = framed[0]["placement"]["room"]
    assert all(p["placement"]["room"] == room for p in framed)
    saved = {}
    for r in m["rooms"]:
        stand_in_room(page, m, r["id"])
        batched = calls_now(page)
        separate = calls_drawing_frames_separately(page)
        assert calls_now(page) == batched
        saved[r["id"]] = separate - batched
    # where the paintings hang, one call instead of one a frame; elsewhere (frames out of view,
    # culled frame by frame as before) no call at all
    assert saved[room] == len(framed) - 1, saved
    assert min(saved.values()) == 0, saved
    assert page.errors == []


def calls_drawing_frames_separately(page) -> int:
    """The same view drawn as before the proxy (each frame by itself); then the proxy again."""
    toggle = """(proxy) => {
      const v = viewerTest.app.viewer;
      v.frames.mesh.visible = proxy;
      for (const s of v.frames.slots) for (const f of s.meshes) f.material.visible = !proxy;
    }"""
    page.evaluate(toggle, False)
    try:
        return calls_now(page)
    finally:
        page.evaluate(toggle, True)


# A point on a painting's frame below its picture (the bottom bar's front face), in world space.
FRAME_POINT = """(id) => {
  const v = viewerTest.app.viewer;
  const holder = v.pickables.find((g) => g.userData.selectId === id);
  let frame = null;
  holder.traverse((o) => { if (o.isMesh && o.material.name === 'frame_wood') frame = o; });
  frame.geometry.computeBoundingBox();
  // in the holder's space the painting faces +z (its placement turns the holder to the room)
  const toHolder = holder.matrixWorld.clone().invert().multiply(frame.matrixWorld);
  const box = frame.geometry.boundingBox.clone().applyMatrix4(toHolder);
  const p = box.getCenter(holder.position.clone());
  p.y = box.min.y + 0.004;  // the bottom bar (>= 15 mm high) is below the picture
  p.z = box.max.z - 0.0005; // just behind its front face
  return holder.localToWorld(p).toArray();
}"""


def test_a_click_on_a_frame_selects_its_painting_and_the_proxy_draws_it_there(server, new_page):
    page = open_demo(server, new_page)
    for p in paintings(server.demo.manifest):
        page.evaluate("(id) => viewer.goTo(id)", p["id"])
        page.evaluate("viewer.select(null)")
        frames_later(page)
        x, y, z = page.evaluate(FRAME_POINT, p["id"])
        at = page.evaluate(f"viewerTest.project({x}, {y}, {z})")
        assert at["visible"], (p["id"], at)
        page.evaluate(f"viewerTest.clickAt({at['x']}, {at['y']})")
        wait_for(page, f"viewerState.selected === {p['id']!r}")
        page.evaluate("viewer.select(null)")
        frames_later(page)
        # the frame's colour there is the proxy's: without it the wall behind shows
        with_proxy = page.evaluate(f"viewerTest.sample({at['x']}, {at['y']})")
        page.evaluate("viewerTest.app.viewer.frames.mesh.visible = false")
        without = page.evaluate(f"viewerTest.sample({at['x']}, {at['y']})")
        page.evaluate("viewerTest.app.viewer.frames.mesh.visible = true")
        change = max(abs(a - b) for a, b in zip(with_proxy[:3], without[:3], strict=True))
        assert change > 20, (with_proxy, without)
    assert page.errors == []


def test_the_proxy_follows_level_swaps_moves_and_hiding(server, new_page):
    m = server.demo.manifest
    # lod=max: every painting swaps its lowest level for its highest once the scene is in
    page = new_page(server.url(f"/exhibitions/{m['id']}?room=0&lod=max"), viewport=VIEWPORT)
    wait_for(page, "window.viewerState && viewerState.firstFrameAt != null", timeout=TIMEOUT_MS * 2)

    def all_followed() -> None:
        for p in paintings(m):
            f = page.evaluate(FRAME_IN_PROXY, p["id"])
            assert f["level"] == p["levels"][-1]["name"], (p["id"], f)
            assert f["followed"] and f["hidden"] and f["drawn"], (p["id"], f)
            assert f["worst"] < 1e-5, (p["id"], f)

    for p in paintings(m):
        wait_for(page, f"viewerState.levels[{p['id']!r}] === {p['levels'][-1]['name']!r}",
                 timeout=TIMEOUT_MS * 3)
    all_followed()
    # the studio or a script moving a painting: its frame goes along
    moved = paintings(m)[0]["id"]
    page.evaluate("""(id) => {
      const h = viewerTest.app.viewer.pickables.find((g) => g.userData.selectId === id);
      h.position.x -= 0.4;
      h.position.y += 0.1;
      h.rotation.y += 0.3;
    }""", moved)
    frames_later(page)
    all_followed()
    # a hidden painting's frame is not drawn either
    page.evaluate("""(id) => {
      viewerTest.app.viewer.pickables.find((g) => g.userData.selectId === id).visible = false;
    }""", moved)
    frames_later(page)
    assert page.evaluate(FRAME_IN_PROXY, moved)["drawn"] is False
    assert page.errors == []
