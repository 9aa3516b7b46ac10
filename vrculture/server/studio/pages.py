"""The studio's HTML pages (web/studio/): the sign-in page for anyone, the others only for a
signed-in curator (anyone else is sent to the sign-in page). Their modules are served by the
viewer's /static/ route (code, no data: nothing in them is private)."""

from __future__ import annotations

from aiohttp import web

from vrculture.server import appkeys
from vrculture.server.assets import REVALIDATE
from vrculture.server.paths import safe_join
from vrculture.server.security import inline_script_hashes
from vrculture.server.studio import members
from vrculture.server.studio.auth import exhibition_folder, session, store
from vrculture.server.studio.fields import EXHIBITION_ID
from vrculture.server.viewer import RESPONDER

SIGN_IN = "/studio/sign-in"
# Stricter than the viewer's: no eval, no blob workers (no three.js here yet), nothing from
# elsewhere, and never inside a frame (a framed studio page could be clicked through by
# another site).
STUDIO_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'",
    "frame-ancestors 'none'",
])


async def _page(request: web.Request, name: str) -> web.StreamResponse:
    config = request.app[appkeys.CONFIG]
    path = safe_join(config.web_dir.resolve(), f"studio/{name}")
    if path is None:
        raise web.HTTPNotFound()
    if inline_script_hashes(path):  # the policy allows none: fail loudly, not in the browser
        raise web.HTTPInternalServerError(text="a studio page holds an inline script")
    response = await request.app[RESPONDER].respond(request, path, cache_control=REVALIDATE)
    response.headers["Content-Security-Policy"] = STUDIO_POLICY
    return response


async def _curator_or_sign_in(request: web.Request) -> str:
    found = await session(request)
    if found is None:
        raise web.HTTPSeeOther(SIGN_IN)
    return found[0]


async def studio_root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect("/studio/")


async def sign_in_page(request: web.Request) -> web.StreamResponse:
    return await _page(request, "sign-in.html")


async def home_page(request: web.Request) -> web.StreamResponse:
    await _curator_or_sign_in(request)
    return await _page(request, "index.html")


async def exhibition_page(request: web.Request) -> web.StreamResponse:
    curator = await _curator_or_sign_in(request)
    exhibition_id = request.match_info["exhibition"]
    if EXHIBITION_ID.fullmatch(exhibition_id) is None:
        raise web.HTTPNotFound(text="no such studio exhibition")
    await exhibition_folder(request, exhibition_id)
    listed = await store(request).run(members.members, exhibition_id)
    if listed and curator not in listed:
        raise web.HTTPForbidden(text="you are not a member of this exhibition")
    return await _page(request, "exhibition.html")
