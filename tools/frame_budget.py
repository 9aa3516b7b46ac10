"""The frame budget of the demo (issue 14): draw calls, triangles, GPU texture memory and
main-thread time per frame, desktop (1280x720) and an emulated Meta Quest 3 (IWER, stereo).

Used by tools/bench_viewer.py (`--frame-budget`, or as part of a full run). Everything is read
through public means in the page: three's `renderer.info`, `performance.now()` around the frame
loop's work (the viewer's `frame` method, wrapped from outside through the test hooks), and a
PerformanceObserver for long tasks. Absolute times come from SwiftShader (software WebGL) on a
shared machine, so the main-thread figures are also given against an anchor measured in the same
run: the same renderer settings drawing an empty scene.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

from page_wait import wait_for  # tools/ is on the path (bench_viewer puts it there)

DRAW_CALL_GOAL = 50
MAIN_THREAD_GOAL_MS = 4.0
FRAME_BUDGET_MS = 1000 / 72  # a Quest at 72 Hz: 13.9 ms
STEADY_FRAMES = 120
EYE_HEIGHT = 1.6
ROOM_VIEW_INSET = 0.6  # metres in from a room's entry wall

# Runs before any page script: the test hooks flag, a long-task observer, and a wrapper around
# the viewer's frame method (found through window.viewerTest) that times each frame's work.
INSTRUMENT = """
window.vrcultureTestHooks = true;
window.__fb = { frames: [], longTasks: [], hidden: [] };
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) __fb.longTasks.push([e.startTime, e.duration]);
  }).observe({ type: 'longtask', buffered: true });
} catch (e) { /* no long-task timing in this browser */ }
(function wrap() {
  const v = window.viewerTest && window.viewerTest.app && window.viewerTest.app.viewer;
  if (!v) { setTimeout(wrap, 2); return; }
  const original = v.frame;
  v.frame = function (time, xrFrame) {
    const before = viewerState.frames;
    const t0 = performance.now();
    original.call(this, time, xrFrame);
    const ms = performance.now() - t0;
    // nothing drawn (the lowest levels still load, or are compiled and uploaded behind the
    // loading status): kept apart, as these frames cost the main thread but show nothing new
    if (viewerState.frames === before) { __fb.hidden.push(ms); return; }
    const r = this.renderer.info.render;
    const settled = viewerState.allHighAt != null;
    __fb.frames.push([t0, ms, r.calls, r.triangles, viewerState.frames, settled]);
  };
})();
"""

# GPU bytes of every texture the scene holds (uploaded or about to be): compressed (KTX2
# transcoded) from their mip data, images as RGBA8 with a third more for mips, render targets
# (the environment's PMREM) from their type.
TEXTURE_BYTES = """() => {
  const v = viewerTest.app.viewer;
  const seen = new Set();
  let total = 0, count = 0;
  const perPixel = (t) => (t.type === 1016 /* HalfFloat */ ? 8
    : t.type === 1015 /* Float */ ? 16 : 4);
  const add = (t) => {
    if (!t || !t.isTexture || seen.has(t)) return;
    seen.add(t); count++;
    if (t.isCompressedTexture && t.mipmaps && t.mipmaps.length) {
      for (const m of t.mipmaps) total += m.data ? m.data.byteLength : 0;
      return;
    }
    const img = t.image || {};
    const w = img.width || img.videoWidth || 0, h = img.height || img.videoHeight || 0;
    const mips = t.generateMipmaps && t.minFilter !== 1003 && t.minFilter !== 1006 ? 4 / 3 : 1;
    total += Math.round(w * h * perPixel(t) * (t.isCubeTexture ? 6 : 1) * mips);
  };
  add(v.scene.environment);
  if (v.scene.background && v.scene.background.isTexture) add(v.scene.background);
  v.scene.traverse((o) => {
    if (!o.material) return;
    for (const m of Array.isArray(o.material) ? o.material : [o.material])
      for (const value of Object.values(m)) if (value && value.isTexture) add(value);
  });
  return { bytes: total, textures: count, gpuTextures: v.renderer.info.memory.textures };
}"""

EMPTY_HTML = """<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="importmap">{"imports": {"three": "/vendor/three/build/three.module.js"}}</script>
</head><body style="margin:0"><script type="module">
import * as THREE from 'three';
// The anchor: the viewer's renderer settings drawing an empty scene, timed the same way.
const renderer = new THREE.WebGLRenderer({ antialias: true, powerPreference: 'high-performance' });
renderer.setSize(innerWidth, innerHeight);
renderer.outputColorSpace = THREE.SRGBColorSpace;
renderer.toneMapping = THREE.NeutralToneMapping;
document.body.append(renderer.domElement);
const scene = new THREE.Scene();
scene.background = new THREE.Color(0x20232a);
const camera = new THREE.PerspectiveCamera(70, innerWidth / innerHeight, 0.05, 200);
window.__fb = { frames: [], longTasks: [] };
renderer.setAnimationLoop(() => {
  const t0 = performance.now();
  renderer.render(scene, camera);
  const ms = performance.now() - t0;
  __fb.frames.push([t0, ms, renderer.info.render.calls, 0, __fb.frames.length, true]);
});
</script></body></html>"""


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def frame_stats(ms: list[float]) -> dict:
    return {"frames": len(ms), "p50_ms": round(percentile(ms, 0.5), 2),
            "p95_ms": round(percentile(ms, 0.95), 2), "max_ms": round(max(ms, default=0.0), 2)}


def frames_after(page, start: int, count: int, timeout_ms: int) -> list[list]:
    """The next `count` drawn frames' records after record index `start`."""
    wait_for(page, f"__fb.frames.length >= {start + count}", timeout_ms=timeout_ms)
    return page.evaluate(f"__fb.frames.slice({start}, {start + count})")


