from __future__ import annotations

from pathlib import Path

import pytest
from fixed_clock import FakeClock

from vrculture.server.app import create_app
from vrculture.server.config import ServerConfig

from .bundle_factory import make_bundle
from .postgres_fixtures import backend, postgres_cluster, postgres_dsn  # noqa: F401


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return make_bundle(tmp_path / "bundle", large_bytes=1_500_000)


@pytest.fixture
def web_dir(tmp_path: Path) -> Path:
    """A stand-in for web/ with the pages the routes serve (the real web/ is written
    concurrently by the viewer's author; one test below also runs against it)."""
    root = tmp_path / "web"
    (root / "js").mkdir(parents=True)
    for page in ("index.html", "exhibition.html", "embed.html"):
        (root / page).write_text(f"<!doctype html><title>{page}</title>", encoding="utf-8")
    (root / "vrculture-embed.js").write_text("export const embed = 1;\n" * 100)
    (root / "js" / "app.js").write_text("console.log('viewer');\n" * 200)
    (root / ".secret").write_text("hidden")
    return root


@pytest.fixture
def config(tmp_path: Path, bundle: Path, web_dir: Path) -> ServerConfig:
    return ServerConfig(bundles=[bundle], data_dir=tmp_path / "data", web_dir=web_dir,
                        allowed_origins=["https://museum.example"])


@pytest.fixture
def clock() -> FakeClock:
    """The app's clock: tests/fixed_clock.py's FIXED_NOW until a test moves it."""
    return FakeClock()


@pytest.fixture
async def client(aiohttp_client, config: ServerConfig, clock: FakeClock):
    return await aiohttp_client(create_app(config, watch_interval=0.2, clock=clock))
