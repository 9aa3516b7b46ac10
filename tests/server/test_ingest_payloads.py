"""Crafted payloads on the ingest paths that have no HTTP body check in front of them: an MQTT
message (decoded by `mqtt_decode`) and an NGSI-LD entity (`ngsi_ld.entity_reading`), each then
validated like an HTTP reading. Whatever a device or a broker sends is refused with the error
the bridge counts (DecodeError, ReadingError), never another exception, and never stored as
something a browser's JSON.parse or a UTF-8 encoder cannot take."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from fixed_clock import FIXED_NOW

from vrculture.server.mqtt_decode import DecodeError, decode
from vrculture.server.mqtt_settings import MqttFeed
from vrculture.server.ngsi_ld import entity_reading
from vrculture.server.readings import FeedSpec, ReadingError, format_time, validate_reading

LAMPS = FeedSpec("street-lighting")
GAUGE = FeedSpec("gauge", unit="C", min=-50, max=60)
CHIRPSTACK = MqttFeed("lamps", "application/+/device/+/event/up", "chirpstack")
MAPPED = MqttFeed("temperature", "city/#", "json", {"t": "ts", "value": "data.0.v"})
WHEN = format_time(FIXED_NOW - 60)


def uplink(**object_fields: Any) -> bytes:
    lamp = {"lamp": "L1", "presence": True, "level": 80, "power_w": 24.5}
    return json.dumps({"time": WHEN, "object": {**lamp, **object_fields}}).encode()


def read(payload: bytes, feed: MqttFeed = CHIRPSTACK, spec: FeedSpec = LAMPS) -> dict:
    return validate_reading(decode(payload, feed), spec, FIXED_NOW)[1]


def test_a_good_uplink_is_read() -> None:
    assert read(uplink())["level"] == 80
    assert read(b'{"ts": %d, "data": [{"v": 3}]}' % (FIXED_NOW - 5), MAPPED, GAUGE)["value"] == 3


@pytest.mark.parametrize("payload", [
    uplink().replace(b'"level": 80', b'"level": NaN'),
    uplink().replace(b'"level": 80', b'"level": Infinity'),
    uplink().replace(b'"level": 80', b'"level": 1e309'),
    uplink().replace(b'"level": 80', b'"level": ' + b"9" * 400),
    uplink().replace(b'"level": 80', b'"level": ' + b"9" * 5000),  # int() refuses 4300+ digits
    uplink().replace(b'"L1"', b'"\\ud800"'),  # a lone surrogate in the lamp's id
    uplink().replace(b'"lamp"', b'"\\udc00"'),  # ... or in a field name
    b"[" * 100_000,  # deeper than the parser's stack
    b'{"time": "x", "object": ' + b'{"a": ' * 40 + b"1" + b"}" * 41,
    b"\xff\xfe\x00",
    b'{"time": "2026-06-15T11:00:00Z", "object": [1, 2]}',
    b"[]",
    b"",
])
def test_messages_the_server_cannot_hold_are_decode_errors(payload: bytes) -> None:
    with pytest.raises(DecodeError):
        read(payload)


@pytest.mark.parametrize(("payload", "field"), [
    (uplink(t=FIXED_NOW + 3600), "t"),  # far future: a broken clock
    (uplink(t="9999-12-31T23:59:59Z"), "t"),
    (uplink(t=-1e300), "t"),
    (uplink(t="0001-01-01T00:00:00+23:59"), "t"),
    (uplink(t=[WHEN]), "t"),
    (uplink(t=True), "t"),
    (uplink(level=-0.5), "level"),
    (uplink(presence=1), "presence"),
    (uplink(lamp="L\u202e1"), "lamp"),  # a bidi override: not printable
    (uplink(lamp="x" * 65), "lamp"),
    (uplink(extra=1), "extra"),
])
def test_readings_out_of_bounds_name_their_field(payload: bytes, field: str) -> None:
    with pytest.raises(ReadingError) as refused:
        read(payload)
    assert refused.value.field == field


@pytest.mark.parametrize("entity", [
    {"value": {"type": "Property", "value": math.nan}},
    {"value": {"type": "Property", "value": 1e309}},
    {"value": {"type": "Relationship", "object": "urn:x"}},
    {"value": {"@value": "3"}},
    {"value": 5, "unit": {"type": "Property", "value": "F"}},  # not the feed's unit
    {"value": 5, "observed": {"type": "Property", "value": 1}},  # not a gauge's field
    {"value": {"type": "Property", "value": 5, "observedAt": "2026-06-15T13:00:00Z"}},  # future
    [1],
])
def test_ngsi_ld_entities_that_are_no_reading_are_refused(entity: Any) -> None:
    with pytest.raises(ReadingError):
        validate_reading(entity_reading(entity, None, WHEN), GAUGE, FIXED_NOW)


def test_an_ngsi_ld_entity_takes_its_newest_observed_at() -> None:
    entity = {"value": {"type": "Property", "value": 5, "observedAt": format_time(FIXED_NOW - 9)},
              "unit": {"type": "Property", "value": "C", "observedAt": format_time(FIXED_NOW - 3)}}
    seconds, reading = validate_reading(entity_reading(entity, None, WHEN), GAUGE, FIXED_NOW)
    assert seconds == FIXED_NOW - 3 and reading["value"] == 5
