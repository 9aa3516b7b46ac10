"""The viewer in headless Chromium through the deployment recipe: the page and modules come
through nginx from vrculture, the bundle files from nginx's disk, the room over nginx's
WebSocket proxy; the exhibition renders its first frame and joins its room."""

from __future__ import annotations

import pytest
from e2e.bundle_factory import EXHIBITION_ID
from e2e.conftest import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, wait_for, wait_ready
from e2e.studio_session import add_curator, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def page():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (tools/bootstrap --browser installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:  # closed before the next test: no event loop left running
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 800, "height": 500})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        yield page
        context.close()
        browser.close()


def test_the_exhibition_loads_and_joins_its_room_through_nginx(deployment, page):
    bundle_replies: dict[str, int] = {}
    page.on("response", lambda r: bundle_replies.__setitem__(r.url, r.status)
            if "/bundles/" in r.url else None)
    page.goto(deployment.url(f"/exhibitions/{EXHIBITION_ID}"))
    wait_ready(page)
    wait_for(page, "viewerState.ws.status === 'open'", timeout=TIMEOUT_MS)
    assert page.errors == []
    glbs = {url: status for url, status in bundle_replies.items() if url.endswith(".glb")}
    assert glbs and set(glbs.values()) == {200}, bundle_replies
    for url in glbs:
        assert url.startswith(deployment.base)
        assert deployment.upstream_of(url.removeprefix(deployment.base)) == "-"  # from disk


def test_the_viewer_runs_under_a_sub_path_of_the_museums_site(subpath_deployment, page):
    """nginx maps /vr/ (prefix stripped) to vrculture started with --public-url …/vr: every
    request the viewer makes, its room's WebSocket included, stays under /vr/."""
    deployment = subpath_deployment
    requests: list[str] = []
    sockets: list[str] = []
    statuses: dict[str, int] = {}
    page.on("request", lambda r: requests.append(r.url))
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.on("response", lambda r: statuses.__setitem__(r.url, r.status))
    page.goto(deployment.url(f"/exhibitions/{EXHIBITION_ID}"))
    wait_ready(page)
    wait_for(page, "viewerState.ws.status === 'open'", timeout=TIMEOUT_MS)
    assert page.errors == []
    outside = [u for u in requests if not u.startswith((deployment.base + "/", "data:", "blob:"))]
    assert outside == []
    failed = {url: status for url, status in statuses.items() if status >= 400}
    assert failed == {}
    glbs = [url for url in requests if url.endswith(".glb")]
    assert glbs and all(statuses[url] == 200 for url in glbs)
    for url in glbs:  # still from nginx's disk, under the prefix
        assert deployment.upstream_of(url.removeprefix(deployment.origin)) == "-"
    ws_base = deployment.base.replace("http://", "ws://", 1)
    assert sockets and all(u.startswith(f"{ws_base}/ws/rooms/{EXHIBITION_ID}") for u in sockets)


def test_the_embed_the_list_and_a_deep_link_run_under_the_sub_path(subpath_deployment, page):
    deployment = subpath_deployment
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    deep_link = f"/vr/exhibitions/{EXHIBITION_ID}/objects/green-bowl"
    page.goto(deployment.origin + deep_link + "?room=0")
    wait_ready(page)
    wait_for(page, "viewerState.selected === 'green-bowl'", timeout=TIMEOUT_MS)
    assert page.evaluate("location.pathname") == deep_link  # the address keeps its prefix
    page.keyboard.press("Escape")  # closing the panel rewrites the address to the exhibition's
    wait_for(page, f"location.pathname === '/vr/exhibitions/{EXHIBITION_ID}'")
    page.goto(deployment.url(f"/embed/{EXHIBITION_ID}"))
    wait_ready(page)
    page.goto(deployment.url("/"))
    link = page.locator("#exhibitions a").first
    link.wait_for()
    assert link.evaluate("a => a.href") == deployment.url(f"/exhibitions/{EXHIBITION_ID}")
    assert page.errors == []
    outside = [u for u in requests if not u.startswith((deployment.base + "/", "data:", "blob:"))]
    assert outside == []


def test_a_museum_page_embeds_the_viewer_from_the_sub_path(subpath_deployment, page):
    """The museum's own page (outside /vr/, same site) uses the embed script: the element's
    iframe opens /vr/embed/… and its viewer starts."""
    deployment = subpath_deployment
    museum = deployment.origin + "/collection.html"  # the museum's page, answered here
    page.route(museum, lambda route: route.fulfill(content_type="text/html", body=f"""
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Museum</title>
        <link rel="icon" href="data:,">
        <script src="{deployment.base}/vrculture-embed.js"></script></head><body>
        <vrculture-exhibit src="{deployment.base}/exhibitions/{EXHIBITION_ID}"></vrculture-exhibit>
        <script>
          window.loaded = false;
          document.querySelector('vrculture-exhibit')
            .addEventListener('load', () => {{ window.loaded = true; }});
        </script></body></html>"""))
    page.goto(museum)
    wait_for(page, "window.loaded === true", timeout=TIMEOUT_MS)
    src = page.evaluate("document.querySelector('vrculture-exhibit').shadowRoot"
                        ".querySelector('iframe').src")
    assert src == deployment.url(f"/embed/{EXHIBITION_ID}")
    frame = next(f for f in page.frames if f.url.startswith(src))
    wait_for(frame, "viewerState.firstFrameAt != null", timeout=TIMEOUT_MS)
    assert page.errors == []


def test_a_curator_signs_in_and_creates_an_exhibition_under_the_sub_path(subpath_deployment,
                                                                        page):
    """The studio behind the prefix: its session cookie (Path=/vr/studio), the one-time
    password form, the Origin and CSRF checks of a change, and its pages' links."""
    deployment = subpath_deployment
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    add_curator(deployment, "subpath-curator", "printed-one-time-pw", one_time=True)
    page.goto(deployment.url("/studio/"))
    page.wait_for_url("**/vr/studio/sign-in")
    sign_in(page, "subpath-curator", "printed-one-time-pw")
    page.wait_for_selector("#password-section:not([hidden])")
    page.get_by_label("Current password").fill("printed-one-time-pw")
    page.get_by_label("New password").fill("the-curators-own-pw")
    page.get_by_label("New password").press("Enter")
    page.wait_for_selector("#create-section", state="visible")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert [c["path"] for c in cookies.values()] == ["/vr/studio"]
    page.get_by_label("Id (a-z, 0-9, - and _)").fill("under-vr")
    page.get_by_label("Title (sv)").fill("Under /vr/")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**/vr/studio/exhibitions/under-vr")
    page.wait_for_selector("#exhibition-heading:has-text('Under /vr/')")
    assert (deployment.data_dir / "studio" / "exhibitions" / "under-vr").is_dir()
    assert page.errors == []
    outside = [u for u in requests if not u.startswith((deployment.base + "/", "data:", "blob:"))]
    assert outside == []
