"""The studio's HTML pages (web/studio/): the sign-in page for anyone, the others only for a
signed-in curator (anyone else is sent to the sign-in page). Their modules are served by the
viewer's /static/ route (code, no data: nothing in them is private)."""

from __future__ import annotations

from aiohttp import web

from vrculture.server import appkeys
from vrculture.server.assets import REVALIDATE
from vrculture.server.basepath import page_response, public_path
from vrculture.server.paths import safe_join
from vrculture.server.security import inline_script_hashes
from vrculture.server.studio.auth import (
    exhibition_folder,
    must_change_password,
    session,
    store,
)
from vrculture.server.studio.fields import EXHIBITION_ID

SIGN_IN = "/studio/sign-in"
HOME = "/studio/"  # where the password form is, while a one-time password is in use
# Stricter than the viewer's: no eval, no blob workers (no three.js here yet), nothing from
# elsewhere, and never inside a frame (a framed studio page could be clicked through by
# another site).
STUDIO_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "connect-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'",
    "frame-ancestors 'none'",
])




def model_view_policy(script_hashes: tuple[str, ...]) -> str:
    """The object editor's policy: the studio's, plus what three.js needs to show a converted
    model as the viewer does (see security.page_policy): its import map by hash, WebAssembly
    (the meshopt decoder), workers from this server only, and GLTFLoader's blob: images."""
    return "; ".join([
        "default-src 'self'", " ".join(["script-src 'self' 'wasm-unsafe-eval'", *script_hashes]),
        "worker-src 'self'", "style-src 'self'", "img-src 'self' data: blob:",
        "connect-src 'self' blob:", "object-src 'none'", "base-uri 'self'",
        "form-action 'self'", "frame-ancestors 'none'",
    ])


async def _page(request: web.Request, name: str, *, model_view: bool = False
                ) -> web.StreamResponse:
    config = request.app[appkeys.CONFIG]
    path = safe_join(config.web_dir.resolve(), f"studio/{name}")
    if path is None:
        raise web.HTTPNotFound()
    hashes = inline_script_hashes(path)
    if hashes and not model_view:  # the policy allows none: fail loudly, not in the browser
        raise web.HTTPInternalServerError(text="a studio page holds an inline script")
    response = page_response(request, path, cache_control=REVALIDATE)
    response.headers["Content-Security-Policy"] = model_view_policy(hashes) if model_view \
        else STUDIO_POLICY
    return response


async def _curator_or_sign_in(request: web.Request, *, home: bool = False) -> str:
    """The signed-in curator; else on to the sign-in page, or to the home page (its password
    form) while their one-time password is still the one in use."""
    found = await session(request)
    if found is None:
        raise web.HTTPSeeOther(public_path(request, SIGN_IN))
    if not home and must_change_password(request):
        raise web.HTTPSeeOther(public_path(request, HOME))
    return found[0]


async def studio_root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect(public_path(request, "/studio/"))


async def sign_in_page(request: web.Request) -> web.StreamResponse:
    return await _page(request, "sign-in.html")


async def home_page(request: web.Request) -> web.StreamResponse:
    await _curator_or_sign_in(request, home=True)
    return await _page(request, "index.html")


async def _member_or_refuse(request: web.Request) -> None:
    curator = await _curator_or_sign_in(request)
    exhibition_id = request.match_info["exhibition"]
    if EXHIBITION_ID.fullmatch(exhibition_id) is None:
        raise web.HTTPNotFound(text="no such studio exhibition")
    await exhibition_folder(request, exhibition_id)
    listed = await store(request).members(exhibition_id)
    if listed and curator not in listed:
        raise web.HTTPForbidden(text="you are not a member of this exhibition")


async def exhibition_page(request: web.Request) -> web.StreamResponse:
    await _member_or_refuse(request)
    return await _page(request, "exhibition.html")


async def object_page(request: web.Request) -> web.StreamResponse:
    await _member_or_refuse(request)
    if EXHIBITION_ID.fullmatch(request.match_info["object"]) is None:
        raise web.HTTPNotFound(text="no such object")
    return await _page(request, "object.html", model_view=True)
