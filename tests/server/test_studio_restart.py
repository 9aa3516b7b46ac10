"""What the studio's uploads and queue keep across a restart: objects converted before are known
again (from the build cache), abandoned uploads are forgotten after a while; and the queue's
workers run at a lower priority than the server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vrculture.server.config import ServerConfig
from vrculture.server.studio.queue import WORKER_NICENESS, _new_pool

from .studio_helpers import (
    ANNA,
    BASE,
    TUS,
    create,
    make_app,
    make_exhibition,
    patch,
    upload,
    wait_for,
)

TRIANGLES = (b"v 0 0 0\nv 0.1 0 0\nv 0 0.1 0\nv 0 0 0.1\n"
             b"f 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n")


@pytest.fixture
def root(config: ServerConfig) -> Path:
    return make_exhibition(config.data_dir)


async def object_states(client) -> dict:
    return (await (await client.get(f"{BASE}/uploads", headers=ANNA)).json())["objects"]


async def test_converted_objects_are_known_again_after_a_restart(aiohttp_client, config,
                                                                 root) -> None:
    first = await aiohttp_client(make_app(config))
    assert (await upload(first, "tetra.obj", TRIANGLES)).status == 204

    async def converted() -> bool:
        return (await object_states(first)).get("tetra", {}).get("event") == "done"

    await wait_for(converted, timeout=120)
    await first.close()

    second = await aiohttp_client(make_app(config))

    async def known_again() -> bool:
        return (await object_states(second)).get("tetra", {}).get("event") == "done"

    await wait_for(known_again, timeout=60)
    assert (await object_states(second))["tetra"]["cached"] is True  # not converted twice


async def test_abandoned_uploads_are_forgotten(aiohttp_client, config, root) -> None:
    first = await aiohttp_client(make_app(config))
    abandoned = await create(first, "old.stl", 1000)
    assert (await patch(first, abandoned, 0, b"x" * 10)).status == 204
    recent = await create(first, "new.stl", 1000)
    await first.close()
    folder = config.data_dir / "studio" / "uploads" / "sjostad"
    day = 86400.0
    for path in (folder / abandoned.rsplit("/", 1)[1]).iterdir():
        os.utime(path, (1_000_000.0, 1_000_000.0))
    for path in (folder / recent.rsplit("/", 1)[1]).iterdir():
        os.utime(path, (1_000_000.0 + 6 * day, 1_000_000.0 + 6 * day))
    leftover = root / "sources" / ".fynd.unpacking"
    leftover.mkdir(parents=True)  # a crash while unpacking a zip

    second = await aiohttp_client(make_app(config, clock=lambda: 1_000_000.0 + 8 * day))
    assert (await second.head(abandoned, headers={**TUS, **ANNA})).status == 404
    assert (await second.head(recent, headers={**TUS, **ANNA})).status == 200
    assert not leftover.exists()


def test_conversion_workers_run_at_a_lower_priority() -> None:
    with _new_pool(1) as pool:
        worker_niceness = pool.submit(os.nice, 0).result(timeout=60)
    assert worker_niceness >= os.nice(0) + WORKER_NICENESS


async def test_vrculture_build_finds_the_studios_conversion_in_its_cache(aiohttp_client, config,
                                                                          root, tmp_path) -> None:
    """The queue runs the build's own job for the object's collection.toml record, into the
    cache a studio build uses: building the collection afterwards converts nothing again."""
    from vrculture.exhibition.run import BuildOptions, build

    client = await aiohttp_client(make_app(config))
    assert (await upload(client, "tetra.obj", TRIANGLES)).status == 204

    async def converted() -> bool:
        return (await object_states(client)).get("tetra", {}).get("event") == "done"

    await wait_for(converted, timeout=120)
    assert (await object_states(client))["tetra"]["cached"] is False
    result = build(BuildOptions(collection=root, bundle=tmp_path / "bundle", quiet=True,
                                cache_dir=config.data_dir / "studio" / ".vrculture-cache"))
    assert result.manifest is not None
    assert [o["id"] for o in result.manifest["objects"]] == ["tetra"]
    assert result.report["reconverted"] == []  # found in the studio's conversion
