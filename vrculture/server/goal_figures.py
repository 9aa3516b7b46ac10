"""What a smart exhibit's readings mean for the goal it serves (pure functions, no I/O).

- street lighting (climate): energy saved by presence-switched lamps against the same lamps
  always on at full power through the same hours of darkness, in kWh and kg CO2e;
- smart bins (climate, economy): collection trips avoided by compacting, against an ordinary
  bin of the same capacity;
- eye-tracking screening (social): screening sessions this school term, under the same
  disclosure control as the readings themselves.

Each figure carries its period, unit and the assumptions it rests on (docs/goal-figures.md
states the models). The accumulators take one feed's readings in time order; `add` answers
False for a reading older than one already taken for the same lamp or bin, and the caller then
starts again from the sorted store (server/figures.py). `lighting_figure` and friends sort and
de-duplicate for callers holding a whole list.

Calendar boundaries (the month, the school term) are Stockholm's local dates via zoneinfo,
never the machine's zone; energy is integrated over real elapsed seconds, so a day when the
clocks change counts its 23 or 25 hours as they were.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")
GOAL_KINDS = ("street-lighting", "smart-bin", "eye-tracking-screening")

# IVL Svenska Miljöinstitutet, "Emissionsfaktor för nordisk elmix år 2021-2023" (for the
# Swedish EPA through SMED): the Nordic mix with imports and exports, 59 g CO2e/kWh on
# average over the three years. The system boundary the Swedish EPA recommends for electricity
# used in Sweden; set `emission_factor_g_per_kwh` for another.
DEFAULT_EMISSION_FACTOR = 59.0
# A common rating of an LED luminaire on a residential street, and the demo simulator's lamp.
# Used only when neither the settings nor the lamps' readings (`rated_w`) give one.
DEFAULT_LAMP_POWER_W = 60.0
# A lamp that sends nothing for longer than this is treated as unknown for that stretch
# (counted in neither the used nor the always-on energy): lamps report on change, so hours of
# silence are normal at a steady level, but a day of silence is a dead sensor.
DEFAULT_MAX_GAP_HOURS = 18.0
# Fill after one compaction as a share of the fill before (the demo's compactor: 0.45).
DEFAULT_COMPACTION_RATIO = 0.45
SMALL_COUNT_LIMIT = 5  # as readings.py: a total of 1-4 sessions is published as "<5"
# Lamps or bins one tally follows: a street or a district has hundreds; a feed inventing a new
# id per reading must not grow the server's memory without end (further ids are left out).
MAX_UNITS = 10_000


@dataclass(frozen=True)
class Term:
    """A school term by local calendar days, both inclusive ((month, day) pairs)."""

    name: str
    first: tuple[int, int]
    last: tuple[int, int]

    def dates(self, year: int) -> tuple[date, date]:
        return date(year, *self.first), date(year, *self.last)


# Swedish compulsory schools: the autumn term runs from about mid-August to just before
# Christmas, the spring term from about mid-January to mid-June (each municipality sets the
# exact days; set yours under [figures.terms]).
DEFAULT_TERMS = (Term("spring", (1, 12), (6, 12)), Term("autumn", (8, 17), (12, 20)))


@dataclass(frozen=True)
class FigureSettings:
    emission_factor_g_per_kwh: float = DEFAULT_EMISSION_FACTOR
    lamp_power_w: float = DEFAULT_LAMP_POWER_W
    lamp_power_by_feed: dict[str, float] = field(default_factory=dict)
    max_gap_hours: float = DEFAULT_MAX_GAP_HOURS
    compaction_ratio: float = DEFAULT_COMPACTION_RATIO
    terms: tuple[Term, ...] = DEFAULT_TERMS


@dataclass(frozen=True)
class Period:
    """[start, end) in epoch seconds; `first` and `last` are its local calendar days."""

    kind: str  # "month" or "term"
    start: float
    end: float
    first: date
    last: date
    term: str | None = None

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "term": self.term, "from": self.first.isoformat(),
                "to": self.last.isoformat(), "start": _iso(self.start), "end": _iso(self.end)}


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace(
        "+00:00", "Z")


def _midnight(day: date, zone: tzinfo) -> float:
    return datetime.combine(day, time(0), zone).timestamp()


def month_period(now: float, zone: tzinfo = STOCKHOLM) -> Period:
    """This calendar month so far, from local midnight on the 1st."""
    today = datetime.fromtimestamp(now, zone).date()
    first = today.replace(day=1)
    return Period("month", _midnight(first, zone), now, first, today)


def term_period(now: float, terms: Iterable[Term] = DEFAULT_TERMS,
                zone: tzinfo = STOCKHOLM) -> Period:
    """The school term under way, or between terms the one that ended last."""
    today = datetime.fromtimestamp(now, zone).date()
    best: tuple[date, date, Term] | None = None
    for year in (today.year - 1, today.year):
        for term in terms:
            first, last = term.dates(year)
            if first <= today and (best is None or first > best[0]):
                best = (first, last, term)
    if best is None:
        raise ValueError("no school term is defined")
    first, last, term = best
    end = min(now, _midnight(last + timedelta(days=1), zone))
    return Period("term", _midnight(first, zone), end, first, min(last, today), term.name)


def period_for(kind: str, now: float, settings: FigureSettings,
               zone: tzinfo = STOCKHOLM) -> Period:
    if kind == "eye-tracking-screening":
        return term_period(now, settings.terms, zone)
    return month_period(now, zone)


def reading_seconds(reading: dict[str, Any]) -> float:
    """A stored reading's time (ISO-8601 or epoch seconds) as epoch seconds, to the ms."""
    t = reading["t"]
    if isinstance(t, int | float):
        return round(float(t), 3)
    return round(datetime.fromisoformat(str(t).replace("Z", "+00:00")).timestamp(), 3)


