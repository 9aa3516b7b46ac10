"""tools/demo: it never calls another program's port its demo."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class _Squatter(BaseHTTPRequestHandler):
    """Another web server already on the port: it answers everything with 200."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (the http.server name)
        self.seen.append(self.path)
        self.send_response(200)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def checkout(tmp_path: Path, built_demo: Path) -> Path:
    """A checkout for tools/demo whose conversion cache already holds the demo's objects, as
    after a first `tools/demo`: its build then only assembles the bundle. Converting is what
    the build tests check (tests/exhibition/test_build_demo.py, on the same cache's build);
    here it took about half of each test's time."""
    root = _checkout(tmp_path / "checkout")
    shutil.copytree(built_demo.parent / ".vrculture-cache", root / "build" / ".vrculture-cache")
    return root


def _checkout(root: Path) -> Path:
    """tools/demo in a checkout whose .venv runs this interpreter's vrculture (already
    installed: installing is not what this checks, so bootstrap has nothing to do)."""
    (root / "tools").mkdir(parents=True)
    shutil.copy2(ROOT / "tools" / "demo", root / "tools" / "demo")
    bootstrap = root / "tools" / "bootstrap"
    bootstrap.write_text("#!/bin/sh\nexit 0\n")
    bootstrap.chmod(0o755)
    (root / ".venv" / "bin").mkdir(parents=True)
    command = root / ".venv" / "bin" / "vrculture"
    command.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m vrculture "$@"\n')
    command.chmod(0o755)
    python = root / ".venv" / "bin" / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    (root / "assets").mkdir()
    (root / "assets" / "demo").symlink_to(ROOT / "assets" / "demo")
    return root


def test_demo_stops_with_the_servers_message_when_its_port_is_taken(checkout):
    squatter = ThreadingHTTPServer(("127.0.0.1", 0), _Squatter)
    port = squatter.server_address[1]
    thread = threading.Thread(target=squatter.serve_forever, daemon=True)
    thread.start()
    try:
        done = subprocess.run([str(checkout / "tools" / "demo")], capture_output=True, text=True,
                              timeout=600, env={"PATH": "/usr/bin:/bin", "PORT": str(port)})
    finally:
        squatter.shutdown()
        squatter.server_close()
    assert done.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "the demo exhibition is at" not in done.stderr
    assert _Squatter.seen == []  # neither the health check nor the simulator went there


MOSQUITTO = "/usr/sbin/mosquitto"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(predicate, what: str, process: subprocess.Popen, timeout: float = 600.0):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert process.poll() is None, f"tools/demo stopped before {what}"
        assert time.monotonic() < deadline, f"no {what} in time"
        time.sleep(0.2)
    return result


def _json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


@pytest.mark.skipif(not os.access(MOSQUITTO, os.X_OK), reason="needs Debian's mosquitto")
def test_demo_sends_the_sensors_through_a_local_mosquitto(tmp_path, checkout):
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    port = _free_port()
    errors = tmp_path / "demo.err"
    with errors.open("w") as stderr:
        demo = subprocess.Popen([str(checkout / "tools" / "demo")], stdout=subprocess.DEVNULL,
                                stderr=stderr, start_new_session=True,
                                env={"PATH": "/usr/bin:/bin", "PORT": str(port),
                                     "SPEED": "3600"})
    seen: set[str] = set()
    listener = mqtt.Client(CallbackAPIVersion.VERSION2)
    listener.on_message = lambda _c, _u, message: seen.add(message.topic.split("/")[3])
    try:
        broker_port = int(_wait_for(lambda: re.search(
            r"sensors publish through mosquitto on 127\.0\.0\.1:(\d+)", errors.read_text()),
            "broker", demo).group(1))
        listener.connect("127.0.0.1", broker_port)
        listener.subscribe("application/vrculture-demo/device/+/event/up", qos=1)
        listener.loop_start()
        _wait_for(lambda: "the demo exhibition is at" in errors.read_text(), "server", demo)
        base = f"http://127.0.0.1:{port}"
        feeds = {feed for summary in _json(f"{base}/api/exhibitions")
                 for feed in _json(f"{base}/api/exhibitions/{summary['id']}").get("feeds", {})}
        assert feeds
        for feed in sorted(feeds):
            _wait_for(lambda feed=feed: _json(f"{base}/api/feeds/{feed}/readings")["readings"],
                      f"readings of {feed}", demo, timeout=120)
        # They came as uplinks through the demo's broker, one topic per feed.
        _wait_for(lambda: feeds <= seen, "an uplink of every feed", demo, timeout=60)
    finally:
        listener.loop_stop()
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=30)
    broker_config = (checkout / "build" / "data" / "mosquitto" / "mosquitto.conf").read_text()
    assert f"listener {broker_port} 127.0.0.1" in broker_config  # loopback only


def test_demo_posts_the_sensors_over_http_without_mosquitto(tmp_path):
    # A newcomer's first run, conversion included: the README's main command, whole.
    checkout = _checkout(tmp_path / "checkout")
    port = _free_port()
    errors = tmp_path / "demo.err"
    with errors.open("w") as stderr:
        demo = subprocess.Popen([str(checkout / "tools" / "demo")], stdout=subprocess.DEVNULL,
                                stderr=stderr, start_new_session=True,
                                env={"PATH": "/usr/bin:/bin", "PORT": str(port), "SPEED": "3600",
                                     "MOSQUITTO": str(tmp_path / "no-mosquitto")})
    try:
        _wait_for(lambda: "the demo exhibition is at" in errors.read_text(), "server", demo)
        base = f"http://127.0.0.1:{port}"
        feeds = {feed for summary in _json(f"{base}/api/exhibitions")
                 for feed in _json(f"{base}/api/exhibitions/{summary['id']}").get("feeds", {})}
        assert feeds
        for feed in sorted(feeds):
            _wait_for(lambda feed=feed: _json(f"{base}/api/feeds/{feed}/readings")["readings"],
                      f"readings of {feed}", demo, timeout=120)
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=30)
    assert "mosquitto" not in errors.read_text()
    assert not (checkout / "build" / "data" / "mosquitto").exists()
