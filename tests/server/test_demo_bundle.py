"""The real demo collection (assets/demo) built by `vrculture build`, served by the real app."""

from __future__ import annotations

import argparse
import json
import random
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from vrculture.cli.simulate import TICK_REAL_SECONDS, _simulate
from vrculture.server.app import create_app
from vrculture.server.assets import IMMUTABLE, content_type_for
from vrculture.server.config import ServerConfig
from vrculture.server.goal_figures import (
    FigureSettings,
    bin_figure,
    lighting_figure,
    period_for,
    screening_figure,
)
from vrculture.server.registry import _referenced_urls
from vrculture.server.simulate import Replay, model_for

ROOT = Path(__file__).resolve().parents[2]
STOCKHOLM = ZoneInfo("Europe/Stockholm")
# Instants the simulator must fill every exhibit at, school day or not (the clock is injected:
# nothing here reads the machine's clock, zone or weekday).
INSTANTS = {
    "saturday-night": datetime(2026, 12, 5, 22, 0, tzinfo=STOCKHOLM),
    "sunday-noon": datetime(2026, 12, 6, 12, 0, tzinfo=STOCKHOLM),
    "monday-0710": datetime(2026, 12, 7, 7, 10, tzinfo=STOCKHOLM),
    "wednesday-school": datetime(2026, 12, 9, 10, 30, tzinfo=STOCKHOLM),
}
# The school day whose screenings tools/demo replays when started at each instant (its replay
# starts 23 hours back: the most recent weekday that began by then).
REPLAYED_SCHOOL_DAY = {
    "saturday-night": "2026-12-04",
    "sunday-noon": "2026-12-04",
    "monday-0710": "2026-12-04",
    "wednesday-school": "2026-12-08",
}
EVERY_EXHIBIT_WITHIN_S = 300  # real seconds after tools/demo starts


def _demo_replay() -> tuple[float, float]:
    """tools/demo's simulator duration and default speed, read from the script itself (the
    speed may be given as `"${SPEED:-24}"`)."""
    script = (ROOT / "tools" / "demo").read_text()
    match = re.search(r'vrculture simulate .*?--duration (\d+) --speed "?(?:\$\{SPEED:-)?(\d+)',
                      script, re.S)
    assert match, "tools/demo no longer runs `vrculture simulate --duration N --speed N`"
    return float(match[1]), float(match[2])


@pytest.fixture(scope="module")
def demo_bundle(built_demo: Path) -> Path:
    """`vrculture build assets/demo`, built once per session (tests/conftest.py), read-only."""
    return built_demo


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
                              data=tmp_path / "data", exhibition=[], seed=2, insecure=False,
                              mqtt=None)
    assert await _simulate(args, clock=lambda: now) == 0
    for feed_id in manifest["feeds"]:
        history = await (await demo_client.get(f"/api/feeds/{feed_id}/readings")).json()
        assert history["readings"], feed_id


@pytest.mark.slow
@pytest.mark.parametrize("started", list(INSTANTS))
def test_demo_replay_shows_every_exhibit_early_whatever_the_day(demo_bundle, started):
    """tools/demo's replay, stepped as the simulator steps it but without waiting: within its
    first minutes every smart exhibit has readings, none of them in the future."""
    manifest = json.loads((demo_bundle / "exhibition.json").read_text())
    duration, speed = _demo_replay()
    start = INSTANTS[started].timestamp()
    rng = random.Random(3)
    models = {feed: model_for(feed, spec, rng) for feed, spec in manifest["feeds"].items()}
    replay = Replay(models, start + duration, duration, speed)
    first_seen: dict[str, float] = {}
    screening: list[dict] = []
    ticks = int(EVERY_EXHIBIT_WITHIN_S / TICK_REAL_SECONDS)
    for tick in range(1, ticks + 1):
        elapsed = tick * TICK_REAL_SECONDS
        for feed, readings in replay.advance(elapsed).items():
            assert all(r["t"] <= start + elapsed + 0.01 for r in readings), feed
            if readings:
                first_seen.setdefault(feed, elapsed)
            if manifest["feeds"][feed]["kind"] == "eye-tracking-screening":
                screening += readings
    exhibits = manifest["smart_exhibits"]
    assert exhibits and {e["kind"] for e in exhibits} >= {
        "street-lighting", "smart-bin", "eye-tracking-screening"}
    for exhibit in exhibits:
        missing = [feed for feed in exhibit["feeds"] if feed not in first_seen]
        assert not missing, f"{exhibit['id']}: no readings in {EVERY_EXHIBIT_WITHIN_S} s"
    assert screening and {r["period"] for r in screening} == {REPLAYED_SCHOOL_DAY[started]}


@pytest.mark.slow
@pytest.mark.parametrize("started", list(INSTANTS))
def test_demo_replay_gives_every_goal_figure_within_minutes(demo_bundle, started):
    """What the demo's smart exhibits show for their goals, a few minutes after tools/demo
    starts: energy saved, bin trips avoided and screening sessions are all under way."""
    manifest = json.loads((demo_bundle / "exhibition.json").read_text())
    duration, speed = _demo_replay()
    start = INSTANTS[started].timestamp()
    rng = random.Random(3)
    models = {feed: model_for(feed, spec, rng) for feed, spec in manifest["feeds"].items()}
    replay = Replay(models, start + duration, duration, speed)
    readings: dict[str, list[dict]] = {feed: [] for feed in models}
    for tick in range(1, int(EVERY_EXHIBIT_WITHIN_S / TICK_REAL_SECONDS) + 1):
        for feed, new in replay.advance(tick * TICK_REAL_SECONDS).items():
            readings[feed] += new
    now = start + EVERY_EXHIBIT_WITHIN_S
    settings = FigureSettings()
    shown: dict[str, list] = {}
    for feed, spec in manifest["feeds"].items():
        kind = spec["kind"]
        period = period_for(kind, now, settings)
        if kind == "street-lighting":
            shown.setdefault(kind, []).append(lighting_figure(readings[feed], period)["value"])
        elif kind == "smart-bin":
            shown.setdefault(kind, []).append(bin_figure(readings[feed], period)["value"])
        elif kind == "eye-tracking-screening":
            shown.setdefault(kind, []).append(screening_figure(readings[feed], period)["value"])
    assert min(shown["street-lighting"]) >= 0.2, shown  # kWh saved
    assert sum(shown["smart-bin"]) > 0, shown  # trips avoided
    assert all(v == "<5" or v > 0 for v in shown["eye-tracking-screening"]), shown
