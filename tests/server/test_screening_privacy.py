"""The screening feed (children's health): its period is a real date, ISO week or month, never
free text; small counts are suppressed in everything the API and the rooms publish."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from fixed_clock import FIXED_NOW, FakeClock

from vrculture.server import appkeys
from vrculture.server.readings import FeedSpec, ReadingError, screening_counts, validate_reading

from .test_feeds import post, tokens  # noqa: F401 - the fixture

NOW = FIXED_NOW  # the `client` app's clock (conftest.py)
SCREENING = FeedSpec("eye-tracking-screening")
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "vrculture" / "schemas"
                     / "readings.schema.json").read_text(encoding="utf-8"))


def _reading(period: str, sessions: int = 12, referred: int = 0) -> dict:
    return {"t": NOW, "period": period, "sessions": sessions, "referred": referred}


@pytest.mark.parametrize("period", ["2026-11-27", "2026-W48", "2026-W53", "2026-11", "2024-02-29"])
def test_a_date_week_or_month_is_a_period(period: str) -> None:
    assert validate_reading(_reading(period), SCREENING, NOW)[1]["period"] == period


@pytest.mark.parametrize("period", [
    "Anna Svensson", "Anna 2026-11-27", "2026-11-27 Anna", "2026-11-27\n", "2026-02-30",
    "2025-02-29", "2026-13", "2026-00", "2026-W54", "2025-W53", "2026-W00", "1999-12-31",
    "٢٠٢٦-11-27", "2026-11-27T10:00", "", "2026-w48",
])
def test_anything_else_is_refused(period: str) -> None:
    with pytest.raises(ReadingError) as refused:
        validate_reading(_reading(period), SCREENING, NOW)
    assert refused.value.field == "period"


@pytest.mark.parametrize(("sessions", "referred", "published"), [
    (12, 0, (12, 0)),
    (12, 2, (12, "<5")),  # few referred: never exact
    (3, 0, ("<5", 0)),
    (4, 4, ("<5", "<5")),
    (0, 0, (0, 0)),
    (30, 10, (30, 10)),
    (30, 26, (30, "suppressed")),  # 4 not referred would follow by subtraction
    (7, 7, (7, "suppressed")),  # "everyone was referred" discloses each child's result
    (5, 5, (5, "suppressed")),
])
def test_small_counts_are_suppressed(sessions: int, referred: int, published: tuple) -> None:
    counts = screening_counts(sessions, referred)
    assert (counts["sessions"], counts["referred"]) == published
    reading = validate_reading(_reading("2026-W48", sessions, referred), SCREENING, NOW)[1]
    validator = jsonschema.Draft202012Validator(
        {"$defs": SCHEMA["$defs"], "$ref": "#/$defs/published-eye-tracking-screening"})
    assert validator.is_valid(reading), reading


async def test_the_api_and_the_rooms_only_see_suppressed_counts(client, tokens):  # noqa: F811
    published: list[dict] = []
    await client.app[appkeys.PUBSUB].subscribe(  # what the rooms forward to visitors
        "feed:screening", lambda _channel, data: published.append(json.loads(data)))
    response = await post(client, "screening", _reading("2026-11-27", 3, 1), tokens["screening"])
    assert response.status == 201, await response.text()
    assert published[0]["reading"]["sessions"] == "<5"
    assert published[0]["reading"]["referred"] == "<5"
    history = await (await client.get("/api/feeds/screening/readings")).json()
    assert [(r["sessions"], r["referred"]) for r in history["readings"]] == [("<5", "<5")]
    latest = await client.app[appkeys.FEED_STORE].latest_readings(["screening"])
    assert latest["screening"]["sessions"] == "<5"  # the rooms' welcome reads this
    refused = await post(client, "screening", _reading("Anna Svensson"), tokens["screening"])
    assert refused.status == 422 and (await refused.json())["field"] == "period"


async def test_exact_counts_stored_before_suppression_are_not_published(client, config):
    from vrculture.server.storage import Store

    # as a database written by an older version holds them
    store = Store.open(config.data_dir, clock=FakeClock())
    store.add_feed("old-screening", kind="eye-tracking-screening")
    store.insert_readings("old-screening", [(NOW - 60, {"t": "x", "period": "2026-W47",
                                                        "sessions": 9, "referred": 2})])
    store.close()
    history = await (await client.get("/api/feeds/old-screening/readings")).json()
    assert [(r["sessions"], r["referred"]) for r in history["readings"]] == [(9, "<5")]
    latest = await client.app[appkeys.FEED_STORE].latest_readings(["old-screening"])
    assert latest["old-screening"]["referred"] == "<5"
