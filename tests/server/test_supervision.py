"""Every long-lived background task of the server survives a failure of its body: the failure
is logged with its traceback and the task works again. Each test makes one real task's body
fail once (a fault injected into what the body calls) and then watches it do its work."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from vrculture.server import appkeys, search, supervision
from vrculture.server.app import create_app
from vrculture.server.config import RoomSettings
from vrculture.server.pubsub import LocalPubSub
from vrculture.server.rooms import HUB, sync
from vrculture.server.rooms.client import RoomClient
from vrculture.server.rooms.room import Room
from vrculture.server.supervision import report_failure, start_supervised, supervise

from .test_rooms import EXHIBITION, make_config

WAIT = 10.0  # generous bound on waiting for state; passing tests never reach it


class FailOnce:
    """Wraps a callable: the first call raises `error`, later calls go through. `worked` is
    set once a call after the failure has returned."""

    def __init__(self, original: Any, error: Exception) -> None:
        self.original, self.error = original, error
        self.failed = False
        self.worked = asyncio.Event()

    def _next(self) -> None:
        if not self.failed:
            self.failed = True
            raise self.error

    def sync(self, *args: Any, **kwargs: Any) -> Any:
        self._next()
        result = self.original(*args, **kwargs)
        self.worked.set()
        return result

    async def coroutine(self, *args: Any, **kwargs: Any) -> Any:
        self._next()
        result = await self.original(*args, **kwargs)
        self.worked.set()
        return result


def failure_logged(caplog: pytest.LogCaptureFixture, task: str, error: str) -> bool:
    return any(
        record.name == "vrculture.server.supervision" and task in record.getMessage()
        and record.exc_info is not None and error in str(record.exc_info[1])
        for record in caplog.records
    )


# ----- the helper itself

async def test_a_failing_body_is_logged_and_restarted(caplog):
    runs: list[int] = []
    running = asyncio.Event()

    async def body() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise ValueError("first run breaks")
        running.set()
        await asyncio.Event().wait()

    task = start_supervised("demo", body, first_delay=0.01)
    await asyncio.wait_for(running.wait(), WAIT)
    assert len(runs) == 2 and not task.done()
    assert failure_logged(caplog, "demo", "first run breaks")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_body_that_returns_is_restarted_unless_it_is_a_job(caplog):
    runs: list[int] = []
    again = asyncio.Event()

    async def body() -> None:
        runs.append(1)
        if len(runs) == 2:
            again.set()
            await asyncio.Event().wait()

    task = start_supervised("loop", body, first_delay=0.01)
    await asyncio.wait_for(again.wait(), WAIT)
    assert "loop returned although it should run until shutdown" in caplog.text
    task.cancel()
    runs.clear()
    await asyncio.wait_for(supervise("job", body, forever=False), WAIT)  # done after one run
    assert runs == [1]


async def test_the_delay_doubles_while_the_body_keeps_failing(caplog):
    caplog.set_level(logging.ERROR)
    runs: list[int] = []

    async def body() -> None:
        runs.append(1)
        if len(runs) < 4:
            raise RuntimeError(f"run {len(runs)}")

    await asyncio.wait_for(supervise("flaky", body, forever=False, first_delay=0.01), WAIT)
    delays = [r.args[2] for r in caplog.records if r.name == "vrculture.server.supervision"]
    assert delays == [0.01, 0.02, 0.04]


async def test_one_shot_tasks_report_how_they_failed(caplog):
    async def boom() -> None:
        raise OSError("broker went away")

    task = asyncio.get_running_loop().create_task(boom(), name="publish-once")
    task.add_done_callback(report_failure)
    with pytest.raises(OSError):
        await task
    await asyncio.sleep(0)  # done callbacks run on the next loop iteration
    assert any(r.exc_info and "broker went away" in str(r.exc_info[1]) and
               "publish-once" in r.getMessage() for r in caplog.records)


# ----- the server's tasks

@pytest.fixture
def quick_restarts(monkeypatch):
    monkeypatch.setattr(supervision, "FIRST_DELAY", 0.01)
    # start_supervised's default was bound at import: pass the short delay through it.
    original = supervision.start_supervised

    def quick(name: str, body: Any, *, forever: bool = True, first_delay: float = 0.01) -> Any:
        return original(name, body, forever=forever, first_delay=first_delay)

    for module in ("vrculture.server.app", "vrculture.server.rooms.hub",
                   "vrculture.server.rooms.sync", "vrculture.server.search",
                   "vrculture.server.pubsub_redis"):
        monkeypatch.setattr(f"{module}.start_supervised", quick, raising=False)


async def test_rooms_flush_survives_a_failure(tmp_path, aiohttp_client, monkeypatch, caplog,
                                              quick_restarts, clock):
    # One tick per minute: only the flush task can deliver a message within the wait.
    config = make_config(tmp_path, tick_hz=1 / 60)
    client = await aiohttp_client(create_app(config, watch_interval=60, clock=clock))
    url = str(client.make_url(f"/ws/rooms/{EXHIBITION}"))
    ann = await RoomClient.connect(client.session, url, name="Ann")
    bob = await RoomClient.connect(client.session, url, name="Bob")
    fault = FailOnce(Room.flush, RuntimeError("injected flush fault"))

    async def flush(room: Room, *args: Any, **kwargs: Any) -> None:  # a method: gets the room
        await fault.coroutine(room, *args, **kwargs)

    monkeypatch.setattr(Room, "flush", flush)
    await ann.send({"type": "reaction", "emoji": "👍"})
    reaction = await bob.expect("reaction", timeout=WAIT)
    assert reaction["id"] == ann.id
    assert fault.failed and failure_logged(caplog, "rooms-flush", "injected flush fault")
    await ann.send({"type": "ping", "t": 1})  # and it keeps working
    assert (await ann.expect("pong", timeout=WAIT))["t"] == 1
    await ann.close()
    await bob.close()


async def test_rooms_tick_survives_a_failure(tmp_path, aiohttp_client, monkeypatch, caplog,
                                             quick_restarts, clock):
    client = await aiohttp_client(create_app(make_config(tmp_path), watch_interval=60,
                                             clock=clock))
    url = str(client.make_url(f"/ws/rooms/{EXHIBITION}"))
    ann = await RoomClient.connect(client.session, url, name="Ann")
    bob = await RoomClient.connect(client.session, url, name="Bob")
    hub = client.server.app[HUB]
    # The rooms' list itself fails once: the whole tick body, not one room's tick.
    fault = FailOnce(hub.rooms.values, RuntimeError("injected tick fault"))
    monkeypatch.setattr(hub, "rooms", _FaultyRooms(hub.rooms, fault))
    await asyncio.wait_for(fault.worked.wait(), WAIT)
    assert failure_logged(caplog, "rooms-tick", "injected tick fault")
    await ann.send_pose(((1.0, 1.6, 0.0), (0.0, 0.0, 0.0, 1.0)))
    await bob.wait_for(lambda: ann.id in bob.poses, timeout=WAIT)  # poses flow again
    await ann.close()
    await bob.close()


class _FaultyRooms(dict):
    """The hub's rooms, whose `values()` goes through a FailOnce."""

    def __init__(self, rooms: dict, fault: FailOnce) -> None:
        super().__init__(rooms)
        self._fault = fault

    def values(self):  # type: ignore[override]
        task = asyncio.current_task()
        if task is None or task.get_name() != "rooms-tick":  # the flush loop reads it too
            return super().values()
        self._fault.original = super().values
        return self._fault.sync()


