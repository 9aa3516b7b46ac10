"""Arranging the rooms in the studio: the floor plan's model (vrculture.exhibition.floorplan)
read from and written to collection.toml, and a private preview of the exhibition in the real
viewer (docs/studio.md "Rooms and the preview").

The preview is the studio's own build (the folder the object editor reads and publishing
installs), built with the same builder and cache as publishing but not published: only the
exhibition's members reach it, under /studio/, never cached by anyone else; the public
/exhibitions/ and /bundles/ routes serve published versions only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from vrculture.exhibition.collection import load_collection
from vrculture.exhibition.floorplan import FloorPlanError, apply_floor_plan, check_model
from vrculture.exhibition.floorplan import floor_plan_model as make_model
from vrculture.server import appkeys
from vrculture.server.bodies import read_json
from vrculture.server.jsonreply import JSONError
from vrculture.server.paths import safe_join
from vrculture.server.security import frame_ancestors
from vrculture.server.studio import exhibitions
from vrculture.server.studio import publish as publishing
from vrculture.server.studio.api import (
    _exhibition_id,
    _publish_lock,
    reply,
    studio_refusal,
)
from vrculture.server.studio.audit import record
from vrculture.server.studio.auth import authorize, exhibition_folder, state, store
from vrculture.server.studio.collection_edit import FILE_ACTIONS
from vrculture.server.studio.collection_edit import if_match as _if_match
from vrculture.server.studio.collection_edit import read as _read
from vrculture.server.studio.pages import _member_or_refuse
from vrculture.server.studio.pages import _page as studio_page
from vrculture.server.viewer import RESPONDER
from vrculture.server.viewer import _page as viewer_page

log = logging.getLogger(__name__)

# 5000 works of about 200 bytes each, with titles in a few languages
MAX_MODEL_BYTES = 2 << 20
MAX_MANIFEST_BYTES = 16 << 20
PRIVATE = "private, no-store"
# The floor plan's changes are edits too: a conflict names whoever made the last of any.
# Written beside the bundle, for the studio only (the report names host paths).
NOT_SERVED = frozenset({"build-report.json"})


def preview_bundle(data_dir: Path, exhibition_id: str) -> Path:
    return publishing.builds_dir(data_dir) / exhibition_id / "bundle"


def preview_url(exhibition_id: str) -> str:
    return f"/studio/exhibitions/{exhibition_id}/preview/"


def _read_manifest(bundle: Path) -> dict[str, Any] | None:
    try:
        with open(bundle / "exhibition.json", "rb") as f:
            raw = f.read(MAX_MANIFEST_BYTES + 1)
        manifest = json.loads(raw) if len(raw) <= MAX_MANIFEST_BYTES else None
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _built_from(data_dir: Path, exhibition_id: str) -> str | None:
    try:
        return publishing.built_from_path(data_dir, exhibition_id).read_text("ascii")
    except (OSError, UnicodeDecodeError):
        return None


def is_current(data_dir: Path, exhibition_id: str, version: str) -> bool:
    """Whether the studio's build was made from this version of collection.toml."""
    return _read_manifest(preview_bundle(data_dir, exhibition_id)) is not None and \
        _built_from(data_dir, exhibition_id) == version


def plan_model(folder: Path, exhibition_id: str, data_dir: Path, version: str
               ) -> dict[str, Any]:
    """Blocking. The floor plan of the collection as of `version`: built first when the last
    build is missing or was made from another version of collection.toml (the model's
    positions of works the collection does not fix come from the builder's layout)."""
    if not is_current(data_dir, exhibition_id, version):
        publishing.build_bundle(folder, exhibition_id, data_dir)
    manifest = _read_manifest(preview_bundle(data_dir, exhibition_id))
    if manifest is None:
        raise exhibitions.StudioError(422, "build_failed", "the build wrote no exhibition.json")
    try:
        collection = load_collection(folder)[0]
    except Exception as error:  # CollectionError, OSError: the file changed under us
        raise exhibitions.StudioError(422, "invalid_collection", str(error).replace(
            str(data_dir), "DATA")) from None
    return make_model(collection, manifest)


# the API ---------------------------------------------------------------------------------------
async def build_preview(request: web.Request) -> web.Response:
    """Build the private preview now (1 job, the shared cache); 422 with the builder's
    messages when the collection does not build."""
    exhibition_id = _exhibition_id(request)
    await authorize(request, exhibition_id)
    folder = await exhibition_folder(request, exhibition_id)
    data_dir = request.app[appkeys.CONFIG].data_dir
    async with _publish_lock(request):  # publishing installs this same folder
        try:
            bundle = await asyncio.to_thread(publishing.build_bundle, folder, exhibition_id,
                                             data_dir)
        except exhibitions.StudioError as error:
            raise studio_refusal(error) from None
    manifest = await asyncio.to_thread(_read_manifest, bundle)
    count = len(manifest.get("objects", [])) if manifest else 0
    return reply(request, {"exhibition": exhibition_id, "url": preview_url(exhibition_id),
                           "objects": count}, status=201)


