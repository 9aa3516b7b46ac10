"""A vitrine in the built demo: its glass is drawn (clear physical glass that does not write
depth), its object shows and is picked through it, and the object's presentation light reaches
its materials (docs/collection-format.md "Presentation")."""

from __future__ import annotations

from .conftest import state, wait_for, wait_ready
from .test_deeplink import at

GLASS = """(() => {
    let found = null;
    viewerTest.app.viewer.architecture.traverse((o) => { if (o.userData.glass) found = o; });
    return found;
})()"""


def _sample_with_glass(page, x: float, y: float, visible: bool) -> list[int]:
    return page.evaluate(f"""async ([x, y, visible]) => {{
        const glass = {GLASS};
        glass.visible = visible;
        const rgba = await viewerTest.sample(x, y);
        glass.visible = true;
        return rgba;
    }}""", [x, y, visible])


def test_vitrine_glass_is_drawn_and_its_object_picked_through_it(server, demo_bundle, new_page):
    exhibition = demo_bundle.manifest["id"]
    vase = next(o for o in demo_bundle.manifest["objects"] if o["id"] == "fajansvas")
    assert vase["presentation"]["mount"] == "vitrine"
    page = new_page(server.url(f"/exhibitions/{exhibition}/objects/fajansvas?room=0"))
    wait_ready(page)
    vp = vase["placement"]["view_point"]["position"]
    wait_for(page, at(page, vp[0], vp[2]))
    wait_for(page, "!['placeholder', undefined].includes(viewerState.levels.fajansvas)")
    assert state(page, "viewerState.vitrines") == 1  # every vitrine in one glass mesh
    glass = page.evaluate(f"""(() => {{
        const g = {GLASS};
        const m = g.material;
        return {{type: m.type, transparent: m.transparent, depthWrite: m.depthWrite,
                 opacity: m.opacity, roughness: m.roughness, visible: g.visible && m.visible}};
    }})()""")
    assert glass["type"] == "MeshPhysicalMaterial" and glass["transparent"], glass
    assert not glass["depthWrite"] and glass["visible"] and glass["roughness"] < 0.2, glass
    assert 0 < glass["opacity"] < 0.5, glass

    # Drawn: a point inside the case above the vase looks different with the glass hidden.
    x, y0, z = vase["placement"]["position"]
    height = vase["bounds"]["max"][1] - vase["bounds"]["min"][1]
    above = page.evaluate(f"viewerTest.project({x}, {y0 + height + 0.05}, {z})")
    assert above["visible"], above
    with_glass = _sample_with_glass(page, above["x"], above["y"], True)
    without = _sample_with_glass(page, above["x"], above["y"], False)
    assert sum(abs(a - b) for a, b in zip(with_glass[:3], without[:3], strict=True)) >= 6, (
        with_glass, without)

    # Seen and picked through the glass: nothing stands between the eye and the vase.
    assert page.evaluate("viewerTest.unoccludedCentre('fajansvas')") is not None
    page.evaluate("viewer.select(null)")  # the deep link chose it: choose it again by mouse
    wait_for(page, "viewerState.selected === null")
    centre = page.evaluate("(() => { const c = viewerTest.objectCentre('fajansvas');"
                           " return viewerTest.project(c[0], c[1], c[2]); })()")
    size = page.viewport_size
    page.mouse.click(centre["x"] * size["width"], centre["y"] * size["height"])
    wait_for(page, "viewerState.selected === 'fajansvas'")
    last = state(page, "viewerState.picks").pop()
    assert last["id"] == "fajansvas" and last["via"] == "mouse", last

    # Its presentation light (1.3) scales the image-based light on its materials.
    intensities = page.evaluate("""(() => {
        const v = viewerTest.app.viewer;
        const holder = v.pickables.find((g) => g.userData.selectId === 'fajansvas');
        const out = [];
        const scale = (m) => m.envMapIntensity / v.scene.environmentIntensity;
        holder.traverse((o) => { if (o.isMesh && o.material.isMeshStandardMaterial
            && !o.userData.annotation) out.push(scale(o.material)); });
        return out;
    })()""")
    assert intensities and all(abs(i - 1.3) < 1e-6 for i in intensities), intensities
    assert page.errors == []
