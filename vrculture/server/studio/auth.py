"""Who is asking, and may they: the studio's session, CSRF and membership checks.

`signed_in(request)` is the one gate of every studio API route, and `authorize(request,
exhibition_id)` (built on it) of every route about one exhibition (the uploads part of the
studio uses it too): 401 without a live session, 403 for a change that fails the CSRF checks,
403 `password_change_required` while the account's printed one-time password is still the one
in use (only the three session routes opt out: read the session, change the password, sign
out), 404 for an unknown exhibition, 403 for a curator who is not a member.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from vrculture.server import appkeys
from vrculture.server.jsonreply import encode
from vrculture.server.login_limits import FailedLogins
from vrculture.server.studio import csrf, exhibitions, sessions
from vrculture.server.studio.audit import record
from vrculture.server.studio.records import StudioRecords

log = logging.getLogger(__name__)


@dataclass
class StudioState:
    root: Path  # DATA/studio/exhibitions
    rules: sessions.SessionRules
    by_address: FailedLogins
    by_account: FailedLogins
    create_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # argon2id holds 64 MiB for its second: a burst of sign-ins waits here instead of taking
    # the server's memory with it.
    hashing: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def lock(self, exhibition_id: str) -> asyncio.Lock:
        """One writer per exhibition at a time in this process: read, compare and write
        happen together (another process is told apart by the version check)."""
        return self._locks.setdefault(exhibition_id, asyncio.Lock())


STATE = web.AppKey("vrculture_studio", StudioState)
# The live session and its id of a request, once checked (set by `session`).
_CHECKED: web.RequestKey[tuple[sessions.LiveSession, str]] = web.RequestKey(
    "vrculture_studio_session")
PASSWORD_CHANGE_REQUIRED = "password_change_required"


def refusal(cls: type[web.HTTPError], code: str, message: str,
            headers: dict[str, str] | None = None, **extra: Any) -> web.HTTPError:
    """An aiohttp error of class `cls` (so callers can tell them apart by type) with the
    server's JSON error body."""
    body = encode({"type": "error", "code": code, "message": message, **extra})
    return cls(text=body.decode("utf-8"), content_type="application/json", headers=headers)


def state(request: web.Request) -> StudioState:
    return request.app[STATE]


# The studio's accounts, sessions, members and audit log: in the server's PostgreSQL with
# `--database`, else in the data folder's SQLite (records.py).
STUDIO_STORE = web.AppKey("vrculture_studio_store", StudioRecords)


def store(request: web.Request) -> StudioRecords:
    return request.app[STUDIO_STORE]


def now(request: web.Request) -> float:
    return request.app[appkeys.CLOCK]()


async def live_session(request: web.Request) -> tuple[sessions.LiveSession, str] | None:
    """The live session of the request's cookie and its id, or None."""
    if _CHECKED in request:
        return request[_CHECKED]
    session_id = sessions.session_id_of(request)
    if session_id is None:
        return None
    live = await store(request).touch_session(session_id, now(request), state(request).rules)
    if live is None:
        return None
    request[_CHECKED] = (live, session_id)
    return live, session_id


async def session(request: web.Request) -> tuple[str, str] | None:
    """(curator, session id) of a live session, or None."""
    found = await live_session(request)
    return None if found is None else (found[0].curator, found[1])


def must_change_password(request: web.Request) -> bool:
    """True if the request's checked session still runs on a one-time password."""
    return _CHECKED in request and request[_CHECKED][0].must_change


def check_origin(request: web.Request) -> None:
    problem = csrf.origin_problem(request, request.app[appkeys.CONFIG])
    if problem is not None:
        log.warning("studio: refused %s %s from %s: %s", request.method, request.path,
                    request.remote, problem)
        raise refusal(web.HTTPForbidden, "cross_site", problem)


async def signed_in(request: web.Request, *, one_time_password_ok: bool = False
                    ) -> tuple[str, str]:
    """(curator, session id); 401 without a session; for a change, 403 unless it passes
    both CSRF checks; 403 while the account's one-time password is in use, unless the route
    is one of the few a curator needs to replace it (`one_time_password_ok`)."""
    found = await session(request)
    if found is None:
        raise refusal(web.HTTPUnauthorized, "unauthenticated",
                      "sign in to the studio first (POST /studio/api/session)")
    if request.method in csrf.UNSAFE_METHODS:
        check_origin(request)
        problem = csrf.token_problem(request, found[1])
        if problem is not None:
            log.warning("studio: refused %s %s from %s: bad CSRF token", request.method,
                        request.path, request.remote)
            raise refusal(web.HTTPForbidden, "csrf", problem)
    if not one_time_password_ok and must_change_password(request):
        raise refusal(web.HTTPForbidden, PASSWORD_CHANGE_REQUIRED,
                      "choose your own password first (POST /studio/api/session/password): "
                      "a one-time password opens nothing else")
    return found


async def exhibition_folder(request: web.Request, exhibition_id: str) -> Path:
    path = await asyncio.to_thread(exhibitions.folder, state(request).root, exhibition_id)
    if path is None:
        raise refusal(web.HTTPNotFound, "unknown_exhibition",
                      "no studio exhibition has this id (ids are 1-64 of a-z, 0-9, _ and -)")
    return path


async def authorize(request: web.Request, exhibition_id: str) -> str:
    """The signed-in curator, if they may work on this exhibition (see the module)."""
    curator, _ = await signed_in(request)
    await exhibition_folder(request, exhibition_id)
    listed = await store(request).members(exhibition_id)
    if not listed:  # a folder copied in by hand: open to all; the first to change it owns it
        if request.method in csrf.UNSAFE_METHODS and await store(request).add_member(
                exhibition_id, curator, curator, now(request)):
            await record(request, curator, exhibition_id, "claim", {})
        return curator
    if curator not in listed:
        raise refusal(web.HTTPForbidden, "not_a_member", f"you are not a member of "
                      f"{exhibition_id!r}; a member can add you")
    return curator
