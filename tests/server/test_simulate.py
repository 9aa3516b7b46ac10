"""The demo simulator: plausible models, and readings that the real ingest accepts."""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from vrculture.cli.simulate import _simulate
from vrculture.server.app import create_app
from vrculture.server.readings import FeedSpec, validate_reading
from vrculture.server.simulate import (
    Screening,
    SmartBins,
    StreetLights,
    _local_hour,
    is_dark,
    latest_school_morning,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
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
        return not is_dark(_local_hour(r["t"], STOCKHOLM))

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


def test_screening_sessions_follow_stockholm_time_not_utc():
    # 07:30 UTC on a Monday in winter is 08:30 in Stockholm: school has begun there.
    monday = datetime(2026, 12, 7, 7, 30, tzinfo=UTC).timestamp()
    screening = Screening("screening", random.Random(1))
    readings = []
    for t in range(int(monday), int(monday) + 3 * 3600, 30):
        readings += screening.step(t, t + 30)
    assert readings and readings[0]["period"] == "2026-12-07"
    assert datetime.fromtimestamp(readings[0]["t"], UTC).hour < 8  # the first before 08 UTC


@pytest.mark.parametrize(("local", "expected"), [
    (datetime(2026, 12, 5, 22, 0), datetime(2026, 12, 4, 7, 30)),  # Saturday night: Friday
    (datetime(2026, 12, 6, 12, 0), datetime(2026, 12, 4, 7, 30)),  # Sunday: Friday
    (datetime(2026, 12, 7, 7, 10), datetime(2026, 12, 4, 7, 30)),  # Monday before 07:30
    (datetime(2026, 12, 7, 7, 30), datetime(2026, 12, 7, 7, 30)),  # Monday from 07:30 on
    (datetime(2026, 12, 9, 23, 59), datetime(2026, 12, 9, 7, 30)),  # Wednesday night
    (datetime(2026, 3, 30, 7, 0), datetime(2026, 3, 27, 7, 30)),  # Monday after the DST change
    (datetime(2026, 10, 26, 9, 0), datetime(2026, 10, 26, 7, 30)),  # Monday after DST ends
])
def test_latest_school_morning_is_a_weekday_at_0730_stockholm_time(local, expected):
    at = local.replace(tzinfo=STOCKHOLM).timestamp()
    assert latest_school_morning(at) == expected.replace(tzinfo=STOCKHOLM).timestamp()


@pytest.mark.parametrize("local", [
    datetime(2026, 12, 5, 22, 0), datetime(2026, 12, 6, 12, 0), datetime(2026, 12, 7, 7, 10),
    datetime(2026, 12, 9, 10, 30),
])
def test_screening_replays_a_school_day_from_before_school_on_any_day(local):
    start = local.replace(tzinfo=STOCKHOLM).timestamp()
    screening = Screening("screening", random.Random(2))
    offset = screening.replay_offset(start)
    assert offset >= 0  # only ever back in time: no reading in the future
    replayed = datetime.fromtimestamp(start - offset, STOCKHOLM)
    assert replayed.weekday() < 5 and (replayed.hour, replayed.minute) == (7, 30)
    assert SmartBins("b", random.Random(1)).replay_offset(start) == 0


@pytest.mark.parametrize(("local", "replayed"), [
    (datetime(2026, 12, 5, 22, 0), datetime(2026, 12, 5, 22, 0)),  # dark already: as it is
    (datetime(2026, 12, 7, 7, 10), datetime(2026, 12, 7, 7, 10)),
    (datetime(2026, 12, 6, 12, 0), datetime(2026, 12, 5, 16, 0)),  # by day: last nightfall
    (datetime(2026, 12, 9, 15, 59), datetime(2026, 12, 8, 16, 0)),
    (datetime(2026, 10, 25, 10, 0), datetime(2026, 10, 24, 16, 0)),  # across the clock change
])
def test_street_lights_replay_a_night_when_started_by_day(local, replayed):
    start = local.replace(tzinfo=STOCKHOLM).timestamp()
    offset = StreetLights("l", random.Random(1)).replay_offset(start)
    assert offset >= 0
    assert start - offset == replayed.replace(tzinfo=STOCKHOLM).timestamp()


@pytest.mark.parametrize("local", [datetime(2026, 12, 5, 22, 0), datetime(2026, 12, 7, 7, 10)],
                         ids=["saturday-night", "monday-0710"])
async def test_simulate_posts_through_the_public_api(aiohttp_client, config, local):
    now = local.replace(tzinfo=STOCKHOLM).timestamp()
    client = await aiohttp_client(create_app(config, watch_interval=0.2, clock=lambda: now))
    args = argparse.Namespace(
        url=str(client.make_url("")).rstrip("/"), duration=1.5, speed=3600 * 16, token=[],
        data=config.data_dir, exhibition=[], seed=7, insecure=False, mqtt=None)
    assert await _simulate(args, clock=lambda: now) == 0
    for feed in ("street-lights", "bins", "temperature"):
        history = await (await client.get(f"/api/feeds/{feed}/readings")).json()
        assert history["readings"], feed
        newest = max(datetime.fromisoformat(r["t"]) for r in history["readings"])
        # The replay ends at the clock's end time (lamps of one step report 1 ms apart).
        assert newest.timestamp() <= now + args.duration + 0.01
    # A second run reuses the simulator's own tokens.
    assert await _simulate(args, clock=lambda: now) == 0
