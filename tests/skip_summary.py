"""A pytest plugin: one last line with how many tests were skipped and why, grouped by reason.

    skipped: 12 (shared corpus not present at /x (set VRCULTURE_CORPUS): 10, needs ...: 2)

so that a missing corpus or service shows in every run, not only with `-rs`. tests/conftest.py
loads it; tools/test prints it at the end of the whole suite.
"""

from __future__ import annotations

from collections import Counter

import pytest


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return text.removeprefix("Skipped: ").strip() or "no reason given"


def skip_summary(reports: list) -> str:
    reasons = Counter(_reason(report) for report in reports)
    line = f"skipped: {sum(reasons.values())}"
    if reasons:
        line += " (" + ", ".join(f"{reason}: {n}" for reason, n in reasons.most_common()) + ")"
    return line


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    terminalreporter.write_line(skip_summary(terminalreporter.stats.get("skipped", [])))
