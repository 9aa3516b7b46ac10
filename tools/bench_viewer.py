"""Viewer benchmark: how fast the demo exhibition appears, what it costs, and XR frame rate.

    .venv/bin/python tools/bench_viewer.py [--runs 3] [--bundle DIR] [--json OUT]

Builds the demo collection (`vrculture build assets/demo`, unless --bundle is given), serves it
with the real `create_app` on 127.0.0.1 and drives Debian's Chromium (headless, SwiftShader:
software WebGL, so absolute times are far slower than a GPU's) through Playwright. Every run
uses a fresh browser context (empty HTTP cache).

Measured for the viewer (`/exhibitions/{id}`):
- navigation start -> first frame with every object at its lowest level (`firstFrameAt`),
- navigation start -> the level scheduler settles (`allHighAt`), with its default screen-size
  rule and with `?lod=max` (every object at its highest level that the budget allows),
- bytes fetched before that first frame (everything, and bundle files only) against the
  bundle's total,
- draw calls and triangles per frame at the entrance,
- frames per second on the desktop and in WebXR (IWER emulating a Meta Quest 3, stereo),
- navigation -> first frame again over an emulated 20 Mbit/s, 20 ms Wi-Fi link (on localhost
  bytes cost nothing; on a headset's Wi-Fi they are most of the wait),
- the frame budget (tools/frame_budget.py): draw calls, triangles and GPU texture memory at the
  entrance and in the busiest room, desktop and XR; main-thread time per frame against an
  empty-scene anchor; frames over 13.9 ms while levels stream in from a cold cache, desktop and
  XR (VR entered as soon as offered), and the frames not drawn behind the loading status.
  `--frame-budget` runs only
  this part; `--screenshots DIR` also saves the entrance and each room (desktop, 640x360 PNG).

Anchor, same run, same server: a naive page (served only by this benchmark) that loads the
architecture and every object's highest level in parallel and draws once all are in, the way
a viewer without levels of detail starts. Ratios: viewer / anchor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import frame_budget  # noqa: E402  (tools/ is not a package)
from page_wait import wait_for  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--enable-unsafe-swiftshader"]
VIEWPORT = {"width": 1280, "height": 720}
FPS_SECONDS = 5.0
TIMEOUT_MS = 120_000
# A headset on a good home/museum Wi-Fi: 20 Mbit/s down, 20 ms round trip (CDP emulation).
WIFI = {"offline": False, "latency": 20, "downloadThroughput": 20e6 / 8,
        "uploadThroughput": 10e6 / 8}

# The anchor: all highest levels at once, first frame when everything is in.
ANCHOR_HTML = """<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="importmap">{"imports": {"three": "/vendor/three/build/three.module.js",
  "three/addons/": "/vendor/three/examples/jsm/"}}</script></head>
<body style="margin:0"><script type="module">
import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { KTX2Loader } from 'three/addons/loaders/KTX2Loader.js';
import { MeshoptDecoder } from 'three/addons/libs/meshopt_decoder.module.js';
const id = new URLSearchParams(location.search).get('id');
const base = `/bundles/${id}/`;
const state = window.anchorState = { firstFrameAt: null, frames: 0, calls: 0, triangles: 0 };
const renderer = new THREE.WebGLRenderer({ antialias: true });
renderer.setSize(innerWidth, innerHeight);
document.body.append(renderer.domElement);
const scene = new THREE.Scene();
scene.add(new THREE.HemisphereLight(0xffffff, 0x444450, 1.6));
const camera = new THREE.PerspectiveCamera(70, innerWidth / innerHeight, 0.05, 200);
const ktx2 = new KTX2Loader().setTranscoderPath('/vendor/three/examples/jsm/libs/basis/');
const loader = new GLTFLoader().setMeshoptDecoder(MeshoptDecoder)
  .setKTX2Loader(ktx2.detectSupport(renderer));