async def get_floor_plan(request: web.Request) -> web.Response:
    exhibition_id = _exhibition_id(request)
    await authorize(request, exhibition_id)
    folder = await exhibition_folder(request, exhibition_id)
    data_dir = request.app[appkeys.CONFIG].data_dir
    snapshot = await _read(folder)
    current = await asyncio.to_thread(is_current, data_dir, exhibition_id, snapshot.version)
    # Only a build takes the lock (publishing writes the same folder); reading does not wait.
    async with _publish_lock(request) if not current else contextlib.nullcontext():
        try:
            model = await asyncio.to_thread(plan_model, folder, exhibition_id, data_dir,
                                            snapshot.version)
        except exhibitions.StudioError as error:
            raise studio_refusal(error) from None
    return reply(request, model, version=snapshot.version)


async def put_floor_plan(request: web.Request) -> web.Response:
    """Write the model into collection.toml if it is still the version the curator read."""
    exhibition_id = _exhibition_id(request)
    curator = await authorize(request, exhibition_id)
    if request.content_type != "application/json":
        raise JSONError(415, "unsupported_media_type", "send application/json")
    model = await read_json(request, MAX_MODEL_BYTES)
    try:
        checked = check_model(model)
    except FloorPlanError as error:
        raise _plan_refusal(error) from None
    expected = _if_match(request)
    folder = await exhibition_folder(request, exhibition_id)
    async with state(request).lock(exhibition_id):
        snapshot = await _read(folder)
        if expected != snapshot.version:
            last = await store(request).last_change(exhibition_id, FILE_ACTIONS)
            who = f"{last[0]} changed it since you read it" if last else \
                "it was changed on disk since you read it"
            raise JSONError(409, "conflict", f"the floor plan of {exhibition_id!r} was not "
                            f"saved: {who}. Reload the plan to see their change, then make "
                            "yours again.", changed_by=last[0] if last else None,
                            changed_at=last[1] if last else None, version=snapshot.version)
        try:
            data = apply_floor_plan(snapshot.raw.decode("utf-8"), checked).encode("utf-8")
        except FloorPlanError as error:
            raise _plan_refusal(error) from None
        if data != snapshot.raw:
            await asyncio.to_thread(exhibitions.write_atomic, folder / exhibitions.TOML_NAME,
                                    data)
            await record(request, curator, exhibition_id, "edit_floor_plan", {
                "rooms": [r["id"] for r in checked["rooms"]],
                "fixed": sorted(w["id"] for w in checked["works"] if w["fixed"])})
    version = exhibitions.version_of(data)
    return reply(request, {"exhibition": exhibition_id, "version": version}, version=version)


def _plan_refusal(error: FloorPlanError) -> JSONError:
    message = str(error)
    field = message.split(":", 1)[0] if ":" in message else "model"
    return JSONError(422, "invalid_field", message, field=field[:200])


# the preview in the viewer -----------------------------------------------------------------
async def preview_page(request: web.Request) -> web.StreamResponse:
    """The viewer's own page; on this address it reads the bundle from /studio/preview/."""
    await _member_or_refuse(request)
    data_dir = request.app[appkeys.CONFIG].data_dir
    bundle = preview_bundle(data_dir, request.match_info["exhibition"])
    if not await asyncio.to_thread((bundle / "exhibition.json").is_file):
        raise web.HTTPNotFound(text="no preview yet: press Preview in the studio to build one",
                               headers={"Cache-Control": PRIVATE})
    response = await viewer_page(request, "exhibition.html", embed=False)
    response.headers["Cache-Control"] = PRIVATE
    # The viewer's policy, but never framed (as every studio page): a framed preview could be
    # clicked through by another site.
    policy = response.headers["Content-Security-Policy"]
    response.headers["Content-Security-Policy"] = policy.replace(
        frame_ancestors(request.app[appkeys.CONFIG], embed=False), "frame-ancestors 'none'")
    return response


async def preview_file(request: web.Request) -> web.StreamResponse:
    """A file of the private preview (ETags and ranges as the public bundles), members only."""
    exhibition_id = _exhibition_id(request)
    await authorize(request, exhibition_id)
    relative = request.match_info["path"]
    bundle = preview_bundle(request.app[appkeys.CONFIG].data_dir, exhibition_id)
    path = safe_join(bundle.resolve(), relative) if bundle.is_dir() else None
    if path is None or relative in NOT_SERVED:
        raise JSONError(404, "not_found", "no such file in the preview")
    return await request.app[RESPONDER].respond(request, path, cache_control=PRIVATE)


def add_plan_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/studio/exhibitions/{exhibition}/plan", plan_page,
                   name="studio_plan_page")
    router.add_get("/studio/exhibitions/{exhibition}/preview/", preview_page,
                   name="studio_preview_page")
    router.add_get("/studio/preview/{exhibition}/{path:.+}", preview_file,
                   name="studio_preview_file")
    router.add_post("/studio/api/exhibitions/{exhibition}/preview", build_preview,
                    name="studio_build_preview")
    router.add_get("/studio/api/exhibitions/{exhibition}/floorplan", get_floor_plan,
                   name="studio_floor_plan")
    router.add_put("/studio/api/exhibitions/{exhibition}/floorplan", put_floor_plan,
                   name="studio_put_floor_plan")


async def plan_page(request: web.Request) -> web.StreamResponse:
    await _member_or_refuse(request)
    return await studio_page(request, "plan.html")
