"""The one error type the converter raises for bad input: it names the file and the problem."""

from __future__ import annotations

from pathlib import Path


class ConversionError(Exception):
    """A source that cannot be converted. `str(err)` is the message shown to the curator."""

    def __init__(self, source: Path | str, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")
