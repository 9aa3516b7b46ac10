"""Two server processes' apps sharing rooms and feeds through a real redis-server."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fixed_clock import FakeClock

from vrculture.server import appkeys
from vrculture.server.app import create_app
from vrculture.server.rooms.client import RoomClient
from vrculture.server.storage import Store

from .test_rooms import EXHIBITION, head_at, make_config

REDIS_MISSING = "needs Debian's redis-server (tools/bootstrap --redis installs it)"


def start_redis(binary: str, folder: Path, port: int) -> subprocess.Popen:
    """A private redis-server, returned once it answers `ping`."""
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    client.close()
    return process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:  # `tools/test` installs it (tools/bootstrap --redis)
        pytest.skip(REDIS_MISSING)
    return binary


@pytest.fixture(scope="module")
def redis_url(redis_binary: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    process = start_redis(redis_binary, tmp_path_factory.mktemp("redis"), port)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


class Node:
    def __init__(self, http: Any) -> None:
        self.http = http

    async def join(self, name: str, **hello: Any) -> RoomClient:
        url = str(self.http.make_url(f"/ws/rooms/{EXHIBITION}"))
        return await RoomClient.connect(self.http.session, url, name=name, **hello)


@pytest.fixture
def capacity() -> int:
    return 50


@pytest.fixture
async def nodes(tmp_path: Path, aiohttp_client: Any, redis_url: str,
                capacity: int, clock: FakeClock) -> tuple[Node, Node, str]:
    redis.Redis.from_url(redis_url).flushall()
    made = []
    for name in ("a", "b"):  # each process with its own data folder; the guide code is a's
        config = make_config(tmp_path / name, capacity=capacity)
        config.redis_url = redis_url
        made.append(config)
    store = Store.open(made[0].data_dir, clock=FakeClock())
    code = store.add_guide_code(EXHIBITION, "tests")
    store.close()
    a, b = [Node(await aiohttp_client(create_app(c, watch_interval=0.2, clock=clock)))
            for c in made]
    return a, b, code


async def test_visitors_on_two_processes_share_one_room(nodes: tuple[Node, Node, str]) -> None:
    a, b, _ = nodes
    ann = await a.join("Ann")
    bob = await b.join("Bob")
    assert [v["name"] for v in bob.welcome["visitors"]] == ["Ann"]
    assert bob.welcome["room"] == ann.welcome["room"] == EXHIBITION
    joined = await ann.expect("joined")
    assert joined["visitor"]["name"] == "Bob"
    bob_on_a = joined["visitor"]["id"]
    ann_on_b = bob.welcome["visitors"][0]["id"]
    # Poses cross in both directions, quantised once.
    await ann.send_pose(head_at(2.5), head_at(2.2, 1.1), None)
    await bob.send_pose(head_at(-1.0))
    await bob.wait_for(lambda: bob.poses.get(ann_on_b, {}).get("left") is not None)
    assert bob.poses[ann_on_b]["head"][0][0] == pytest.approx(2.5, abs=0.001)
    await ann.wait_for(lambda: ann.poses.get(bob_on_a, {}).get("head") is not None)
    assert ann.poses[bob_on_a]["head"][0][0] == pytest.approx(-1.0, abs=0.001)
    # Picks and reactions too.
    await bob.send({"type": "pick", "object": "vase"})
    assert (await ann.expect("picked")) == {"type": "picked", "id": bob_on_a, "object": "vase"}
    await ann.send({"type": "reaction", "emoji": "👍"})
    assert (await bob.expect("reaction"))["id"] == ann_on_b
    # A third visitor on b sees both, with Bob's pick.
    carl = await b.join("Carl")
    assert {v["name"]: v["picked"] for v in carl.welcome["visitors"]} == {"Ann": None,
                                                                         "Bob": "vase"}
    await carl.wait_for(lambda: len([v for v in carl.poses.values() if v.get("head")]) == 2)
    await bob.close()
    assert (await ann.expect("left"))["id"] == bob_on_a


async def test_reading_ingested_on_one_process_reaches_visitors_of_the_other(
    nodes: tuple[Node, Node, str],
) -> None:
    a, b, _ = nodes
    bob = await b.join("Bob")
    await a.http.server.app[appkeys.PUBSUB].publish(
        "feed:lamps", b'{"type": "reading", "feed": "lamps", "reading": {"t": 5, "lamp": "l2"}}')
    reading = await bob.expect("reading")
    assert reading["reading"]["lamp"] == "l2"


async def test_guide_on_one_process_leads_and_kicks_visitors_of_the_other(
    nodes: tuple[Node, Node, str],
) -> None:
    a, b, code = nodes
    guide = await a.join("Guide", guide_code=code)
    assert guide.welcome["guide"] is True
    sven = await b.join("Sven", lang="sv")
    eve = await b.join("Eve")
    guide_on_b = next(v["id"] for v in sven.welcome["visitors"] if v["guide"])
    await sven.send({"type": "follow", "guide": guide_on_b})
    await guide.wait_for(lambda: sum(m["type"] == "joined" for m in guide.messages) == 2)
    await guide.send({"type": "tour_start", "tour": "highlights"})
    tour = await sven.expect("tour")
    assert tour["narration"] == {"sv": "En vas.", "en": "A vase."} and tour["follow"] is True
    eve_on_a = next(m["visitor"]["id"] for m in guide.messages
                    if m["type"] == "joined" and m["visitor"]["name"] == "Eve")
    await guide.send({"type": "mute", "visitor": eve_on_a})
    assert (await eve.expect("muted"))["muted"] is True
    await eve.send({"type": "reaction", "emoji": "😂"})
    assert (await eve.expect("error"))["code"] == "muted"
    await guide.send({"type": "kick", "visitor": eve_on_a})
    await eve.expect("kicked")
    with pytest.raises(ConnectionError):
        await eve.pump_until_closed()
    assert eve.ws.close_code == 4000
    left = await guide.expect("left")
    assert left["id"] == eve_on_a and left["reason"] == "kicked"


@pytest.mark.parametrize("capacity", [2])
async def test_capacity_counts_both_processes(nodes: tuple[Node, Node, str]) -> None:
    a, b, _ = nodes
    first = await a.join("One")
    second = await a.join("Two")
    third = await b.join("Three")
    assert first.welcome["room"] == second.welcome["room"] == EXHIBITION
    assert third.welcome["room"] == f"{EXHIBITION}-2"
    fourth = await a.join("Four")
    assert fourth.welcome["room"] == f"{EXHIBITION}-2"
    assert [v["name"] for v in fourth.welcome["visitors"]] == ["Three"]


async def test_rooms_and_feeds_survive_a_redis_restart(
    tmp_path: Path, aiohttp_client: Any, redis_binary: str, clock: FakeClock
) -> None:
    port = free_port()
    folder = tmp_path / "redis-dir"
    folder.mkdir()
    process = start_redis(redis_binary, folder, port)
    try:
        config = make_config(tmp_path / "app", capacity=50)
        config.redis_url = f"redis://127.0.0.1:{port}/0"
        node = Node(await aiohttp_client(create_app(config, watch_interval=0.2, clock=clock)))
        ann = await node.join("Ann")
        process.terminate()
        process.wait(timeout=10)
        await ann.send({"type": "ping"})
        await ann.expect("pong")  # the room goes on for this process's own visitors
        process = start_redis(redis_binary, folder, port)
        pubsub = node.http.server.app[appkeys.PUBSUB]
        message = b'{"type": "reading", "feed": "lamps", "reading": {"t": 9, "lamp": "back"}}'
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        reading = None
        while reading is None and loop.time() < deadline:  # until the subscriber reconnected
            await pubsub.publish("feed:lamps", message)
            with contextlib.suppress(TimeoutError):
                reading = await ann.expect("reading", timeout=0.5)
        assert reading is not None and reading["reading"]["lamp"] == "back"
    finally:
        process.terminate()
        process.wait(timeout=10)
