"""Rights statements: Creative Commons / SPDX licence ids and RightsStatements.org statements.

`free_reuse` is True only where anyone may reuse the work without asking (public domain,
CC0, CC BY, CC BY-SA). Everything else (NonCommercial, NoDerivatives, In Copyright, the
"No Copyright - other restrictions" family, unknown status) is published only up to the
configured level, so that the museum never hands out a full-quality copy it may not give.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LEVEL_ORDER = ("low", "medium", "high", "full")
DEFAULT_MAX_LEVEL_RESTRICTED = "medium"  # `vrculture build` and `vrculture convert` alike


@dataclass(frozen=True)
class Rights:
    id: str
    uri: str
    label: str
    free_reuse: bool

    def as_json(self, max_level: str | None) -> dict[str, object]:
        out: dict[str, object] = {
            "id": self.id, "uri": self.uri, "label": self.label, "free_reuse": self.free_reuse,
        }
        if max_level is not None:
            out["max_level"] = max_level
        return out


_CC_NAMES = {
    "BY": "Attribution", "BY-SA": "Attribution-ShareAlike", "BY-NC": "Attribution-NonCommercial",
    "BY-ND": "Attribution-NoDerivatives", "BY-NC-SA": "Attribution-NonCommercial-ShareAlike",
    "BY-NC-ND": "Attribution-NonCommercial-NoDerivatives",
}
_CC_VERSIONS = ("1.0", "2.0", "2.5", "3.0", "4.0")

_RS_STATEMENTS = {
    "InC": "In Copyright",
    "InC-OW-EU": "In Copyright - EU Orphan Work",
    "InC-EDU": "In Copyright - Educational Use Permitted",
    "InC-NC": "In Copyright - Non-Commercial Use Permitted",
    "InC-RUU": "In Copyright - Rights-holder(s) Unlocatable or Unidentifiable",
    "NoC-CR": "No Copyright - Contractual Restrictions",
    "NoC-NC": "No Copyright - Non-Commercial Use Only",
    "NoC-OKLR": "No Copyright - Other Known Legal Restrictions",
    "NoC-US": "No Copyright - United States",
    "CNE": "Copyright Not Evaluated",
    "UND": "Copyright Undetermined",
    "NKC": "No Known Copyright",
}


def _known() -> dict[str, Rights]:
    known: dict[str, Rights] = {
        "CC0-1.0": Rights("CC0-1.0", "https://creativecommons.org/publicdomain/zero/1.0/",
                          "CC0 1.0 Universal Public Domain Dedication", True),
        "PDM-1.0": Rights("PDM-1.0", "https://creativecommons.org/publicdomain/mark/1.0/",
                          "Public Domain Mark 1.0", True),
    }
    for short, name in _CC_NAMES.items():
        for version in _CC_VERSIONS:
            rid = f"CC-{short}-{version}"
            free = short in ("BY", "BY-SA")
            known[rid] = Rights(rid, f"https://creativecommons.org/licenses/{short.lower()}/{version}/",
                                f"Creative Commons {name} {version}", free)
    for rid, label in _RS_STATEMENTS.items():
        known[rid] = Rights(rid, f"http://rightsstatements.org/vocab/{rid}/1.0/", label, False)
    return known


KNOWN_RIGHTS = _known()
_BY_UPPER = {k.upper(): v for k, v in KNOWN_RIGHTS.items()}
_ALIASES = {"PDM": "PDM-1.0", "CC0": "CC0-1.0", "PUBLIC-DOMAIN": "PDM-1.0"}
_RS_URI = re.compile(r"^https?://(?:www\.)?rightsstatements\.org/(?:vocab|page)/([A-Za-z-]+)/1\.0/?$")
_CC_URI = re.compile(
    r"^https?://(?:www\.)?creativecommons\.org/(licenses|publicdomain)/([a-z-]+)/(\d\.\d)/?"
    r"(?:deed\.[a-z-]+|legalcode)?$")


def parse_rights(value: str) -> Rights | None:
    """The rights statement for an id or URI as curators write them; None when unknown."""
    text = value.strip()
    key = _ALIASES.get(text.upper(), text).upper()
    if key in _BY_UPPER:
        return _BY_UPPER[key]
    m = _RS_URI.fullmatch(text)
    if m and m.group(1).upper() in _BY_UPPER:
        return _BY_UPPER[m.group(1).upper()]
    m = _CC_URI.fullmatch(text)
    if m:
        family, code, version = m.groups()
        if family == "publicdomain":
            rid = {"zero": "CC0-1.0", "mark": "PDM-1.0"}.get(code)
        else:
            rid = f"CC-{code.upper()}-{version}"
        if rid and rid.upper() in _BY_UPPER:
            return _BY_UPPER[rid.upper()]
    return None


def level_rank(level: str) -> int:
    return LEVEL_ORDER.index(level)


def published_levels(requested: tuple[str, ...], rights: Rights,
                     max_level_restricted: str) -> tuple[str, ...]:
    """The levels to convert and publish for an object, highest first (the converter's order).

    Restricted works get only the requested levels up to `max_level_restricted`; when none of
    the requested levels is that low, the restricted maximum itself is published instead.
    """
    ordered = tuple(sorted(set(requested), key=level_rank, reverse=True))
    if rights.free_reuse:
        return ordered
    limit = level_rank(max_level_restricted)
    allowed = tuple(lv for lv in ordered if level_rank(lv) <= limit)
    return allowed or (max_level_restricted,)
