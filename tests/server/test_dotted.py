"""Dotted paths into decoded JSON, as the MQTT and NGSI-LD mappings give them."""

from __future__ import annotations

import pytest

from vrculture.server.dotted import MISSING, value_at

DOCUMENT = {"uplink": {"object": {"lux": 12}}, "readings": [{"level": 3}, {"level": 4}]}


@pytest.mark.parametrize(("path", "expected"), [
    ("uplink.object.lux", 12),
    ("readings.1.level", 4),
    ("readings.0", {"level": 3}),
])
def test_a_path_reaches_its_value(path, expected):
    assert value_at(DOCUMENT, path) == expected


@pytest.mark.parametrize("path", [
    "uplink.object.missing", "readings.2.level", "readings.-1.level", "readings.².level",
    "readings.٣.level", "uplink.object.lux.deeper", "readings.level",
])
def test_a_path_that_leads_nowhere_is_missing_never_an_error(path):
    assert value_at(DOCUMENT, path) is MISSING