const m = await (await fetch(`${base}exhibition.json`)).json();
const e = m.entrance;
camera.position.set(e.position[0], 1.6, e.position[2]);
camera.rotation.y = e.yaw;
const load = (url) => loader.loadAsync(base + url).then((g) => g.scene);
const parts = [];
if (m.architecture) parts.push(load(m.architecture.url));
for (const o of m.objects) {
  parts.push(load(o.levels[o.levels.length - 1].url).then((s) => {
    s.position.fromArray(o.placement.position); s.rotation.y = o.placement.yaw; return s; }));
}
for (const x of m.smart_exhibits) {
  parts.push(load(x.model.url).then((s) => {
    s.position.fromArray(x.placement.position); s.rotation.y = x.placement.yaw; return s; }));
}
for (const s of await Promise.all(parts)) scene.add(s);
renderer.setAnimationLoop(() => {
  renderer.render(scene, camera);
  state.frames++;
  state.calls = renderer.info.render.calls;
  state.triangles = renderer.info.render.triangles;
  if (state.firstFrameAt == null) {
    state.firstFrameAt = performance.now();
    const all = performance.getEntriesByType('resource');
    const sum = (list) => list.reduce((a, r) => a + (r.encodedBodySize || 0), 0);
    state.bytes = sum(all) + (performance.getEntriesByType('navigation')[0]?.encodedBodySize || 0);
    state.assetBytes = sum(all.filter((r) => r.name.includes('/bundles/')));
  }
});
</script></body></html>"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(bundle: Path, data_dir: Path) -> tuple[int, asyncio.AbstractEventLoop]:
    from aiohttp import web

    from vrculture.server.app import create_app
    from vrculture.server.config import ServerConfig

    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def anchor(request: web.Request) -> web.Response:
        return web.Response(text=ANCHOR_HTML, content_type="text/html")

    async def empty(request: web.Request) -> web.Response:
        return web.Response(text=frame_budget.EMPTY_HTML, content_type="text/html")

    async def start() -> None:
        app = create_app(ServerConfig(bundles=[bundle], data_dir=data_dir, port=port))
        app.router.add_get("/bench/anchor.html", anchor)
        app.router.add_get("/bench/empty.html", empty)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    if not ready.wait(30):
        raise SystemExit("bench_viewer: the server did not start")
    return port, loop


def fps(page, counter: str) -> float:
    start = page.evaluate(f"[{counter}, performance.now()]")
    time.sleep(FPS_SECONDS)  # a measurement window, not a wait for state
    end = page.evaluate(f"[{counter}, performance.now()]")
    return (end[0] - start[0]) / ((end[1] - start[1]) / 1000)


def throttle(ctx, page) -> None:
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", WIFI)


def run_viewer(browser, base: str, exhibition: str, query: str, *, xr: bool,
               wifi: bool = False) -> dict:
    ctx = browser.new_context(viewport=VIEWPORT)
    if xr:
        ctx.add_init_script((ROOT / "node_modules/iwer/build/iwer.min.js").read_text() + "\n"
                            + (ROOT / "tests/e2e/iwer_setup.js").read_text())
    page = ctx.new_page()
    if wifi:
        throttle(ctx, page)
    page.goto(f"{base}/exhibitions/{exhibition}?room=0{query}")
    wait_for(page, "window.viewerState && viewerState.allHighAt != null",
                           timeout_ms=TIMEOUT_MS)
    s = page.evaluate("JSON.parse(JSON.stringify(viewerState))")
    out = {
        "first_frame_ms": s["firstFrameAt"], "all_high_ms": s["allHighAt"],
        "bytes_before_first_frame": s["bytesBeforeFirstFrame"],
        "asset_bytes_before_first_frame": s["assetBytesBeforeFirstFrame"],
        "draw_calls": s["render"]["calls"], "triangles": s["render"]["triangles"],
        "cpu_ms": s["render"].get("cpuMs"), "levels": s["levels"],
    }
    if wifi:
        ctx.close()
        return out
    out["desktop_fps"] = fps(page, "viewerState.frames")
    if xr:
        page.evaluate("viewer.enterVR()")
        wait_for(page, "viewerState.xrFrames > 10", timeout_ms=TIMEOUT_MS)
        out["xr_fps"] = fps(page, "viewerState.xrFrames")
        out["xr_draw_calls"] = page.evaluate("viewerState.render.calls")
        out["xr_triangles"] = page.evaluate("viewerState.render.triangles")
    ctx.close()
    return out


