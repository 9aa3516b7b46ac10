"""Cross-site request forgery: every change must come from a studio page of this server.

Two independent checks, both required on POST, PUT, PATCH and DELETE:
- the `Origin` header names this server's own origin (a browser always sends it on such
  requests; absent means a script or an old browser, which the studio does not serve);
- `X-CSRF-Token` carries the session's CSRF token, which only a page that could read
  `GET /studio/api/session` (same origin) knows.

The token is derived from the session id (SHA-256 over a fixed label and the id), so nothing
more is stored, it dies with the session, and knowing it does not reveal the session id.
"""

from __future__ import annotations

import hashlib
import hmac

from aiohttp import web

from vrculture.server.config import ServerConfig
from vrculture.server.security import own_origins

HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def csrf_token(session_id: str) -> str:
    return hashlib.sha256(b"vrculture-studio-csrf\x00" + session_id.encode("ascii")).hexdigest()


def origin_problem(request: web.Request, config: ServerConfig) -> str | None:
    """Why the request's Origin is not acceptable for a change, or None when it is."""
    origin = request.headers.get("Origin")
    if origin is None:
        return "the Origin header is missing: changes are accepted only from the studio's pages"
    if origin.strip().rstrip("/").lower() not in own_origins(request, config):
        return "the Origin header names another site: changes are accepted only from the " \
               "studio's own pages"
    return None


def token_problem(request: web.Request, session_id: str) -> str | None:
    """Why the request's CSRF token is not the session's, or None when it is."""
    presented = request.headers.get(HEADER, "")
    expected = csrf_token(session_id)
    if not presented:
        return f"the {HEADER} header is missing (GET /studio/api/session gives the token)"
    if not hmac.compare_digest(presented.encode("utf-8", "replace"), expected.encode("ascii")):
        return f"the {HEADER} header is not this session's token; reload the page"
    return None