def _in_order(readings: Iterable[dict[str, Any]]) -> list[tuple[float, dict[str, Any]]]:
    """Sorted by time; of two readings at the same time, the first seen is kept (the store
    keeps the first of a feed's readings at one time too)."""
    seen: dict[float, dict[str, Any]] = {}
    for reading in readings:
        seen.setdefault(reading_seconds(reading), reading)
    return sorted(seen.items(), key=lambda item: item[0])


# --- street lighting ---------------------------------------------------------------------

@dataclass
class _Lamp:
    t: float
    level: float
    watts: float


class LightingTally:
    """Integrates each lamp's level × power over the time to its next reading (a lamp holds
    its level until it reports a change), and each lamp's last level up to the feed's newest
    reading, not to the present: a street's lamps report within minutes of each other at night
    and switch off by day, so the figure is current, while a feed that went silent (or a
    replay running behind) is not credited with hours nobody measured. Always-on: the lamp's
    power over every stretch in which it was lit at all, which is when it was dark (the lamps
    are switched off by day)."""

    def __init__(self, feed_power_w: float | None, settings: FigureSettings) -> None:
        self.feed_power_w = feed_power_w
        self.settings = settings
        self.lamps: dict[str, _Lamp] = {}
        self.used_wh = 0.0
        self.always_on_wh = 0.0
        self.lit_s = 0.0
        self.unknown_s = 0.0
        self.power_sources: set[str] = set()
        self.newest = 0.0  # the time of the feed's newest reading taken
        self.left_out = 0  # readings of lamps beyond MAX_UNITS

    def _watts(self, reading: dict[str, Any]) -> float:
        if self.feed_power_w is not None:
            self.power_sources.add("settings")
            return self.feed_power_w
        rated = reading.get("rated_w")
        if isinstance(rated, int | float) and not isinstance(rated, bool) and rated > 0:
            self.power_sources.add("readings")
            return float(rated)
        self.power_sources.add("default")
        return self.settings.lamp_power_w

    def _span(self, lamp: _Lamp, until: float) -> tuple[float, float, float, float]:
        """(used Wh, always-on Wh, lit seconds, unknown seconds) from `lamp` to `until`."""
        seconds = until - lamp.t
        if seconds <= 0:
            return 0.0, 0.0, 0.0, 0.0
        if seconds > self.settings.max_gap_hours * 3600:
            return 0.0, 0.0, 0.0, seconds
        hours = seconds / 3600
        lit = lamp.level > 0
        return (lamp.watts * lamp.level / 100 * hours, lamp.watts * hours if lit else 0.0,
                seconds if lit else 0.0, 0.0)

    def add(self, t: float, reading: dict[str, Any]) -> bool:
        name = str(reading.get("lamp", ""))
        level = reading.get("level")
        if not isinstance(level, int | float) or isinstance(level, bool):
            return True  # not a lighting reading: nothing to count
        previous = self.lamps.get(name)
        if previous is None and len(self.lamps) >= MAX_UNITS:
            self.left_out += 1
            return True
        if previous is not None:
            if t < previous.t:
                return False
            if t == previous.t:
                return True  # a duplicate
            used, always_on, lit, unknown = self._span(previous, t)
            self.used_wh += used
            self.always_on_wh += always_on
            self.lit_s += lit
            self.unknown_s += unknown
        self.lamps[name] = _Lamp(t, min(100.0, max(0.0, float(level))), self._watts(reading))
        self.newest = max(self.newest, t)
        return True

    def figure(self, period: Period) -> dict[str, Any]:
        used, always_on, lit, unknown = self.used_wh, self.always_on_wh, self.lit_s, self.unknown_s
        until = min(period.end, self.newest)
        for lamp in self.lamps.values():  # each lamp holds its last level until then
            more = self._span(lamp, until)
            used, always_on, lit, unknown = (used + more[0], always_on + more[1],
                                             lit + more[2], unknown + more[3])
        saved_kwh = (always_on - used) / 1000
        factor = self.settings.emission_factor_g_per_kwh
        return {
            "figure": "energy_saved", "goal": "climate", "period": period.describe(),
            "value": round(saved_kwh, 2), "unit": "kWh",
            "co2_kg": round(saved_kwh * factor / 1000, 2),
            "used_kwh": round(used / 1000, 2), "always_on_kwh": round(always_on / 1000, 2),
            "lit_hours": round(lit / 3600, 1), "unknown_hours": round(unknown / 3600, 1),
            "lamps": len(self.lamps), "until": _iso(until) if self.lamps else None,
            "left_out": self.left_out,
            "assumptions": {
                "emission_factor_g_per_kwh": factor,
                "lamp_power_w": self._power_text(),
                "lamp_power_from": sorted(self.power_sources) or ["default"],
                "max_gap_hours": self.settings.max_gap_hours,
                "darkness": "the hours a lamp was lit at any level",
            },
        }

    def _power_text(self) -> float | None:
        watts = {lamp.watts for lamp in self.lamps.values()}
        if not watts:
            return self.feed_power_w if self.feed_power_w is not None else (
                self.settings.lamp_power_w)
        return watts.pop() if len(watts) == 1 else None  # None: lamps of several ratings


