"""Build progress on stderr: a live bar on a terminal, one line per object otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = (not quiet) and self.stream.isatty()
        self.started = time.monotonic()

    def _eta(self) -> str:
        if not self.done:
            return "--:--"
        elapsed = time.monotonic() - self.started
        left = elapsed / self.done * (self.total - self.done)
        return f"{int(left // 60):02d}:{int(left % 60):02d}"

    def step(self, name: str, status: str) -> None:
        """One object finished (`status` e.g. "converted 1.2 s", "cached", "FAILED: ...")."""
        self.done += 1
        if self.quiet:
            return
        if self.live:
            width = 24
            filled = round(width * self.done / max(1, self.total))
            bar = "#" * filled + "." * (width - filled)
            line = f"\r[{bar}] {self.done}/{self.total} {name[:32]:<32} ETA {self._eta()}"
            self.stream.write(line)
            if status.startswith("FAILED"):
                self.stream.write(f"\n  {name}: {status}\n")
        else:
            self.stream.write(f"vrculture build: [{self.done}/{self.total}] {name}: {status}\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()
