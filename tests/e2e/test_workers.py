"""The decoders' workers are files of this server, so the pages' policy refuses eval and Blob
workers (vrculture/server/security.py) while meshopt geometry and KTX2 textures still decode."""

from __future__ import annotations

from pathlib import Path

from .conftest import TIMEOUT_MS, state, wait_for, wait_ready

# Before the page's own scripts: every policy violation and every worker started, by URL.
WATCH_SCRIPT = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(
    `${e.violatedDirective} ${e.blockedURI}`));
window.workersStarted = [];
const PageWorker = window.Worker;
window.Worker = class extends PageWorker {
    constructor(url, options) { window.workersStarted.push(String(url)); super(url, options); }
};
"""


def _watched_page(new_page, url: str):
    page = new_page()
    page.context.add_init_script(WATCH_SCRIPT)
    page.goto(url)
    return page


def test_levels_decode_in_served_workers_under_a_policy_without_eval(server, new_page):
    page = _watched_page(new_page, server.url("/exhibitions/e2e?room=0&lod=max"))
    wait_ready(page)
    # meshopt geometry, decoded in the meshopt worker
    wait_for(page,
        "viewerState.levelLoads.some(l => l.object === 'red-vase' && l.level === 'high' && l.ok)",
        timeout=TIMEOUT_MS)
    # a KTX2 texture, transcoded in the Basis worker
    wait_for(page,
        "viewerState.levelLoads.some(l => l.object === 'checker-painting' && l.ok)",
        timeout=TIMEOUT_MS)
    base = server.url("")
    started = page.evaluate("workersStarted")
    # both resolved against the module's URL (under a base path too: basepath.py)
    assert set(started) == {f"{base}/static/js/meshopt-worker.js",
                            f"{base}/vendor/basis_worker.js"}
    assert page.evaluate("cspViolations") == []
    # the page refuses eval and Blob workers: injected text can never become code. (Both from
    # a task of the page's own: DevTools lets the code it evaluates itself use eval.)
    page.evaluate("""() => setTimeout(() => {
        try { eval('1'); window.evalOutcome = 'ran'; } catch (e) { window.evalOutcome = e.name; }
        new Worker(URL.createObjectURL(new Blob(['postMessage(1)'])));
    }, 0)""")
    wait_for(page, "window.evalOutcome && cspViolations.length >= 2")
    assert page.evaluate("evalOutcome") == "EvalError"
    assert sorted(page.evaluate("cspViolations")) == ["script-src eval", "worker-src blob"]
    s = state(page)
    assert s["levelFailures"] == [] and s["errors"] == [] and page.errors == []


def test_the_served_basis_worker_is_the_one_ktx2loader_builds(server, new_page):
    """tools/basis_worker.mjs builds the worker in node as KTX2Loader does in the browser; this
    compares the two, so a three upgrade that changes the loader's worker fails here."""
    page = new_page(server.url("/exhibitions/e2e"))
    wait_ready(page, first_frame=False)
    same = page.evaluate("""async () => {
        const { KTX2Loader } = await import('three/addons/loaders/KTX2Loader.js');
        const loader = new KTX2Loader()
            .setTranscoderPath('/vendor/three/examples/jsm/libs/basis/');
        await loader.init();
        const built = await (await fetch(loader.workerSourceURL)).text();
        const served = await (await fetch('/vendor/basis_worker.js')).text();
        loader.dispose();
        return [built.length, served.length, built === served];
    }""")
    assert same[2], f"built {same[0]} chars, served {same[1]}: run tools/vendor_three.py"


def test_geometry_still_decodes_when_the_meshopt_worker_cannot_start(server, new_page):
    page = new_page()
    warnings: list[str] = []
    page.on("console", lambda message: warnings.append(message.text))
    page.context.route("**/static/js/meshopt-worker.js",
                       lambda route: route.fulfill(status=404, body="gone"))
    page.goto(server.url("/exhibitions/e2e?room=0&lod=max"))
    wait_ready(page)
    wait_for(page, "viewerState.levelLoads.some("
             "l => l.object === 'red-vase' && l.level === 'high' && l.ok)")
    assert any("decoding on the main thread" in text for text in warnings), warnings
    s = state(page)
    assert s["levelFailures"] == [] and page.errors == []


def test_no_test_or_tool_waits_with_playwrights_eval():
    """Playwright's wait_for_function evaluates its expression with eval, which the viewer's
    policy refuses: every wait goes through tools/page_wait.py (conftest.wait_for)."""
    root = Path(__file__).resolve().parents[2]
    call = "." + "wait_for_function("  # (spelt so that this line is no call)
    offenders = [f"{path.relative_to(root)}:{number}"
                 for folder in ("tests", "tools") for path in sorted((root / folder).rglob("*.py"))
                 for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
                 if call in line]
    assert offenders == []
