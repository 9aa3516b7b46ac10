"""Sensor readings: what each exhibit kind may carry, checked field by field.

The same rules are published as a JSON Schema (vrculture/schemas/readings.schema.json) for
people writing sensor bridges; a test keeps the two in agreement. The screening exhibit
concerns children's health: only per-period aggregates are accepted, and any field that could
describe one person is refused by name, before the generic "unknown field" rule. Its period is a
date, an ISO week or a month (never free text, where a child's name would fit), and its small
counts are suppressed before they are stored or published (see `screening_counts`).
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeGuard

KINDS = ("street-lighting", "smart-bin", "eye-tracking-screening", "gauge")
MAX_FUTURE_SECONDS = 300  # sensor clocks drift; further ahead is a broken clock or a typo
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
MAX_ID_CHARS = 64
# 2026-11-27, 2026-W48 or 2026-11; [0-9], not \d, which also matches other scripts' digits.
_PERIOD = re.compile(r"(?P<year>[0-9]{4})-(?:(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2}))?"
                     r"|W(?P<week>[0-9]{2}))")

# Statistical disclosure control for the screening counts (children's health data). A count of
# 1-4 can single out a child (a class with one absentee, a small school), so, following common
# practice for published health statistics, such counts are published as "<5" and never exactly.
# When the children NOT referred number 1-4, an exact referral count would give them away by
# subtraction (and "all referred" discloses every child's result), so it is published as
# "suppressed". Suppression happens before storage: the API, the history and the rooms only
# ever see the controlled values. Zero is published as is.
SMALL_COUNT_LIMIT = 5
SMALL_COUNT = "<5"
COMPLEMENT_SUPPRESSED = "suppressed"

# Words that would make a screening reading about a person rather than a count.
PER_PERSON_WORDS = (
    "name", "child", "pupil", "student", "person", "patient", "id", "age", "birth", "born",
    "personnummer", "ssn", "gender", "sex", "score", "gaze", "fixation", "saccade", "diagnos",
    "school", "class", "email", "phone", "address",
)
_PER_PERSON = re.compile(
    r"(^|[^a-z])(" + "|".join(PER_PERSON_WORDS) + r")", re.IGNORECASE
)


class ReadingError(ValueError):
    def __init__(self, field: str, message: str, code: str = "invalid_field") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code


@dataclass(frozen=True)
class FeedSpec:
    kind: str
    unit: str | None = None
    min: float | None = None
    max: float | None = None


def _finite(value: Any) -> TypeGuard[int | float]:
    """A JSON number a float can hold: not a bool, NaN, infinity or an int beyond 1.8e308
    (`math.isfinite` raises OverflowError on such an int instead of saying False)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return abs(value) <= sys.float_info.max if isinstance(value, int) else math.isfinite(value)


def _number(reading: dict, field: str, lo: float | None = None, hi: float | None = None) -> float:
    value = reading.get(field)
    if not _finite(value):
        raise ReadingError(field, "must be a number")
    if lo is not None and value < lo:
        raise ReadingError(field, f"must be at least {lo:g}" + (f" and at most {hi:g}" if hi is
                                                              not None else ""))
    if hi is not None and value > hi:
        raise ReadingError(field, f"must be at most {hi:g}")
    return value


def _integer(reading: dict, field: str, lo: int = 0, hi: int | None = None) -> int:
    value = reading.get(field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ReadingError(field, "must be a whole number")
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise ReadingError(field, f"must be {bound}")
    return value


def _boolean(reading: dict, field: str) -> bool:
    value = reading.get(field)
    if not isinstance(value, bool):
        raise ReadingError(field, "must be true or false")
    return value


def _text(reading: dict, field: str, max_chars: int) -> str:
    value = reading.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ReadingError(field, "must be a non-empty string")
    # isprintable: no controls (C0, DEL, C1), line separators, bidi overrides or zero-width
    # characters, which would reorder or hide the text around an id shown in the exhibit.
    if len(value) > max_chars or not value.isprintable():
        raise ReadingError(field, f"must be at most {max_chars} printable characters")
    return value


def parse_time(value: Any, field: str = "t", *, now: float) -> float:
    """Epoch seconds (rounded to milliseconds) from ISO-8601 with a zone, or epoch seconds; no
    more than MAX_FUTURE_SECONDS after `now` (the caller's clock: the app's, injectable)."""
    if isinstance(value, bool):
        raise ReadingError(field, "must be an ISO-8601 time or epoch seconds")
    if isinstance(value, int | float):
        if not _finite(value):
            raise ReadingError(field, "must be a finite number of seconds")
        seconds = float(value)
    elif isinstance(value, str) and len(value) <= 64:
        try:
            parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
        except ValueError as error:
            raise ReadingError(field, f"not an ISO-8601 time: {value!r}") from error
        if parsed.tzinfo is None:
            raise ReadingError(field, "needs a time zone (for example 2026-05-01T21:30:00Z)")
        seconds = parsed.timestamp()
    else:
        raise ReadingError(field, "must be an ISO-8601 time or epoch seconds")
    if seconds < EARLIEST:
        raise ReadingError(field, "is before the year 2000")
    if seconds > now + MAX_FUTURE_SECONDS:
        raise ReadingError(field, "is in the future")
    return round(seconds, 3)


def format_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )


