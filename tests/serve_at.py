"""`python tests/serve_at.py SERVE_ARGS...`: the real `vrculture serve`, whose app clock starts
at tests/fixed_clock.py's FIXED_NOW and runs from there, for the tests that drive a server
process from outside (restart, workers). The clock is injected here, in a test launcher: the
product has no "fake time" switch."""

from __future__ import annotations

import sys

from fixed_clock import FIXED_NOW, RunningClock

from vrculture.cli import build_parser
from vrculture.cli.serve import run

if __name__ == "__main__":
    arguments = build_parser("serve").parse_args(["serve", *sys.argv[1:]])
    sys.exit(run(arguments, clock=RunningClock(FIXED_NOW)))
