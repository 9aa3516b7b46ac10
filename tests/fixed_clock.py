"""The one instant the tests call "now", and clocks to inject that start there.

No test reads the wall clock (tests/test_no_wall_clock.py): a test that passes today must pass
on a Saturday, on the 1st of a month, at midnight and in any time zone. 2026-06-15T12:00:00Z
is a Monday at 14:00 in Stockholm, far from a day's, month's or year's edge and from a daylight
saving change, so a few hours of test run either way cross none of them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

FIXED_NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC).timestamp()


class FakeClock:
    """A clock that stands still at `now` until a test moves it (`advance`, or set `now`)."""

    def __init__(self, now: float = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RunningClock:
    """A clock that starts at `start` and runs at the machine's pace from then on (monotonic:
    it never jumps with the wall clock). For a real server that tests drive from outside:
    sessions, rate limits and caches see time pass while the date stays the fixed one."""

    def __init__(self, start: float = FIXED_NOW) -> None:
        self.start = start
        self._origin = time.monotonic()

    def __call__(self) -> float:
        return self.start + (time.monotonic() - self._origin)