def lighting_figure(readings: Iterable[dict[str, Any]], period: Period,
                    settings: FigureSettings = FigureSettings(),
                    feed_power_w: float | None = None) -> dict[str, Any]:
    tally = LightingTally(feed_power_w, settings)
    for t, reading in _in_order(readings):
        if period.start <= t <= period.end:
            tally.add(t, reading)
    return tally.figure(period)


# --- compacting bins ---------------------------------------------------------------------

@dataclass
class _Bin:
    t: float
    fill: float
    compactions: int


class BinTally:
    """Estimates the loose waste a bin received from its fill readings, and so the trips an
    ordinary bin of the same capacity would have needed (one per 100 % of loose waste).

    Between two readings: a rise in fill without a compaction is loose waste; after n
    compactions the content before was squeezed to ratioⁿ of itself, so the new waste is at
    least fill - ratioⁿ × previous fill (the lower bound: all of it arrived after the last
    compaction); after an emptying (the `emptied` flag, or the compaction counter falling) it
    is the new fill. A fall in fill with neither (settling, a missed emptying) adds nothing.
    """

    def __init__(self, settings: FigureSettings) -> None:
        self.settings = settings
        self.bins: dict[str, _Bin] = {}
        self.loose_pct = 0.0
        self.collections = 0
        self.left_out = 0  # readings of bins beyond MAX_UNITS

    def add(self, t: float, reading: dict[str, Any]) -> bool:
        name = str(reading.get("bin", ""))
        fill, compactions = reading.get("fill_pct"), reading.get("compactions")
        if (not isinstance(fill, int | float) or isinstance(fill, bool)
                or not isinstance(compactions, int) or isinstance(compactions, bool)):
            return True
        fill = min(100.0, max(0.0, float(fill)))
        previous = self.bins.get(name)
        if previous is None and len(self.bins) >= MAX_UNITS:
            self.left_out += 1
            return True
        if previous is not None and t < previous.t:
            return False
        if previous is not None and t == previous.t:
            return True
        emptied = reading.get("emptied") is True
        if previous is not None:
            if emptied or compactions < previous.compactions:
                self.collections += 1
                self.loose_pct += fill
            else:
                squeezed = self.settings.compaction_ratio ** (compactions - previous.compactions)
                self.loose_pct += max(0.0, fill - previous.fill * squeezed)
        elif emptied:
            self.collections += 1
        self.bins[name] = _Bin(t, fill, compactions)
        return True

    def figure(self, period: Period) -> dict[str, Any]:
        ordinary = self.loose_pct / 100
        return {
            "figure": "trips_avoided", "goal": "climate", "period": period.describe(),
            "value": round(ordinary - self.collections, 1), "unit": "trips",
            "collections": self.collections, "ordinary_trips": round(ordinary, 1),
            "bins": len(self.bins), "left_out": self.left_out,
            "assumptions": {
                "compaction_ratio": self.settings.compaction_ratio,
                "ordinary_bin": "same capacity, emptied exactly when full of loose waste",
                "estimate": "lower bound of the loose waste, from the fill readings",
            },
        }