def _street_lighting(r: dict, spec: FeedSpec) -> dict[str, Any]:
    out = {
        "lamp": _text(r, "lamp", MAX_ID_CHARS),
        "presence": _boolean(r, "presence"),
        "level": _number(r, "level", 0, 100),
        "power_w": _number(r, "power_w", 0, 1e6),
    }
    if "rated_w" in r:  # the lamp's power when always on: the exhibit's "energy saved"
        out["rated_w"] = _number(r, "rated_w", 0, 1e6)
    return out


def _smart_bin(r: dict, spec: FeedSpec) -> dict[str, Any]:
    return {
        "bin": _text(r, "bin", MAX_ID_CHARS),
        "fill_pct": _number(r, "fill_pct", 0, 100),
        "compactions": _integer(r, "compactions", 0, 1_000_000),
        "emptied": _boolean(r, "emptied"),
    }


PERIOD_RULE = ("must be a date (2026-11-27), an ISO week (2026-W48) or a month (2026-11), "
               "from the year 2000 on")


def _period(r: dict) -> str:
    value = r.get("period")
    if not isinstance(value, str):
        raise ReadingError("period", PERIOD_RULE)
    match = _PERIOD.fullmatch(value)
    try:
        if match is None or int(match["year"]) < 2000:
            raise ValueError("not a period")
        year = int(match["year"])
        if match["week"]:
            date.fromisocalendar(year, int(match["week"]), 1)  # week 53 only in long years
        else:
            date(year, int(match["month"]), int(match["day"] or 1))
    except ValueError:
        raise ReadingError("period", PERIOD_RULE) from None
    return value


def _small(count: int) -> int | str:
    return SMALL_COUNT if 0 < count < SMALL_COUNT_LIMIT else count


def screening_counts(sessions: int, referred: int) -> dict[str, int | str]:
    """The counts as published: see SMALL_COUNT_LIMIT above for the rule and the reason."""
    if referred >= SMALL_COUNT_LIMIT and sessions - referred < SMALL_COUNT_LIMIT:
        return {"sessions": sessions, "referred": COMPLEMENT_SUPPRESSED}
    return {"sessions": _small(sessions), "referred": _small(referred)}


def disclosure_controlled(reading: dict[str, Any]) -> dict[str, Any]:
    """A stored reading as it may be published: exact screening counts (stored before counts
    were suppressed at ingest) go through `screening_counts`; anything else is unchanged."""
    sessions, referred = reading.get("sessions"), reading.get("referred")
    if ("period" in reading and isinstance(sessions, int) and isinstance(referred, int)
            and not isinstance(sessions, bool) and not isinstance(referred, bool)):
        return {**reading, **screening_counts(sessions, referred)}
    return reading


def _screening(r: dict, spec: FeedSpec) -> dict[str, Any]:
    period = _period(r)
    sessions = _integer(r, "sessions", 0, 1_000_000)
    referred = _integer(r, "referred", 0, sessions)
    return {"period": period, **screening_counts(sessions, referred)}


def _gauge(r: dict, spec: FeedSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"value": _number(r, "value", spec.min, spec.max)}
    if "unit" in r:
        unit = _text(r, "unit", 32)
        if spec.unit is not None and unit != spec.unit:
            raise ReadingError("unit", f"must be {spec.unit!r} (the feed's declared unit)")
        out["unit"] = unit
    elif spec.unit is not None:
        out["unit"] = spec.unit
    return out


FIELDS = {
    "street-lighting": ({"lamp", "presence", "level", "power_w", "rated_w"}, _street_lighting),
    "smart-bin": ({"bin", "fill_pct", "compactions", "emptied"}, _smart_bin),
    "eye-tracking-screening": ({"period", "sessions", "referred"}, _screening),
    "gauge": ({"value", "unit"}, _gauge),
}


def validate_reading(raw: Any, spec: FeedSpec, now: float) -> tuple[float, dict]:
    """(epoch seconds, normalised reading) or ReadingError naming the field; `now` is the
    clock the reading's time is checked against."""
    if not isinstance(raw, dict):
        raise ReadingError("(reading)", "must be a JSON object", code="malformed")
    allowed, check = FIELDS[spec.kind]
    for field in raw:
        if field == "t" or field in allowed:
            continue
        if spec.kind == "eye-tracking-screening" and _PER_PERSON.search(str(field)):
            raise ReadingError(
                str(field)[:64],
                "per-person data is refused: screening feeds carry per-period counts only",
                code="per_person_field",
            )
        raise ReadingError(str(field)[:64], f"unknown field for a {spec.kind} feed",
                           code="unknown_field")
    if "t" not in raw:
        raise ReadingError("t", "is required (ISO-8601 time or epoch seconds)")
    seconds = parse_time(raw["t"], now=now)
    reading = check(raw, spec)
    return seconds, {"t": format_time(seconds), **reading}
