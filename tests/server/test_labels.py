"""Wall labels (/exhibitions/{id}/labels) and objects' deep links
(/exhibitions/{id}/objects/{object})."""

from __future__ import annotations

import asyncio
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
import segno

from vrculture.server.app import create_app
from vrculture.server.config import ServerConfig
from vrculture.server.labels import QR_BORDER, QR_OPTIONS

from .bundle_factory import make_bundle

HOSTILE = '<script>alert("x")</script> & "quotes"'


class _Labels(HTMLParser):
    """Each label's text (per element class) and the `d` of its QR's path."""

    def __init__(self) -> None:
        super().__init__()
        self.labels: list[dict] = []
        self.scripts = 0
        self._field: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "article":
            self.labels.append({"id": a["data-object"], "texts": [], "url": None, "d": None})
        elif self.labels and tag == "figure":
            self.labels[-1]["url"] = a["data-url"]
        elif self.labels and tag == "path":
            self.labels[-1]["d"] = a["d"]
        elif tag in ("h2", "p"):
            self._field = tag

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h2", "p"):
            self._field = None

    def handle_data(self, data: str) -> None:
        if self._field and self.labels:
            self.labels[-1]["texts"].append(data)


def path_to_matrix(d: str) -> set[tuple[int, int]]:
    """Reads segno's SVG path back into dark modules: `M x y` / `m dx dy` move, `h n` draws a
    run of n modules along the row the pen is on (the stroke is centred on y + 0.5)."""
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    for cmd, args in re.findall(r"([MmHhVv])([^MmHhVv]*)", d):
        nums = [float(n) for n in args.replace(",", " ").split()]
        if cmd == "M":
            x, y = nums
        elif cmd == "m":
            x, y = x + nums[0], y + nums[1]
        elif cmd == "h":
            for i in range(int(nums[0])):
                dark.add((int(y - 0.5), int(x) + i))
            x += nums[0]
        else:
            raise AssertionError(f"unexpected path command {cmd}")
    return dark


def matrix_of(url: str) -> set[tuple[int, int]]:
    code = segno.make(url, **QR_OPTIONS)
    return {(r + QR_BORDER, c + QR_BORDER)
            for r, row in enumerate(code.matrix) for c, bit in enumerate(row) if bit}


@pytest.fixture
def labelled_bundle(tmp_path: Path) -> Path:
    return make_bundle(tmp_path / "labelled", "gallery", objects=[
        {"id": "angel", "title": {"sv": "Ängel med lyra", "en": "Angel with a lyre"},
         "creator": "Okänd mästare"},
        {"id": "bowl", "title": {"sv": HOSTILE, "en": "Bowl"}, "creator": "Anna </p> Öberg"},
        {"id": "jar", "title": {"sv": "Kruka", "en": "Kruka"}, "creator": ""},
    ])


@pytest.fixture
async def labels_client(aiohttp_client, tmp_path: Path, labelled_bundle: Path, web_dir: Path,
                        clock):
    config = ServerConfig(bundles=[labelled_bundle], data_dir=tmp_path / "data", web_dir=web_dir,
                          public_url="https://museum.example/vr")
    return await aiohttp_client(create_app(config, watch_interval=0.2, clock=clock))


async def test_labels_list_every_object_with_its_texts_escaped(labels_client):
    resp = await labels_client.get("/exhibitions/gallery/labels")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    body = await resp.text()
    assert "<script>alert" not in body and "</p> Öberg" not in body
    parser = _Labels()
    parser.feed(body)
    assert parser.scripts == 0
    assert [label["id"] for label in parser.labels] == ["angel", "bowl", "jar"]
    angel, bowl, jar = parser.labels
    assert angel["texts"][:3] == ["Ängel med lyra", "Angel with a lyre", "Okänd mästare"]
    # the curator's markup comes back as the text they typed, not as elements
    assert bowl["texts"][:3] == [HOSTILE, "Bowl", "Anna </p> Öberg"]
    assert jar["texts"] == ["Kruka"]  # one wording in both languages: once; no empty creator


async def test_each_qr_code_encodes_its_objects_deep_link(labels_client):
    body = await (await labels_client.get("/exhibitions/gallery/labels")).text()
    parser = _Labels()
    parser.feed(body)
    for label in parser.labels:
        url = f"https://museum.example/vr/exhibitions/gallery/objects/{label['id']}"
        assert label["url"] == url
        assert path_to_matrix(label["d"]) == matrix_of(url)
    # the check can tell codes apart: a neighbour's link is a different pattern
    assert path_to_matrix(parser.labels[0]["d"]) != matrix_of(parser.labels[1]["url"])


async def test_without_a_public_url_the_qr_uses_the_requests_host(client):
    body = await (await client.get("/exhibitions/demo/labels")).text()
    parser = _Labels()
    parser.feed(body)
    host = f"http://{client.server.host}:{client.server.port}"
    assert [label["url"] for label in parser.labels] == [
        f"{host}/exhibitions/demo/objects/angel", f"{host}/exhibitions/demo/objects/bowl"]
    assert path_to_matrix(parser.labels[0]["d"]) == matrix_of(parser.labels[0]["url"])


async def test_labels_page_runs_no_script_and_prints_on_a4(labels_client):
    resp = await labels_client.get("/exhibitions/gallery/labels")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert re.search(r"style-src 'sha256-[A-Za-z0-9+/=]+'", csp)
    assert "size: A4" in await resp.text()


async def test_labels_of_an_unknown_exhibition_are_404(labels_client):
    assert (await labels_client.get("/exhibitions/nowhere/labels")).status == 404


async def test_deep_link_serves_the_viewer_page_for_a_known_object(client):
    resp = await client.get("/exhibitions/demo/objects/bowl")
    assert resp.status == 200
    # the viewer's page, with the base the server writes into it (basepath.py)
    assert await resp.text() == '<!doctype html>\n  <base href="/"><title>exhibition.html</title>'
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", [
    "/exhibitions/demo/objects/nothing", "/exhibitions/demo/objects/lights",
    "/exhibitions/nowhere/objects/bowl", "/exhibitions/demo/objects/..%2Fbowl",
])
async def test_deep_link_to_an_unknown_object_is_404(client, path):
    assert (await client.get(path)).status == 404


async def test_oembed_accepts_a_deep_link(client):
    host = f"http://{client.server.host}:{client.server.port}"
    resp = await client.get("/oembed", params={"url": f"{host}/exhibitions/demo/objects/bowl"})
    assert resp.status == 200
    reply = await resp.json()
    assert "/embed/demo/bowl" in reply["html"]
    assert reply["author_name"] == "Anna Öberg"


async def test_a_republished_exhibition_gets_fresh_labels(labels_client, labelled_bundle):
    first = await (await labels_client.get("/exhibitions/gallery/labels")).text()
    assert "Ängel med lyra" in first
    make_bundle(labelled_bundle, "gallery", objects=[
        {"id": "angel", "title": {"sv": "Ängel med harpa", "en": "Angel with a harp"}}])

    async def updated() -> bool:
        page = await (await labels_client.get("/exhibitions/gallery/labels")).text()
        return "Ängel med harpa" in page and "Kruka" not in page

    deadline = time.monotonic() + 5.0
    while not await updated():  # the registry notices the new exhibition.json by polling
        assert time.monotonic() < deadline, "the labels never showed the republished bundle"
        await asyncio.sleep(0.05)
