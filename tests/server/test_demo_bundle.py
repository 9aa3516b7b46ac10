"""The real demo collection (assets/demo) built by `vrculture build`, served by the real app."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from vrculture.cli import main
from vrculture.cli.simulate import _simulate
from vrculture.server.app import create_app
from vrculture.server.assets import IMMUTABLE, content_type_for
from vrculture.server.config import ServerConfig
from vrculture.server.registry import _referenced_urls

DEMO = Path(__file__).resolve().parents[2] / "assets" / "demo"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
# Instants the simulator must fill every exhibit at, school day or not (the clock is injected:
# nothing here reads the machine's clock, zone or weekday).
INSTANTS = {
    "saturday-night": datetime(2026, 12, 5, 22, 0, tzinfo=STOCKHOLM),
    "sunday-noon": datetime(2026, 12, 6, 12, 0, tzinfo=STOCKHOLM),
    "monday-0710": datetime(2026, 12, 7, 7, 10, tzinfo=STOCKHOLM),
    "wednesday-school": datetime(2026, 12, 9, 10, 30, tzinfo=STOCKHOLM),
}


@pytest.fixture(scope="module")
def demo_bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "bundle"
    assert main(["build", str(DEMO), "-o", str(out), "--quiet"]) == 0
    return out


@pytest.fixture
def now() -> float:
    return INSTANTS["monday-0710"].timestamp()


@pytest.fixture
async def demo_client(aiohttp_client, demo_bundle, tmp_path, now):
    config = ServerConfig(bundles=[demo_bundle], data_dir=tmp_path / "data")
    return await aiohttp_client(create_app(config, clock=lambda: now))


@pytest.mark.slow
async def test_every_file_of_the_demo_is_served(demo_client, demo_bundle):
    manifest = json.loads((demo_bundle / "exhibition.json").read_text())
    exhibition = manifest["id"]
    listed = await (await demo_client.get("/api/exhibitions")).json()
    assert [e["id"] for e in listed] == [exhibition]
    urls = [url for _, url in _referenced_urls(manifest)]
    assert urls
    for url in urls:
        response = await demo_client.get(f"/bundles/{exhibition}/{url}")
        assert response.status == 200, url
        assert await response.read() == (demo_bundle / url).read_bytes()
        assert response.headers["Content-Type"] == content_type_for(Path(url))
        assert response.headers["Cache-Control"] == IMMUTABLE
    for page in ("/", f"/exhibitions/{exhibition}", f"/embed/{exhibition}"):
        assert (await demo_client.get(page)).status == 200, page


@pytest.mark.slow
@pytest.mark.parametrize("now", [t.timestamp() for t in INSTANTS.values()], ids=list(INSTANTS))
async def test_demo_search_oembed_and_simulated_feeds(demo_client, demo_bundle, tmp_path, now):
    manifest = json.loads((demo_bundle / "exhibition.json").read_text())
    exhibition = manifest["id"]
    first = manifest["objects"][0]
    word = first["title"][manifest["default_language"]].split()[0]
    hits = await (await demo_client.get("/api/search", params={"q": word.upper()})).json()
    assert first["id"] in [h["object"] for h in hits["results"]]
    base = str(demo_client.make_url("")).rstrip("/")
    oembed = await (await demo_client.get("/oembed", params={
        "url": f"{base}/embed/{exhibition}/{first['id']}"})).json()
    assert f"/embed/{exhibition}/{first['id']}" in oembed["html"]
    args = argparse.Namespace(url=base, duration=1.5, speed=3600 * 24, token=[],
                              data=tmp_path / "data", exhibition=[], seed=2, insecure=False)
    assert await _simulate(args, clock=lambda: now) == 0
    for feed_id in manifest["feeds"]:
        history = await (await demo_client.get(f"/api/feeds/{feed_id}/readings")).json()
        assert history["readings"], feed_id
