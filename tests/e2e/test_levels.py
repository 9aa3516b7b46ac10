"""Levels of detail under a budget, compressed formats, and failing levels."""

from __future__ import annotations

from .conftest import TIMEOUT_MS, state, wait_ready

BUDGET = 5000  # triangles: one near object can go high, the rest must make do


def test_a_small_budget_is_never_exceeded_and_far_objects_stay_low(server, new_page):
    page = new_page(server.url(f"/exhibitions/e2e?room=0&budget_tris={BUDGET}"))
    wait_ready(page)
    page.wait_for_function("viewerState.allHighAt != null", timeout=TIMEOUT_MS)
    s = state(page)
    assert s["budget"]["triangles"] == BUDGET
    assert s["budget"]["maxUsedTriangles"] <= BUDGET
    assert s["levels"]["far-globe"] == "low"
    assert s["levels"]["red-vase"] == "high"  # the nearest, largest on screen, gets the budget
    assert s["levels"]["green-bowl"] != "high"
    assert s["render"]["maxTriangles"] <= BUDGET + s["budget"]["fixedTriangles"]

    # walk up to the far globe: it sharpens, the objects left behind give their budget back
    assert page.evaluate("viewer.teleport(3.5, -15.5)") is True
    page.wait_for_function("viewerState.levels['far-globe'] !== 'low'", timeout=TIMEOUT_MS)
    page.wait_for_function("viewerState.levels['red-vase'] !== 'high'", timeout=TIMEOUT_MS)
    s = state(page)
    assert s["budget"]["maxUsedTriangles"] <= BUDGET
    assert s["render"]["maxTriangles"] <= BUDGET + s["budget"]["fixedTriangles"]
    assert page.errors == []


def test_meshopt_compressed_and_ktx2_levels_load(server, new_page):
    manifest = server.bundle.manifest
    red_high = next(o for o in manifest["objects"] if o["id"] == "red-vase")["levels"][-1]
    painting = next(o for o in manifest["objects"] if o["id"] == "checker-painting")["levels"][0]
    assert red_high["compression"] == "meshopt" and painting["texture_format"] == "ktx2"

    page = new_page(server.url("/exhibitions/e2e?room=0&lod=max"))
    wait_ready(page)
    page.wait_for_function(
        "viewerState.levelLoads.some(l => l.object === 'red-vase' && l.level === 'high' && l.ok)")
    # a loaded level waits in the queue for a frame of its own before it is swapped in
    page.wait_for_function("viewerState.levels['red-vase'] === 'high'", timeout=TIMEOUT_MS)
    info = page.evaluate("""() => {
        const scene = viewerTest.app.viewer.scene;
        const find = (name) => scene.getObjectByName(name);
        let quantised = false, compressed = null, vertices = 0;
        // the vase's own mesh, not its annotation marker or contact shadow
        const own = (o) => o.isMesh && !o.name.startsWith('annotation:')
            && o.name !== 'contact-shadow';
        find('object:red-vase').traverse(o => { if (own(o)) {
            const pos = o.geometry.attributes.position;
            vertices = pos.count; quantised = !(pos.array instanceof Float32Array); } });
        find('object:checker-painting').traverse(o => { if (o.isMesh && o.material.map) {
            compressed = { isCompressed: !!o.material.map.isCompressedTexture,
                           width: o.material.map.image.width }; } });
        return { quantised, vertices, compressed };
    }""")
    assert info["quantised"], "KHR_mesh_quantization attributes stay integer on the GPU"
    assert info["vertices"] > 1000
    assert info["compressed"] == {"isCompressed": True, "width": 64}
    s = state(page)
    assert s["levelFailures"] == [] and s["errors"] == []
    # the painting's checkerboard is on screen once the visitor stands in front of it
    assert page.evaluate("viewer.teleport(-3, -17.2, 0)") is True
    rgba = page.evaluate("""async () => {
        const p = viewerTest.project(-3.0, 1.2 + 0.45, -18.9);
        const out = [];
        for (const dx of [-0.06, -0.03, 0, 0.03, 0.06]) {
            out.push(await viewerTest.sample(p.x + dx, p.y));
        }
        return out;
    }""")
    blues = [c for c in rgba if c[2] > 1.5 * c[0] and c[2] > 100]
    whites = [c for c in rgba if min(c[:3]) > 150]
    assert blues and whites, rgba


def test_a_failing_level_keeps_the_lower_one_and_a_failing_object_gets_a_stand_in(server,
                                                                                  new_page):
    page = new_page()
    page.route("**/objects/green-bowl/green-bowl.high.*", lambda route: route.abort())
    page.route("**/objects/far-globe/**", lambda route: route.fulfill(status=500, body="broken"))
    page.goto(server.url("/exhibitions/e2e?room=0"))
    wait_ready(page)
    page.wait_for_function("viewerState.levelFailures.some(f => f.object === 'green-bowl')")
    page.wait_for_function("viewerState.allHighAt != null", timeout=TIMEOUT_MS)
    s = state(page)
    assert s["levels"]["green-bowl"] == "medium"
    assert s["levels"]["far-globe"] == "placeholder" and s["placeholders"] == ["far-globe"]
    failed = {(f["object"], f["level"]) for f in s["levelFailures"]}
    assert ("green-bowl", "high") in failed and ("far-globe", "low") in failed
    assert s["levels"]["red-vase"] == "high"
    # the stand-in is there and can be picked
    assert page.evaluate("viewer.select('far-globe')") is True
    assert page.errors == []


def test_loading_progress_shows_until_the_objects_arrive(server, new_page):
    held, gate = [], {"open": False}

    def hold_objects(route):  # a very slow network: object files wait until the gate opens
        if gate["open"]:
            route.continue_()
        else:
            held.append(route)

    page = new_page()
    page.route("**/bundles/e2e/objects/**", hold_objects)
    page.goto(server.url("/exhibitions/e2e?room=0"))
    page.wait_for_function("viewerState.counts.levelLoads > 0")
    page.wait_for_selector("#status progress:not([hidden])", state="attached")
    assert "Loading" in page.inner_text("#status")
    assert state(page, "viewerState.firstFrameAt") is None
    assert state(page, "viewerState.frames") == 0  # nothing half-built is drawn meanwhile
    gate["open"] = True
    for route in held:
        route.continue_()
    wait_ready(page)
    page.wait_for_function("document.querySelector('#status').hidden")
