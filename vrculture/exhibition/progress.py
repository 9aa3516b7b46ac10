"""Overall progress of a build or a conversion on stderr: objects done of the total, the
percentage, and the time left estimated from the work done so far.

On a terminal it is one line redrawn in place (a bar, the count, the percentage, what is being
worked on, the time left); lines that must stay (a failure, a warning) are written above it.
Elsewhere (a log, CI, a pipe) every finished object is one plain line with the same numbers.
`quiet` writes nothing. The clock is injected (a monotonic `() -> seconds`) so tests need no
real time.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 24
NAME_WIDTH = 32
CLEAR_LINE = "\r\x1b[K"  # back to the start of the line and erase it


def format_left(seconds: float) -> str:
    """`M:SS`, or `H:MM:SS` from an hour on."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None, *, quiet: bool = False,
                 clock: Callable[[], float] = time.monotonic,
                 prefix: str = "vrculture build") -> None:
        self.total = total
        self.done = 0
        self.worked = 0  # finished objects that took work (a cache hit takes none)
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = (not quiet) and self.stream.isatty()
        self.clock = clock
        self.started = clock()
        self.prefix = prefix
        self.current = ""
        self._drawn = False

    @property
    def percent(self) -> int:
        """Whole percent done; rounded down, so 100 only when everything is."""
        return 100 if self.total <= 0 else self.done * 100 // self.total

    def seconds_left(self) -> float | None:
        """The objects still to do at the pace of those that took work so far; None before
        any did. Cache hits count as done but not towards the pace (they take no time)."""
        if not self.worked:
            return None
        elapsed = self.clock() - self.started
        return max(0.0, elapsed / self.worked * (self.total - self.done))

    def begin(self, name: str) -> None:
        """An object is started: the terminal line says which."""
        self.current = name
        if self.live:
            self._draw()

    def step(self, name: str, status: str, *, cached: bool = False) -> None:
        """One object finished (`status` e.g. "converted in 1.2 s", "cached", "FAILED: ...")."""
        self.done += 1
        if not cached:
            self.worked += 1
        if self.quiet:
            return
        if self.live:
            if status.startswith("FAILED"):
                self.note(f"  {name}: {status}")
            self.current = name
            self._draw()
            return
        left = self.seconds_left()
        tail = f" (about {format_left(left)} left)" if left is not None and \
            self.done < self.total else ""
        self.stream.write(f"{self.prefix}: [{self.done}/{self.total}] {self.percent}% "
                          f"{name}: {status}{tail}\n")
        self.stream.flush()

    def note(self, line: str) -> None:
        """A line that stays (an error, a warning): on a terminal written above the live line,
        which is drawn again under it."""
        if self.live and self._drawn:
            self.stream.write(CLEAR_LINE)
        self.stream.write(line + "\n")
        if self.live and self._drawn:
            self._draw()
        else:
            self.stream.flush()

    def line(self) -> str:
        """The terminal's live line, without the carriage return."""
        filled = BAR_WIDTH if self.total <= 0 else BAR_WIDTH * self.done // self.total
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        left = self.seconds_left()
        eta = "--:--" if left is None else format_left(left)
        name = self.current if len(self.current) <= NAME_WIDTH else \
            "…" + self.current[1 - NAME_WIDTH:]  # a long path: its end names the file
        return f"[{bar}] {self.done}/{self.total} {self.percent:3d}% {name:<{NAME_WIDTH}} ETA {eta}"

    def _draw(self) -> None:
        self.stream.write(CLEAR_LINE + self.line())
        self.stream.flush()
        self._drawn = True

    def finish(self) -> None:
        """End the live line (the next output starts on a line of its own)."""
        if self.live and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
