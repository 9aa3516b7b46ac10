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

from vrculture.server.config import ServerConfig
from vrculture.server.store_choice import server_store

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(bundle: Path, data: Path, port: int, database: str | None) -> subprocess.Popen:
    # The DSN travels in the environment, not argv: argv is visible to every user (ps).
    env = {**os.environ, **({"VRCULTURE_DATABASE": database} if database else {})}
    return subprocess.Popen(
        [sys.executable, "-m", "vrculture", "serve", str(bundle), "--data", str(data),
         "--port", str(port), "--log-level", "warning"],
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


@pytest.mark.slow
async def test_acknowledged_readings_survive_sigkill(bundle, tmp_path, backend):
    data = tmp_path / "data"
    store = server_store(ServerConfig(data_dir=data, database=backend))
    await store.open()
    token = await store.add_feed("street-lights")
    await store.close()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start(bundle, data, port, backend)
    acknowledged: list[float] = []
    start = time.time() - 3600
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
