"""A painting's colours on screen match its source image.

A PNG of flat sRGB patches is built into a bundle by the real `vrculture build`, shown face-on
from its view point in headless Chromium, and each patch's rendered pixel is compared with the
file's value in CIELAB. Bound: CIEDE2000 <= 3 (just noticeable side by side is about 1-2;
3 leaves room for texture compression and 8-bit rounding). Measured: worst 0.67 with the unlit
picture; 5.6 to 12.6 when the gallery's image-based light falls on it.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from .conftest import TIMEOUT_MS, ServerThread, free_port, wait_for, wait_ready

MAX_DELTA_E = 3.0
# sRGB patches, row by row (4 x 2): saturated primaries, a mid grey, skin, deep blue, ochre, dark
PATCHES = [
    [(200, 40, 40), (40, 160, 60), (50, 70, 190), (128, 128, 128)],
    [(224, 172, 140), (30, 40, 90), (200, 150, 40), (45, 40, 35)],
]
PATCH_PX = 160


def write_patches(path: Path) -> None:
    rows, cols = len(PATCHES), len(PATCHES[0])
    image = Image.new("RGB", (cols * PATCH_PX, rows * PATCH_PX))
    for r, row in enumerate(PATCHES):
        for c, colour in enumerate(row):
            box = (c * PATCH_PX, r * PATCH_PX, (c + 1) * PATCH_PX, (r + 1) * PATCH_PX)
            image.paste(colour, box)
    image.save(path)


@pytest.fixture(scope="module")
def colour_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    from vrculture.server.config import ServerConfig

    folder = tmp_path_factory.mktemp("colour") / "collection"
    folder.mkdir()
    write_patches(folder / "patches.png")
    (folder / "collection.toml").write_text(textwrap.dedent("""\
        [exhibition]
        id = "colour"

        [[objects]]
        id = "patches"
        source = "patches.png"
        title = "Colour patches"
        rights = "CC0-1.0"
        height_m = 1.0
        """), encoding="utf-8")
    out = folder.parent / "bundle"
    done = subprocess.run([sys.executable, "-m", "vrculture", "build", str(folder), "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    manifest = json.loads((out / "exhibition.json").read_text(encoding="utf-8"))
    data_dir = tmp_path_factory.mktemp("colour-data")
    config = ServerConfig(bundles=[out], data_dir=data_dir, host="127.0.0.1", port=free_port(),
                          allowed_origins=[])
    thread = ServerThread(config, free_port(), {})
    thread.start()
    thread.ready.wait(30)
    if thread.error is not None:
        raise thread.error
    yield f"http://127.0.0.1:{config.port}/exhibitions/{manifest['id']}", "patches"
    thread.stop()


def srgb_to_lab(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    """8-bit sRGB -> CIELAB (D65)."""
    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def delta_e_2000(lab1: tuple[float, float, float], lab2: tuple[float, float, float]) -> float:
    """CIEDE2000 (Sharma, Wu and Dalal 2005), kL = kC = kH = 1."""
    l1, a1, b1 = lab1
    l2, a2, b2 = lab2
    c_mean = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_mean ** 7 / (c_mean ** 7 + 25 ** 7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360
    h2p = math.degrees(math.atan2(b2, a2p)) % 360
    dl, dc = l2 - l1, c2p - c1p
    dh = 0.0
    if c1p * c2p != 0:
        dh = h2p - h1p
        if dh > 180:
            dh -= 360
        elif dh < -180:
            dh += 360
    dhh = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    l_mean, cp_mean = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_mean = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_mean = (h1p + h2p) / 2
    else:
        h_mean = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    def cos_deg(x: float) -> float:
        return math.cos(math.radians(x))

    t = (1 - 0.17 * cos_deg(h_mean - 30) + 0.24 * cos_deg(2 * h_mean)
         + 0.32 * cos_deg(3 * h_mean + 6) - 0.20 * cos_deg(4 * h_mean - 63))
    sl = 1 + 0.015 * (l_mean - 50) ** 2 / math.sqrt(20 + (l_mean - 50) ** 2)
    sc = 1 + 0.045 * cp_mean
    sh = 1 + 0.015 * cp_mean * t
    d_theta = 30 * math.exp(-(((h_mean - 275) / 25) ** 2))
    rc = 2 * math.sqrt(cp_mean ** 7 / (cp_mean ** 7 + 25 ** 7))
    rt = -math.sin(math.radians(2 * d_theta)) * rc
    return math.sqrt((dl / sl) ** 2 + (dc / sc) ** 2 + (dhh / sh) ** 2
                     + rt * (dc / sc) * (dhh / sh))


def test_delta_e_2000_matches_published_pairs():
    # Sharma et al. 2005, table 1, pairs 1 and 17
    pair_1 = delta_e_2000((50, 2.6772, -79.7751), (50, 0, -82.7485))
    assert pair_1 == pytest.approx(2.0425, abs=1e-4)
    assert delta_e_2000((50, 2.5, 0), (73, 25, -18)) == pytest.approx(27.1492, abs=1e-4)


# Screen point of each patch centre: (u, v) on the picture quad, v = 0 at the image's top.
SAMPLE_PATCH = """async ([id, u, v]) => {
    const viewer = viewerTest.app.viewer;
    const holder = viewer.scene.getObjectByName(`object:${id}`);
    let picture = null;
    holder.traverse((o) => {
        if (o.isMesh && o.material && o.material.map && !picture) picture = o;
    });
    if (!picture) throw new Error('no textured picture in the painting');
    picture.geometry.computeBoundingBox();
    const bb = picture.geometry.boundingBox;
    const p = bb.max.clone().set(bb.min.x + (bb.max.x - bb.min.x) * u,
                                 bb.max.y - (bb.max.y - bb.min.y) * v, bb.max.z);
    picture.localToWorld(p);
    const s = viewerTest.project(p.x, p.y, p.z);
    if (!s.visible) throw new Error(`patch ${u},${v} is off screen`);
    return await viewerTest.sample(s.x, s.y);
}"""


def test_painting_on_screen_matches_its_file_in_cielab(colour_server, new_page):
    url, object_id = colour_server
    page = new_page(url, viewport=(900, 600))
    wait_ready(page)
    wait_for(page, "viewerState.allHighAt != null", timeout=TIMEOUT_MS)
    page.evaluate("""(id) => {
        const v = viewerTest.app.viewer;
        const vp = v.manifest.objects.find((o) => o.id === id).placement.view_point;
        v.setPose(vp.position[0], vp.position[2], vp.yaw);
    }""", object_id)
    rows, cols = len(PATCHES), len(PATCHES[0])
    report = []
    for r, row in enumerate(PATCHES):
        for c, expected in enumerate(row):
            rgba = page.evaluate(SAMPLE_PATCH, [object_id, (c + 0.5) / cols, (r + 0.5) / rows])
            got = tuple(rgba[:3])
            report.append((expected, got, delta_e_2000(srgb_to_lab(expected), srgb_to_lab(got))))
    worst = max(d for _, _, d in report)
    assert worst <= MAX_DELTA_E, "\n".join(f"{e} -> {g}: dE2000 {d:.2f}" for e, g, d in report)
    assert page.errors == []
