"""Goal figures through the real app: readings in by the feed API, figures out by the API and
pushed to a room, at fixed instants (the app's clock is injected)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fixed_clock import FakeClock

from vrculture.server import figures
from vrculture.server.app import create_app
from vrculture.server.goal_figures import STOCKHOLM
from vrculture.server.rooms.client import RoomClient
from vrculture.server.settings import load_config
from vrculture.server.storage import Store

from .test_rooms import EXHIBITION, make_config


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM).timestamp()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(at("2026-12-03T08:00"))


@pytest.fixture
def config(tmp_path: Path):
    return make_config(tmp_path)


@pytest.fixture
def tokens(config) -> dict[str, str]:
    store = Store.open(config.data_dir, clock=FakeClock())
    try:
        return {
            "lamps": store.add_feed("lamps", kind="street-lighting", exhibition=EXHIBITION),
            "bins": store.add_feed("bins", kind="smart-bin"),
            "screening": store.add_feed("screening", kind="eye-tracking-screening"),
            "temperature": store.add_feed("temperature", kind="gauge"),
        }
    finally:
        store.close()


@pytest.fixture
async def client(aiohttp_client, config, clock, tokens):
    return await aiohttp_client(create_app(config, watch_interval=0.2, clock=clock))


def lamp(t: str, level: float, lamp_id: str = "lamp-1") -> dict[str, Any]:
    return {"t": datetime.fromisoformat(t).replace(tzinfo=STOCKHOLM).isoformat(),
            "lamp": lamp_id, "presence": level == 100, "level": level, "power_w": level,
            "rated_w": 100}


EVENING = [lamp("2026-12-02T16:00", 20), lamp("2026-12-02T20:00", 100),
           lamp("2026-12-02T21:00", 20), lamp("2026-12-03T07:00", 0)]


async def post(client, feed: str, readings: list[dict], tokens: dict[str, str]) -> None:
    response = await client.post(f"/api/feeds/{feed}/readings", json={"readings": readings},
                                 headers={"Authorization": f"Bearer {tokens[feed]}"})
    assert response.status in (200, 201), await response.text()


async def figure(client, feed: str) -> dict[str, Any]:
    response = await client.get(f"/api/feeds/{feed}/figures")
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["feed"] == feed
    return body["figures"][0]


async def test_energy_saved_from_readings_posted_to_the_api(client, tokens):
    await post(client, "lamps", EVENING, tokens)
    saved = await figure(client, "lamps")
    # 380 Wh used against 1500 Wh always on (worked out in test_goal_figures)
    assert (saved["figure"], saved["value"], saved["unit"]) == ("energy_saved", 1.12, "kWh")
    assert saved["co2_kg"] == round(1.12 * 59 / 1000, 2)
    assert saved["period"]["from"] == "2026-12-01" and saved["period"]["kind"] == "month"
    assert saved["assumptions"]["emission_factor_g_per_kwh"] == 59.0


async def test_a_late_reading_is_counted_where_it_belongs(client, tokens):
    await post(client, "lamps", EVENING, tokens)
    assert (await figure(client, "lamps"))["value"] == 1.12
    await post(client, "lamps", [lamp("2026-12-02T18:00", 100)], tokens)  # older than the rest
    # 16-18 at 20 %, 18-21 at 100 %, 21-07 at 20 %: 40 + 300 + 200 = 540 Wh of 1500
    assert (await figure(client, "lamps"))["value"] == 0.96


async def test_duplicates_do_not_count_twice(client, tokens):
    await post(client, "lamps", EVENING, tokens)
    await figure(client, "lamps")
    await post(client, "lamps", EVENING, tokens)
    assert (await figure(client, "lamps"))["value"] == 1.12


async def test_the_figure_grows_with_readings_and_starts_again_with_the_month(client, clock,
                                                                              tokens):
    clock.now = at("2026-12-02T21:00")
    await post(client, "lamps", EVENING[:1], tokens)
    assert (await figure(client, "lamps"))["value"] == 0  # nothing measured after it yet
    await post(client, "lamps", [lamp("2026-12-02T18:00", 20, "lamp-2")], tokens)
    assert (await figure(client, "lamps"))["value"] == 0.16  # lamp-1: 2 h, 200 Wh - 40 Wh
    await post(client, "lamps", [lamp("2026-12-02T20:00", 20, "lamp-2")], tokens)
    assert (await figure(client, "lamps"))["value"] == 0.48  # 4 h of lamp-1, 2 of lamp-2
    clock.now = at("2027-01-01T00:30")
    january = await figure(client, "lamps")
    assert (january["value"], january["period"]["from"]) == (0.0, "2027-01-01")


async def test_reads_the_store_in_pages(client, tokens, monkeypatch):
    monkeypatch.setattr(figures, "PAGE", 2)
    await post(client, "lamps", EVENING, tokens)
    assert (await figure(client, "lamps"))["value"] == 1.12


async def test_bin_trips_avoided(client, tokens):
    def bin_at(t: str, fill: float, compactions: int, emptied: bool = False) -> dict[str, Any]:
        return {"t": datetime.fromisoformat(t).replace(tzinfo=STOCKHOLM).isoformat(),
                "bin": "b1", "fill_pct": fill, "compactions": compactions, "emptied": emptied}

    await post(client, "bins", [
        bin_at("2026-12-02T08:00", 10, 0), bin_at("2026-12-02T10:00", 85, 0),  # +75
        bin_at("2026-12-02T10:01", 40, 1),  # 85 x 0.45 = 38.25 left: +1.75
        bin_at("2026-12-02T14:00", 85, 1),  # +45
        bin_at("2026-12-02T16:00", 90, 2),  # 85 x 0.45 = 38.25: +51.75
    ], tokens)
    trips = await figure(client, "bins")
    assert trips["figure"] == "trips_avoided" and trips["unit"] == "trips"
    assert (trips["ordinary_trips"], trips["collections"], trips["value"]) == (1.7, 0, 1.7)


async def test_screening_sessions_this_term_keep_small_counts_suppressed(client, tokens):
    def day(period: str, sessions: int, referred: int = 0) -> dict[str, Any]:
        return {"t": at(f"{period}T15:00"), "period": period, "sessions": sessions,
                "referred": referred}

    await post(client, "screening", [day("2026-11-30", 3)], tokens)  # stored as "<5"
    small = await figure(client, "screening")
    assert (small["value"], small["at_least"]) == ("<5", False)
    assert small["period"]["term"] == "autumn" and small["period"]["from"] == "2026-08-17"
    await post(client, "screening", [day("2026-12-01", 25, 6), day("2026-12-02", 18)], tokens)
    sessions = await figure(client, "screening")
    assert (sessions["value"], sessions["at_least"]) == (44, True)  # 25 + 18 + at least 1


async def test_gauges_have_no_figure_and_unknown_feeds_none_at_all(client, tokens):
    body = await (await client.get("/api/feeds/temperature/figures")).json()
    assert body == {"feed": "temperature", "kind": "gauge", "figures": []}
    assert (await client.get("/api/feeds/nobody/figures")).status == 404
    assert (await client.get("/api/feeds/Bad!/figures")).status == 404


async def test_figures_reach_the_room_with_the_readings(client, tokens):
    url = str(client.make_url(f"/ws/rooms/{EXHIBITION}"))
    ann = await RoomClient.connect(client.session, url, name="Ann")
    bob = await RoomClient.connect(client.session, url, name="Bob")
    await post(client, "lamps", EVENING, tokens)
    for visitor in (ann, bob):
        pushed = await _figures_in(visitor, 1.12)
        assert pushed["figures"][0]["co2_kg"] == 0.07


async def _figures_in(visitor: RoomClient, value: float) -> dict[str, Any]:
    """The first `figures` message of feed lamps showing `value` (earlier pushes may show the
    figures before these readings)."""
    while True:
        message = await visitor.expect("figures", timeout=10)
        if message["feed"] == "lamps" and message["figures"][0]["value"] == value:
            return message


def test_the_emission_factor_and_lamp_power_are_settings(tmp_path):
    toml = tmp_path / "settings.toml"
    toml.write_text('[figures]\nemission_factor_g_per_kwh = 500\n'
                    '[figures.lamp_power_w_by_feed]\nlamps = 50\n', encoding="utf-8")
    settings = load_config(toml, environ={}).figures
    assert settings.emission_factor_g_per_kwh == 500 and settings.lamp_power_by_feed == {
        "lamps": 50}
    toml.write_text('[figures]\nemission_factor = 500\n', encoding="utf-8")
    with pytest.raises(Exception, match="emission_factor"):
        load_config(toml, environ={})


async def test_figures_follow_the_settings(aiohttp_client, config, clock, tokens):
    config.figures = load_config(_toml(config.data_dir.parent), environ={}).figures
    client = await aiohttp_client(create_app(config, watch_interval=0.2, clock=clock))
    await post(client, "lamps", EVENING, tokens)
    saved = await figure(client, "lamps")
    assert saved["value"] == 0.56 and saved["co2_kg"] == 0.28  # 50 W lamps, 500 g/kWh
    assert saved["assumptions"]["lamp_power_from"] == ["settings"]


def _toml(folder: Path) -> Path:
    path = folder / "figures.toml"
    path.write_text('[figures]\nemission_factor_g_per_kwh = 500\n'
                    '[figures.lamp_power_w_by_feed]\nlamps = 50\n', encoding="utf-8")
    return path