def settle(page, timeout_ms: int, frames: int = 4) -> int:
    """Lets a few frames draw (matrices, levels chosen after a move); returns the record index."""
    n = page.evaluate("__fb.frames.length")
    wait_for(page, f"__fb.frames.length >= {n + frames}", timeout_ms=timeout_ms)
    return page.evaluate("__fb.frames.length")


def room_views(manifest: dict) -> list[dict]:
    """Where to stand for each room's picture: just inside the wall nearest the entrance, in
    the middle, facing into the room (rooms are laid out away from the entrance)."""
    e = manifest["entrance"]["position"]
    views = [{"name": "entrance", "x": e[0], "z": e[2], "yaw": manifest["entrance"]["yaw"]}]
    for room in manifest["rooms"]:
        x0, z0, x1, z1 = room["bounds"]
        cx, cz = (x0 + x1) / 2, (z0 + z1) / 2
        if abs(cz - e[2]) >= abs(cx - e[0]):  # rooms run along z
            z = z1 - ROOM_VIEW_INSET if cz < e[2] else z0 + ROOM_VIEW_INSET
            yaw = 0.0 if cz < e[2] else 3.14159265
            views.append({"name": room["id"], "x": cx, "z": z, "yaw": yaw})
        else:
            x = x1 - ROOM_VIEW_INSET if cx < e[0] else x0 + ROOM_VIEW_INSET
            yaw = 1.5707963 if cx < e[0] else -1.5707963
            views.append({"name": room["id"], "x": x, "z": cz, "yaw": yaw})
    return views


def stand(page, view: dict) -> bool:
    """Teleports (public API) to the view, nudging sideways if an object stands there."""
    for dx in (0.0, 0.5, -0.5, 1.0, -1.0):
        ok = page.evaluate(f"viewer.teleport({view['x'] + dx}, {view['z']}, {view['yaw']})")
        if ok:
            page.evaluate("viewerTest.app.viewer.camera.rotation.x = 0")
            return True
    return False


def measure_view(page, view: dict, timeout_ms: int) -> dict:
    if not stand(page, view):
        return {"name": view["name"], "error": "no place to stand"}
    start = settle(page, timeout_ms, frames=6)
    recs = frames_after(page, start, 3, timeout_ms)
    last = recs[-1]
    tex = page.evaluate(TEXTURE_BYTES)
    return {"name": view["name"], "frame": last[4], "draw_calls": max(r[2] for r in recs),
            "triangles": max(r[3] for r in recs), "texture_bytes": tex["bytes"],
            "textures": tex["textures"]}


