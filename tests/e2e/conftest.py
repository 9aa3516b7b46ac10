"""End-to-end fixtures: one bundle, one real server and one headless Chromium per session.

The server is the real `create_app(ServerConfig)` on 127.0.0.1 in a thread of this process (its
own event loop, its clock E2E_CLOCK: it starts at tests/fixed_clock.py's FIXED_NOW), serving a
bundle written by `bundle_factory` (exact colours, positions and triangle counts, plus meshopt
and KTX2 levels). Chromium is Debian's, driven by Playwright's
Python package (no downloaded browser); IWER emulates a Meta Quest 3 where a test asks for it.
Each page's Date is set to the server's clock when it opens and its time zone is PAGE_TIME_ZONE:
the server and the browser agree on the date, and neither is the machine's.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fixed_clock import FIXED_NOW, RunningClock

from .bundle_factory import EXHIBITION_ID, Bundle, make_bundle

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
IWER_JS = ROOT / "node_modules" / "iwer" / "build" / "iwer.min.js"
IWER_SETUP = Path(__file__).with_name("iwer_setup.js")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-unsafe-swiftshader",
]
# SwiftShader on a loaded 2-core machine: generous waits, always on state, never on sleeps.
TIMEOUT_MS = 45_000
# Before a page loads: the viewer then exposes its test hooks as window.viewerTest.
TEST_HOOKS_SCRIPT = "window.vrcultureTestHooks = true;"
# The server's clock for the whole session, and the pages' (their Date starts where it is when
# they open): readings the tests post are stamped with it, never with the machine's clock.
E2E_CLOCK = RunningClock(FIXED_NOW)
PAGE_TIME_ZONE = "Europe/Stockholm"  # the museum's, whatever the machine's TZ


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    port: int
    bundle: Bundle
    data_dir: Path
    feed_tokens: dict[str, str]
    guide_code: str
    loop: asyncio.AbstractEventLoop
    museum_port: int
    museum_pages: dict[str, str]  # path -> HTML served by the stand-in museum site
    demo: Bundle
    clock: Callable[[], float] = E2E_CLOCK  # the server's "now" (epoch seconds)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def other_origin(self) -> str:
        """Same server, another origin (localhost vs 127.0.0.1): a cross-origin setup."""
        return f"http://localhost:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def museum_url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.museum_port}{path}"


class ServerThread(threading.Thread):
    """The vrculture server, plus a stand-in museum site on another port (another origin) whose
    pages embed the viewer. A real site, not an intercepted request: Chromium treats a page
    without a network address as public and blocks its requests to loopback addresses."""

    def __init__(self, config, museum_port: int, museum_pages: dict[str, str]) -> None:
        super().__init__(daemon=True, name="vrculture-e2e-server")
        self.config = config
        self.museum_port = museum_port
        self.museum_pages = museum_pages
        self.museum_runner = None
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.runner = None

    def run(self) -> None:
        from aiohttp import web

        from vrculture.server.app import create_app

        asyncio.set_event_loop(self.loop)

        async def start() -> None:
            app = create_app(self.config, watch_interval=0.5, clock=E2E_CLOCK)
            self.runner = web.AppRunner(app, access_log=None)
            await self.runner.setup()
            await web.TCPSite(self.runner, self.config.host, self.config.port).start()

            async def museum_page(request: web.Request) -> web.Response:
                html = self.museum_pages.get(request.path)
                if html is None:
                    raise web.HTTPNotFound()
                return web.Response(text=html, content_type="text/html")

            museum = web.Application()
            museum.router.add_get("/{path:.*}", museum_page)
            self.museum_runner = web.AppRunner(museum, access_log=None)
            await self.museum_runner.setup()
            await web.TCPSite(self.museum_runner, "127.0.0.1", self.museum_port).start()

        try:
            self.loop.run_until_complete(start())
        except BaseException as error:  # reported to the fixture, which fails loudly
            self.error = error
            self.ready.set()
            return
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.museum_runner.cleanup())
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.join(timeout=15)


@pytest.fixture(scope="session")
def e2e_bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    return make_bundle(tmp_path_factory.mktemp("bundles") / EXHIBITION_ID)


@pytest.fixture(scope="session")
def demo_bundle(built_demo: Path) -> Bundle:
    """The demo collection built by the real `vrculture build`, once per session
    (tests/conftest.py, shared read-only with the build and server tests)."""
    return Bundle(built_demo, json.loads((built_demo / "exhibition.json").read_text("utf-8")))


@pytest.fixture(scope="session")
def server(e2e_bundle: Bundle, demo_bundle: Bundle,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from vrculture.server.config import ServerConfig
    from vrculture.server.storage import Store

    data_dir = tmp_path_factory.mktemp("data")
    store = Store.open(data_dir, clock=E2E_CLOCK)
    tokens = {}
    for bundle in (e2e_bundle, demo_bundle):
        for feed, spec in bundle.manifest["feeds"].items():
            tokens[feed] = store.add_feed(feed, kind=spec["kind"], exhibition=bundle.manifest["id"])
    guide_code = store.add_guide_code(EXHIBITION_ID, "e2e guide")
    store.close()

    port, museum_port = free_port(), free_port()
    config = ServerConfig(bundles=[e2e_bundle.root, demo_bundle.root], data_dir=data_dir,
                          host="127.0.0.1",
                          port=port, allowed_origins=[f"http://127.0.0.1:{museum_port}"])
    museum_pages: dict[str, str] = {}
    thread = ServerThread(config, museum_port, museum_pages)
    thread.start()
    thread.ready.wait(30)
    if thread.error is not None:
        raise thread.error
    yield Server(port, e2e_bundle, data_dir, tokens, guide_code, thread.loop, museum_port,
                 museum_pages, demo_bundle)
    thread.stop()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (tools/bootstrap --browser installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def iwer_script() -> str:
    return IWER_JS.read_text() + "\n" + IWER_SETUP.read_text()


class PageErrors(list):
    """Uncaught page errors; a test asserts this stays empty."""


@pytest.fixture
def new_page(browser):
    """Factory: new_page(url=None, quest=False, lang='en-US', viewport=(800, 500),
    test_hooks=True, fixed_date=True); test_hooks=False loads the page as a visitor's browser
    would. fixed_date=False leaves the page on the browser's own timers: Playwright's clock
    fakes performance.now() and requestAnimationFrame too, so a page that compares frame times
    with Resource Timing (which stays on the real timeline) needs it off."""
    contexts = []

    def make(url: str | None = None, *, quest: bool = False, lang: str = "en-US",
             viewport: tuple[int, int] = (800, 500), test_hooks: bool = True,
             fixed_date: bool = True):
        ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                  locale=lang, timezone_id=PAGE_TIME_ZONE)
        ctx.set_default_timeout(TIMEOUT_MS)
        if fixed_date:
            set_page_clock(ctx)
        if test_hooks:
            ctx.add_init_script(TEST_HOOKS_SCRIPT)
        if quest:
            ctx.add_init_script(iwer_script())
        contexts.append(ctx)
        page = ctx.new_page()
        page.errors = PageErrors()
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        if url:
            page.goto(url)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def set_page_clock(ctx) -> None:
    """The context's Date runs from the server's clock (Playwright's clock: timers keep running
    in real time), so the page and the server agree on "now"."""
    ctx.clock.set_system_time(datetime.fromtimestamp(E2E_CLOCK(), UTC))


def _page_wait():
    """tools/page_wait.py (tools/ is no package): the benchmarks drive the viewer with it too."""
    spec = importlib.util.spec_from_file_location("page_wait", ROOT / "tools" / "page_wait.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_PAGE_WAIT = _page_wait()


def wait_for(target, expression: str, *, arg: object = None, timeout: float | None = None,
             poll_ms: int = 16):
    """Playwright's wait_for_function without its eval, which the viewer pages' policy refuses
    (see tools/page_wait.py): polls `expression` in `target` (a Page or a Frame) until it is
    truthy; returns the value's handle."""
    return _PAGE_WAIT.wait_for(target, expression, arg=arg, poll_ms=poll_ms,
                               timeout_ms=TIMEOUT_MS if timeout is None else timeout)


def wait_ready(page, *, first_frame: bool = True) -> None:
    wait_for(page, "window.viewerState && viewerState.ready", timeout=TIMEOUT_MS)
    if first_frame:
        wait_for(page, "viewerState.firstFrameAt != null", timeout=TIMEOUT_MS)


def state(page, expr: str = "viewerState"):
    return page.evaluate(f"JSON.parse(JSON.stringify({expr}))")
