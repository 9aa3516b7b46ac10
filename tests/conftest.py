from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from corpus_location import ENV, corpus_dir
from skip_summary import pytest_terminal_summary  # noqa: F401 (a hook: the skip line)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus of real meshes and images (VRCULTURE_CORPUS, else ../shared/corpus);
    skipped where absent."""
    folder = corpus_dir()
    if not folder.is_dir():
        pytest.skip(f"shared corpus not present at {folder} (set {ENV})")
    return folder


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """assets/demo built once per session by the real `vrculture build`, shared read-only by
    the build, server and browser tests (each used to build its own copy: the same bundle three
    times). In a child process: the browser tests' server thread and Playwright run in this
    one, and the build's worker pool must not fork them. A test that changes a bundle copies it.
    """
    out = tmp_path_factory.mktemp("demo") / "sjostad"
    command = [sys.executable, "-m", "vrculture", "build", str(ROOT / "assets" / "demo"),
               "-o", str(out), "--jobs", "2", "--quiet"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return out


@pytest.fixture
def umask_022() -> Iterator[int]:
    """The usual umask for one test (whatever the machine's), restored afterwards."""
    previous = os.umask(0o022)
    try:
        yield 0o022
    finally:
        os.umask(previous)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests last.

    Playwright's sync API keeps an event loop running on the main thread for as long as its
    session-scoped browser lives; pytest-asyncio tests collected after it would then fail with
    "Runner.run() cannot be called from a running event loop".
    """
    e2e_dir = ROOT / "tests" / "e2e"
    items.sort(key=lambda item: Path(str(item.path)).is_relative_to(e2e_dir))
