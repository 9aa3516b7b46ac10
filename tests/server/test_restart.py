"""Durability: readings acknowledged before a SIGKILL are all there after a restart, on SQLite
and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest
from fixed_clock import FIXED_NOW, FakeClock

from vrculture.server.config import ServerConfig
from vrculture.server.store_choice import server_store

ROOT = Path(__file__).resolve().parents[2]
# `vrculture serve` with its clock at FIXED_NOW: the readings' times never meet the wall clock.
SERVE_AT_FIXED_NOW = [sys.executable, str(ROOT / "tests" / "serve_at.py")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(bundle: Path, data: Path, port: int, database: str | None) -> subprocess.Popen:
    # The DSN travels in the environment, not argv: argv is visible to every user (ps).
    env = {**os.environ, **({"VRCULTURE_DATABASE": database} if database else {})}
    return subprocess.Popen(
        [*SERVE_AT_FIXED_NOW, str(bundle), "--data", str(data), "--port", str(port),
         "--log-level", "warning"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )


async def _wait_healthy(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read().decode()
            try:
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("server did not come up")


async def _new_feed(data, backend) -> str:
    """A street-lights feed in the data folder the server will open; its token."""
    store = server_store(ServerConfig(data_dir=data, database=backend), clock=FakeClock())
    await store.open()
    try:
        return await store.add_feed("street-lights")
    finally:
        await store.close()


@pytest.mark.slow
async def test_acknowledged_readings_survive_sigkill(bundle, tmp_path, backend):
    data = tmp_path / "data"
    token = await _new_feed(data, backend)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start(bundle, data, port, backend)
    acknowledged: list[float] = []
    start = FIXED_NOW - 3600  # an hour before the server's clock
    try:
        await _wait_healthy(base, server)
        headers = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession(headers=headers) as session:

            async def writer(lane: int) -> None:
                for i in range(10_000):
                    t = round(start + lane * 0.001 + i * 0.01, 3)
                    body = {"t": t, "lamp": f"L{lane}", "presence": True, "level": 50,
                            "power_w": 10}
                    try:
                        async with session.post(f"{base}/api/feeds/street-lights/readings",
                                                json=body) as response:
                            if response.status == 201:
                                acknowledged.append(t)
                    except (aiohttp.ClientError, ConnectionError):
                        return

            async def killer() -> None:
                while len(acknowledged) < 150:
                    await asyncio.sleep(0.01)
                os.kill(server.pid, signal.SIGKILL)  # mid-stream, requests in flight

            await asyncio.gather(killer(), *(writer(lane) for lane in range(4)))
        server.wait(timeout=10)
        assert server.returncode == -signal.SIGKILL
        server = _start(bundle, data, port, backend)
        await _wait_healthy(base, server)
        async with aiohttp.ClientSession() as session:
            stored: set[float] = set()
            since = 0.0
            while True:
                async with session.get(f"{base}/api/feeds/street-lights/readings",
                                       params={"since": str(since), "limit": "1000"}) as r:
                    page = (await r.json())["readings"]
                if not page:
                    break
                for reading in page:
                    stored.add(round(datetime.fromisoformat(reading["t"]).timestamp(), 3))
                since = max(stored)
        missing = set(acknowledged) - stored
        assert len(acknowledged) >= 150
        assert not missing, f"{len(missing)} acknowledged readings lost"
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=10)


async def test_the_launcher_serves_with_the_fixed_clock(bundle, tmp_path):
    """tests/serve_at.py: the server process judges readings by FIXED_NOW, not the machine's
    clock (an hour after FIXED_NOW is in the future for it, whatever the date today)."""
    data = tmp_path / "data"
    token = await _new_feed(data, None)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start(bundle, data, port, None)
    try:
        await _wait_healthy(base, server)
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as s:
            for t, status in ((FIXED_NOW + 3600, 422), (FIXED_NOW - 1, 201)):
                body = {"t": t, "lamp": "L1", "presence": True, "level": 50, "power_w": 10}
                async with s.post(f"{base}/api/feeds/street-lights/readings", json=body) as r:
                    assert r.status == status, await r.text()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
