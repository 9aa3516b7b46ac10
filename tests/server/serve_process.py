"""`vrculture serve` in tests: a real server process started on a free port, and undoing what
an in-process `serve` leaves in the logging configuration."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vrculture.server.connections import RepeatFilter

# `vrculture serve` with its app clock at tests/fixed_clock.py's FIXED_NOW, running from there
SERVE_AT_FIXED_NOW = [sys.executable, str(Path(__file__).resolve().parents[1] / "serve_at.py")]


@contextmanager
def announced_server(bundle: Path, data: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """`serve --port 0` in a process of its own, once it announced its address: yields the
    process and its base URL (http://127.0.0.1:PORT). Terminated on the way out; its standard
    error is left unread for the caller (`process.communicate()`)."""
    process = subprocess.Popen(
        [*SERVE_AT_FIXED_NOW, str(bundle), "--port", "0", "--data", str(data)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = ""
        while "exhibition(s) on" not in line:
            line = process.stderr.readline()
            assert line, "the server exited before announcing"
        url = re.search(r"on (http://127\.0\.0\.1:\d+)/", line)
        assert url, line
        yield process, url.group(1)
    finally:
        if process.poll() is None:
            process.terminate()


@contextmanager
def logging_restored() -> Iterator[None]:
    """`serve` run in this process configures logging for good: it quiets aiohttp.access and
    puts a RepeatFilter on the root logger's handlers, which here are pytest's own and live for
    the whole session. Tests after it (log checks that repeat one message) need both undone."""
    access = logging.getLogger("aiohttp.access")
    level = access.level
    try:
        yield
    finally:
        access.setLevel(level)
        for handler in logging.getLogger().handlers:
            for repeat in [f for f in handler.filters if isinstance(f, RepeatFilter)]:
                handler.removeFilter(repeat)
