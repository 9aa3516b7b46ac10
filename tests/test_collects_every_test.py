"""Every test module under tests/ is collected by pytest.

pytest's default ``norecursedirs`` silently skips folders named like build output (``build``,
``dist``, ``venv`` ...); that once hid 65 tests for months. This asks a real pytest collection
which files it found and compares them with the test modules on disk. When this run itself
collected every module (the whole suite), its own collection is that answer; otherwise (a subset
was asked for) a second pytest collects the whole of tests/.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def _test_modules_on_disk() -> set[str]:
    found = set()
    for path in TESTS.rglob("test_*.py"):
        if "__pycache__" in path.parts:
            continue
        found.add(path.relative_to(ROOT).as_posix())
    return found


def _collected_in_this_run(session: pytest.Session) -> set[str]:
    return {Path(str(item.path)).relative_to(ROOT).as_posix() for item in session.items
            if Path(str(item.path)).is_relative_to(ROOT)}


def _collected_modules() -> set[str]:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         str(TESTS.relative_to(ROOT))],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    modules = set()
    for line in result.stdout.splitlines():
        if "::" in line:
            modules.add(line.split("::", 1)[0])
    return modules


def test_every_test_module_under_tests_is_collected(request: pytest.FixtureRequest) -> None:
    on_disk = _test_modules_on_disk()
    assert on_disk, "no test modules found: the search itself is broken"
    # The whole suite's own collection already answers (saves collecting 2,000 tests twice).
    collected = _collected_in_this_run(request.session)
    if not on_disk <= collected:
        collected = _collected_modules()
    missing = sorted(on_disk - collected)
    assert not missing, f"test modules that pytest never collects: {missing}"


def test_no_test_folder_is_named_like_build_output() -> None:
    skipped_names = {"build", "dist", "out", "venv", "node_modules", "_darcs", "CVS", "{arch}"}
    offending = sorted(
        str(path.relative_to(ROOT)) for path in TESTS.rglob("*")
        if path.is_dir() and (path.name in skipped_names or path.name.startswith("."))
        and "__pycache__" not in path.parts
    )
    assert not offending, f"folders that pytest or ruff skip by default: {offending}"
