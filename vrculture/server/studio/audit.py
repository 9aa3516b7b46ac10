"""The studio's audit log: who changed what, when, in which exhibition.

`record` is the one entry point for every change (the uploads part of the studio calls it
too). The time comes from the app's injectable clock; the detail is JSON that never holds a
secret (callers pass field names and values a curator typed, never passwords or tokens).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from vrculture.server import appkeys
from vrculture.server.storage import Store

MAX_ENTRIES = 500  # one page of the audit view: the newest entries


# database side (runs on the store's thread) ---------------------------------------------
def add_entry(store: Store, at: float, curator: str, exhibition: str | None, action: str,
              detail: dict[str, Any]) -> None:
    store.conn.execute(
        "INSERT INTO studio_audit (at, curator, exhibition, action, detail)"
        " VALUES (?, ?, ?, ?, ?)",
        (at, curator, exhibition, action,
         json.dumps(detail, ensure_ascii=False, separators=(",", ":"))))


def entries(store: Store, exhibition: str, limit: int = MAX_ENTRIES) -> list[dict[str, Any]]:
    """The newest `limit` entries about an exhibition, newest first."""
    rows = store.conn.execute(
        "SELECT at, curator, action, detail FROM studio_audit WHERE exhibition=?"
        " ORDER BY at DESC, id DESC LIMIT ?", (exhibition, limit)).fetchall()
    return [{"at": at, "curator": curator, "exhibition": exhibition, "action": action,
             "detail": json.loads(detail)} for at, curator, action, detail in rows]


def last_change(store: Store, exhibition: str, actions: tuple[str, ...]
                ) -> tuple[str, float] | None:
    """(curator, time) of the newest of these actions on an exhibition."""
    marks = ", ".join("?" for _ in actions)
    row = store.conn.execute(
        f"SELECT curator, at FROM studio_audit WHERE exhibition=? AND action IN ({marks})"
        " ORDER BY at DESC, id DESC LIMIT 1", (exhibition, *actions)).fetchone()
    return (str(row[0]), float(row[1])) if row else None


# server side ---------------------------------------------------------------------------
async def record(request: web.Request, curator: str, exhibition_id: str | None, action: str,
                 detail: dict[str, Any]) -> None:
    """Record one change made through `request` by `curator`."""
    await record_in(request.app, curator, exhibition_id, action, detail)


async def record_in(app: web.Application, curator: str, exhibition_id: str | None, action: str,
                    detail: dict[str, Any]) -> None:
    """Record a change where there is no request at hand (the upload queue's callbacks)."""
    from vrculture.server.studio.auth import STUDIO_STORE  # auth imports this module

    now = app[appkeys.CLOCK]()
    await app[STUDIO_STORE].add_entry(now, curator, exhibition_id, action, detail)
