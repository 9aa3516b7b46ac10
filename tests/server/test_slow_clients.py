"""Slowloris: thousands of half-sent requests from one client address neither exhaust the
server's descriptors nor keep a normal visitor waiting; repeated log lines are rate-limited.

Slow clients connect from 127.0.0.2 (Linux routes all of 127/8 to loopback), normal visitors
from 127.0.0.1, so that the per-address limit can tell them apart as it would on a network."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from fixed_clock import FakeClock

from vrculture.server.app import create_app
from vrculture.server.config import ServerConfig
from vrculture.server.connections import (
    ConnectionLimits,
    GuardedAppRunner,
    RepeatFilter,
    default_limits,
    open_file_limit,
)
from vrculture.server.settings import ConfigError, load_config

SLOW_CLIENT = "127.0.0.2"
HALF_REQUEST = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: "


class Running:
    def __init__(self, runner: GuardedAppRunner, port: int) -> None:
        self.runner, self.port = runner, port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def _start(config: ServerConfig, limits: ConnectionLimits) -> Running:
    runner = GuardedAppRunner(create_app(config, watch_interval=3600, clock=FakeClock()), limits,
                              access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    return Running(runner, site.port)


async def _open_slow(port: int, count: int, source: str = SLOW_CLIENT
                     ) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """`count` connections that send half a request head and then nothing."""
    opened: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def one() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        writer.write(HALF_REQUEST)
        opened.append((reader, writer))

    for start in range(0, count, 100):  # in batches: the listen backlog is finite
        await asyncio.gather(*(one() for _ in range(start, min(count, start + 100))))
    return opened


async def _outcome(reader: asyncio.StreamReader) -> str:
    """'refused' (a 503, then closed) or 'timed out' (closed without a reply)."""
    data = await reader.read(64)
    if data.startswith(b"HTTP/1.1 503"):
        return "refused"
    assert data == b"", data
    return "timed out"


async def _close(connections) -> None:
    for _, writer in connections:
        writer.close()


async def _get_within_one_second(url: str) -> int:
    async with aiohttp.ClientSession() as session:
        response = await asyncio.wait_for(session.get(url + "/healthz"), timeout=1.0)
        async with response:
            await response.read()
            return response.status


@pytest.fixture
def slow_config(config: ServerConfig) -> ServerConfig:
    config.header_timeout = 30.0  # nothing times out while the test opens its connections
    return config


async def test_slow_connections_are_capped_per_client(slow_config: ServerConfig):
    server = await _start(slow_config, ConnectionLimits(max_total=400, max_per_client=50))
    slow = await _open_slow(server.port, 2000)
    try:
        assert server.runner.guard.per_client == {SLOW_CLIENT: 50}
        # A visitor from another address is served at once while the slow ones are held.
        assert await _get_within_one_second(server.url) == 200
        outcomes = [asyncio.ensure_future(_outcome(reader)) for reader, _ in slow]

        async def all_refusals_read() -> None:
            while sum(task.done() for task in outcomes) < 1950:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(all_refusals_read(), timeout=30)
        assert {task.result() for task in outcomes if task.done()} == {"refused"}
        assert server.runner.guard.refused == 1950
        assert server.runner.guard.per_client == {SLOW_CLIENT: 50}  # still held, unanswered
        for task in outcomes:
            task.cancel()
    finally:
        await _close(slow)
        await server.runner.cleanup()


async def test_half_sent_requests_are_closed_after_the_header_timeout(config: ServerConfig):
    config.header_timeout = 1.0
    server = await _start(config, ConnectionLimits(max_total=400, max_per_client=50))
    slow = await _open_slow(server.port, 20)
    try:
        outcomes = await asyncio.wait_for(
            asyncio.gather(*(_outcome(reader) for reader, _ in slow)), timeout=30)
        assert outcomes == ["timed out"] * 20  # closed without a reply, not held for minutes
        assert server.runner.guard.total == 0 and server.runner.guard.per_client == {}
    finally:
        await _close(slow)
        await server.runner.cleanup()


async def test_the_total_cap_refuses_with_503_instead_of_running_out_of_files(
        slow_config: ServerConfig):
    server = await _start(slow_config, ConnectionLimits(max_total=60, max_per_client=40))
    slow = await _open_slow(server.port, 40) + await _open_slow(server.port, 40, "127.0.0.3")
    try:
        # 80 wanted, 60 admitted: the next visitor is told to come back, promptly.
        assert server.runner.guard.total == 60
        assert await _get_within_one_second(server.url) == 503
    finally:
        await _close(slow)
        await server.runner.cleanup()


@pytest.mark.skipif(open_file_limit() < 12_000, reason="needs an open-file limit of 12,000")
async def test_realistic_limits_keep_the_server_answering(slow_config: ServerConfig):
    limits = default_limits()  # from the real open-file limit, as `vrculture serve` does
    assert limits.max_total < open_file_limit() and limits.max_per_client < limits.max_total
    count = limits.max_per_client + 2000
    server = await _start(slow_config, limits)
    slow = await _open_slow(server.port, count)
    try:
        assert server.runner.guard.per_client[SLOW_CLIENT] == limits.max_per_client
        assert server.runner.guard.refused == 2000
        for _ in range(3):  # each request on its own is answered within a second
            assert await _get_within_one_second(server.url) == 200
    finally:
        await _close(slow)
        await server.runner.cleanup()


def test_repeated_log_lines_are_rate_limited():
    now = [0.0]
    repeat = RepeatFilter(interval=10.0, burst=3, clock=lambda: now[0])

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, message, None, None)

    flood = [repeat.filter(record("socket.accept() out of system resource\nsocket: fd=7"))
             for _ in range(1000)]
    assert flood.count(True) == 3
    assert repeat.filter(record("another message"))  # other lines are not affected
    now[0] = 10.0
    after = record("socket.accept() out of system resource\nsocket: fd=7")
    assert repeat.filter(after) and "997 similar lines suppressed" in after.getMessage()


def test_limits_are_configurable(tmp_path: Path):
    config = load_config(environ={"VRCULTURE_HEADER_TIMEOUT": "5",
                                  "VRCULTURE_MAX_CONNECTIONS": "900",
                                  "VRCULTURE_MAX_CONNECTIONS_PER_CLIENT": "30"})
    assert (config.header_timeout, config.max_connections,
            config.max_connections_per_client) == (5.0, 900, 30)
    limits = default_limits(900, 30, fd_limit=20_000)
    assert (limits.max_total, limits.max_per_client) == (900, 30)
    assert default_limits(fd_limit=1024) == ConnectionLimits(max_total=819, max_per_client=51)
    assert default_limits(50_000, fd_limit=1024).max_total == 1024 - 64  # never the whole limit
    for bad in ({"VRCULTURE_HEADER_TIMEOUT": "0"}, {"VRCULTURE_MAX_CONNECTIONS": "-3"},
                {"VRCULTURE_MAX_CONNECTIONS_PER_CLIENT": "lots"}):
        with pytest.raises(ConfigError):
            load_config(environ=bad)


async def test_files_and_websockets_pass_through_the_guard(config: ServerConfig, bundle: Path):
    server = await _start(config, ConnectionLimits(max_total=20, max_per_client=10))
    try:
        manifest = json.loads((bundle / "exhibition.json").read_text(encoding="utf-8"))
        level = max((lv for o in manifest["objects"] for lv in o["levels"]),
                    key=lambda lv: lv["bytes"])
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{server.url}/bundles/demo/{level['url']}") as response:
                assert response.status == 200  # a large file: sent with the kernel's sendfile
                assert await response.read() == (bundle / level["url"]).read_bytes()
            async with session.ws_connect(f"{server.url}/ws/rooms/demo") as ws:
                await ws.send_json({"type": "hello", "v": 1, "name": "A", "color": "#112233",
                                    "lang": "en"})
                welcome = await ws.receive_json(timeout=5)
                assert welcome["type"] == "welcome"
                assert server.runner.guard.total >= 1
    finally:
        await server.runner.cleanup()
    assert server.runner.guard.total == 0
