"""The MQTT bridge against a real Mosquitto broker (Debian's package), started here on free ports
with a password listener (mqtt://) and a client-certificate listener (mqtts://)."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fixed_clock import FakeClock
from paho.mqtt.enums import CallbackAPIVersion

from vrculture.server.app import create_app
from vrculture.server.mqtt_bridge import MQTT_BRIDGE
from vrculture.server.mqtt_settings import MqttFeed, MqttSettings
from vrculture.server.rooms.client import RoomClient
from vrculture.server.storage import DB_NAME, Store

from .serve_process import SERVE_AT_FIXED_NOW
from .test_rooms import EXHIBITION, make_config

MOSQUITTO = "/usr/sbin/mosquitto"
MOSQUITTO_MISSING = "needs Debian's mosquitto (tools/bootstrap --mqtt installs it)"
NOW = 1_790_000_000.0  # the server's injected clock (2026-09-21); readings are a little older
USER, PASSWORD = "museum", "correct horse battery staple"

pytestmark = pytest.mark.skipif(not os.access(MOSQUITTO, os.X_OK), reason=MOSQUITTO_MISSING)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name | None,
          issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool = False) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    # OpenSSL (mosquitto's and the bridge's) checks validity against the machine's clock,
    # which a test cannot inject: valid from before any clock the tests use until RFC 5280's
    # "no expiry" 9999-12-31, so the handshakes pass in any year (ten years from 2024 failed
    # them from 2033-12-29 on).
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    end = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if subject == "localhost":
        builder = builder.add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write_pem(folder: Path, stem: str, cert: x509.Certificate,
               key: ec.EllipticCurvePrivateKey) -> None:
    (folder / f"{stem}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / f"{stem}.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))


def make_tls(folder: Path) -> None:
    """A CA, the broker's certificate (localhost, 127.0.0.1) and the museum's client one."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("vrculture test CA", ca_key, None, ca_key, ca=True)
    _write_pem(folder, "ca", ca, ca_key)
    for stem, subject in (("server", "localhost"), ("client", "museum-bridge")):
        key = ec.generate_private_key(ec.SECP256R1())
        _write_pem(folder, stem, _cert(subject, key, ca.subject, ca_key), key)


@dataclass
class Broker:
    folder: Path
    port: int
    tls_port: int
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.folder / "mosquitto.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        for port in (self.port, self.tls_port):
            while True:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    pytest.fail("mosquitto did not start")
                time.sleep(0.05)

    def stop(self) -> None:
        """A clean stop: Mosquitto writes its persistent sessions and queued messages."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def settings(self, feeds: list[MqttFeed], *, tls: bool = False, **extra: Any) -> MqttSettings:
        if tls:
            return MqttSettings(url=f"mqtts://localhost:{self.tls_port}", host="localhost",
                                port=self.tls_port, tls=True, client_id="museum-tls",
                                ca_file=self.folder / "ca.pem",
                                cert_file=self.folder / "client.pem",
                                key_file=self.folder / "client.key", feeds=feeds, **extra)
        return MqttSettings(url=f"mqtt://127.0.0.1:{self.port}", host="127.0.0.1",
                            port=self.port, tls=False, client_id="museum", username=USER,
                            password=PASSWORD, feeds=feeds, **extra)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    folder = tmp_path / "broker"
    folder.mkdir()
    make_tls(folder)
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(folder / "passwd"), USER, PASSWORD],
                   check=True, capture_output=True)
    broker = Broker(folder, free_port(), free_port())
    (folder / "mosquitto.conf").write_text(f"""\
