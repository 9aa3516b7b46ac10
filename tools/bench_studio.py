#!/usr/bin/env python3
"""The studio's drop-to-preview time: a scan chosen on an exhibition page of a real
`vrculture serve` (headless Chromium) until it stands in the private preview of the real viewer.

Steps timed: upload (resumable, in chunks) + conversion (the studio's queue) until the page
lists it done, then "Build the preview" on the plan page until the preview tab shows the
object (viewerTest.objectCentre). Anchor, same run, same file: `vrculture build` of a
one-object collection in a subprocess (the converter and bundle builder alone). Reported: each
step's seconds and the whole's ratio to the anchor.

The file is chosen through the page's file input (the same start() as a drop; a drop built in
the page would first copy the file through the DevTools protocol, which is not what a
curator's drop costs).

Usage: tools/bench_studio.py [--scan PATH]   (default: the corpus's largest scan,
derived/igea_from_tristrips.stl, 13 MB)

Measured (2 shared cores, Dec 6): igea_from_tristrips.stl 13.4 MB: converted 5.2 s, in the
preview 6.5 s, 2.70x the anchor (2.4 s); stanford-bunny.obj 2.4 MB: 2.0 s, 3.4 s, 1.59x (2.1 s).
The corpus has no 50 MB scan.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vrculture.server.storage import Store  # noqa: E402
from vrculture.server.studio import accounts  # noqa: E402
from vrculture.server.studio.schema import create_tables  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))  # where the corpus is: the tests' own lookup
from corpus_location import corpus_dir  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
from page_wait import wait_for  # noqa: E402

NAME, PASSWORD = "bench-curator", "bench-curator-password"
EXHIBITION = "bench"
TIMEOUT_MS = 240_000
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--enable-unsafe-swiftshader"]
TEST_HOOKS_SCRIPT = "window.vrcultureTestHooks = true;"  # viewerTest, as the e2e tests load it
CORPUS = corpus_dir()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, deadline_s: float = 60.0) -> None:
    end = time.monotonic() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.2)  # polling a starting server, not a measured wait


def anchor_build(scan: Path, work: Path) -> float:
    collection = work / "anchor"
    (collection / "sources").mkdir(parents=True)
    shutil.copyfile(scan, collection / "sources" / scan.name)  # symlinks are refused
    (collection / "collection.toml").write_text(
        f'[exhibition]\nid = "anchor"\ndefault_language = "en"\nlanguages = ["en"]\n'
        f'title = {{ en = "Anchor" }}\n\n[[objects]]\nid = "scan"\n'
        f'source = "sources/{scan.name}"\ntitle = {{ en = "Scan" }}\nrights = "CC0-1.0"\n',
        encoding="utf-8")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vrculture", "build", str(collection), "-o",
                    str(work / "anchor-bundle")], check=True, capture_output=True)
    return time.perf_counter() - start


def studio_drop_to_preview(scan: Path, work: Path) -> tuple[float, float]:
    from playwright.sync_api import sync_playwright

    data = work / "data"
    store = Store.open(data)
    try:
        create_tables(store.conn)
        accounts.add_curator(store, NAME, accounts.hash_password(PASSWORD), 0.0)
    finally:
        store.close()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "vrculture", "serve", "--data", str(data),
                               "--port", str(port), "--log-level", "warning"])
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(base + "/studio/sign-in")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1100, "height": 900})
            context.set_default_timeout(TIMEOUT_MS)
            context.add_init_script(TEST_HOOKS_SCRIPT)  # viewerTest in the preview tab
            page = context.new_page()
            page.goto(base + "/studio/sign-in")
            page.get_by_label("Name").fill(NAME)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_label("Password").press("Enter")
            page.wait_for_url("**/studio/")
            # A fresh account's password is one-time: it opens only the form that replaces it.
            page.get_by_label("Current password").fill(PASSWORD)
            page.get_by_label("New password").fill(PASSWORD + "-own")
            page.get_by_label("New password").press("Enter")
            page.wait_for_selector("#create-section", state="visible")
            page.get_by_label("Id (a-z, 0-9, - and _)").fill(EXHIBITION)
            page.get_by_label("Title (en)").fill("Bench")
            page.get_by_role("button", name="Create").click()
            page.wait_for_url(f"**/studio/exhibitions/{EXHIBITION}")
            page.wait_for_selector(".studio-drop")

            start = time.perf_counter()
            page.locator("input[type=file]:not([webkitdirectory])").set_input_files(str(scan))
            page.locator(".studio-object[data-state=done]").wait_for()
            converted = time.perf_counter() - start
            print(f"converted after {converted:.1f} s", file=sys.stderr)
            object_id = page.get_attribute(".studio-object[data-state=done]", "data-object")
            page.goto(base + f"/studio/exhibitions/{EXHIBITION}/plan")
            page.wait_for_selector(f"[data-id='{object_id}']")  # the plan, built on opening
            page.get_by_role("button", name="Build the preview").click()
            link = page.get_by_role("link", name="Open the preview (new tab)")
            link.wait_for()
            print(f"preview built after {time.perf_counter() - start:.1f} s", file=sys.stderr)
            with context.expect_page() as opened:
                link.click()
            preview = opened.value
            wait_for(preview,
                f"window.viewerTest && viewerTest.objectCentre('{object_id}')",
                timeout_ms=TIMEOUT_MS)
            total = time.perf_counter() - start
            browser.close()
        return converted, total
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scan", type=Path,
                        default=CORPUS / "derived" / "igea_from_tristrips.stl")
    args = parser.parse_args()
    scan: Path = args.scan.resolve()
    with tempfile.TemporaryDirectory(prefix="bench-studio-") as tmp:
        work = Path(tmp)
        anchor = anchor_build(scan, work)
        converted, total = studio_drop_to_preview(scan, work)
    size = os.path.getsize(scan) / 1e6
    print(f"scan: {scan.name} ({size:.1f} MB)")
    print(f"anchor `vrculture build` of it alone: {anchor:.1f} s")
    print(f"studio: chosen -> listed converted: {converted:.1f} s")
    print(f"studio: chosen -> standing in the preview: {total:.1f} s "
          f"({total / anchor:.2f}x the anchor)")


if __name__ == "__main__":
    main()
