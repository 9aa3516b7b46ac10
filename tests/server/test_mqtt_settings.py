"""The [mqtt] table of the settings TOML and the uplink decoders (no broker needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vrculture.server.mqtt_decode import DecodeError, decode
from vrculture.server.mqtt_settings import MqttFeed
from vrculture.server.settings import ConfigError, load_config

GOOD = """\
[mqtt]
url = "mqtts://broker.city.example"
username = "museum"
password_file = "{folder}/secret"
[mqtt.feeds.lamps]
topic = "application/+/device/+/event/up"
format = "chirpstack"
[mqtt.feeds.lamps.fields]
lamp = "deviceInfo.deviceName"
[mqtt.feeds.weather]
topic = "city/weather/#"
max_per_second = 2.5
burst = 20
[mqtt.feeds.weather.fields]
t = "ts"
value = "sensors.0.celsius"
"""


def load(tmp_path: Path, text: str):
    (tmp_path / "secret").write_text("s3cret\n")
    path = tmp_path / "vr.toml"
    path.write_text(text.replace("{folder}", str(tmp_path)))
    return load_config(path, environ={})


def test_a_full_mqtt_table_is_read(tmp_path: Path) -> None:
    settings = load(tmp_path, GOOD).mqtt
    assert (settings.host, settings.port, settings.tls) == ("broker.city.example", 8883, True)
    assert settings.password == "s3cret"
    assert "s3cret" not in repr(settings)  # never in a log line
    assert settings.feeds == [
        MqttFeed("lamps", "application/+/device/+/event/up", "chirpstack",
                 {"lamp": "deviceInfo.deviceName"}),
        MqttFeed("weather", "city/weather/#", "json", {"t": "ts", "value": "sensors.0.celsius"},
                 2.5, 20),
    ]


@pytest.mark.parametrize(("change", "message"), [
    (('url = "mqtts://broker.city.example"', 'url = "http://broker"'), "mqtt://HOST"),
    (('url = "mqtts://broker.city.example"', 'url = "mqtt://u:p@broker"'), "not in the URL"),
    (('url = "mqtts://broker.city.example"', 'url = "mqtt://broker:99999"'), "port"),
    (('username = "museum"', 'password = "x"'), "not both"),
    (('username = "museum"', 'cert_file = "/c.pem"'), "together"),
    (('url = "mqtts://broker.city.example"\n',
      'url = "mqtt://broker"\nca_file = "/ca.pem"\n'), "need an mqtts:// url"),
    (('topic = "city/weather/#"', 'topic = "city/#/weather"'), "topic"),
    (('topic = "city/weather/#"', 'topic = "city/wea+ther"'), "topic"),
    (('format = "chirpstack"', 'format = "sigfox"'), "format"),
    (('t = "ts"', 'time = "ts"'), "which field is the time"),
    (("burst = 20", "burst = 0"), "burst"),
    (("burst = 20", "burst = 1.5"), "whole number"),
    (("[mqtt.feeds.lamps]", "[mqtt.feeds.Lamps]"), "feed ids"),
    (('username = "museum"', 'colour = "red"'), "unknown setting 'colour'"),
    (('password_file = "{folder}/secret"', 'password_file = "{folder}/none"'), "cannot read"),
])
def test_bad_mqtt_settings_are_refused_with_the_reason(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    assert change[0] in GOOD
    with pytest.raises(ConfigError, match="mqtt") as caught:
        load(tmp_path, GOOD.replace(*change))
    assert message in str(caught.value)


def test_an_mqtt_table_without_feeds_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least one"):
        load(tmp_path, '[mqtt]\nurl = "mqtt://broker"\n')


CHIRPSTACK = MqttFeed("lamps", "#", "chirpstack", {"lamp": "deviceInfo.deviceName"})
TTS = MqttFeed("bins", "#", "tts")


def test_chirpstack_reading_is_the_decoded_object_timed_by_the_uplink() -> None:
    uplink = b'{"time": "2026-05-01T21:30:00Z", "deviceInfo": {"deviceName": "L7"}, ' \
             b'"object": {"level": 80, "presence": true, "power_w": 20}}'
    assert decode(uplink, CHIRPSTACK) == {"t": "2026-05-01T21:30:00Z", "lamp": "L7",
                                          "level": 80, "presence": True, "power_w": 20}


def test_tts_reading_prefers_the_uplinks_own_time_and_its_objects_t() -> None:
    uplink = b'{"received_at": "2026-05-01T21:30:01Z", "uplink_message": {' \
             b'"received_at": "2026-05-01T21:30:00.5Z", "decoded_payload": {"bin": "B"}}}'
    assert decode(uplink, TTS)["t"] == "2026-05-01T21:30:00.5Z"
    own = b'{"uplink_message": {"decoded_payload": {"t": 1790000000}}}'
    assert decode(own, TTS)["t"] == 1790000000


@pytest.mark.parametrize("payload", [
    b"", b"\xff\xfe", b"[1]", b'"text"', b'{"object": [1]}', b'{"deviceInfo": {}}',
    b'{"object": {}, "deviceInfo": {"deviceName": "L"}, "x": 1e999}',
    b'{"object": {}, "deviceInfo": {"deviceName": "\\ud800"}}',
    b'{"object": {}}',  # the mapped lamp is missing
])
def test_unreadable_uplinks_raise_decode_error(payload: bytes) -> None:
    with pytest.raises(DecodeError):
        decode(payload, CHIRPSTACK)