user root
per_listener_settings true
persistence true
persistence_location {folder}/
log_dest stderr
listener {broker.port} 127.0.0.1
allow_anonymous false
password_file {folder}/passwd
listener {broker.tls_port} 127.0.0.1
cafile {folder}/ca.pem
certfile {folder}/server.pem
keyfile {folder}/server.key
require_certificate true
use_identity_as_username true
""")
    broker.start()
    yield broker
    broker.stop()


class Publisher:
    """A city platform's side: publishes uplinks with QoS 1 and waits for the broker's PUBACK."""

    def __init__(self, broker: Broker) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="city-platform")
        self.client.username_pw_set(USER, PASSWORD)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def publish(self, topic: str, payload: Any, qos: int = 1) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.client.publish(topic, data, qos=qos).wait_for_publish(timeout=10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat().replace(
        "+00:00", "Z")


def chirpstack_uplink(t: float, lamp: str, level: float) -> dict[str, Any]:
    return {"deduplicationId": "3f8d2c41-5bd0-4c5e-9a4e-1c2b3d4e5f60", "time": iso(t),
            "deviceInfo": {"tenantName": "City", "applicationName": "street-lights",
                           "deviceName": lamp, "devEui": "0018b20000000a1c"},
            "devAddr": "00d4f1a2", "fCnt": 17, "fPort": 2, "data": "AVAAGA==",
            "object": {"presence": True, "level": level, "power_w": 24.5},
            "rxInfo": [{"gatewayId": "0016c001ff10a23f", "rssi": -87, "snr": 7.5}]}


def tts_uplink(t: float, bin_id: str, fill: float) -> dict[str, Any]:
    return {"end_device_ids": {"device_id": bin_id, "application_ids": {"application_id": "bins"},
                               "dev_eui": "70B3D57ED005A1B2"},
            "received_at": iso(t + 0.5),
            "uplink_message": {"f_port": 1, "frm_payload": "UAEA",
                               "decoded_payload": {"bin": bin_id, "fill_pct": fill,
                                                   "compactions": 3, "emptied": False},
                               "received_at": f"{iso(t)[:-1]}.123456789Z"}}  # TTS: ns


async def until(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


LAMPS = MqttFeed("lamps", "application/+/device/+/event/up", "chirpstack",
                 {"lamp": "deviceInfo.deviceName"})
BINS = MqttFeed("bins", "v3/bins@city/devices/+/up", "tts")
TEMPERATURE = MqttFeed("temperature", "city/weather/#", "json",
                       {"t": "ts", "value": "sensors.0.celsius", "unit": "sensors.0.unit"})


async def start_server(tmp_path: Path, aiohttp_client: Any, settings: MqttSettings) -> Any:
    config = make_config(tmp_path)
    config.mqtt = settings
    store = Store.open(config.data_dir, clock=FakeClock(NOW))
    store.add_feed("lamps", kind="street-lighting", exhibition=EXHIBITION)
    store.add_feed("bins", kind="smart-bin")
    store.add_feed("temperature", kind="gauge", unit="°C", minimum=-40, maximum=50)
    store.close()
    client = await aiohttp_client(create_app(config, watch_interval=0.2, clock=lambda: NOW))
    await asyncio.wait_for(client.app[MQTT_BRIDGE].subscribed.wait(), 15)
    return client


async def history(client: Any, feed: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/feeds/{feed}/readings?limit=1000")
    assert response.status == 200, await response.text()
    return (await response.json())["readings"]


@pytest.mark.parametrize("tls", [False, True], ids=["password", "client-certificate"])
async def test_each_format_reaches_the_history_and_a_room(
    tmp_path: Path, aiohttp_client: Any, broker: Broker, tls: bool
) -> None:
    client = await start_server(tmp_path, aiohttp_client,
                                broker.settings([LAMPS, BINS, TEMPERATURE], tls=tls))
    url = str(client.make_url(f"/ws/rooms/{EXHIBITION}"))
    visitor = await RoomClient.connect(client.session, url, name="Ann")
    publisher = Publisher(broker)
    try:
        publisher.publish("application/7/device/0018b20000000a1c/event/up",
                          chirpstack_uplink(NOW - 60, "lamp-12", 80))
        live = await visitor.expect("reading", timeout=15)
        assert live["feed"] == "lamps"
        assert live["reading"]["lamp"] == "lamp-12" and live["reading"]["level"] == 80
        publisher.publish("v3/bins@city/devices/bin-4/up", tts_uplink(NOW - 30, "bin-4", 62.5))
        publisher.publish("city/weather/harbour", {"ts": NOW - 10, "station": "harbour",
                                                   "sensors": [{"celsius": 7.25, "unit": "°C"}]})
        await until(lambda: client.app[MQTT_BRIDGE].stats["temperature"]["stored"] == 1)
        lamps = await history(client, "lamps")
        assert [r["lamp"] for r in lamps] == ["lamp-12"]
        assert lamps[0]["t"] == iso(NOW - 60).replace("Z", ".000Z")
        bins = await history(client, "bins")
        assert bins[0]["fill_pct"] == 62.5
        assert bins[0]["t"] == f"{iso(NOW - 30)[:-1]}.123Z"  # uplink_message.received_at
        assert (await history(client, "temperature"))[0]["value"] == 7.25
        # The same uplink again (a redelivery): idempotent.
        publisher.publish("application/7/device/0018b20000000a1c/event/up",
                          chirpstack_uplink(NOW - 60, "lamp-12", 80))
        await until(lambda: client.app[MQTT_BRIDGE].stats["lamps"]["duplicates"] == 1)
        assert len(await history(client, "lamps")) == 1
    finally:
        publisher.close()
        await visitor.close()


async def test_bad_messages_are_counted_logged_once_and_never_stop_the_bridge(
    tmp_path: Path, aiohttp_client: Any, broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    flood = MqttFeed("temperature", "city/weather/#", "json",
                     {"t": "ts", "value": "celsius"}, max_per_second=1, burst=5)
    client = await start_server(tmp_path, aiohttp_client,
                                broker.settings([LAMPS, BINS, flood], max_payload_bytes=4096))
    stats = client.app[MQTT_BRIDGE].stats
    store = Store.open(tmp_path / "data", clock=FakeClock(NOW))
    curator = store.create_curator_token()
    store.close()
    publisher = Publisher(broker)
    caplog.set_level(logging.WARNING, logger="vrculture.server.mqtt_bridge")
    topic = "application/7/device/0018b20000000a1c/event/up"
    try:
        publisher.publish(topic, b"{not json")
        publisher.publish(topic, chirpstack_uplink(NOW - 60, "lamp-1", "bright"))  # wrong type
        no_object = chirpstack_uplink(NOW - 59, "lamp-1", 80)
        del no_object["object"]  # no codec on the device profile
        publisher.publish(topic, no_object)
        # Huge: beyond the packet size the bridge announced, the broker drops it unsent.
        publisher.publish(topic, b"[" * 100_000)
        # Over max_payload_bytes yet within that packet size: the bridge refuses it.
        padded = json.dumps({**chirpstack_uplink(NOW - 58, "lamp-1", 80), "pad": "x" * 3900})
        assert 4096 < len(padded) < 4096 + 512
        publisher.publish(topic, padded.encode())
        publisher.publish("v3/bins@city/devices/bin-4/up",
                          {"uplink_message": {"decoded_payload": {"bin": "bin-4"}}})
        for n in range(40):  # a flood from one topic: 5 at once, then 1 per second (frozen)
            publisher.publish("city/weather/harbour", {"ts": NOW - 100 + n, "celsius": 5})
        publisher.publish(topic, chirpstack_uplink(NOW - 1, "lamp-1", 80))
        await until(lambda: stats["lamps"]["stored"] == 1)
        await until(lambda: sum(stats["temperature"].values()) == 40)
        assert stats["lamps"] == {"unreadable": 3, "too_large": 1, "stored": 1}
        assert stats["bins"] == {"unreadable": 1}
        assert stats["temperature"] == {"stored": 5, "limited": 35}
        assert len(await history(client, "temperature")) == 5
        health = await client.get("/api/admin/health",
                                  headers={"Authorization": f"Bearer {curator}"})
        report = (await health.json())["mqtt"]
        assert report["connected"] is True and report["sessions"] == 1
        assert report["feeds"]["temperature"] == {"stored": 5, "duplicates": 0, "unreadable": 0,
                                                  "too_large": 0, "limited": 35}
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 3, warnings  # once per feed
        assert not any("lamp-1" in w or "bright" in w for w in warnings)  # no payload in logs
    finally:
        publisher.close()



async def test_a_reading_that_cannot_be_stored_is_not_acknowledged_and_comes_again(
    tmp_path: Path, aiohttp_client: Any, broker: Broker
) -> None:
    client = await start_server(tmp_path, aiohttp_client, broker.settings([LAMPS]))
    bridge = client.app[MQTT_BRIDGE]
    blocker = sqlite3.connect(tmp_path / "data" / DB_NAME, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the database past its timeout
    publisher = Publisher(broker)
    try:
        publisher.publish("application/7/device/0018b20000000a1c/event/up",
                          chirpstack_uplink(NOW - 60, "lamp-3", 80))
        await until(lambda: bridge.sessions >= 2, timeout=40)  # the store failed: reconnected
        # (read through the blocker: the server's store thread is waiting on the lock again)
        assert blocker.execute("SELECT count(*) FROM readings").fetchone() == (0,)
        blocker.execute("ROLLBACK")
        await until(lambda: bridge.stats["lamps"]["stored"] == 1, timeout=40)  # redelivered
        assert [r["lamp"] for r in await history(client, "lamps")] == ["lamp-3"]
    finally:
        blocker.close()
        publisher.close()


# ----- kill and restart the broker and the server mid-stream


def serve(tmp_path: Path, broker: Broker, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [*SERVE_AT_FIXED_NOW, "--config", str(tmp_path / "vr.toml"),
         "--port", str(port), "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=(tmp_path / "serve.log").open("ab"))


async def test_nothing_acknowledged_is_lost_when_broker_and_server_restart(
    tmp_path: Path, broker: Broker
) -> None:
    data = tmp_path / "data"
    (tmp_path / "vr.toml").write_text(f"""\