async def test_rooms_heartbeat_survives_a_failure(monkeypatch, caplog, quick_restarts):
    monkeypatch.setattr(sync, "HEARTBEAT_SECONDS", 0.01)
    monkeypatch.setattr(sync, "SNAPSHOT_WAIT", 0.0)
    pubsub = LocalPubSub()
    rooms_sync = sync.RoomsSync(pubsub)
    room = Room(EXHIBITION, EXHIBITION, RoomSettings(), lambda: None)
    await rooms_sync.attach(room)
    link = rooms_sync.links[room]
    fault = FailOnce(link.prune, RuntimeError("injected heartbeat fault"))
    monkeypatch.setattr(link, "prune", fault.sync)
    beats = asyncio.Event()

    async def heard(channel: str, payload: bytes) -> None:
        if fault.worked.is_set() and b'"alive"' in payload:
            beats.set()

    await pubsub.subscribe(link.channel, heard)
    await rooms_sync.start()
    await asyncio.wait_for(beats.wait(), WAIT)
    assert failure_logged(caplog, "rooms-heartbeat", "injected heartbeat fault")
    await rooms_sync.stop()


async def test_registry_watch_survives_a_failure(config, aiohttp_client, monkeypatch, caplog,
                                                 quick_restarts, clock):
    client = await aiohttp_client(create_app(config, watch_interval=0.01, clock=clock))
    registry = client.server.app[appkeys.EXHIBITIONS]
    fault = FailOnce(registry.scan, OSError("injected scan fault"))
    monkeypatch.setattr(registry, "scan", fault.sync)
    await asyncio.wait_for(fault.worked.wait(), WAIT)
    assert failure_logged(caplog, "vrculture-watch", "injected scan fault")


async def test_search_index_rebuild_is_retried(config, aiohttp_client, monkeypatch, caplog,
                                               quick_restarts, clock):
    # builds an empty index: not the fault's
    app = create_app(config, watch_interval=60, clock=clock)
    fault = FailOnce(search.build_index, sqlite3.OperationalError("injected index fault"))
    monkeypatch.setattr(search, "build_index", fault.sync)
    client = await aiohttp_client(app)  # startup rebuilds it with the bundle: fails once
    await asyncio.wait_for(fault.worked.wait(), WAIT)
    response = await client.get("/api/search", params={"q": "meadows"})
    assert response.status == 200
    assert failure_logged(caplog, "search-index", "injected index fault")


@pytest.fixture
def redis_url(tmp_path: Path):
    binary = shutil.which("redis-server")
    if binary is None:  # `tools/test` installs it (tools/bootstrap --redis)
        pytest.skip("needs Debian's redis-server (tools/bootstrap --redis installs it)")
    from .test_rooms_redis import free_port, start_redis

    port = free_port()
    process = start_redis(binary, tmp_path, port)
    yield f"redis://127.0.0.1:{port}/0"
    process.kill()
    process.wait()


async def test_redis_reader_survives_a_failure(redis_url, monkeypatch, caplog, quick_restarts):
    from vrculture.server.pubsub_redis import RedisPubSub

    pubsub = RedisPubSub(redis_url)
    received: asyncio.Queue[bytes] = asyncio.Queue()

    async def on_message(channel: str, payload: bytes) -> None:
        await received.put(payload)

    fault = FailOnce(pubsub._pubsub.get_message, ValueError("injected reader fault"))
    monkeypatch.setattr(pubsub._pubsub, "get_message", fault.coroutine)
    await pubsub.subscribe("feed:demo", on_message)
    await asyncio.wait_for(fault.worked.wait(), WAIT)
    await pubsub.publish("feed:demo", b"after the fault")
    assert await asyncio.wait_for(received.get(), WAIT) == b"after the fault"
    assert failure_logged(caplog, "redis-pubsub-reader", "injected reader fault")
    await pubsub.close()