def run_anchor(browser, base: str, exhibition: str, *, wifi: bool = False) -> dict:
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    if wifi:
        throttle(ctx, page)
    page.goto(f"{base}/bench/anchor.html?id={exhibition}")
    wait_for(page, "window.anchorState && anchorState.firstFrameAt != null",
                           timeout_ms=TIMEOUT_MS)
    s = page.evaluate("anchorState")
    out = {"first_frame_ms": round(s["firstFrameAt"]), "bytes_before_first_frame": s["bytes"],
           "asset_bytes_before_first_frame": s["assetBytes"], "draw_calls": s["calls"],
           "triangles": s["triangles"]}
    if not wifi:
        out["desktop_fps"] = fps(page, "anchorState.frames")
    ctx.close()
    return out


def screenshot(page, path: Path) -> None:
    """A modest PNG (640x360) of the current view."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    raw = path.with_suffix(".full.png")
    page.screenshot(path=str(raw))
    with Image.open(raw) as img:
        img.convert("RGB").resize((VIEWPORT["width"] // 2, VIEWPORT["height"] // 2),
                                  Image.Resampling.LANCZOS).save(path, optimize=True)
    raw.unlink()


def run_frame_budget(browser, base: str, manifest: dict, runs: int,
                     shots: Path | None) -> dict:
    """Desktop, XR and the empty-scene anchor, interleaved run by run."""
    iwer = ((ROOT / "node_modules/iwer/build/iwer.min.js").read_text() + "\n"
            + (ROOT / "tests/e2e/iwer_setup.js").read_text())
    out: dict = {"desktop": [], "xr": [], "anchor": []}
    for i in range(runs):
        out["anchor"].append(frame_budget.run_anchor(browser, base, VIEWPORT, TIMEOUT_MS))
        out["desktop"].append(frame_budget.run_desktop(
            browser, base, manifest, VIEWPORT, iwer, TIMEOUT_MS, shots if i == 0 else None,
            screenshot))
        out["xr"].append(frame_budget.run_xr(browser, base, manifest, VIEWPORT, iwer,
                                             TIMEOUT_MS))
    return out


def finish_frame_budget(budget: dict, manifest: dict, args: argparse.Namespace) -> int:
    print(f"demo '{manifest['id']}': {len(manifest['objects'])} objects; {args.runs} runs; "
          f"load average {os.getloadavg()[0]:.1f}")
    print("\n".join(frame_budget.report(budget["desktop"], budget["xr"], budget["anchor"])))
    shots = args.screenshots.as_posix() if args.screenshots else "."
    print("\n".join(frame_budget.markdown_table(budget["desktop"][0], budget["xr"][0], shots)))
    if args.json:
        args.json.write_text(json.dumps(budget, indent=1))
    return 0


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def bundle_bytes(manifest: dict) -> int:
    total = manifest.get("architecture", {}).get("bytes", 0)
    total += sum(lv["bytes"] for o in manifest["objects"] for lv in o["levels"])
    total += sum(x["model"]["bytes"] for x in manifest["smart_exhibits"])
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bundle", type=Path, help="a built bundle (default: build the demo)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--frame-budget", action="store_true",
                        help="measure only the frame budget (draw calls, frame times)")
    parser.add_argument("--screenshots", type=Path,
                        help="save the entrance and each room here (desktop, first run)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print("bench_viewer: needs Debian's chromium (tools/bootstrap --browser)", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory(prefix="vrculture-bench-viewer-") as tmp:
        bundle = args.bundle
        if bundle is None:
            bundle = Path(tmp) / "demo"
            done = subprocess.run([sys.executable, "-m", "vrculture", "build",
                                   str(ROOT / "assets/demo"), "-o", str(bundle)],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                return 1
        manifest = json.loads((bundle / "exhibition.json").read_text(encoding="utf-8"))
        port, _loop = start_server(bundle, Path(tmp) / "data")
        base = f"http://127.0.0.1:{port}"
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            budget = run_frame_budget(browser, base, manifest, args.runs, args.screenshots)
            if args.frame_budget:
                browser.close()
                return finish_frame_budget(budget, manifest, args)
            viewer, viewer_max, anchor, viewer_wifi, anchor_wifi = [], [], [], [], []
            for _ in range(args.runs):  # interleaved, so that machine load hits both alike
                anchor.append(run_anchor(browser, base, manifest["id"]))
                viewer.append(run_viewer(browser, base, manifest["id"], "", xr=True))
                viewer_max.append(run_viewer(browser, base, manifest["id"], "&lod=max", xr=False))
                anchor_wifi.append(run_anchor(browser, base, manifest["id"], wifi=True))
                viewer_wifi.append(run_viewer(browser, base, manifest["id"], "", xr=False,
                                              wifi=True))
            browser.close()

    total = bundle_bytes(manifest)
    results = {
        "exhibition": manifest["id"], "runs": args.runs, "viewport": VIEWPORT,
        "load_average_1m": os.getloadavg()[0], "bundle_bytes": total,
        "viewer": viewer, "viewer_lod_max": viewer_max, "anchor": anchor,
        "viewer_wifi": viewer_wifi, "anchor_wifi": anchor_wifi, "frame_budget": budget,
    }
    v_ff, a_ff = median(viewer, "first_frame_ms"), median(anchor, "first_frame_ms")
    v_bytes = median(viewer, "asset_bytes_before_first_frame")
    a_bytes = median(anchor, "asset_bytes_before_first_frame")
    rows = [
        ("navigation -> first frame (ms)", v_ff, a_ff),
        ("navigation -> levels settled, default (ms)", median(viewer, "all_high_ms"), a_ff),
        ("navigation -> all highest levels, lod=max (ms)", median(viewer_max, "all_high_ms"),
         a_ff),
        ("same over 20 Mbit/s Wi-Fi: first frame (ms)", median(viewer_wifi, "first_frame_ms"),
         median(anchor_wifi, "first_frame_ms")),
        ("bundle bytes before first frame", v_bytes, a_bytes),
        ("all bytes before first frame", median(viewer, "bytes_before_first_frame"),
         median(anchor, "bytes_before_first_frame")),
        ("draw calls at the entrance", median(viewer, "draw_calls"), median(anchor, "draw_calls")),
        ("triangles at the entrance", median(viewer, "triangles"), median(anchor, "triangles")),
        ("desktop fps", median(viewer, "desktop_fps"), median(anchor, "desktop_fps")),
    ]
    print(f"demo '{manifest['id']}': {len(manifest['objects'])} objects, bundle {total} bytes; "
          f"{args.runs} runs, medians; load average {results['load_average_1m']:.1f}; "
          "SwiftShader (software WebGL)")
    print(f"{'':48} {'viewer':>12} {'anchor':>12} {'ratio':>7}")
    for name, v, a in rows:
        print(f"{name:48} {v:12.0f} {a:12.0f} {v / a if a else float('nan'):7.2f}")
    xr, desk = median(viewer, "xr_fps"), median(viewer, "desktop_fps")
    print(f"{'XR fps (IWER Quest 3, stereo)':48} {xr:12.1f}   vs desktop {desk:.1f}"
          f"  ratio {xr / desk:.2f}")
    print(f"{'XR draw calls / triangles per frame':48} {median(viewer, 'xr_draw_calls'):12.0f} "
          f"{median(viewer, 'xr_triangles'):12.0f}")
    print(f"{'main-thread ms per frame, 60-frame mean':48} {median(viewer, 'cpu_ms'):12.1f}")
    print(f"bundle bytes before first frame / bundle total: {v_bytes / total:.2f}")
    print("\n".join(frame_budget.report(budget["desktop"], budget["xr"], budget["anchor"])))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
