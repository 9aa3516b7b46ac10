"""The `[figures]` table of the settings TOML: the assumptions behind the goal figures
(goal_figures.py, docs/goal-figures.md).

    [figures]
    # g CO2e per kWh saved. Default 59: IVL Svenska Miljöinstitutet, "Emissionsfaktor för
    # nordisk elmix år 2021-2023" (Nordic mix with imports/exports, the Swedish EPA's boundary).
    emission_factor_g_per_kwh = 59
    # W of one lamp at full level when neither [figures.lamp_power_w_by_feed] nor the lamps'
    # readings (`rated_w`) say: 60 W, a common LED luminaire on a residential street.
    lamp_power_w = 60
    max_gap_hours = 18          # a lamp silent longer than this is unknown for that stretch
    compaction_ratio = 0.45     # a bin's fill after one compaction, as a share of before
    [figures.lamp_power_w_by_feed]
    street-lights = 45
    [figures.terms]             # school terms, local (Stockholm) days, both inclusive
    autumn = ["08-17", "12-20"]
    spring = ["01-12", "06-12"]

Raises ValueError with a message naming the setting; settings.py adds where it came from.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from vrculture.server.goal_figures import FigureSettings, Term

_FEED_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_TERM_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_DAY = re.compile(r"(?P<month>[0-9]{2})-(?P<day>[0-9]{2})")
KNOWN = {"emission_factor_g_per_kwh", "lamp_power_w", "lamp_power_w_by_feed", "max_gap_hours",
         "compaction_ratio", "terms"}


def _positive(name: str, value: Any, *, most: float) -> float:
    if (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
            or not 0 < value <= most):
        raise ValueError(f"[figures] {name}: expected a number above 0 and at most {most:g}")
    return float(value)


def _day(name: str, text: Any) -> tuple[int, int]:
    match = _DAY.fullmatch(text) if isinstance(text, str) else None
    try:
        if match is None:
            raise ValueError("not MM-DD")
        month, day = int(match["month"]), int(match["day"])
        date(2024, month, day)  # a leap year: 02-29 is a real day
    except ValueError:
        raise ValueError(f"[figures.terms] {name}: days are \"MM-DD\" (for example "
                         "\"08-17\")") from None
    return month, day


def _terms(value: Any) -> tuple[Term, ...]:
    if not isinstance(value, dict) or not value:
        raise ValueError("[figures.terms]: a table of term = [\"MM-DD\", \"MM-DD\"]")
    terms = []
    for name, days in value.items():
        if not _TERM_NAME.fullmatch(name):
            raise ValueError(f"[figures.terms] {name!r}: names are a-z, 0-9, '_' and '-'")
        if not isinstance(days, list) or len(days) != 2:
            raise ValueError(f"[figures.terms] {name}: expected [first day, last day]")
        first, last = _day(name, days[0]), _day(name, days[1])
        if first > last:
            raise ValueError(f"[figures.terms] {name}: a term ends after it starts, within "
                             "one calendar year")
        terms.append(Term(name, first, last))
    return tuple(terms)


def parse_figures(value: Any) -> FigureSettings:
    if not isinstance(value, dict):
        raise ValueError("[figures] must be a table")
    unknown = sorted(set(value) - KNOWN)
    if unknown:
        raise ValueError(f"[figures]: unknown setting {unknown[0]!r}")
    found: dict[str, Any] = {}
    if "emission_factor_g_per_kwh" in value:
        found["emission_factor_g_per_kwh"] = _positive(
            "emission_factor_g_per_kwh", value["emission_factor_g_per_kwh"], most=2000)
    if "lamp_power_w" in value:
        found["lamp_power_w"] = _positive("lamp_power_w", value["lamp_power_w"], most=10_000)
    if "max_gap_hours" in value:
        found["max_gap_hours"] = _positive("max_gap_hours", value["max_gap_hours"], most=24 * 31)
    if "compaction_ratio" in value:
        ratio = _positive("compaction_ratio", value["compaction_ratio"], most=1)
        found["compaction_ratio"] = ratio
    if "lamp_power_w_by_feed" in value:
        table = value["lamp_power_w_by_feed"]
        if not isinstance(table, dict):
            raise ValueError("[figures.lamp_power_w_by_feed]: a table of feed = watts")
        by_feed = {}
        for feed, watts in table.items():
            if not _FEED_ID.fullmatch(feed):
                raise ValueError(f"[figures.lamp_power_w_by_feed] {feed!r}: not a feed id")
            by_feed[feed] = _positive(f"lamp_power_w_by_feed.{feed}", watts, most=10_000)
        found["lamp_power_by_feed"] = by_feed
    if "terms" in value:
        found["terms"] = _terms(value["terms"])
    return FigureSettings(**found)
