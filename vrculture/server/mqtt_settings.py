"""The `[mqtt]` table of the settings TOML: which broker the bridge subscribes to and how each
feed's messages are read.

    [mqtt]
    url = "mqtts://broker.city.example:8883"   # mqtt:// (plain) or mqtts:// (TLS)
    client_id = "vrculture-museum"             # the broker keeps this client's session
    username = "museum"
    password_file = "/etc/vrculture/mqtt-password"   # or password = "..."
    ca_file = "/etc/vrculture/city-ca.pem"     # else the system's trusted CAs
    cert_file = "/etc/vrculture/museum.pem"    # client certificate (with key_file), optional
    key_file = "/etc/vrculture/museum.key"

    [mqtt.feeds.street-lights]
    topic = "application/+/device/+/event/up"
    format = "chirpstack"          # chirpstack (v4), tts (The Things Stack v3) or json
    max_per_second = 10            # readings beyond this rate (after a burst) are dropped
    burst = 100
    [mqtt.feeds.street-lights.fields]   # reading field = dotted path in the message
    lamp = "deviceInfo.deviceName"

Raises ValueError with a message naming the setting; settings.py adds where it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

FORMATS = ("chirpstack", "tts", "json")
_FEED_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_CLIENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_PATH = re.compile(r"[^.\s]{1,64}(\.[^.\s]{1,64}){0,15}")
_WILDCARD_LEVEL = re.compile(r"[^+#]*|\+|#")
DEFAULT_MAX_PAYLOAD = 64 * 1024  # an uplink is a few KiB; more is a mistake or an attack


@dataclass(frozen=True)
class MqttFeed:
    feed: str
    topic: str  # an MQTT topic filter (+ and # allowed)
    format: str
    fields: dict[str, str] = field(default_factory=dict)  # reading field -> path in message
    max_per_second: float = 10.0
    burst: int = 100


@dataclass
class MqttSettings:
    url: str
    host: str
    port: int
    tls: bool
    client_id: str = "vrculture"
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a log line
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive: int = 30
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD
    feeds: list[MqttFeed] = field(default_factory=list)


def _text(values: dict[str, Any], name: str, pattern: re.Pattern[str] | None = None) -> str | None:
    value = values.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or (pattern and not pattern.fullmatch(value)):
        raise ValueError(f"{name}: expected a valid string")
    return value


def _positive(values: dict[str, Any], name: str, default: float, whole: bool = False) -> Any:
    value = values.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1e9:
        raise ValueError(f"{name}: expected a positive number")
    if whole and int(value) != value:
        raise ValueError(f"{name}: expected a whole number")
    return int(value) if whole else float(value)


def _topic_filter(topic: Any, where: str) -> str:
    if not isinstance(topic, str) or not 0 < len(topic.encode("utf-8")) <= 512 or "\0" in topic:
        raise ValueError(f"{where}: topic: expected an MQTT topic filter")
    levels = topic.split("/")
    if not all(_WILDCARD_LEVEL.fullmatch(level) for level in levels) or "#" in levels[:-1]:
        raise ValueError(f"{where}: topic: '+' and '#' must fill a whole level, '#' the last")
    return topic


def _feed(feed_id: str, values: Any) -> MqttFeed:
    where = f"[mqtt.feeds.{feed_id}]"
    if not _FEED_ID.fullmatch(feed_id):
        raise ValueError(f"{where}: feed ids are 1-64 of a-z, 0-9, '_' and '-'")
    if not isinstance(values, dict):
        raise ValueError(f"{where}: must be a table")
    unknown = set(values) - {"topic", "format", "fields", "max_per_second", "burst"}
    if unknown:
        raise ValueError(f"{where}: unknown setting {sorted(unknown)[0]!r}")
    fmt = values.get("format", "json")
    if fmt not in FORMATS:
        raise ValueError(f"{where}: format: one of {', '.join(FORMATS)}")
    fields = values.get("fields", {})
    if not isinstance(fields, dict) or not all(
        isinstance(k, str) and _FIELD.fullmatch(k) and isinstance(v, str) and _PATH.fullmatch(v)
        for k, v in fields.items()
    ):
        raise ValueError(f"{where}: fields: reading field = \"dotted.path\" in the message")
    if fmt == "json" and fields and "t" not in fields:
        raise ValueError(f"{where}: fields: a json mapping must say which field is the time (t)")
    topic = _topic_filter(values.get("topic"), where)
    try:
        rate = _positive(values, "max_per_second", 10.0)
        burst = _positive(values, "burst", 100, whole=True)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    return MqttFeed(feed_id, topic, fmt, dict(fields), rate, burst)


def parse_mqtt(values: Any) -> MqttSettings:
    if not isinstance(values, dict):
        raise ValueError("[mqtt] must be a table")
    known = {"url", "client_id", "username", "password", "password_file", "ca_file", "cert_file",
             "key_file", "keepalive", "max_payload_bytes", "feeds"}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"[mqtt]: unknown setting {sorted(unknown)[0]!r}")
    url = values.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if (parts is None or not isinstance(url, str) or parts.scheme not in ("mqtt", "mqtts")
            or not parts.hostname):
        raise ValueError("[mqtt] url: expected mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
    try:
        port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
    except ValueError:
        raise ValueError("[mqtt] url: the port must be a number from 1 to 65535") from None
    if parts.username or parts.password or parts.path not in ("", "/"):
        raise ValueError("[mqtt] url: give username and password as settings, not in the URL")
    password = _text(values, "password")
    password_file = _text(values, "password_file")
    if password and password_file:
        raise ValueError("[mqtt]: give password or password_file, not both")
    if password_file:
        try:
            password = Path(password_file).expanduser().read_text("utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"[mqtt] password_file: cannot read ({error})") from None
    paths = {name: Path(v).expanduser() if (v := _text(values, name)) else None
             for name in ("ca_file", "cert_file", "key_file")}
    if (paths["cert_file"] is None) != (paths["key_file"] is None):
        raise ValueError("[mqtt]: cert_file and key_file must be given together")
    if parts.scheme == "mqtt" and any(paths.values()):
        raise ValueError("[mqtt]: ca_file, cert_file and key_file need an mqtts:// url")
    feeds_table = values.get("feeds", {})
    if not isinstance(feeds_table, dict) or not feeds_table:
        raise ValueError("[mqtt]: add at least one [mqtt.feeds.FEED] table")
    try:
        keepalive = _positive(values, "keepalive", 30, whole=True)
        max_payload = _positive(values, "max_payload_bytes", DEFAULT_MAX_PAYLOAD, whole=True)
    except ValueError as error:
        raise ValueError(f"[mqtt] {error}") from None
    return MqttSettings(
        url=url, host=parts.hostname, port=port, tls=parts.scheme == "mqtts",
        client_id=_text(values, "client_id", _CLIENT_ID) or "vrculture",
        username=_text(values, "username"), password=password,
        ca_file=paths["ca_file"], cert_file=paths["cert_file"], key_file=paths["key_file"],
        keepalive=keepalive, max_payload_bytes=max_payload,
        feeds=[_feed(feed_id, table) for feed_id, table in feeds_table.items()],
    )