def bin_figure(readings: Iterable[dict[str, Any]], period: Period,
               settings: FigureSettings = FigureSettings()) -> dict[str, Any]:
    tally = BinTally(settings)
    for t, reading in _in_order(readings):
        if period.start <= t <= period.end:
            tally.add(t, reading)
    return tally.figure(period)


# --- screening ---------------------------------------------------------------------------

def period_days(label: str) -> tuple[date, date]:
    """The first and last day of a screening reading's period (2026-11-27, 2026-W48, 2026-11)."""
    if "-W" in label:
        year, week = label.split("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
        return monday, monday + timedelta(days=6)
    parts = [int(p) for p in label.split("-")]
    if len(parts) == 3:
        day = date(parts[0], parts[1], parts[2])
        return day, day
    first = date(parts[0], parts[1], 1)
    following = date(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1)
    return first, following - timedelta(days=1)


class ScreeningTally:
    """Sessions in a term: per reporting period (day, week or month) its newest reading (each
    is the period's running total), over the periods that overlap the term (screening happens
    on school days, which all lie inside terms). A feed is assumed to report at one
    granularity: a week and a day inside it would be counted twice.

    Counts arrive disclosure-controlled (readings.py): "<5" stands for 1-4. The total is then
    a range; the figure publishes its lower bound as "at least", never the exact sum the
    readings withheld, and a total that may be 1-4 as "<5".
    """

    def __init__(self, period: Period) -> None:
        self.period = period
        self.latest: dict[str, tuple[float, int | str]] = {}

    def add(self, t: float, reading: dict[str, Any]) -> bool:
        label, sessions = reading.get("period"), reading.get("sessions")
        if not isinstance(label, str) or not (
                sessions == "<5" or (isinstance(sessions, int) and not isinstance(sessions, bool))):
            return True
        try:
            first, last = period_days(label)
        except ValueError:
            return True
        if last < self.period.first or first > self.period.last:
            return True
        held = self.latest.get(label)
        if held is None or t > held[0]:
            self.latest[label] = (t, sessions)
        return True  # the newest reading wins whatever the order: never late

    def figure(self) -> dict[str, Any]:
        exact = sum(v for _, v in self.latest.values() if isinstance(v, int))
        small = sum(1 for _, v in self.latest.values() if v == "<5")
        low, high = exact + small, exact + 4 * small
        value: int | str = low
        if low > 0 and high < SMALL_COUNT_LIMIT:
            value = "<5"
        return {
            "figure": "screening_sessions", "goal": "social", "period": self.period.describe(),
            "value": value, "unit": "sessions", "at_least": small > 0 and value != "<5",
            "periods": len(self.latest),
            "assumptions": {
                "counted": "the newest count of each reported day, week or month in the term",
                "small_counts": "a count of 1-4 is published as <5; the total counts it as 1",
            },
        }


def screening_figure(readings: Iterable[dict[str, Any]], period: Period) -> dict[str, Any]:
    tally = ScreeningTally(period)
    for t, reading in _in_order(readings):
        tally.add(t, reading)
    return tally.figure()
