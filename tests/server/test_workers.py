"""`vrculture serve --workers 2 --redis-url ...`: processes share the port, the data and the
live readings (a reading posted to one worker reaches the rooms of the other)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time

import aiohttp
import pytest
from fixed_clock import FIXED_NOW, FakeClock

from vrculture.cli import main
from vrculture.server.storage import Store

from .test_restart import ROOT, SERVE_AT_FIXED_NOW, _free_port, _wait_healthy
from .test_rooms_redis import REDIS_MISSING, start_redis

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason=REDIS_MISSING)


@pytest.fixture
def redis_url(tmp_path):
    port = _free_port()
    server = start_redis("redis-server", tmp_path, port)  # waits until it answers ping
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(timeout=10)


def test_workers_need_redis(bundle, tmp_path, capsys):
    assert main(["serve", str(bundle), "--data", str(tmp_path), "--workers", "2"]) == 2
    assert "--redis-url" in capsys.readouterr().err


@pytest.mark.slow
async def test_two_workers_share_port_data_and_live_readings(bundle, tmp_path, redis_url):
    data = tmp_path / "data"
    store = Store.open(data, clock=FakeClock())
    token = store.add_feed("street-lights")
    curator = store.create_curator_token()
    store.close()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*SERVE_AT_FIXED_NOW, str(bundle), "--data", str(data),
         "--port", str(port), "--workers", "2", "--redis-url", redis_url,
         "--log-level", "warning"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        await _wait_healthy(base, server)
        processes = set()
        deadline = time.monotonic() + 20
        while len(processes) < 2 and time.monotonic() < deadline:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) \
                    as session, session.get(f"{base}/api/admin/health", headers={
                        "Authorization": f"Bearer {curator}"}) as response:
                processes.add((await response.json())["process"])
        assert len(processes) == 2, "connections never reached a second worker"

        # A visitor in a room on whichever worker gets each reading posted to any worker.
        async with aiohttp.ClientSession() as visitor, visitor.ws_connect(
                f"{base}/ws/rooms/demo") as ws:
            await ws.send_json({"type": "hello", "v": 1, "name": "Ann", "color": "#ff8800",
                                 "lang": "sv"})
            welcome = await ws.receive_json(timeout=5)
            assert welcome["type"] == "welcome"  # joined: the room now listens to its feeds
            now = FIXED_NOW  # both workers' clocks start there
            async with aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(force_close=True),
                    headers={"Authorization": f"Bearer {token}"}) as sensor:
                for i in range(6):  # fresh connections: both workers take some
                    body = {"t": now - 10 + i, "lamp": "L1", "presence": True, "level": i,
                            "power_w": 1}
                    async with sensor.post(f"{base}/api/feeds/street-lights/readings",
                                           json=body) as response:
                        assert response.status == 201
            levels = set()
            deadline = time.monotonic() + 10
            while len(levels) < 6 and time.monotonic() < deadline:
                try:
                    message = await ws.receive(timeout=1)
                except TimeoutError:
                    continue
                if message.type == aiohttp.WSMsgType.TEXT:
                    payload = message.json()
                    if payload.get("type") == "reading":
                        levels.add(payload["reading"]["level"])
            assert levels == set(range(6))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)
    assert server.returncode == 0, server.stderr.read().decode()
