"""Goal figures with two server processes' apps on one data folder and a real redis-server."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio
from fixed_clock import FakeClock

from vrculture.server.app import create_app
from vrculture.server.pubsub_redis import RedisPubSub
from vrculture.server.rooms.client import RoomClient
from vrculture.server.storage import Store

from .test_figures_api import EVENING, Clock, at, figure, lamp, post
from .test_rooms import EXHIBITION, make_config
from .test_rooms_redis import redis_binary, redis_url  # noqa: F401 (fixtures)

LATE = [lamp("2026-12-02T18:00", 100)]  # older than EVENING's last: 1.12 kWh becomes 0.96


@pytest.fixture
async def pair(tmp_path: Path, aiohttp_client: Any, redis_url: str) -> tuple[Any, Any, dict]:  # noqa: F811
    redis.Redis.from_url(redis_url).flushall()
    config = dataclasses.replace(make_config(tmp_path), redis_url=redis_url)
    store = Store.open(config.data_dir, clock=FakeClock())
    tokens = {"lamps": store.add_feed("lamps", kind="street-lighting", exhibition=EXHIBITION)}
    store.close()
    clock = Clock(at("2026-12-03T08:00"))
    a, b = [await aiohttp_client(create_app(config, watch_interval=0.2, clock=clock))
            for _ in range(2)]
    return a, b, tokens


async def _value_becomes(client: Any, value: float, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (await figure(client, "lamps"))["value"] != value:
        assert loop.time() < deadline, f"figure did not become {value}"
        await asyncio.sleep(0.05)  # polling the API for a state another process changes


async def test_a_late_reading_stored_by_one_process_counts_in_the_other(pair) -> None:
    a, b, tokens = pair
    await post(a, "lamps", EVENING, tokens)
    assert (await figure(b, "lamps"))["value"] == 1.12  # b's tally now counts past 07:00
    await post(a, "lamps", LATE, tokens)
    # b hears a's reading on the bus and counts again; before, it kept 1.12 for 15 minutes
    await _value_becomes(b, 0.96)


async def _lamp_values_until(visitor: RoomClient, last: float) -> list[float]:
    values: list[float] = []
    while not values or values[-1] != last:
        message = await visitor.expect("figures", timeout=10)
        if message["feed"] == "lamps":
            values.append(message["figures"][0]["value"])
    return values


async def test_figures_reach_visitors_of_both_processes_without_crossing_the_bus(
        pair, redis_url: str) -> None:  # noqa: F811
    a, b, tokens = pair
    bus = redis.asyncio.Redis.from_url(redis_url)
    listener = bus.pubsub()
    await listener.subscribe("figures:lamps")
    try:
        url = f"/ws/rooms/{EXHIBITION}"
        ann = await RoomClient.connect(a.session, str(a.make_url(url)), name="Ann")
        bob = await RoomClient.connect(b.session, str(b.make_url(url)), name="Bob")
        await post(a, "lamps", EVENING, tokens)  # stored by a: b hears it and pushes too
        for visitor in (ann, bob):
            await _lamp_values_until(visitor, 1.12)
        await post(b, "lamps", LATE, tokens)
        for visitor in (ann, bob):
            await _lamp_values_until(visitor, 0.96)
        # Each process pushes its own visitors; through Redis every visitor would get each
        # change once per process. Anything published before the sentinel arrives before it.
        await bus.publish("figures:lamps", b"sentinel")
        crossed = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not crossed or crossed[-1] != b"sentinel":
            assert loop.time() < deadline, "the sentinel never arrived"
            message = await listener.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None:  # None: the subscription's own confirmation, or nothing yet
                crossed.append(message["data"])
        assert crossed == [b"sentinel"]
    finally:
        await listener.aclose()
        await bus.aclose()


async def test_publish_local_stays_in_its_process(redis_url: str) -> None:  # noqa: F811
    here, there = RedisPubSub(redis_url), RedisPubSub(redis_url)
    got: dict[str, list[bytes]] = {"here": [], "there": []}
    try:
        await here.subscribe("figures:x", lambda _c, p: got["here"].append(p))
        await there.subscribe("figures:x", lambda _c, p: got["there"].append(p))
        await here.publish_local("figures:x", b"local")
        assert got["here"] == [b"local"]
        await here.publish("figures:x", json.dumps("sentinel").encode())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not got["there"]:
            assert loop.time() < deadline, "the sentinel never crossed"
            await asyncio.sleep(0.01)
        # Redis keeps one connection's order: had "local" crossed, it would be first.
        assert got["there"] == [b'"sentinel"']
    finally:
        await here.close()
        await there.close()
