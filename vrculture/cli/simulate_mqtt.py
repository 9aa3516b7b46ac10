"""The simulator's MQTT side: readings as ChirpStack v4 uplink events, published with QoS 1."""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

APPLICATION = "vrculture-demo"
ACK_TIMEOUT = 30.0  # seconds to wait for the broker's PUBACK


def uplink_topic(feed: str, application: str = APPLICATION) -> str:
    return f"application/{application}/device/{feed}/event/up"


def chirpstack_uplink(feed: str, reading: dict[str, Any],
                      application: str = APPLICATION) -> dict[str, Any]:
    """A ChirpStack v4 `up` event whose decoded `object` is the reading (its time in `time`)."""
    decoded = {k: v for k, v in reading.items() if k != "t"}
    moment = datetime.fromtimestamp(reading["t"], UTC).isoformat(timespec="milliseconds")
    return {"time": moment.replace("+00:00", "Z"),
            "deviceInfo": {"tenantName": "City", "applicationName": application,
                           "deviceName": feed, "devEui": feed_eui(feed)},
            "fPort": 2, "object": decoded}


def feed_eui(feed: str) -> str:
    """A stable, made-up 64-bit DevEUI per feed (the demo's devices are not real ones)."""
    value = 0
    for char in feed.encode():
        value = (value * 131 + char) % (1 << 64)
    return f"{value:016x}"


class UplinkPublisher:
    def __init__(self, client: Any, application: str) -> None:
        self.client, self.application = client, application

    @classmethod
    def connect(cls, url: str, *, insecure: bool = False,
                application: str = APPLICATION) -> UplinkPublisher:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"{parts.scheme}://…: expected mqtt://host:port or mqtts://host:port")
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="vrculture-simulator")
        if parts.username:
            client.username_pw_set(unquote(parts.username), unquote(parts.password or ""))
        if parts.scheme == "mqtts":
            context = ssl.create_default_context()
            if insecure:
                context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            client.tls_set_context(context)
        client.connect(parts.hostname, parts.port or (8883 if parts.scheme == "mqtts" else 1883))
        client.loop_start()
        return cls(client, application)

    async def publish(self, feed: str, readings: list[dict[str, Any]]) -> int:
        """Publishes the readings and returns once the broker has acknowledged every one."""
        topic = uplink_topic(feed, self.application)
        sent = [self.client.publish(topic, json.dumps(
            chirpstack_uplink(feed, r, self.application)).encode(), qos=1) for r in readings]
        for info in sent:
            try:
                await asyncio.to_thread(info.wait_for_publish, ACK_TIMEOUT)
            except (RuntimeError, ValueError) as error:  # paho: not connected, queue full
                raise OSError(str(error)) from None
            if not info.is_published():
                raise OSError(f"the broker did not acknowledge an uplink (rc {info.rc})")
        return len(sent)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def demo_settings(bundle: Path, broker_url: str) -> str:
    """The `[mqtt]` table for tools/demo: one ChirpStack topic per feed of the bundle's
    exhibitions, with a flood limit that a fast replay stays under."""
    feeds: set[str] = set()
    for manifest in sorted(bundle.glob("**/exhibition.json")):
        feeds.update(json.loads(manifest.read_text(encoding="utf-8")).get("feeds", {}))
    lines = ["[mqtt]", f"url = {json.dumps(broker_url)}", 'client_id = "vrculture-demo"', ""]
    for feed in sorted(feeds):
        lines += [f"[mqtt.feeds.{feed}]", f"topic = {json.dumps(uplink_topic(feed))}",
                  'format = "chirpstack"', "max_per_second = 1000", "burst = 10000", ""]
    return "\n".join(lines)


if __name__ == "__main__":  # tools/demo: python -m vrculture.cli.simulate_mqtt BUNDLE URL
    print(demo_settings(Path(sys.argv[1]), sys.argv[2]))
