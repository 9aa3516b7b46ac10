"""The demo's committed sources are what tools/make_demo_assets.py generates (no hand-made or
borrowed files), and they stay small."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from build_helpers import DEMO, ROOT


def _generator():
    spec = importlib.util.spec_from_file_location("make_demo_assets",
                                                  ROOT / "tools" / "make_demo_assets.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_reproduces_the_committed_sources(tmp_path: Path) -> None:
    _generator().main(tmp_path)
    committed = {p.name: p for p in (DEMO / "sources").iterdir()}
    made = {p.name: p for p in tmp_path.iterdir()}
    assert set(made) == set(committed)
    # The mesh files are pure numpy + Draco: byte for byte. JPEG bytes may differ between
    # Pillow/libjpeg versions, so images are compared by size.
    assert made["radmansbyst.ply"].read_bytes() == committed["radmansbyst.ply"].read_bytes()
    for name, path in made.items():
        size, expected = path.stat().st_size, committed[name].stat().st_size
        assert abs(size - expected) <= 0.05 * expected, name
    assert sum(p.stat().st_size for p in committed.values()) < 3 * 2**20
