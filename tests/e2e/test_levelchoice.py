"""Level choice by screen-space error (geometry) and texel density (textures).

The pure functions of web/js/levelchoice.js run in Chromium (the viewer's own module, imported
from the served page); the end-to-end test shows a painting two metres away on a 1280x720 screen
loading its sharper texture, within the triangle budget, while from the entrance it stays low.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from .bundle_factory import BundleWriter, MeshPart, ktx2_checker, make_bundle, quad_xy, write_glb
from .conftest import (
    TEST_HOOKS_SCRIPT,
    TIMEOUT_MS,
    Server,
    ServerThread,
    free_port,
    state,
    wait_for,
    wait_ready,
)

IMPORT = "const L = await import('/static/js/levelchoice.js');"
PAINTING_LEVELS = [  # a 1.2 m wide painting: a 64 px and a 512 px image, two triangles each
    {"name": "low", "url": "a", "bytes": 1, "triangles": 2, "error": 0, "texture_px": 64},
    {"name": "medium", "url": "b", "bytes": 1, "triangles": 2, "error": 0, "texture_px": 512},
]
MODEL_LEVELS = [  # a scan: measured errors in metres
    {"name": "low", "url": "a", "bytes": 1, "triangles": 5000, "error": 0.004, "texture_px": 0},
    {"name": "medium", "url": "b", "bytes": 1, "triangles": 25000, "error": 0.001,
     "texture_px": 0},
    {"name": "high", "url": "c", "bytes": 1, "triangles": 100000, "error": 0.0002,
     "texture_px": 0},
]


def view(distance: float, **kw) -> dict:
    return {"distance": distance, "fovDeg": 70, "viewportHeight": 720, "radius": 0.75,
            "textureSpan": 1.2} | kw


def choose(page, levels, v, failed=()) -> dict:
    return page.evaluate("""async ([levels, v, failed]) => {
        const L = await import('/static/js/levelchoice.js');
        return L.chooseLevel(levels, v, (i) => !failed.includes(i));
    }""", [levels, v, list(failed)])


@pytest.fixture(scope="module")
def page(server, browser) -> Iterator:
    """One viewer page for the pure-function tests below: each only imports levelchoice.js and
    calls it, changing nothing in the page, so they share a page instead of each waiting for a
    viewer of its own (a page load is most of an end-to-end test's time)."""
    context = browser.new_context(viewport={"width": 800, "height": 500}, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(TEST_HOOKS_SCRIPT)
    p = context.new_page()
    p.goto(server.url("/exhibitions/e2e?room=0"))
    wait_ready(p, first_frame=False)
    yield p
    context.close()


def test_projection_and_texture_span(page):
    got = page.evaluate(f"""async () => {{ {IMPORT}
        return [L.pixelsPerMetre(2, 70, 720), L.pixelsPerMetre(0, 70, 720),
                L.textureSpan('painting', {{min: [-0.6, 0, 0], max: [0.6, 0.9, 0]}}),
                L.textureSpan('model', {{min: [0, 0, 0], max: [1, 1, 1]}})];
    }}""")
    assert got[0] == pytest.approx(720 / (2 * 2 * 0.70021), rel=1e-4)
    assert got[1] == pytest.approx(720 / (2 * 0.1 * 0.70021), rel=1e-4)  # the near plane
    assert got[2] == pytest.approx(1.2)
    assert got[3] == pytest.approx(6 ** 0.5)


def test_a_painting_two_metres_away_at_720p_needs_its_sharper_texture(page):
    # 1.2 m at 2 m spans ~308 px: 64 texels are too few, 512 enough
    assert choose(page, PAINTING_LEVELS, view(2.0))["desired"] == 1
    # from 21 m it spans ~29 px: the 64 px image is enough; once shown, the sharper one stays
    # until even twice the density is met (hysteresis)
    assert choose(page, PAINTING_LEVELS, view(21.0)) == {"desired": 0, "keep": 0}
    assert choose(page, PAINTING_LEVELS, view(12.0)) == {"desired": 0, "keep": 1}
    # a smaller window needs less
    assert choose(page, PAINTING_LEVELS, view(2.0, viewportHeight=100))["desired"] == 0


def test_geometry_follows_the_projected_error(page):
    # px per metre at 720 px / 70 degrees: 514 at 1 m; low's 4 mm project to ~2 px at 1 m
    assert choose(page, MODEL_LEVELS, view(1.0))["desired"] == 1  # 1 mm -> 0.5 px
    assert choose(page, MODEL_LEVELS, view(0.4))["desired"] == 2
    assert choose(page, MODEL_LEVELS, view(3.0))["desired"] == 0  # 4 mm -> 0.7 px
    # a headset allows a little more error: at 1.6 m low's 1.3 px pass in XR, not on a desktop
    assert choose(page, MODEL_LEVELS, view(1.6))["desired"] == 1
    assert choose(page, MODEL_LEVELS, view(1.6, xr=True))["desired"] == 0
    # a level that failed to load is passed over for the next one that is enough
    assert choose(page, MODEL_LEVELS, view(1.0), failed=[1])["desired"] == 2
    # nothing is enough: the most faithful usable level
    assert choose(page, MODEL_LEVELS, view(0.1), failed=[2])["desired"] == 1
    assert choose(page, MODEL_LEVELS, view(30, ignoreScreenSize=True))["desired"] == 2


def test_levels_without_a_measured_error_keep_the_triangle_density_rule(page):
    levels = [{k: v for k, v in lv.items() if k != "error"} for lv in MODEL_LEVELS]
    # radius 0.75 m at 3 m: ~128 px, ~52k px^2: medium (25k triangles) fits, high (100k) not
    assert choose(page, levels, view(3.0)) == {"desired": 1, "keep": 2}
    assert choose(page, levels, view(10.0))["desired"] == 0


def test_textures_and_geometry_each_get_what_they_need(page):
    levels = [lv | {"texture_px": px} for lv, px in zip(MODEL_LEVELS, (128, 1024, 1024),
                                                          strict=True)]
    # at 3 m the geometry is content with low, the 128 px atlas is not (span 1.2 m: ~206 px)
    assert choose(page, levels, view(3.0))["desired"] == 1
    # at 0.4 m the geometry needs high, whose texture is no sharper than medium's
    assert choose(page, levels, view(0.4))["desired"] == 2
    assert choose(page, levels, view(20.0))["desired"] == 0


@pytest.fixture(scope="module")
def painting_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The e2e bundle whose checkerboard painting also has a sharper level (a 512 px image),
    served on its own so the shared bundle the other tests count on stays as it is."""
    from vrculture.server.config import ServerConfig

    bundle = make_bundle(tmp_path_factory.mktemp("levelchoice") / "e2e")
    manifest = bundle.manifest
    painting = next(o for o in manifest["objects"] if o["id"] == "checker-painting")
    pos, nrm, idx, uvs = quad_xy(1.2, 0.9, (0, 0.45, 0))
    glb = write_glb([MeshPart("canvas", pos, nrm, idx, (1, 1, 1, 1), uvs=uvs,
                              ktx2_texture=ktx2_checker(512))])
    rel, size = BundleWriter(bundle.root).put("objects/checker-painting",
                                              "checker-painting.medium", glb)
    low = painting["levels"][0] | {"error": 0}
    painting["levels"] = [low, low | {"name": "medium", "url": rel, "bytes": size,
                                      "texture_px": 512, "gpu_texture_bytes": 512 * 512 * 4 // 3}]
    path = bundle.root / "exhibition.json"
    path.with_suffix(".tmp").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    path.with_suffix(".tmp").replace(path)

    config = ServerConfig(bundles=[bundle.root], data_dir=tmp_path_factory.mktemp("data"),
                          host="127.0.0.1", port=free_port())
    thread = ServerThread(config, free_port(), {})
    thread.start()
    thread.ready.wait(30)
    if thread.error is not None:
        raise thread.error
    yield Server(config.port, bundle, config.data_dir, {}, "", thread.loop, thread.museum_port, {},
                 bundle)
    thread.stop()


def test_a_painting_two_metres_away_loads_its_sharper_texture_within_budget(painting_server,
                                                                            new_page):
    budget = 5000
    page = new_page(painting_server.url(f"/exhibitions/e2e?room=0&budget_tris={budget}"),
                    viewport=(1280, 720))
    wait_ready(page)
    wait_for(page, "viewerState.allHighAt != null", timeout=TIMEOUT_MS)
    # from the entrance, 21 m away, the 64 px image is all the screen can show
    assert state(page, "viewerState.levels")["checker-painting"] == "low"

    assert page.evaluate("viewer.teleport(-3, -16.9, 0)") is True
    wait_for(page, "viewerState.levels['checker-painting'] === 'medium'",
                           timeout=TIMEOUT_MS)
    width = page.evaluate("""() => {
        let w = 0;
        viewerTest.app.viewer.scene.getObjectByName('object:checker-painting').traverse((o) => {
            if (o.isMesh && o.material.map) w = o.material.map.image.width; });
        return w;
    }""")
    assert width == 512
    s = state(page)
    assert s["budget"]["maxUsedTriangles"] <= budget
    assert s["levelFailures"] == [] and page.errors == []

    # back at the entrance the sharper image is released again
    assert page.evaluate("viewer.teleport(0, 2, 0)") is True
    wait_for(page, "viewerState.levels['checker-painting'] === 'low'",
                           timeout=TIMEOUT_MS)
