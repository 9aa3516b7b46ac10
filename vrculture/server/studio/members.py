"""Who may work on a studio exhibition: its members (its creator first, then whom members add).

A collection folder copied into the studio by hand has no members yet: every curator may open
it, and the first one to change it becomes its member (see `auth.authorize`).
"""

from __future__ import annotations

from vrculture.server.storage import Store


# database side (runs on the store's thread) ---------------------------------------------
def add_member(store: Store, exhibition: str, curator: str, added_by: str, now: float
               ) -> bool:
    """False if already a member."""
    cursor = store.conn.execute(
        "INSERT INTO studio_members (exhibition, curator, added_by, added_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (exhibition, curator) DO NOTHING",
        (exhibition, curator, added_by, now))
    return cursor.rowcount > 0


def members(store: Store, exhibition: str) -> list[str]:
    rows = store.conn.execute(
        "SELECT curator FROM studio_members WHERE exhibition=? ORDER BY added_at, curator",
        (exhibition,)).fetchall()
    return [str(row[0]) for row in rows]
