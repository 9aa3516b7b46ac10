from __future__ import annotations

import os
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
