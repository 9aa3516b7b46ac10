"""The goal figures' formulas, against cases worked out by hand (docs/goal-figures.md)."""

from __future__ import annotations

import random
from datetime import date, datetime

import pytest

from vrculture.server.figure_settings import parse_figures
from vrculture.server.goal_figures import (
    STOCKHOLM,
    BinTally,
    FigureSettings,
    LightingTally,
    Term,
    bin_figure,
    lighting_figure,
    month_period,
    period_days,
    screening_figure,
    term_period,
)


def at(text: str) -> float:
    """Epoch seconds of a Stockholm wall-clock time."""
    return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM).timestamp()


def lamp(t: str, level: float, lamp_id: str = "lamp-1", rated: float | None = 100) -> dict:
    reading = {"t": at(t), "lamp": lamp_id, "presence": level == 100, "level": level,
               "power_w": level}
    if rated is not None:
        reading["rated_w"] = rated
    return reading


def night(end: str = "2026-12-02T08:00"):
    return month_period(at(end))


# --- periods -------------------------------------------------------------------------------

def test_the_month_starts_at_local_midnight_on_the_first():
    period = month_period(at("2026-12-06T03:58"))
    assert period.start == at("2026-12-01T00:00")  # 2026-11-30T23:00Z
    assert period.describe()["from"] == "2026-12-01" and period.describe()["to"] == "2026-12-06"
    assert period.describe()["start"] == "2026-11-30T23:00:00Z"


def test_the_month_of_a_clock_change_day_starts_in_summer_time():
    period = month_period(at("2026-10-25T12:00"))  # the clocks went back at 03:00 that night
    assert period.describe()["start"] == "2026-09-30T22:00:00Z"


@pytest.mark.parametrize(("now", "term", "first", "last"), [
    ("2026-12-06T10:00", "autumn", "2026-08-17", "2026-12-06"),
    ("2026-08-17T00:00", "autumn", "2026-08-17", "2026-08-17"),  # its first minute
    ("2026-08-16T23:59", "spring", "2026-01-12", "2026-06-12"),  # the summer holiday
    ("2026-12-20T23:59", "autumn", "2026-08-17", "2026-12-20"),
    ("2026-12-25T12:00", "autumn", "2026-08-17", "2026-12-20"),  # Christmas: the last term
    ("2027-01-11T23:59", "autumn", "2026-08-17", "2026-12-20"),  # across the new year
    ("2027-01-12T00:00", "spring", "2027-01-12", "2027-01-12"),
    ("2026-06-12T18:00", "spring", "2026-01-12", "2026-06-12"),
    ("2026-07-01T12:00", "spring", "2026-01-12", "2026-06-12"),
])
def test_the_term_under_way_or_the_last_one(now, term, first, last):
    period = term_period(at(now))
    assert (period.term, period.first.isoformat(), period.last.isoformat()) == (term, first, last)


def test_a_term_ends_at_local_midnight_after_its_last_day():
    period = term_period(at("2026-12-25T12:00"))
    assert period.start == at("2026-08-17T00:00")
    assert period.end == at("2026-12-21T00:00")


def test_terms_are_a_setting():
    terms = parse_figures({"terms": {"autumn": ["08-20", "12-18"]}}).terms
    assert terms == (Term("autumn", (8, 20), (12, 18)),)
    assert term_period(at("2026-08-19T12:00"), terms).first == date(2025, 8, 20)


@pytest.mark.parametrize("bad", [
    {"terms": {"autumn": ["8-20", "12-18"]}}, {"terms": {"autumn": ["12-18", "08-20"]}},
    {"terms": {"autumn": ["02-30", "03-01"]}}, {"terms": {}},
    {"terms": {"Höst": ["01-01", "02-02"]}},
    {"emission_factor_g_per_kwh": -1}, {"emission_factor_g_per_kwh": True},
    {"emission_factor_g_per_kwh": float("nan")}, {"compaction_ratio": 1.5}, {"lamp_power": 60},
    {"lamp_power_w_by_feed": {"Bad Feed": 60}}, {"lamp_power_w_by_feed": {"lights": "60"}},
])
def test_bad_figure_settings_are_refused_by_name(bad):
    with pytest.raises(ValueError, match=r"\[figures"):
        parse_figures(bad)


