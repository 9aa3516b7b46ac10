"""Dublin Core metadata as a KHR_xmp_json_ld packet (title, creator, date, rights, source, ...).

XMP value types follow the Dublin Core schema in XMP: language alternatives for title,
description and rights, ordered lists for creator and date, a bag for subject, plain text for
the others.
"""

from __future__ import annotations

from collections.abc import Mapping

LANG_ALT = {"title", "description", "rights"}
ORDERED = {"creator", "date", "contributor"}
BAG = {"subject", "type", "language", "publisher", "relation"}
DUBLIN_CORE = LANG_ALT | ORDERED | BAG | {"source", "format", "identifier", "coverage"}


def xmp_packet(metadata: Mapping[str, str]) -> dict | None:
    """The JSON-LD packet for `metadata` (keys with or without `dc:`), or None if empty."""
    packet: dict[str, object] = {
        "@context": {
            "dc": "http://purl.org/dc/elements/1.1/",
            "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        }
    }
    for key, value in metadata.items():
        term = key.removeprefix("dc:")
        if term not in DUBLIN_CORE or value is None or str(value) == "":
            continue
        text = str(value)
        if term in LANG_ALT:
            packet[f"dc:{term}"] = {
                "@type": "rdf:Alt",
                "rdf:_1": {"@language": "x-default", "@value": text},
            }
        elif term in ORDERED:
            packet[f"dc:{term}"] = {"@list": [text]}
        elif term in BAG:
            packet[f"dc:{term}"] = {"@set": [text]}
        else:
            packet[f"dc:{term}"] = text
    return packet if len(packet) > 1 else None
