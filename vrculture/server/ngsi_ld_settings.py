"""The `[ngsi_ld]` table of the settings TOML: per feed, which entity attribute fills which
reading field (see ngsi_ld.py). Raises ValueError; settings.py adds where it came from."""

from __future__ import annotations

import re
from typing import Any

_FEED_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_PATH = re.compile(r"[^.\s]{1,128}(\.[^.\s]{1,128}){0,15}")


def parse_ngsi_ld(values: Any) -> dict[str, dict[str, str]]:
    """The [ngsi_ld] table: feed id -> {reading field: entity path}. ValueError if bad."""
    if not isinstance(values, dict) or set(values) - {"feeds"}:
        raise ValueError("[ngsi_ld] holds only [ngsi_ld.feeds.FEED] tables")
    feeds = values.get("feeds", {})
    if not isinstance(feeds, dict):
        raise ValueError("[ngsi_ld.feeds] must be a table")
    mappings: dict[str, dict[str, str]] = {}
    for feed_id, mapping in feeds.items():
        if not _FEED_ID.fullmatch(feed_id):
            raise ValueError(f"[ngsi_ld.feeds.{feed_id}]: feed ids are 1-64 of a-z, 0-9, _ and -")
        if not isinstance(mapping, dict) or not mapping or not all(
            isinstance(k, str) and _FIELD.fullmatch(k) and isinstance(v, str)
            and _PATH.fullmatch(v) for k, v in mapping.items()
        ):
            raise ValueError(f"[ngsi_ld.feeds.{feed_id}]: reading field = \"attribute\" or "
                             "\"dotted.path\" in the entity")
        mappings[feed_id] = dict(mapping)
    return mappings