def open_viewer(browser, base: str, exhibition: str, viewport: dict, *, xr: bool,
                iwer: str, timeout_ms: int):
    """A cold start; with `xr`, the headset enters VR as soon as the page offers it, so that
    its frames while levels stream in are measured too."""
    ctx = browser.new_context(viewport=viewport)  # a fresh context: a cold HTTP cache
    ctx.add_init_script(INSTRUMENT + ("\n" + iwer if xr else ""))
    page = ctx.new_page()
    page.goto(f"{base}/exhibitions/{exhibition}?room=0")
    if xr:
        wait_for(page, "window.viewerState && viewerState.xrSupported === true",
                               timeout_ms=timeout_ms)
        page.evaluate("viewer.enterVR()")
    wait_for(page, "window.viewerState && viewerState.allHighAt != null",
                           timeout_ms=timeout_ms)
    return ctx, page


def streaming(page) -> dict:
    """Frames drawn from the first one until the level scheduler settled (a cold cache)."""
    recs = page.evaluate("__fb.frames.filter((f) => !f[5])")
    ms = [r[1] for r in recs]
    out = frame_stats(ms)
    out["over_budget"] = sum(1 for m in ms if m > FRAME_BUDGET_MS)
    out["first_ms"] = round(ms[0], 1) if ms else float("nan")
    hidden = page.evaluate("__fb.hidden")
    out["hidden_frames"] = len(hidden)
    out["hidden_over_budget"] = sum(1 for m in hidden if m > FRAME_BUDGET_MS)
    out["hidden_max_ms"] = round(max(hidden, default=0.0), 1)
    out["long_tasks"] = page.evaluate("__fb.longTasks.length")
    out["longest_task_ms"] = round(page.evaluate(
        "__fb.longTasks.reduce((a, t) => Math.max(a, t[1]), 0)"), 1)
    return out


def steady(page, timeout_ms: int) -> dict:
    start = settle(page, timeout_ms)
    recs = frames_after(page, start, STEADY_FRAMES, timeout_ms * 4)
    return frame_stats([r[1] for r in recs])


def run_desktop(browser, base: str, manifest: dict, viewport: dict, iwer: str, timeout_ms: int,
                shots: Path | None, shoot: Callable[[object, Path], None]) -> dict:
    ctx, page = open_viewer(browser, base, manifest["id"], viewport, xr=False, iwer=iwer,
                            timeout_ms=timeout_ms)
    out: dict = {"streaming": streaming(page)}
    views = []
    for view in room_views(manifest):
        v = measure_view(page, view, timeout_ms)
        if shots is not None and "error" not in v:
            path = shots / f"{view['name']}.png"
            shoot(page, path)
            v["screenshot"] = path.name
        views.append(v)
    out["views"] = views
    stand(page, room_views(manifest)[0])
    out["steady_entrance"] = steady(page, timeout_ms)
    ctx.close()
    return out


def run_xr(browser, base: str, manifest: dict, viewport: dict, iwer: str,
           timeout_ms: int) -> dict:
    ctx, page = open_viewer(browser, base, manifest["id"], viewport, xr=True, iwer=iwer,
                            timeout_ms=timeout_ms)
    wait_for(page, "viewerState.xrFrames > 10", timeout_ms=timeout_ms)
    out: dict = {"streaming": streaming(page)}
    out["views"] = [measure_view(page, view, timeout_ms) for view in room_views(manifest)]
    stand(page, room_views(manifest)[0])
    out["steady_entrance"] = steady(page, timeout_ms)
    ctx.close()
    return out


def run_anchor(browser, base: str, viewport: dict, timeout_ms: int) -> dict:
    ctx = browser.new_context(viewport=viewport)
    page = ctx.new_page()
    page.goto(f"{base}/bench/empty.html")
    wait_for(page, "window.__fb && __fb.frames.length > 10", timeout_ms=timeout_ms)
    out = steady(page, timeout_ms)
    ctx.close()
    return out


def busiest(views: list[dict]) -> dict:
    rooms = [v for v in views if v["name"] != "entrance" and "error" not in v]
    return max(rooms, key=lambda v: v["draw_calls"]) if rooms else views[0]


