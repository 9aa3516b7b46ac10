"""The last line of a run counts the skipped tests by reason (the skip_summary plugin)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

SKIPPING = '''
import pytest


@pytest.fixture
def corpus():
    pytest.skip("shared corpus not present at /nowhere")


def test_a(corpus): pass
def test_b(corpus): pass
def test_c(corpus): pass


@pytest.mark.skipif(True, reason="needs redis-server")
def test_d(): pass


def test_e(): pass
'''


def _run(folder: Path, *args: str) -> subprocess.CompletedProcess:
    # Only the plugin under test: the project's other plugins would just slow the run down.
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "skip_summary", "-p", "no:cacheprovider",
         "--rootdir", str(folder), *args, str(folder)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False)


def _summary_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("skipped: ")]
    assert len(lines) == 1, output
    return lines[0]


def test_skips_are_counted_by_reason_most_common_first(tmp_path: Path):
    (tmp_path / "test_some.py").write_text(SKIPPING)
    result = _run(tmp_path, "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _summary_line(result.stdout) == (
        "skipped: 4 (shared corpus not present at /nowhere: 3, needs redis-server: 1)")


def test_a_run_without_skips_says_so_and_keeps_pytests_exit_status(tmp_path: Path):
    (tmp_path / "test_fails.py").write_text("def test_x(): assert False\n")
    result = _run(tmp_path)
    assert result.returncode == 1  # pytest's own status: a failed test
    assert _summary_line(result.stdout) == "skipped: 0"


def test_a_whole_module_skipped_at_collection_counts(tmp_path: Path):
    (tmp_path / "test_module.py").write_text(
        "import pytest\npytest.skip('no browser', allow_module_level=True)\n"
        "def test_x(): pass\n")
    result = _run(tmp_path, "-q")
    assert _summary_line(result.stdout) == "skipped: 1 (no browser: 1)"
