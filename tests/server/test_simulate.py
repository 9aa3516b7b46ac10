"""The demo simulator: plausible models, and readings that the real ingest accepts."""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime

from vrculture.cli.simulate import _simulate
from vrculture.server.readings import FeedSpec, validate_reading
from vrculture.server.simulate import Screening, SmartBins, StreetLights, _local_hour, is_dark

MIDNIGHT = datetime(2026, 11, 26, 23, 0, tzinfo=UTC).timestamp()  # 00:00 local (UTC+1)


def _run(model, hours: float, step: float = 30.0) -> list[dict]:
    readings, t = [], MIDNIGHT
    while t < MIDNIGHT + hours * 3600:
        readings += model.step(t, t + step)
        t += step
    return readings


def test_street_lights_react_to_people_at_night_and_save_energy():
    lights = StreetLights("street-lights", random.Random(3))
    readings = _run(lights, 24)
    for reading in readings:
        validate_reading(reading, FeedSpec("street-lighting"), now=MIDNIGHT + 2 * 86400)

    def daytime(r):
        return not is_dark(_local_hour(r["t"], 1.0))

    passing_at_night = [r for r in readings if r["presence"] and not daytime(r)]
    assert passing_at_night and all(r["level"] == 100 for r in passing_at_night)
    assert all(daytime(r) for r in readings if r["level"] == 0)  # off only by day
    assert any(r["level"] == 20 for r in readings)  # dimmed while nobody passes
    assert 0 < lights.used_wh < lights.always_on_wh


def test_bins_fill_compact_and_get_emptied_with_trips_saved():
    bins = SmartBins("bins", random.Random(4))
    readings = _run(bins, 72)
    for reading in readings:
        validate_reading(reading, FeedSpec("smart-bin"), now=MIDNIGHT + 4 * 86400)
    assert any(r["emptied"] for r in readings)
    assert any(r["compactions"] > 0 for r in readings)
    assert bins.plain_volume // 100 > bins.emptied  # compaction saves collection trips


def test_screening_reports_daily_aggregates_only():
    screening = Screening("screening", random.Random(5))
    readings = _run(screening, 48)
    assert readings
    for reading in readings:
        validate_reading(reading, FeedSpec("eye-tracking-screening"), now=MIDNIGHT + 3 * 86400)
        assert set(reading) == {"t", "period", "sessions", "referred"}
    periods = {r["period"] for r in readings}
    assert periods == {"2026-11-27"}  # a Friday; the Saturday has no school


async def test_simulate_posts_through_the_public_api(client, config):
    args = argparse.Namespace(
        url=str(client.make_url("")).rstrip("/"), duration=1.5, speed=3600 * 16, token=[],
        data=config.data_dir, exhibition=[], seed=7, insecure=False)
    assert await _simulate(args) == 0
    for feed in ("street-lights", "bins", "temperature"):
        history = await (await client.get(f"/api/feeds/{feed}/readings")).json()
        assert history["readings"], feed
    # A second run reuses the simulator's own tokens.
    assert await _simulate(args) == 0
