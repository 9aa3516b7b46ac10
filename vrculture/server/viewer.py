"""Routes that serve files: the viewer pages and modules (web/), three.js (the vendored
subset in vrculture/vendor/three), and the bundles."""

from __future__ import annotations

from aiohttp import web

from vrculture.server import appkeys
from vrculture.server.assets import REVALIDATE, FileResponder
from vrculture.server.basepath import page_response
from vrculture.server.config import ServerConfig
from vrculture.server.paths import safe_join
from vrculture.server.registry import BundleRegistry
from vrculture.server.security import WORKER_POLICY, inline_script_hashes, page_policy
from vrculture.server.webfiles import BASIS_WORKER, THREE_DIR

RESPONDER = web.AppKey("vrculture_file_responder", FileResponder)
# Earlier builds wrote their report into the bundle (now beside it): it names host paths.
NOT_PUBLIC = frozenset({"build-report.json"})
THREE_ALLOWED = ("build/", "examples/jsm/")  # the import map targets; nothing else of the package


def _config(request: web.Request) -> ServerConfig:
    return request.app[appkeys.CONFIG]


def _registry(request: web.Request) -> BundleRegistry:
    return request.app[appkeys.EXHIBITIONS]


async def _web_file(
    request: web.Request, relative: str, *, public: bool = False
) -> web.StreamResponse:
    """`public`: under security.PUBLIC_PREFIXES (any page may fetch it)."""
    root = _config(request).web_dir.resolve()
    path = safe_join(root, relative)
    if path is None:
        raise web.HTTPNotFound()
    return await request.app[RESPONDER].respond(request, path, cache_control=REVALIDATE,
                                                public=public)


async def _page(request: web.Request, name: str, *, embed: bool) -> web.Response:
    """A viewer page with its full Content-Security-Policy (inline scripts by hash)."""
    path = safe_join(_config(request).web_dir.resolve(), name)
    if path is None:
        raise web.HTTPNotFound()
    response = page_response(request, path, cache_control=REVALIDATE)
    hashes = inline_script_hashes(path)
    response.headers["Content-Security-Policy"] = page_policy(
        _config(request), embed=embed, script_hashes=hashes)
    return response


async def index_page(request: web.Request) -> web.StreamResponse:
    return await _page(request, "index.html", embed=False)


async def exhibition_page(request: web.Request) -> web.StreamResponse:
    if _registry(request).get(request.match_info["exhibition"]) is None:
        raise web.HTTPNotFound(text="no such exhibition")
    return await _page(request, "exhibition.html", embed=False)


async def object_page(request: web.Request) -> web.StreamResponse:
    """An object's deep link (its wall label's QR code): the viewer, opened at its view point."""
    exhibition = _registry(request).get(request.match_info["exhibition"])
    if exhibition is None:
        raise web.HTTPNotFound(text="no such exhibition")
    object_id = request.match_info["object"]
    if not any(o["id"] == object_id for o in exhibition.manifest["objects"]):
        raise web.HTTPNotFound(text="no such object")
    return await _page(request, "exhibition.html", embed=False)


async def embed_page(request: web.Request) -> web.StreamResponse:
    exhibition = _registry(request).get(request.match_info["exhibition"])
    if exhibition is None:
        raise web.HTTPNotFound(text="no such exhibition")
    object_id = request.match_info.get("object")
    if object_id is not None and not any(
        o["id"] == object_id for o in exhibition.manifest["objects"]
    ):
        raise web.HTTPNotFound(text="no such object")
    return await _page(request, "embed.html", embed=True)


async def static_file(request: web.Request) -> web.StreamResponse:
    return await _web_file(request, request.match_info["path"], public=True)


async def embed_script(request: web.Request) -> web.StreamResponse:
    return await _web_file(request, "vrculture-embed.js", public=True)


async def three_file(request: web.Request) -> web.StreamResponse:
    relative = request.match_info["path"]
    if not relative.startswith(THREE_ALLOWED):
        raise web.HTTPNotFound()
    path = safe_join(THREE_DIR.resolve(), relative)
    if path is None:
        raise web.HTTPNotFound()
    return await request.app[RESPONDER].respond(request, path, cache_control=REVALIDATE,
                                                public=True)


async def basis_worker_file(request: web.Request) -> web.StreamResponse:
    response = await request.app[RESPONDER].respond(request, BASIS_WORKER,
                                                    cache_control=REVALIDATE, public=True)
    # A worker's policy is its script's: the transcoder (emscripten embind) builds functions
    # with `new Function` and compiles WebAssembly, and needs nothing else. The pages that start
    # it may then refuse eval (security.page_policy).
    response.headers["Content-Security-Policy"] = WORKER_POLICY
    return response


async def bundle_file(request: web.Request) -> web.StreamResponse:
    exhibition = _registry(request).get(request.match_info["exhibition"])
    if exhibition is None:
        raise web.HTTPNotFound(text="no such exhibition")
    relative = request.match_info["path"]
    path = safe_join(exhibition.root, relative)
    if path is None or relative in NOT_PUBLIC:
        raise web.HTTPNotFound()
    # The manifest keeps its name across versions: always revalidated (cheap with its ETag).
    cache_control = REVALIDATE if relative == "exhibition.json" else None
    return await request.app[RESPONDER].respond(request, path, cache_control=cache_control,
                                                public=True)


def add_routes(app: web.Application) -> None:
    app[RESPONDER] = FileResponder()
    app.router.add_get("/", index_page, name="index")
    app.router.add_get("/exhibitions/{exhibition}", exhibition_page, name="exhibition_page")
    app.router.add_get("/exhibitions/{exhibition}/objects/{object}", object_page,
                       name="object_page")
    app.router.add_get("/embed/{exhibition}", embed_page, name="embed_exhibition")
    app.router.add_get("/embed/{exhibition}/{object}", embed_page, name="embed_object")
    app.router.add_get("/static/{path:.+}", static_file, name="static")
    app.router.add_get("/vrculture-embed.js", embed_script, name="embed_script")
    app.router.add_get("/vendor/three/{path:.+}", three_file, name="three")
    app.router.add_get("/vendor/basis_worker.js", basis_worker_file, name="basis_worker")
    app.router.add_get("/bundles/{exhibition}/{path:.+}", bundle_file, name="bundle_file")
