"""Who published which version of an exhibition, and when: DATA/exhibitions/<id>/history.json.

One entry per switch of `current` (a publish or a roll-back), oldest first, so a curator can
see every version visitors were shown and go back to any one still on disk. The file is
rewritten whole and atomically under the exhibition's lock (see `publishing`), and kept to
the last MAX_ENTRIES switches.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from vrculture.pipeline.atomic import write_atomic

FORMAT = 1
MAX_ENTRIES = 500
MAX_BY_CHARS = 100
VERSION = re.compile(r"[0-9a-f]{16}")
# a person's or a tool's name: printable, no control characters, no line breaks
BY = re.compile(rf"[^\x00-\x1f\x7f]{{1,{MAX_BY_CHARS}}}")

Action = Literal["publish", "rollback"]


@dataclass(frozen=True)
class HistoryEntry:
    version: str
    action: Action
    at: float  # seconds since the epoch (UTC)
    by: str | None


def history_path(home: Path) -> Path:
    return home / "history.json"


def check_by(by: str | None) -> str | None:
    """The publisher's name as given, or ValueError naming the problem."""
    if by is None:
        return None
    if not BY.fullmatch(by):
        raise ValueError(f"publisher name must be 1-{MAX_BY_CHARS} printable characters")
    try:
        by.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("publisher name is not valid text (lone surrogates)") from None
    return by


def read_history(home: Path) -> list[HistoryEntry]:
    """The entries, oldest first; a missing or damaged file reads as no history (the versions
    themselves are the truth; the history only names who and when)."""
    try:
        raw = json.loads(history_path(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        return []
    entries: list[HistoryEntry] = []
    for item in raw.get("entries", []):
        if not isinstance(item, dict):
            continue
        version, action, at, by = (item.get(k) for k in ("version", "action", "at", "by"))
        if (isinstance(version, str) and VERSION.fullmatch(version)
                and action in ("publish", "rollback")
                and isinstance(at, (int, float)) and not isinstance(at, bool)
                and (by is None or (isinstance(by, str) and BY.fullmatch(by)))):
            entries.append(HistoryEntry(version, action, float(at), by))
    return entries


def append_history(home: Path, entry: HistoryEntry) -> None:
    entries = [*read_history(home), entry][-MAX_ENTRIES:]
    body = {"format": FORMAT, "entries": [asdict(e) for e in entries]}
    write_atomic(history_path(home),
                 (json.dumps(body, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
