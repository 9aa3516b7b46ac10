"""The curator's admin API under /api/admin/: feeds, guide codes, publishing and rolling back
exhibitions on a running server, behind the curator token (`vrculture curator token`).

Every route checks the bearer token first (against its stored hash, in constant time, on the
database thread, so a rotation takes effect at the next request). Tokens never reach a log:
the audit lines below name the action, never a secret. Uploaded bundles are installed by the
same `publishing.publish` as `vrculture publish`; the running registry picks the new version
up at its next poll of the data folder and swaps it in one assignment.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import re
import secrets
import shutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from vrculture.server import appkeys
from vrculture.server.api import health_details
from vrculture.server.bodies import read_json
from vrculture.server.bundle_upload import (
    UploadError,
    UploadLimits,
    ensure_room,
    receive,
    tree_bytes,
    unpack,
)
from vrculture.server.config import ServerConfig
from vrculture.server.jsonreply import JSONError, json_reply
from vrculture.server.login_limits import FailedLogins
from vrculture.server.publish_history import VERSION
from vrculture.server.publishing import PublishError, publish, rollback, versions
from vrculture.server.readings import KINDS
from vrculture.server.registry import BundleError, load_bundle
from vrculture.server.security import bearer_token
from vrculture.server.store_interface import DataStore

log = logging.getLogger(__name__)

ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_JSON_BYTES = 16 * 1024
MAX_LABEL_CHARS = 64
MAX_UNIT_CHARS = 16
# The archive's own bytes say whether it is gzip-compressed; these only keep out bodies that
# were clearly meant for something else (JSON, forms).
ARCHIVE_TYPES = {"application/x-tar", "application/tar", "application/gzip",
                 "application/x-gzip", "application/x-compressed-tar", "application/tar+gzip",
                 "application/octet-stream"}
STALE_UPLOAD_SECONDS = 24 * 3600  # leftovers of a process killed mid-upload

UPLOAD_LIMITS = web.AppKey("vrculture_upload_limits", UploadLimits)
PUBLISH_LOCK = web.AppKey("vrculture_publish_lock", asyncio.Lock)
FAILED_LOGINS = web.AppKey("vrculture_failed_logins", FailedLogins)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _store(request: web.Request) -> DataStore:
    return request.app[appkeys.FEED_STORE]


def _config(request: web.Request) -> ServerConfig:
    return request.app[appkeys.CONFIG]


async def authenticate(request: web.Request) -> None:
    """Raise 401 unless the request carries the current curator token; 429 while the client's
    address has used up its failed attempts (guessing the token is throttled)."""
    token = bearer_token(request)
    if token is None:  # no guess at all (or none that could be a token): nothing to throttle
        raise JSONError(401, "unauthenticated", "send the curator token as 'Authorization: "
                        "Bearer <token>' (create it with `vrculture curator token`)",
                        headers={"WWW-Authenticate": 'Bearer realm="admin"'})
    client = request.remote or "unknown"
    failures = request.app[FAILED_LOGINS]
    wait = failures.retry_after(client)
    if wait is not None:  # before the token is checked: a locked-out guesser learns nothing
        raise JSONError(429, "too_many_attempts", f"too many wrong curator tokens from this "
                        f"address: retry in {wait} s", headers={"Retry-After": str(wait)})
    if not await _store(request).check_curator_token(token):
        failures.failed(client)
        log.warning("refused %s %s from %s: invalid curator token",
                    request.method, request.path, request.remote)
        raise JSONError(401, "invalid_token", "this is not the current curator token",
                        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def curator_only(handler: Handler) -> Handler:
    """Refuse (401) a request without the current curator token, before reading its body."""

    @functools.wraps(handler)
    async def checked(request: web.Request) -> web.StreamResponse:
        await authenticate(request)
        return await handler(request)

    return checked


async def _expect_upload(request: web.Request) -> None:
    """`Expect: 100-continue` (curl sends it for large bodies): refuse a bad token or an
    oversized upload BEFORE the client sends gigabytes, instead of after."""
    await authenticate(request)
    limits = request.app[UPLOAD_LIMITS]
    if request.content_length is not None and request.content_length > limits.max_upload_bytes:
        raise JSONError(413, "too_large", f"the upload is limited to {limits.max_upload_bytes} "
                        "bytes")
    if request.headers.get("Expect", "").lower() != "100-continue":
        raise JSONError(417, "expectation_failed", "only 'Expect: 100-continue' is understood")
    if request.version >= (1, 1):  # what aiohttp's default expect handler does
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # the 100 is not part of the response's size


def _path_id(request: web.Request, name: str) -> str:
    value = request.match_info[name]
    if not ID.fullmatch(value):
        raise JSONError(404, f"unknown_{name}", f"{name} ids are 1-64 of a-z, 0-9, '_' and '-'")
    return value


async def _json_object(request: web.Request, allowed: set[str]) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise JSONError(415, "unsupported_media_type", "send application/json")
    body = await read_json(request, MAX_JSON_BYTES)
    if not isinstance(body, dict):
        raise JSONError(422, "invalid_field", "the body must be a JSON object")
    extra = sorted(set(body) - allowed)
    if extra:
        raise JSONError(422, "unknown_field", f"{extra[0][:64]}: unknown field",
                        field=extra[0][:64])
    return body


def _text(body: dict[str, Any], field: str, max_chars: int, pattern: re.Pattern | None = None
          ) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if (not isinstance(value, str) or len(value) > max_chars
            or any(not c.isprintable() for c in value)
            or (pattern is not None and not pattern.fullmatch(value))):
        raise JSONError(422, "invalid_field", f"{field}: text of at most {max_chars} printable "
                        "characters" + (f" matching {pattern.pattern}" if pattern else ""),
                        field=field)
    return value


def _required(value: str | None, field: str) -> str:
    if value is None:  # absent, or null (which optional fields may be)
        raise JSONError(422, "missing_field", f"{field}: required", field=field)
    return value


def _number(body: dict[str, Any], field: str) -> float | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise JSONError(422, "invalid_field", f"{field}: a finite number", field=field)
    return float(value)


# feeds -------------------------------------------------------------------------------------
@curator_only
async def create_feed(request: web.Request) -> web.Response:
    body = await _json_object(request, {"feed_id", "kind", "exhibition", "unit", "min", "max"})
    feed_id = _required(_text(body, "feed_id", 64, ID), "feed_id")
    kind = body.get("kind")
    if kind is not None and kind not in KINDS:
        raise JSONError(422, "invalid_field", f"kind: one of {', '.join(KINDS)} (or absent: "
                        "taken from the exhibition that lists the feed)", field="kind")
    exhibition = _text(body, "exhibition", 64, ID)
    unit = _text(body, "unit", MAX_UNIT_CHARS)
    low, high = _number(body, "min"), _number(body, "max")
    if kind != "gauge" and any(v is not None for v in (unit, low, high)):
        field = next(f for f in ("unit", "min", "max") if body.get(f) is not None)
        raise JSONError(422, "invalid_field", f"{field}: only for kind 'gauge'", field=field)
    if low is not None and high is not None and low >= high:
        raise JSONError(422, "invalid_field", "min: must be below max", field="min")
    try:
        token = await _store(request).add_feed(feed_id, kind=kind, exhibition=exhibition,
                                             unit=unit, minimum=low, maximum=high)
    except KeyError:
        raise JSONError(409, "exists", f"feed {feed_id!r} already exists (rotate its token "
                        "instead)") from None
    log.info("feed %s created", feed_id)
    return json_reply(request, {"feed_id": feed_id, "token": token}, status=201, etag=False,
                      cache_control="no-store")


@curator_only
async def rotate_feed(request: web.Request) -> web.Response:
    feed_id = _path_id(request, "feed")
    try:
        token = await _store(request).rotate_feed_token(feed_id)
    except KeyError:
        raise JSONError(404, "unknown_feed", f"no feed {feed_id!r}") from None
    log.info("token of feed %s rotated", feed_id)
    return json_reply(request, {"feed_id": feed_id, "token": token}, etag=False,
                      cache_control="no-store")


@curator_only
async def delete_feed(request: web.Request) -> web.Response:
    feed_id = _path_id(request, "feed")
    if not await _store(request).remove_feed(feed_id):
        raise JSONError(404, "unknown_feed", f"no feed {feed_id!r}")
    log.info("feed %s removed (its readings kept)", feed_id)
    return web.Response(status=204)


# guide codes -------------------------------------------------------------------------------
@curator_only
async def create_guide_code(request: web.Request) -> web.Response:
    body = await _json_object(request, {"exhibition", "label"})
    exhibition = _required(_text(body, "exhibition", 64, ID), "exhibition")
    if request.app[appkeys.EXHIBITIONS].get(exhibition) is None:
        raise JSONError(404, "unknown_exhibition", f"no exhibition {exhibition!r} is served "
                        "here: a code for it would lead nothing", field="exhibition")
    label = _text(body, "label", MAX_LABEL_CHARS) or ""
    store = _store(request)
    code = await store.add_guide_code(exhibition, label)
    await store.refresh_guide_codes()  # valid in the rooms at once, not at the next poll
    log.info("guide code added for %s", exhibition)
    return json_reply(request, {"exhibition": exhibition, "label": label, "code": code},
                      status=201, etag=False, cache_control="no-store")


# exhibitions -------------------------------------------------------------------------------
def _published_home(config: ServerConfig, exhibition_id: str) -> Path:
    return config.data_dir / "exhibitions" / exhibition_id


def _refuse_if_served_from_folder(request: web.Request, exhibition_id: str) -> None:
    """A bundle folder named on the command line wins over a published one: an upload for
    its id would be installed but never served, so say so instead."""
    served = request.app[appkeys.EXHIBITIONS].get(exhibition_id)
    published = _published_home(_config(request), exhibition_id).resolve()
    if served is not None and not served.root.is_relative_to(published):
        raise JSONError(409, "served_from_folder", f"exhibition {exhibition_id!r} is served "
                        "from a bundle folder given to `vrculture serve`; it cannot be replaced "
                        "remotely")


def _workspace(data_dir: Path) -> Path:
    """A fresh private folder for one upload, next to the published bundles (same disk)."""
    uploads = data_dir / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    for old in uploads.iterdir():
        try:
            if time.time() - old.stat().st_mtime > STALE_UPLOAD_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue
    work = uploads / f"upload-{secrets.token_hex(8)}"
    work.mkdir(mode=0o700)
    return work


def _install(archive: Path, work: Path, exhibition_id: str, data_dir: Path,
             limits: UploadLimits) -> dict[str, Any]:
    """Unpack, validate and publish (blocking: runs in a thread)."""
    root = unpack(archive, work / "bundle", limits)
    archive.unlink()  # not needed any more: halve the disk this upload holds
    try:
        loaded = load_bundle(root)
    except BundleError as error:  # name the file inside the bundle, not our temporary folder
        message = str(error).replace(f"{root.resolve()}/", "").replace(f"{root}/", "")
        raise UploadError(422, "invalid_bundle", message) from None
    if loaded.id != exhibition_id:
        raise UploadError(422, "id_mismatch", f"exhibition.json: id is {loaded.id!r} but the "
                          f"upload is for {exhibition_id!r}")
    ensure_room(data_dir, tree_bytes(root), limits.min_free_bytes)  # publish copies it
    try:
        done = publish(root, data_dir, by=ADMIN_PUBLISHER)
    except PublishError as error:
        raise UploadError(422, "invalid_bundle", str(error)) from None
    return {"exhibition": done.exhibition, "version": done.version, "previous": done.previous}


def _exclusive(request: web.Request) -> asyncio.Lock:
    lock = request.app[PUBLISH_LOCK]
    if lock.locked():  # a second curator script must not interleave two link switches
        raise JSONError(409, "busy", "another upload or rollback is in progress; retry")
    return lock


@curator_only
async def put_exhibition(request: web.Request) -> web.Response:
    exhibition_id = _path_id(request, "exhibition")
    _refuse_if_served_from_folder(request, exhibition_id)
    if request.content_type not in ARCHIVE_TYPES:
        raise JSONError(415, "unsupported_media_type", "send the bundle as application/x-tar "
                        "or application/gzip (a tar archive, optionally gzip-compressed)")
    limits = request.app[UPLOAD_LIMITS]
    data_dir = _config(request).data_dir
    async with _exclusive(request):
        work = await asyncio.to_thread(_workspace, data_dir)
        try:
            archive = work / "upload.tar"
            size = await receive(request, archive, limits.max_upload_bytes,
                                 limits.min_free_bytes)
            result = await asyncio.to_thread(_install, archive, work, exhibition_id, data_dir,
                                             limits)
        except UploadError as error:
            log.warning("upload for %s refused: %s", exhibition_id, error.message)
            raise JSONError(error.status, error.code, error.message) from None
        finally:
            await asyncio.to_thread(shutil.rmtree, work, True)
    unchanged = result["version"] == result["previous"]
    log.info("exhibition %s version %s %s (%d bytes uploaded)", exhibition_id,
             result["version"], "unchanged" if unchanged else "published", size)
    return json_reply(request, result, status=200 if unchanged else 201, etag=False)


# The admin API has one curator token, not named accounts: the history says it was the API.
ADMIN_PUBLISHER = "admin API (curator token)"


@curator_only
async def rollback_exhibition(request: web.Request) -> web.Response:
    exhibition_id = _path_id(request, "exhibition")
    data_dir = _config(request).data_dir
    if not _published_home(_config(request), exhibition_id).is_dir():
        raise JSONError(404, "unknown_exhibition", f"no published exhibition {exhibition_id!r}")
    to = None
    if request.can_read_body or request.content_type == "application/json":
        to = _text(await _json_object(request, {"version"}), "version", 16, VERSION)
    async with _exclusive(request):
        try:
            done = await asyncio.to_thread(rollback, data_dir, exhibition_id, to,
                                           by=ADMIN_PUBLISHER)
        except PublishError as error:
            raise JSONError(409, "no_previous" if to is None else "not_kept",
                            str(error)) from None
    log.info("exhibition %s rolled back to %s", exhibition_id, done.version)
    return json_reply(request, {"exhibition": done.exhibition, "version": done.version,
                                "previous": done.previous}, etag=False)


@curator_only
async def exhibition_versions(request: web.Request) -> web.Response:
    exhibition_id = _path_id(request, "exhibition")
    if not _published_home(_config(request), exhibition_id).is_dir():
        raise JSONError(404, "unknown_exhibition", f"no published exhibition {exhibition_id!r}")
    kept = await asyncio.to_thread(versions, _config(request).data_dir, exhibition_id)
    return json_reply(request, {"exhibition": exhibition_id, "versions": [
        {"version": k.version, "current": k.current, "kept": k.kept,
         "history": [{"action": e.action, "at": e.at, "by": e.by} for e in k.history]}
        for k in kept]}, etag=False)


def setup_admin(app: web.Application, limits: UploadLimits | None = None) -> None:
    app[UPLOAD_LIMITS] = limits or UploadLimits()
    app[PUBLISH_LOCK] = asyncio.Lock()
    app[FAILED_LOGINS] = FailedLogins()
    add = app.router
    add.add_post("/api/admin/feeds", create_feed, name="admin_feed_create")
    add.add_post("/api/admin/feeds/{feed}/rotate", rotate_feed, name="admin_feed_rotate")
    add.add_delete("/api/admin/feeds/{feed}", delete_feed, name="admin_feed_delete")
    add.add_post("/api/admin/guides", create_guide_code, name="admin_guide_create")
    add.add_put("/api/admin/exhibitions/{exhibition}", put_exhibition,
                name="admin_exhibition_put", expect_handler=_expect_upload)
    add.add_post("/api/admin/exhibitions/{exhibition}/rollback", rollback_exhibition,
                 name="admin_exhibition_rollback")
    add.add_get("/api/admin/exhibitions/{exhibition}/versions", exhibition_versions,
                name="admin_exhibition_versions")
    add.add_get("/api/admin/health", curator_only(health_details), name="admin_health")
