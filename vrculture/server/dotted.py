"""Reading a value out of decoded JSON by a dotted path from the settings ("uplink.object.lux",
"readings.0.level"): the mapping that the MQTT and NGSI-LD feeds share."""

from __future__ import annotations

import re
from typing import Any

MISSING: Any = object()  # what `value_at` returns where the path leads nowhere
_INDEX = re.compile(r"[0-9]{1,9}")  # ASCII digits only: '²'.isdigit() holds, int('²') fails


def value_at(document: Any, path: str) -> Any:
    """The value at `path` (a number step indexes a list), or MISSING."""
    value = document
    for step in path.split("."):
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and _INDEX.fullmatch(step) and int(step) < len(value):
            value = value[int(step)]
        else:
            return MISSING
    return value