data_dir = "{data}"
[mqtt]
url = "mqtts://localhost:{broker.tls_port}"
client_id = "museum-restarts"
ca_file = "{broker.folder}/ca.pem"
cert_file = "{broker.folder}/client.pem"
key_file = "{broker.folder}/client.key"
[mqtt.feeds.lamps]
topic = "application/+/device/+/event/up"
format = "chirpstack"
burst = 1000
[mqtt.feeds.lamps.fields]
lamp = "deviceInfo.deviceName"
""")
    store = Store.open(data, clock=FakeClock())  # serve_at's clock
    store.add_feed("lamps", kind="street-lighting")
    store.close()
    port = free_port()
    topic = "application/7/device/0018b20000000a1c/event/up"
    first = 1_700_000_000  # readings from 2023: in the past of the server's clock (FIXED_NOW)

    def stored() -> int:
        store = Store.open(data, clock=FakeClock())  # serve_at's clock
        try:
            return len(store.readings("lamps", since=None, limit=1000))
        finally:
            store.close()

    server = serve(tmp_path, broker, port)
    publisher = Publisher(broker)
    try:
        # Until the server's first subscription, the broker has no session to queue into:
        # repeat the first reading (idempotent) until it is stored.
        deadline = time.monotonic() + 30
        while stored() == 0:
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            publisher.publish(topic, chirpstack_uplink(first, "lamp-0", 10))
            await asyncio.sleep(0.2)
        for n in range(1, 60):
            publisher.publish(topic, chirpstack_uplink(first + n, "lamp-0", 10))
        server.send_signal(signal.SIGKILL)  # mid-stream: some were not yet stored nor acked
        server.wait(timeout=10)
        for n in range(60, 120):  # while the server is down the broker holds them
            publisher.publish(topic, chirpstack_uplink(first + n, "lamp-0", 10))
        publisher.close()
        broker.stop()
        broker.start()
        publisher = Publisher(broker)
        server = serve(tmp_path, broker, port)
        for n in range(120, 150):
            publisher.publish(topic, chirpstack_uplink(first + n, "lamp-0", 10))
        await until(lambda: stored() >= 100, timeout=60)
        # The broker goes away under the running server, mid-stream: it reconnects (backoff)
        # and what the broker still held arrives.
        publisher.close()
        broker.stop()
        broker.start()
        publisher = Publisher(broker)
        for n in range(150, 180):
            publisher.publish(topic, chirpstack_uplink(first + n, "lamp-0", 10))
        await until(lambda: stored() == 180, timeout=60)
        assert server.poll() is None, (tmp_path / "serve.log").read_text()
    finally:
        publisher.close()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    store = Store.open(data, clock=FakeClock())  # serve_at's clock
    times = [r["t"] for r in store.readings("lamps", since=None, limit=1000)]
    store.close()
    assert sorted(times) == sorted(iso(first + n).replace("Z", ".000Z") for n in range(180))

