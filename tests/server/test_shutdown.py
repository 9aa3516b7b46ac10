"""A clean stop: SIGTERM (what systemd sends on `systemctl stop` or a restart) closes every room's
WebSocket with 1001 "going away", so viewers reconnect instead of reporting an error, and the
process exits 0 (systemd's Restart=on-failure then leaves a deliberate stop alone)."""

from __future__ import annotations

import signal
import subprocess

import aiohttp
import pytest

from .test_restart import ROOT, SERVE_AT_FIXED_NOW, _free_port, _wait_healthy

GOING_AWAY = 1001


@pytest.mark.slow
async def test_sigterm_closes_rooms_with_going_away_and_exits_cleanly(bundle, tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*SERVE_AT_FIXED_NOW, str(bundle), "--data", str(tmp_path / "d"), "--port", str(port),
         "--log-level", "warning"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        await _wait_healthy(base, server)
        async with aiohttp.ClientSession() as session, session.ws_connect(
                f"{base}/ws/rooms/demo") as ws:
            await ws.send_json({"type": "hello", "v": 1, "name": "Ann", "color": "#ff8800",
                                "lang": "sv"})
            assert (await ws.receive_json(timeout=10))["type"] == "welcome"
            server.send_signal(signal.SIGTERM)
            while True:  # room updates may still arrive before the close frame
                message = await ws.receive(timeout=15)
                if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    break
            assert message.type == aiohttp.WSMsgType.CLOSE, message
            assert message.data == GOING_AWAY
        assert server.wait(timeout=15) == 0, server.stderr.read().decode()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
