"""Realistic readings for the demo's smart-city exhibits (no I/O here; see cli/simulate.py).

Each model advances a simulated clock and returns the readings that happened in between:
- street lighting: lamps dimmed to a base level at night, full when someone walks by (people
  arrive at an hour-dependent rate and pass lamp after lamp), off by day; the energy saved
  is counted against the same lamps always on at full power through the night;
- smart bins: deposits raise the fill level, a solar compactor squeezes it when high, a
  collection empties it; trips saved are counted against an ordinary bin of the same size;
- eye-tracking screening: per school day, the number of sessions and of children referred
  for a follow-up (aggregates only, as the exhibit requires);
- a gauge: a bounded random walk.

Local time (night, school hours) is Stockholm's, through zoneinfo, never the machine's zone.
A replay may run at any hour of any day: `replay_offset` lets a model replay an earlier,
more telling stretch (the screening model: the most recent school day; the street lights: the
latest nightfall when started by day) instead of the replay's own, possibly idle, window.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Any, Protocol
from zoneinfo import ZoneInfo

Reading = dict[str, Any]

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SCHOOL_OPENS, SCHOOL_CLOSES = 8.0, 15.0  # local hours
REPLAY_FROM = time(7, 30)  # a replayed school day starts just before school opens
MAX_STEP_SECONDS = 30.0  # the longest simulated step a model takes


def _local_hour(t: float, zone: tzinfo = STOCKHOLM) -> float:
    moment = datetime.fromtimestamp(t, zone)
    return moment.hour + moment.minute / 60


def is_school_time(t: float, zone: tzinfo = STOCKHOLM) -> bool:
    moment = datetime.fromtimestamp(t, zone)
    return moment.weekday() < 5 and SCHOOL_OPENS <= _local_hour(t, zone) < SCHOOL_CLOSES


def latest_school_morning(at_or_before: float, zone: tzinfo = STOCKHOLM) -> float:
    """The latest 07:30 local of a weekday (Monday to Friday) at or before `at_or_before`."""
    day = datetime.fromtimestamp(at_or_before, zone).date()
    while True:
        morning = datetime.combine(day, REPLAY_FROM, zone).timestamp()
        if day.weekday() < 5 and morning <= at_or_before:
            return morning
        day -= timedelta(days=1)


def _poisson_arrivals(rng: random.Random, rate_per_hour: float, seconds: float) -> int:
    """Number of arrivals in `seconds` at `rate_per_hour` (Knuth; rates here are small)."""
    mean = rate_per_hour * seconds / 3600
    if mean <= 0:
        return 0
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


NIGHTFALL = time(16, 0)


def is_dark(hour: float) -> bool:
    """Night in a Swedish autumn: dark from 16:00 to 07:30."""
    return hour >= 16 or hour < 7.5


def latest_nightfall(at_or_before: float, zone: tzinfo = STOCKHOLM) -> float:
    """The latest 16:00 local at or before `at_or_before`."""
    day = datetime.fromtimestamp(at_or_before, zone).date()
    nightfall = datetime.combine(day, NIGHTFALL, zone).timestamp()
    if nightfall > at_or_before:
        nightfall = datetime.combine(day - timedelta(days=1), NIGHTFALL, zone).timestamp()
    return nightfall


@dataclass
class StreetLights:
    feed: str
    rng: random.Random
    lamps: int = 6
    rated_w: float = 60.0
    base_level: float = 20.0  # % at night with nobody around
    hold_s: float = 60.0  # full light this long after someone passed
    spacing_s: float = 20.0  # walking time between lamps
    zone: tzinfo = STOCKHOLM
    used_wh: float = 0.0
    always_on_wh: float = 0.0
    _until: list[float] = field(default_factory=list)  # per lamp: presence until
    _state: list[tuple[bool, float]] = field(default_factory=list)
    _walkers: list[float] = field(default_factory=list)  # times someone reaches lamp 0

    def __post_init__(self) -> None:
        self._until = [0.0] * self.lamps
        self._state = [(False, -1.0)] * self.lamps

    def _people_per_hour(self, hour: float) -> float:
        if 1 <= hour < 5:
            return 2
        if 17 <= hour < 22:
            return 40
        return 12

    def step(self, t0: float, t1: float) -> list[Reading]:
        readings: list[Reading] = []
        arrivals = _poisson_arrivals(self.rng, self._people_per_hour(
            _local_hour(t0, self.zone)), t1 - t0)
        self._walkers += sorted(self.rng.uniform(t0, t1) for _ in range(arrivals))
        for start in self._walkers:
            for lamp in range(self.lamps):
                at = start + lamp * self.spacing_s
                if t0 <= at < t1 + self.hold_s:
                    self._until[lamp] = max(self._until[lamp], at + self.hold_s)
        self._walkers = [s for s in self._walkers if s + self.lamps * self.spacing_s >= t1]
        dark = is_dark(_local_hour(t1, self.zone))
        hours = (t1 - t0) / 3600
        for lamp in range(self.lamps):
            presence = self._until[lamp] > t1 and self._until[lamp] - self.hold_s <= t1
            level = (100.0 if presence else self.base_level) if dark else 0.0
            power = round(self.rated_w * level / 100 + (0.5 if level == 0 else 1.5), 1)
            self.used_wh += power * hours
            self.always_on_wh += (self.rated_w + 1.5 if dark else 0.5) * hours
            if self._state[lamp] != (presence, level):
                self._state[lamp] = (presence, level)
                readings.append({"t": round(t1, 3), "lamp": f"lamp-{lamp + 1}",
                                 "presence": presence, "level": level, "power_w": power,
                                 "rated_w": self.rated_w})
        # Readings of one feed need distinct times: lamps report a millisecond apart.
        for i, reading in enumerate(readings):
            reading["t"] = round(t1 + i * 0.001, 3)
        return readings

    def replay_offset(self, start: float) -> float:
        """Started by day, a replay would show unlit lamps (and no energy saved) for hours:
        shift it back to the latest nightfall instead, as the screening model does."""
        if is_dark(_local_hour(start, self.zone)):
            return 0.0
        return start - latest_nightfall(start, self.zone)

    def summary(self) -> str:
        saved = self.always_on_wh - self.used_wh
        share = 100 * saved / self.always_on_wh if self.always_on_wh else 0
        return (f"{self.feed}: {self.used_wh / 1000:.2f} kWh used against "
                f"{self.always_on_wh / 1000:.2f} kWh always on: {share:.0f}% saved")


@dataclass
class SmartBins:
    feed: str
    rng: random.Random
    # One physical bin per feed: the build draws one bin model per feed and the viewer moves
    # its fill level, so several bins behind one feed would make that level jump between them.
    bins: int = 1
    compact_at: float = 85.0  # % fill that triggers the compactor
    compaction_ratio: float = 0.45  # fill after compaction, as a share of before
    collect_after: int = 4  # compactions before the bin asks to be emptied
    zone: tzinfo = STOCKHOLM
    emptied: int = 0
    plain_volume: float = 0.0  # what an ordinary bin of the same size would have received
    _fill: list[float] = field(default_factory=list)
    _compactions: list[int] = field(default_factory=list)
    _reported: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._fill = [self.rng.uniform(5, 40) for _ in range(self.bins)]
        self._compactions = [0] * self.bins
        self._reported = [-100.0] * self.bins

    def _deposits_per_hour(self, hour: float) -> float:
        return 30 if 10 <= hour < 20 else 6

    def _bin_id(self, index: int) -> str:
        return self.feed if self.bins == 1 else f"{self.feed}-{index + 1}"

    def step(self, t0: float, t1: float) -> list[Reading]:
        readings: list[Reading] = []
        rate = self._deposits_per_hour(_local_hour(t0, self.zone))
        for b in range(self.bins):
            emptied = False
            for _ in range(_poisson_arrivals(self.rng, rate, t1 - t0)):
                added = self.rng.uniform(0.3, 1.5)
                self.plain_volume += added
                self._fill[b] = min(100.0, self._fill[b] + added)
                if self._fill[b] >= self.compact_at:
                    self._fill[b] *= self.compaction_ratio
                    self._compactions[b] += 1
                if self._compactions[b] >= self.collect_after and self._fill[b] >= 40:
                    self._fill[b], self._compactions[b], emptied = 0.0, 0, True
                    self.emptied += 1
            if emptied or abs(self._fill[b] - self._reported[b]) >= 2:
                self._reported[b] = self._fill[b]
                readings.append({"t": round(t1 + b * 0.001, 3), "bin": self._bin_id(b),
                                 "fill_pct": round(self._fill[b], 1),
                                 "compactions": self._compactions[b], "emptied": emptied})
        return readings

    def replay_offset(self, start: float) -> float:
        return 0.0  # bins fill at every hour

    def summary(self) -> str:
        plain_trips = int(self.plain_volume // 100)
        return (f"{self.feed}: {self.emptied} collections against {plain_trips} for ordinary "
                f"bins: {max(0, plain_trips - self.emptied)} trips saved")


@dataclass
class Screening:
    feed: str
    rng: random.Random
    referral_rate: float = 0.08
    zone: tzinfo = STOCKHOLM
    sessions_total: int = 0
    referred_total: int = 0
    _day: str = ""
    _sessions: int = 0
    _referred: int = 0
    _last_report: float = 0.0
    _reported: tuple = ()

    def step(self, t0: float, t1: float) -> list[Reading]:
        day = datetime.fromtimestamp(t1, self.zone).date().isoformat()
        if day != self._day:
            self._day, self._sessions, self._referred = day, 0, 0
        # A session takes about ten minutes; two screening stations.
        if is_school_time(t1, self.zone):
            for _ in range(_poisson_arrivals(self.rng, 5, t1 - t0)):
                self._sessions += 1
                self.sessions_total += 1
                if self.rng.random() < self.referral_rate:
                    self._referred += 1
                    self.referred_total += 1
        counts = (day, self._sessions, self._referred)
        # The day's running totals, at most every half hour and only when they changed.
        if self._sessions and t1 - self._last_report >= 1800 and counts != self._reported:
            self._last_report, self._reported = t1, counts
            return [{"t": round(t1, 3), "period": day, "sessions": self._sessions,
                     "referred": self._referred}]
        return []

    def replay_offset(self, start: float) -> float:
        """How far back to shift a replay starting at `start` so that it starts on the most
        recent school day, just before school: started on a weekend or at night, a replay of
        its own window would have no sessions to show."""
        return start - latest_school_morning(start, self.zone)

    def summary(self) -> str:
        return (f"{self.feed}: {self.sessions_total} screening sessions, "
                f"{self.referred_total} referred for a follow-up")


@dataclass
class Gauge:
    feed: str
    rng: random.Random
    minimum: float = 0.0
    maximum: float = 100.0
    unit: str | None = None
    _value: float | None = None
    _last: float = 0.0

    def step(self, t0: float, t1: float) -> list[Reading]:
        span = self.maximum - self.minimum
        if self._value is None:
            self._value = self.minimum + span / 2
        if t1 - self._last < 60:
            return []
        self._last = t1
        self._value += self.rng.gauss(0, span * 0.01)
        self._value = min(self.maximum, max(self.minimum, self._value))
        reading: Reading = {"t": round(t1, 3), "value": round(self._value, 2)}
        if self.unit:
            reading["unit"] = self.unit
        return [reading]

    def replay_offset(self, start: float) -> float:
        return 0.0

    def summary(self) -> str:
        value = "no reading" if self._value is None else f"{self._value:.2f}"
        return f"{self.feed}: gauge ended at {value} {self.unit or ''}".rstrip()


class Model(Protocol):
    feed: str

    def step(self, t0: float, t1: float) -> list[Reading]: ...

    def replay_offset(self, start: float) -> float: ...

    def summary(self) -> str: ...


class Replay:
    """The simulated clock of a run: `duration` real seconds at `speed` simulated seconds per
    real second, ending at the real end time `end`, so that no reading is ever in the future.
    Each model replays its own stretch, shifted back by its `replay_offset` (never forward)."""

    def __init__(self, models: dict[str, Model], end: float, duration: float,
                 speed: float) -> None:
        self.models, self.duration, self.speed = models, duration, speed
        self.start = end - duration * speed
        self.offsets = {feed: model.replay_offset(self.start) for feed, model in models.items()}
        self._now = self.start

    def advance(self, elapsed: float) -> dict[str, list[Reading]]:
        """The readings of each feed since the last call, `elapsed` real seconds in."""
        sim_end = self.start + min(elapsed, self.duration) * self.speed
        readings: dict[str, list[Reading]] = {feed: [] for feed in self.models}
        # Models look at the hour once per step: fast replays go in short steps all the same.
        while self._now < sim_end:
            t0, t1 = self._now, min(self._now + MAX_STEP_SECONDS, sim_end)
            for feed, model in self.models.items():
                offset = self.offsets[feed]
                readings[feed] += model.step(t0 - offset, t1 - offset)
            self._now = t1
        return readings


def model_for(feed_id: str, spec: dict[str, Any], rng: random.Random) -> Model:
    """The model for a feed from an exhibition's `feeds` map entry."""
    kind = spec["kind"]
    if kind == "street-lighting":
        return StreetLights(feed_id, rng)
    if kind == "smart-bin":
        return SmartBins(feed_id, rng)
    if kind == "eye-tracking-screening":
        return Screening(feed_id, rng)
    return Gauge(feed_id, rng, spec.get("min", 0.0), spec.get("max", 100.0), spec.get("unit"))
