"""From an MQTT message to a raw reading (validated afterwards like an HTTP one).

- `chirpstack`: a ChirpStack v4 uplink event; the reading is its decoded `object`, timed by
  the uplink's `time` unless the object has its own `t`.
- `tts`: a The Things Stack v3 uplink; the reading is `uplink_message.decoded_payload`, timed by
  `uplink_message.received_at` (else the top-level `received_at`) unless it has its own `t`.
- `json`: any JSON document; with `fields` the reading is made of those paths only, without
  it the document is the reading.

For every format, `fields` (reading field = dotted path in the whole message, a number step
indexes a list) adds or replaces fields: `lamp = "deviceInfo.deviceName"`.
"""

from __future__ import annotations

from typing import Any

from vrculture.server.dotted import MISSING, value_at
from vrculture.server.mqtt_settings import MqttFeed
from vrculture.server.safejson import JSONInputError, loads


class DecodeError(ValueError):
    """A message the feed's mapping cannot read; the message says why (never the payload)."""


def _decoded(document: dict[str, Any], object_path: str, time_paths: tuple[str, ...],
             what: str) -> dict[str, Any]:
    decoded = value_at(document, object_path)
    if not isinstance(decoded, dict):
        raise DecodeError(f"no decoded {object_path!r} object in the {what} uplink (is a payload "
                          "codec set for the device?)")
    reading = dict(decoded)
    if "t" not in reading:
        for path in time_paths:
            if (t := value_at(document, path)) is not MISSING:
                reading["t"] = t
                break
    return reading


def decode(payload: bytes | bytearray, feed: MqttFeed) -> dict[str, Any]:
    try:
        document = loads(bytes(payload))
    except JSONInputError as error:
        raise DecodeError(f"not JSON the server can hold: {error.message}") from None
    if not isinstance(document, dict):
        raise DecodeError("the message must be a JSON object")
    if feed.format == "chirpstack":
        reading = _decoded(document, "object", ("time",), "ChirpStack")
    elif feed.format == "tts":
        reading = _decoded(document, "uplink_message.decoded_payload",
                           ("uplink_message.received_at", "received_at"), "The Things Stack")
    else:
        reading = {} if feed.fields else dict(document)
    for name, path in feed.fields.items():
        value = value_at(document, path)
        if value is MISSING:
            raise DecodeError(f"{name}: the message has no {path!r}")
        reading[name] = value
    return reading
