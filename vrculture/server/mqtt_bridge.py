"""The MQTT bridge inside `vrculture serve`: sensor uplinks from a city's broker become readings.

It runs in the server process rather than as a separate `vrculture bridge` because a reading
must take the same path as an HTTP one: the same validation, the same single writer thread of
the SQLite store and the same fan-out to the rooms (which, without Redis, only exists inside
the server process). One process fewer to deploy and supervise, too.

Nothing acknowledged is lost: the client keeps a persistent session (MQTT 5, clean start off,
a session expiry of a week, a fixed client id) with QoS 1 subscriptions, and paho-mqtt runs
with `manual_ack=True`, so the PUBACK for a message is sent only after its reading is committed
(or after the message has been refused for good: unreadable, too large, over its feed's rate).
A message whose storage fails is never acknowledged; the session is dropped and the broker
delivers it again on reconnect. Duplicates from redelivery are idempotent (a feed holds one
reading per time). PUBACKs go out in the order the messages came, as MQTT requires, because one
task handles them one at a time. MQTT 5 also lets the bridge announce a maximum packet size:
the broker drops larger messages instead of sending them into this process's memory.

paho's network loop runs in its own thread; messages are handed to the event loop. Connection
loss ends the session's body, and `supervise` reconnects with a doubling delay (capped).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from aiohttp import web
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from vrculture.server import appkeys
from vrculture.server.feeds import feed_spec, store_readings
from vrculture.server.mqtt_decode import DecodeError, decode
from vrculture.server.mqtt_settings import MqttFeed, MqttSettings
from vrculture.server.readings import ReadingError, validate_reading
from vrculture.server.supervision import start_supervised

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0  # seconds for the broker's CONNACK
SESSION_EXPIRY = 7 * 24 * 3600  # seconds the broker keeps the session and its queue for us
PACKET_OVERHEAD = 1024  # topic and headers on top of the payload (topic filters are <= 512 B)
MAX_QUEUED_QOS0 = 1000  # QoS 0 messages are not bounded by the broker's in-flight window
STAT_NAMES = ("stored", "duplicates", "unreadable", "too_large", "limited")


class BrokerRefused(ConnectionError):
    pass


@dataclass
class _Bucket:
    """Token bucket: `burst` readings at once, then `rate` per second."""

    rate: float
    burst: float
    tokens: float
    updated: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def _topic(message: mqtt.MQTTMessage) -> str:
    """The topic as text; a broker that lets invalid UTF-8 through gets it matched by nothing."""
    try:
        return message.topic
    except UnicodeDecodeError:
        return ""


def tls_context(settings: MqttSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(
        cafile=str(settings.ca_file) if settings.ca_file else None)
    if settings.cert_file and settings.key_file:
        context.load_cert_chain(settings.cert_file, settings.key_file)
    return context


class MqttBridge:
    def __init__(self, app: web.Application, settings: MqttSettings,
                 clock: Callable[[], float]) -> None:
        self.app = app
        self.settings = settings
        self.clock = clock
        self.stats: dict[str, Counter[str]] = {f.feed: Counter() for f in settings.feeds}
        self.subscribed = asyncio.Event()  # set while a session is up and subscribed
        self.sessions = 0  # sessions established so far (reconnects show as > 1)
        self._logged: set[str] = set()
        now = clock()
        self._buckets = {f.feed: _Bucket(f.max_per_second, f.burst, f.burst, now)
                         for f in settings.feeds}

    def report(self) -> dict[str, Any]:
        """For the curator's health details: is the bridge up, and what happened per feed."""
        return {"connected": self.subscribed.is_set(), "sessions": self.sessions,
                "feeds": {feed: {name: counts[name] for name in STAT_NAMES}
                          for feed, counts in self.stats.items()}}

    def start(self) -> asyncio.Task[None]:
        return start_supervised("vrculture-mqtt", self._session, first_delay=0.5)

    def _client(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=s.client_id,
                             protocol=mqtt.MQTTv5, reconnect_on_failure=False,
                             manual_ack=True)
        if s.username is not None:
            client.username_pw_set(s.username, s.password)
        if s.tls:
            client.tls_set_context(tls_context(s))
        return client

    async def _session(self) -> None:
        """One connection: connect, subscribe, handle messages until the connection drops."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[mqtt.MQTTMessage | None] = asyncio.Queue()
        connected: asyncio.Future[None] = loop.create_future()
        client = self._client()
        subscriptions = [(feed.topic, 1) for feed in self.settings.feeds]

        def settle(error: Exception | None) -> None:
            if not connected.done():
                connected.set_exception(error) if error else connected.set_result(None)

        def enqueue(message: mqtt.MQTTMessage | None) -> None:
            if message is not None and message.qos == 0 and queue.qsize() >= MAX_QUEUED_QOS0:
                feed = self._feed_for(_topic(message))
                if feed is not None:
                    self._refuse(feed, "limited", "QoS 0 messages arrive faster than stored")
                return
            queue.put_nowait(message)

        # paho's callbacks run in its network thread: hand everything to the event loop.
        def on_connect(_c, _u, _flags, reason, _props) -> None:
            if reason.is_failure:
                error = BrokerRefused(f"the broker refused the connection: {reason}")
                loop.call_soon_threadsafe(settle, error)
                return
            client.subscribe(subscriptions)
            loop.call_soon_threadsafe(settle, None)

        def on_subscribe(_c, _u, _mid, reasons, _props) -> None:
            if all(not r.is_failure for r in reasons):
                loop.call_soon_threadsafe(self.subscribed.set)
            else:
                loop.call_soon_threadsafe(log.error, "mqtt: the broker refused a subscription "
                                          "(check its ACL for %s)", self.settings.client_id)

        def on_message(_c, _u, message: mqtt.MQTTMessage) -> None:
            loop.call_soon_threadsafe(enqueue, message)

        def on_disconnect(_c, _u, _flags, reason, _props) -> None:
            loop.call_soon_threadsafe(settle, ConnectionError(f"disconnected: {reason}"))
            loop.call_soon_threadsafe(enqueue, None)

        client.on_connect, client.on_subscribe = on_connect, on_subscribe
        client.on_message, client.on_disconnect = on_message, on_disconnect
        try:
            await asyncio.to_thread(client.connect, self.settings.host, self.settings.port,
                                    self.settings.keepalive, clean_start=False,
                                    properties=self._connect_properties())
            client.loop_start()
            await asyncio.wait_for(connected, CONNECT_TIMEOUT)
            self.sessions += 1
            log.info("mqtt: connected to %s as %s", self.settings.url, self.settings.client_id)
            while True:
                message = await queue.get()
                if message is None:
                    raise ConnectionError("lost the connection to the broker")
                await self._handle(message)
                client.ack(message.mid, message.qos)  # after the commit, in arrival order
        finally:
            self.subscribed.clear()
            with contextlib.suppress(Exception):
                client.disconnect()
            await asyncio.to_thread(client.loop_stop)

    def _connect_properties(self) -> Properties:
        """MQTT 5: keep the session (and its queue) while the server is away, and have the
        broker drop oversized messages instead of sending them into this process's memory."""
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY
        properties.MaximumPacketSize = self.settings.max_payload_bytes + PACKET_OVERHEAD
        return properties

    def _feed_for(self, topic: str) -> MqttFeed | None:
        for feed in self.settings.feeds:
            if mqtt.topic_matches_sub(feed.topic, topic):
                return feed
        return None

    def _refuse(self, feed: MqttFeed, stat: str, why: str) -> None:
        self.stats[feed.feed][stat] += 1
        if feed.feed not in self._logged:  # once per feed: a broken device sends every minute
            self._logged.add(feed.feed)
            log.warning("mqtt feed %s: refused a message (%s); further refusals on this feed "
                        "are counted, not logged", feed.feed, why)

    async def _handle(self, message: mqtt.MQTTMessage) -> None:
        feed = self._feed_for(_topic(message))
        if feed is None:
            return  # a subscription an older setting left in the persistent session
        if len(message.payload) > self.settings.max_payload_bytes:
            self._refuse(feed, "too_large", f"{len(message.payload)} bytes, more than "
                         f"{self.settings.max_payload_bytes}")
            return
        now = self.clock()
        if not self._buckets[feed.feed].take(now):
            self._refuse(feed, "limited", f"more than {feed.max_per_second:g} per second")
            return
        store = self.app[appkeys.FEED_STORE]
        spec = feed_spec(self.app, feed.feed, await store.feed(feed.feed))
        try:
            if spec is None:
                raise DecodeError("the feed has no kind yet: give one with `vrculture feeds "
                                  "add --kind` or publish an exhibition that lists it")
            checked = validate_reading(decode(message.payload, feed), spec, now)
        except (DecodeError, ReadingError) as error:
            self._refuse(feed, "unreadable", str(error))
            return
        stored = await store_readings(self.app, feed.feed, [checked])
        self.stats[feed.feed]["stored" if stored else "duplicates"] += 1


MQTT_BRIDGE = web.AppKey("vrculture_mqtt_bridge", MqttBridge)