def report(desktop: list[dict], xr: list[dict], anchor: list[dict]) -> list[str]:
    """Medians over runs, each number against its goal."""
    def med(values: list[float]) -> float:
        return statistics.median(values)

    lines = ["frame budget (medians over runs; SwiftShader, so times are relative to the anchor)"]
    a_p50 = med([a["p50_ms"] for a in anchor])
    for label, runs in (("desktop", desktop), ("XR (both eyes)", xr)):
        entrance = [r["views"][0] for r in runs]
        busy = [busiest(r["views"]) for r in runs]
        for where, vs in (("entrance", entrance), (f"busiest room ({busy[0]['name']})", busy)):
            calls = med([v["draw_calls"] for v in vs])
            lines.append(f"  {label:15} {where:28} draw calls {calls:5.0f}  (goal <= "
                         f"{DRAW_CALL_GOAL}: {'ok' if calls <= DRAW_CALL_GOAL else 'OVER'})  "
                         f"triangles {med([v['triangles'] for v in vs]):8.0f}  "
                         f"GPU textures {med([v['texture_bytes'] for v in vs]) / 2**20:6.1f} MiB")
        st = runs and [r["steady_entrance"] for r in runs]
        p50, p95 = med([s["p50_ms"] for s in st]), med([s["p95_ms"] for s in st])
        lines.append(f"  {label:15} main thread per frame at the entrance: p50 {p50:.2f} ms, p95 "
                     f"{p95:.2f} ms, max {med([s['max_ms'] for s in st]):.2f} ms; p50 / empty-scene"
                     f" anchor ({a_p50:.2f} ms) = {p50 / a_p50 if a_p50 else float('nan'):.1f}x"
                     + (f"  (goal <= {MAIN_THREAD_GOAL_MS} ms on a desktop GPU)"
                        if label == "desktop" else ""))
    for label, runs in (("desktop", desktop), ("XR (both eyes)", xr)):
        s = [r["streaming"] for r in runs if "streaming" in r]
        if not s:
            continue
        lines.append(f"  {label:15} levels streaming from a cold cache: "
                     f"{med([x['frames'] for x in s]):.0f} frames drawn, first "
                     f"{med([x['first_ms'] for x in s]):.1f} ms, "
                     f"p95 {med([x['p95_ms'] for x in s]):.1f} ms, max "
                     f"{med([x['max_ms'] for x in s]):.1f} ms, over {FRAME_BUDGET_MS:.1f} ms: "
                     f"{med([x['over_budget'] for x in s]):.0f} (goal 0); long tasks "
                     f"{med([x['long_tasks'] for x in s]):.0f}, longest "
                     f"{med([x['longest_task_ms'] for x in s]):.0f} ms")
        lines.append(f"  {label:15} frames not drawn while loading (compile/upload behind the "
                     f"status): {med([x['hidden_frames'] for x in s]):.0f}, over "
                     f"{FRAME_BUDGET_MS:.1f} ms: {med([x['hidden_over_budget'] for x in s]):.0f}, "
                     f"max {med([x['hidden_max_ms'] for x in s]):.1f} ms")
        p95_stream = med([x["p95_ms"] for x in s])
        lines.append(f"  {label:15} streaming p95 / empty-scene anchor p50: "
                     f"{p95_stream / a_p50 if a_p50 else float('nan'):.1f}x")
    return lines


def markdown_table(desktop: dict, xr: dict, shots_dir: str) -> list[str]:
    """One run's views as a table: the screenshot, the frame it was taken at and its numbers."""
    xr_by_name = {v["name"]: v for v in xr["views"]}
    rows = ["| view | screenshot | frame | draw calls (desktop) | draw calls (XR, both eyes) "
            "| triangles | GPU textures (MiB) |", "|---|---|---|---|---|---|---|"]
    for v in desktop["views"]:
        if "error" in v:
            continue
        x = xr_by_name.get(v["name"], {})
        shot = f"[{v['screenshot']}]({shots_dir}/{v['screenshot']})" if "screenshot" in v else ""
        rows.append(f"| {v['name']} | {shot} | {v['frame']} | {v['draw_calls']} | "
                    f"{x.get('draw_calls', '')} | {v['triangles']} | "
                    f"{v['texture_bytes'] / 2**20:.1f} |")
    return rows