def test_period_days():
    assert period_days("2026-11-27") == (date(2026, 11, 27), date(2026, 11, 27))
    assert period_days("2026-W48") == (date(2026, 11, 23), date(2026, 11, 29))
    assert period_days("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert period_days("2026-12") == (date(2026, 12, 1), date(2026, 12, 31))


# --- street lighting -----------------------------------------------------------------------

EVENING = [lamp("2026-12-01T16:00", 20), lamp("2026-12-01T20:00", 100),
           lamp("2026-12-01T21:00", 20), lamp("2026-12-02T07:00", 0)]


def test_energy_saved_by_one_lamp_through_a_night():
    figure = lighting_figure(EVENING, night(), FigureSettings(emission_factor_g_per_kwh=500))
    # used: 100 W x (0.2 x 4 h + 1.0 x 1 h + 0.2 x 10 h) = 380 Wh, then off until 08:00;
    # always on: 100 W over the 15 lit hours = 1500 Wh; saved 1120 Wh; x 500 g/kWh = 0.56 kg.
    assert figure["used_kwh"] == 0.38 and figure["always_on_kwh"] == 1.5
    assert figure["value"] == 1.12 and figure["unit"] == "kWh"
    assert figure["co2_kg"] == 0.56
    assert figure["lit_hours"] == 15.0 and figure["lamps"] == 1
    assert figure["assumptions"]["emission_factor_g_per_kwh"] == 500
    assert figure["assumptions"]["lamp_power_w"] == 100
    assert figure["assumptions"]["lamp_power_from"] == ["readings"]
    assert figure["period"]["from"] == "2026-12-01" and figure["period"]["kind"] == "month"


def test_the_default_emission_factor_is_the_nordic_mix():
    figure = lighting_figure(EVENING, night())
    assert figure["assumptions"]["emission_factor_g_per_kwh"] == 59.0
    assert figure["co2_kg"] == round(1.12 * 59 / 1000, 2)


def test_a_lamp_holds_its_level_until_the_feeds_newest_reading_not_the_present():
    readings = [lamp("2026-12-01T16:00", 20, "a"), lamp("2026-12-01T18:00", 100, "b")]
    figure = lighting_figure(readings, night("2026-12-01T23:00"))
    assert figure["used_kwh"] == 0.04 and figure["always_on_kwh"] == 0.2  # a: 2 h at 20 of 100
    assert figure["until"] == "2026-12-01T17:00:00Z"  # 18:00 in Stockholm
    assert lighting_figure(readings[:1], night())["value"] == 0  # nothing measured after it


def test_each_lamp_is_integrated_on_its_own():
    readings = [lamp("2026-12-01T16:00", 20, "a"), lamp("2026-12-01T16:00:00.001", 50, "b"),
                lamp("2026-12-01T18:00", 0, "a"), lamp("2026-12-01T18:00:00.001", 0, "b")]
    figure = lighting_figure(readings, night("2026-12-01T20:00"))
    # a: 2 h x 20 W = 40 Wh of 200; b: 2 h x 50 W = 100 Wh of 200 (to the millisecond)
    assert figure["used_kwh"] == 0.14 and figure["always_on_kwh"] == 0.4 and figure["lamps"] == 2


def test_a_gap_longer_than_the_limit_is_unknown_not_counted():
    readings = [lamp("2026-12-01T16:00", 20), lamp("2026-12-02T12:00", 20),
                lamp("2026-12-02T13:00", 0)]
    figure = lighting_figure(readings, night("2026-12-02T14:00"),
                             FigureSettings(max_gap_hours=18))
    # 16:00 -> 12:00 is 20 h > 18 h: unknown; 12:00 -> 13:00: 20 of 100 Wh
    assert figure["unknown_hours"] == 20.0 and figure["lit_hours"] == 1.0
    assert figure["used_kwh"] == 0.02 and figure["always_on_kwh"] == 0.1


def test_out_of_order_and_duplicate_readings_give_the_same_figure():
    shuffled = EVENING + [dict(EVENING[1]), {**EVENING[2], "level": 55}]  # repeats at one time
    random.Random(7).shuffle(shuffled)
    # of two readings at one time the first kept wins, as in the store: keep the originals first
    shuffled.sort(key=lambda r: r.get("level") == 55)
    assert lighting_figure(shuffled, night()) == lighting_figure(EVENING, night())


def test_the_tally_says_when_a_reading_comes_too_late():
    tally = LightingTally(None, FigureSettings())
    assert tally.add(at("2026-12-01T17:00"), lamp("2026-12-01T17:00", 20))
    assert tally.add(at("2026-12-01T17:00"), lamp("2026-12-01T17:00", 20))  # a duplicate
    assert not tally.add(at("2026-12-01T16:00"), lamp("2026-12-01T16:00", 100))


def test_a_period_without_readings():
    figure = lighting_figure([], night())
    assert (figure["value"], figure["co2_kg"], figure["lamps"]) == (0.0, 0.0, 0)
    assert figure["assumptions"]["lamp_power_w"] == 60.0
    assert figure["assumptions"]["lamp_power_from"] == ["default"]


def test_readings_before_the_period_are_left_out():
    readings = [lamp("2026-11-30T16:00", 20), *EVENING]
    assert lighting_figure(readings, night()) == lighting_figure(EVENING, night())


def test_lamp_power_from_the_settings_beats_the_readings_and_the_default_comes_last():
    by_setting = lighting_figure(EVENING, night(), feed_power_w=50)
    assert by_setting["value"] == 0.56 and by_setting["assumptions"]["lamp_power_from"] == [
        "settings"]
    unrated = [lamp(r_t, r_level, rated=None) for r_t, r_level in (
        ("2026-12-01T16:00", 20), ("2026-12-01T20:00", 100), ("2026-12-01T21:00", 20),
        ("2026-12-02T07:00", 0))]
    by_default = lighting_figure(unrated, night(), FigureSettings(lamp_power_w=60))
    assert by_default["value"] == 0.67  # 1120 Wh x 60/100, rounded
    assert by_default["assumptions"]["lamp_power_from"] == ["default"]


@pytest.mark.parametrize(("evening", "morning", "hours"), [
    ("2026-10-24T16:00", "2026-10-25T07:30", 16.5),  # clocks back: a 25-hour day
    ("2026-03-28T16:00", "2026-03-29T07:30", 14.5),  # clocks forward: a 23-hour day
    ("2026-12-01T16:00", "2026-12-02T07:30", 15.5),
])
def test_a_night_is_as_long_as_it_really_was(evening, morning, hours):
    readings = [lamp(evening, 20), lamp(morning, 0)]
    figure = lighting_figure(readings, month_period(at(morning)))
    assert figure["lit_hours"] == hours
    assert figure["value"] == round(hours * 80 / 1000, 2)  # 100 W always on, 20 W used


# --- compacting bins -----------------------------------------------------------------------

def bin_reading(t: str, fill: float, compactions: int, emptied: bool = False,
                bin_id: str = "bin-1") -> dict:
    return {"t": at(t), "bin": bin_id, "fill_pct": fill, "compactions": compactions,
            "emptied": emptied}


BIN_DAY = [
    bin_reading("2026-12-01T08:00", 10, 0),   # the baseline: its content came before
    bin_reading("2026-12-01T09:00", 50, 0),   # +40
    bin_reading("2026-12-01T10:00", 85, 0),   # +35
    bin_reading("2026-12-01T10:05", 40, 1),   # 85 x 0.5 = 42.5 left, so nothing new (no less)
    bin_reading("2026-12-01T12:00", 90, 1),   # +50
    bin_reading("2026-12-01T12:10", 30, 3),   # 90 x 0.25 = 22.5 left: +7.5
    bin_reading("2026-12-01T14:00", 80, 3),   # +50
    bin_reading("2026-12-01T15:00", 0, 0, emptied=True),  # a collection
    bin_reading("2026-12-01T16:00", 20, 0),   # +20
]


def test_trips_avoided_by_a_compacting_bin():
    figure = bin_figure(BIN_DAY, night("2026-12-01T18:00"), FigureSettings(compaction_ratio=0.5))
    # loose waste 40 + 35 + 0 + 50 + 7.5 + 50 + 0 + 20 = 202.5 % of a bin: 2.025 ordinary
    # trips against 1 collection
    assert figure["ordinary_trips"] == 2.0 and figure["collections"] == 1
    assert figure["value"] == 1.0 and figure["unit"] == "trips"
    assert figure["assumptions"]["compaction_ratio"] == 0.5


def test_a_falling_counter_is_a_collection_and_a_falling_fill_adds_nothing():
    readings = [bin_reading("2026-12-01T08:00", 60, 2), bin_reading("2026-12-01T09:00", 50, 2),
                bin_reading("2026-12-01T10:00", 15, 0)]  # the emptied reading was lost
    figure = bin_figure(readings, night("2026-12-01T18:00"))
    assert figure["collections"] == 1 and figure["ordinary_trips"] == 0.1  # 15 % new
    assert figure["value"] == round(0.15 - 1, 1)


def test_bins_are_tallied_one_by_one_in_time_order_whatever_the_arrival():
    two = [bin_reading(r["t_text"], r["fill"], 0, bin_id=r["bin"]) for r in (
        {"t_text": "2026-12-01T08:00", "fill": 10, "bin": "a"},
        {"t_text": "2026-12-01T08:00:00.001", "fill": 70, "bin": "b"},
        {"t_text": "2026-12-01T09:00", "fill": 60, "bin": "a"},
        {"t_text": "2026-12-01T09:00:00.001", "fill": 90, "bin": "b"})]
    shuffled = [two[3], two[0], two[2], two[1], dict(two[2])]
    figure = bin_figure(shuffled, night("2026-12-01T18:00"))
    assert figure["ordinary_trips"] == 0.7 and figure["bins"] == 2  # 50 + 20
    tally = BinTally(FigureSettings())
    assert tally.add(at("2026-12-01T09:00"), two[2])
    assert not tally.add(at("2026-12-01T08:00"), two[0])


def test_no_bin_readings():
    figure = bin_figure([], night())
    assert (figure["value"], figure["collections"], figure["bins"]) == (0.0, 0, 0)


# --- screening -----------------------------------------------------------------------------

def screening(t: str, period: str, sessions: int | str) -> dict:
    return {"t": at(t), "period": period, "sessions": sessions, "referred": 0}


TERM_NOW = term_period(at("2026-12-06T10:00"))


def test_sessions_this_term_take_each_days_newest_total():
    readings = [
        screening("2026-12-01T10:00", "2026-12-01", 12),
        screening("2026-12-01T14:30", "2026-12-01", 31),  # the day's running total
        screening("2026-12-02T11:00", "2026-12-02", 20),
        screening("2026-08-14T11:00", "2026-08-14", 40),  # before the term
    ]
    figure = screening_figure(readings, TERM_NOW)
    assert (figure["value"], figure["unit"], figure["at_least"]) == (51, "sessions", False)
    assert figure["period"]["term"] == "autumn" and figure["period"]["from"] == "2026-08-17"
    assert figure["periods"] == 2


def test_the_newest_total_wins_in_any_order():
    readings = [screening("2026-12-01T14:30", "2026-12-01", 31),
                screening("2026-12-01T10:00", "2026-12-01", 12)]
    assert screening_figure(readings, TERM_NOW)["value"] == 31


def test_weeks_and_months_count_when_they_overlap_the_term():
    readings = [screening("2026-08-16T12:00", "2026-W33", 9),  # 10-16 Aug: the holiday
                screening("2026-08-21T12:00", "2026-W34", 25),  # 17-23 Aug
                screening("2026-09-30T12:00", "2026-09", 100)]
    assert screening_figure(readings, TERM_NOW)["value"] == 125


def test_suppressed_counts_give_a_lower_bound_never_the_withheld_sum():
    readings = [screening("2026-12-01T14:00", "2026-12-01", 30),
                screening("2026-12-02T14:00", "2026-12-02", "<5"),
                screening("2026-12-03T14:00", "2026-12-03", "<5")]
    figure = screening_figure(readings, TERM_NOW)
    assert (figure["value"], figure["at_least"]) == (32, True)


@pytest.mark.parametrize(("counts", "published", "at_least"), [
    (["<5"], "<5", False),  # 1-4 in all: published as the readings were
    (["<5", "<5"], 2, True),  # 2-8: at least 2
    ([3], "<5", False),  # an exact small total from an old database is suppressed too
    ([0, 0], 0, False),
    ([], 0, False),
])
def test_small_totals_stay_suppressed(counts, published, at_least):
    readings = [screening(f"2026-12-0{i + 1}T14:00", f"2026-12-0{i + 1}", c)
                for i, c in enumerate(counts)]
    figure = screening_figure(readings, TERM_NOW)
    assert (figure["value"], figure["at_least"]) == (published, at_least)


def test_the_term_boundary_decides_which_days_count():
    readings = [screening("2027-01-11T14:00", "2027-01-11", 50),  # before the spring term
                screening("2027-01-12T14:00", "2027-01-12", 7)]
    spring = term_period(at("2027-01-12T15:00"))
    assert screening_figure(readings, spring)["value"] == 7
    autumn = [screening("2026-12-20T14:00", "2026-12-20", 9),  # its last day
              screening("2026-12-21T14:00", "2026-12-21", 40), *readings]  # the holiday
    assert screening_figure(autumn, term_period(at("2027-01-11T15:00")))["value"] == 9


def test_a_feed_inventing_ids_cannot_grow_a_tally_without_end(monkeypatch):
    from vrculture.server import goal_figures

    monkeypatch.setattr(goal_figures, "MAX_UNITS", 3)
    readings = [lamp(f"2026-12-01T16:0{i}", 20, f"lamp-{i}") for i in range(5)]
    figure = lighting_figure(readings, night())
    assert (figure["lamps"], figure["left_out"]) == (3, 2)
    bins = [bin_reading(f"2026-12-01T08:0{i}", 10, 0, bin_id=f"b{i}") for i in range(5)]
    assert bin_figure(bins, night())["left_out"] == 2
