"""Studio sessions: a random id in an HttpOnly, SameSite=Strict cookie, stored hashed.

A session ends when it has been idle for `idle_seconds`, `absolute_seconds` after sign-in
whatever its use, at sign-out, and when its curator's password changes. Only the SHA-256 of the
id is stored: a copy of the database lets nobody in.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from aiohttp import web

from vrculture.server.basepath import public_path
from vrculture.server.storage import Store, hash_secret

COOKIE = "vrculture_studio"
COOKIE_PATH = "/studio"
SESSION_PREFIX = "vrs_"
_SESSION_ID = re.compile(r"vrs_[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class LiveSession:
    """Whose a live session is, and whether their printed one-time password is still the one
    in use (then the session may only read itself, change the password and sign out)."""
    curator: str
    must_change: bool


@dataclass(frozen=True)
class SessionRules:
    idle_seconds: float = 2 * 3600.0
    absolute_seconds: float = 12 * 3600.0


def new_session_id() -> str:
    return SESSION_PREFIX + secrets.token_urlsafe(32)


def session_id_of(request: web.Request) -> str | None:
    """The cookie's session id, or None when absent or not shaped like one of ours."""
    value = request.cookies.get(COOKIE)
    if value is None or _SESSION_ID.fullmatch(value) is None:
        return None
    return value


def cookie_path(request: web.Request) -> str:
    """/studio, under the public base path (/vr/studio) when there is one."""
    return public_path(request, COOKIE_PATH)


def set_cookie(request: web.Request, response: web.StreamResponse, session_id: str,
               rules: SessionRules) -> None:
    response.set_cookie(COOKIE, session_id, path=cookie_path(request), httponly=True,
                        samesite="Strict", secure=request.scheme == "https",
                        max_age=int(rules.absolute_seconds))


def clear_cookie(request: web.Request, response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path=cookie_path(request), secure=request.scheme == "https",
                        httponly=True, samesite="Strict")


# database side (runs on the store's thread) ---------------------------------------------
def create_session(store: Store, session_id: str, curator: str, now: float) -> None:
    store.conn.execute(
        "INSERT INTO studio_sessions (id_hash, curator, created_at, last_seen)"
        " VALUES (?, ?, ?, ?)", (hash_secret(session_id), curator, now, now))


def touch_session(store: Store, session_id: str, now: float, rules: SessionRules
                  ) -> LiveSession | None:
    """The curator of a live session (and mark it used now), or None. Expired sessions are
    deleted as they are met, and all of them now and then, so the table stays small.

    The lookup is by the hash (an index probe, not a comparison of secrets): the id itself is
    never compared, and a hash reveals nothing about which ids exist."""
    id_hash = hash_secret(session_id)
    row = store.conn.execute(
        "SELECT s.curator, s.created_at, s.last_seen, c.must_change FROM studio_sessions s"
        " JOIN studio_curators c ON c.name = s.curator WHERE s.id_hash=?",
        (id_hash,)).fetchone()
    if row is None:
        return None
    curator, created_at, last_seen, must_change = row
    if now - last_seen > rules.idle_seconds or now - created_at > rules.absolute_seconds:
        store.conn.execute("DELETE FROM studio_sessions WHERE id_hash=?", (id_hash,))
        return None
    store.conn.execute("UPDATE studio_sessions SET last_seen=? WHERE id_hash=?", (now, id_hash))
    return LiveSession(str(curator), bool(must_change))


def delete_session(store: Store, session_id: str) -> None:
    store.conn.execute("DELETE FROM studio_sessions WHERE id_hash=?",
                       (hash_secret(session_id),))


def prune_sessions(store: Store, now: float, rules: SessionRules) -> int:
    return store.conn.execute(
        "DELETE FROM studio_sessions WHERE last_seen < ? OR created_at < ?",
        (now - rules.idle_seconds, now - rules.absolute_seconds)).rowcount
