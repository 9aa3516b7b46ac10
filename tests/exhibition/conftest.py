"""Fixtures for the build tests: small generated collections and one demo build per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from build_helpers import SMALL_TOML, write_painting, write_shape


@pytest.fixture
def small_collection(tmp_path: Path) -> Path:
    """Three quick objects (two meshes, one painting) in a fresh collection folder."""
    folder = tmp_path / "collection"
    write_shape(folder / "src" / "klot.obj", "sphere", 3)
    write_shape(folder / "src" / "ring.ply", "torus", scale=30.0)
    write_painting(folder / "src" / "tavla.jpg")
    (folder / "collection.toml").write_text(SMALL_TOML.format(ring_rights="CC-BY-4.0"), "utf-8")
    return folder


@pytest.fixture(scope="session")
def demo_bundle(built_demo: Path) -> Path:
    """The demo collection built once per session with the default settings (tests/conftest.py:
    one build shared with the server and browser tests; read it, never change it)."""
    return built_demo
