"""Fixtures for the build tests: small generated collections and one demo build per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from build_helpers import DEMO, SMALL_TOML, run_build, write_painting, write_shape


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
def demo_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo collection built once per session with the default settings."""
    out = tmp_path_factory.mktemp("demo") / "sjostad"
    code = run_build(DEMO, "-o", out, "--jobs", "2", "--quiet")
    assert code == 0
    return out
