"""Studio uploads: resumable (tus 1.0.0) uploads of a curator's files, and their conversion.

Routes, under `/studio/api/exhibitions/{id}`:
- `OPTIONS|POST /uploads`: the protocol's capabilities; create an upload (tus creation);
- `HEAD|PATCH|DELETE /uploads/{upload}`: its offset; append bytes; abandon it (termination);
- `GET /uploads`: every upload's state and each object's latest conversion event (JSON);
- `GET /events`: conversion progress as server-sent events (see `progress`).

Every route first asks the injected `authorize(request, exhibition_id)` (the studio's
sign-in, which also checks CSRF on unsafe methods). A PATCH streams its body to disk in
bounded batches (memory stays flat whatever the file's size) and keeps what arrived even when
the connection drops, so the client continues from the offset HEAD reports, also after a
server restart (the state lives in files, see `store`). Only one PATCH per upload at a time
(a file lock, so it holds across worker processes too). A finished upload moves into
`sources/` (a zip is unpacked there as hostile input, see `archives`), its objects are found
(`intake`), entered in collection.toml (`register`) and queued for conversion (`queue`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from aiohttp import web

from vrculture.exhibition.cache import Cache
from vrculture.server import appkeys
from vrculture.server.basepath import public_path
from vrculture.server.bodies import iter_body
from vrculture.server.bundle_upload import UploadError, ensure_room
from vrculture.server.jsonreply import JSONError, json_reply
from vrculture.server.studio import tus
from vrculture.server.studio.archives import ZipLimits, unpack_zip
from vrculture.server.studio.intake import objects_among
from vrculture.server.studio.names import RefusedName, check_accepted, is_archive, safe_relative
from vrculture.server.studio.progress import ProgressHub, stream_events
from vrculture.server.studio.queue import ConversionQueue, ConversionTask
from vrculture.server.studio.register import object_ids, register_object
from vrculture.server.studio.relay import EventRelay
from vrculture.server.studio.store import (
    EXHIBITION_ID,
    UNFINISHED_DAYS,
    UploadInfo,
    UploadStore,
)
from vrculture.server.supervision import start_supervised

log = logging.getLogger(__name__)

Authorize = Callable[[web.Request, str], Awaitable[str]]
OnChange = Callable[[str, str, str, dict[str, Any]], Awaitable[None]]

BASE = "/studio/api/exhibitions/{exhibition}"
WRITE_BATCH = 1 << 20  # bytes gathered before one write to disk (in a thread)
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
NAME_KEYS = ("relativePath", "filename", "name")  # Uppy and tus-js-client apps use these


@dataclass(frozen=True)
class StudioUploadLimits:
    max_upload_bytes: int = 4 << 30  # one file (or zip) as sent
    quota_bytes: int = 20 << 30  # one exhibition's sources plus its unfinished uploads
    min_free_bytes: int = 512 << 20  # what must stay free on the data folder's disk
    # PATCHes streaming at once in this process: each holds up to two write batches (2 MB).
    # Clients retry a 503 (tus-js-client and upload.js alike).
    max_concurrent_patches: int = 8
    zip: ZipLimits = field(default_factory=ZipLimits)


@dataclass
class StudioUploads:
    """Everything the routes share (one per application)."""

    store: UploadStore
    hub: ProgressHub
    queue: ConversionQueue
    limits: StudioUploadLimits
    authorize: Authorize
    on_change: OnChange | None = None
    clock: Callable[[], float] = time.time  # expiry of abandoned uploads; injectable
    receiving: int = 0  # PATCHes streaming now
    relay: EventRelay | None = None  # events to and from the other server processes
    finishing: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def changed(self, curator: str, exhibition_id: str, action: str,
                      detail: dict[str, Any]) -> None:
        if self.on_change is not None:
            await self.on_change(curator, exhibition_id, action, detail)


STUDIO_UPLOADS = web.AppKey("vrculture_studio_uploads", StudioUploads)


def studio_cache_dir(data_dir: Path) -> Path:
    """The studio's build cache: its conversion queue and its publish builds share it, so a
    publish never converts again what the queue has converted."""
    return data_dir / "studio" / ".vrculture-cache"


def setup_studio_uploads(app: web.Application, *, authorize: Authorize,
                         on_change: OnChange | None = None, data_dir: Path | None = None,
                         cache_dir: Path | None = None,
                         limits: StudioUploadLimits | None = None,
                         workers: int | None = None,
                         clock: Callable[[], float] = time.time) -> None:
    """Add the studio's upload and progress routes and its conversion queue to `app`.

    `data_dir` defaults to the server's configured data folder; the studio lives in
    `data_dir/studio/`. `cache_dir` (default `data_dir/studio/.vrculture-cache`) is the build
    cache: a studio build passes the same folder to `vrculture build --cache`. Called again
    on the same app (before it starts), it replaces the first call's settings."""
    if data_dir is None:
        data_dir = app[appkeys.CONFIG].data_dir
    studio_root = data_dir / "studio"
    hub = ProgressHub(states_root=studio_root / "objects")
    cache = Cache(cache_dir or studio_cache_dir(data_dir))
    state = StudioUploads(UploadStore(studio_root), hub,
                          ConversionQueue(hub, cache, workers=workers),
                          limits or StudioUploadLimits(), authorize, on_change, clock)
    again = STUDIO_UPLOADS in app
    app[STUDIO_UPLOADS] = state
    if again:  # set up once more (another authorize, limits or clock): same routes, new state
        return
    app.router.add_route("OPTIONS", f"{BASE}/uploads", options_uploads)
    app.router.add_post(f"{BASE}/uploads", create_upload)
    app.router.add_get(f"{BASE}/uploads", list_uploads, allow_head=False)
    app.router.add_route("HEAD", f"{BASE}/uploads/{{upload_id}}", upload_offset)
    app.router.add_route("PATCH", f"{BASE}/uploads/{{upload_id}}", append_to_upload)
    app.router.add_delete(f"{BASE}/uploads/{{upload_id}}", delete_upload)
    app.router.add_get(f"{BASE}/events", events, allow_head=False)
    app.cleanup_ctx.append(_run_queue)
    app.on_shutdown.append(_end_streams)


async def _run_queue(app: web.Application) -> AsyncIterator[None]:
    state = app[STUDIO_UPLOADS]
    for info in await asyncio.to_thread(state.store.expire, state.clock()):
        log.info("forgot upload %s of %s (%s): not continued for %g days", info.id,
                 info.exhibition, info.name, UNFINISHED_DAYS)
    relay_task = None
    if appkeys.PUBSUB in app:
        state.relay = EventRelay(state.hub, app[appkeys.PUBSUB])
        relay_task = start_supervised("studio-events-relay", state.relay.run)
    state.queue.start()
    for task in await asyncio.to_thread(_unconverted_after_restart, state.store):
        state.queue.submit(task)
    yield
    await state.queue.stop()
    if relay_task is not None and state.relay is not None:
        relay_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay_task
        await state.relay.close()


async def _end_streams(app: web.Application) -> None:
    app[STUDIO_UPLOADS].hub.close_all()


def _unconverted_after_restart(store: UploadStore) -> list[ConversionTask]:
    """Every object of every finished upload, queued again at start: those converted before
    are found in the cache at once (and their state is known again), the rest convert."""
    tasks: list[ConversionTask] = []
    uploads = store.root / "uploads"
    if not uploads.is_dir():
        return tasks
    for folder in sorted(uploads.iterdir()):
        if not EXHIBITION_ID.fullmatch(folder.name):
            continue
        root = store.exhibition(folder.name)
        for info in store.all(folder.name):
            for object_id, source in info.objects:
                if (root / source).is_file():
                    tasks.append(ConversionTask(folder.name, object_id, root, source))
    return tasks


async def _enter(request: web.Request) -> tuple[StudioUploads, str, str]:
    """The shared state, the exhibition id and the curator: or the reply that refuses."""
    exhibition_id = request.match_info["exhibition"]
    if not EXHIBITION_ID.fullmatch(exhibition_id):
        raise JSONError(404, "not_found", "no such exhibition in the studio")
    state = request.app[STUDIO_UPLOADS]
    curator = await state.authorize(request, exhibition_id)
    if not state.store.exhibition(exhibition_id).is_dir():
        raise JSONError(404, "not_found", f"no exhibition {exhibition_id!r} in the studio")
    if state.relay is not None:  # this process may serve its pages: hear the others' events
        await state.relay.follow(exhibition_id)
    return state, exhibition_id, curator


def _upload(state: StudioUploads, request: web.Request, exhibition_id: str) -> UploadInfo:
    info = state.store.load(exhibition_id, request.match_info["upload_id"])
    if info is None:
        raise tus.error(404, "not_found", "no such upload (finished long ago, or abandoned)")
    return info


def _refused(error: UploadError) -> JSONError:
    return tus.error(error.status, error.code, error.message)


async def options_uploads(request: web.Request) -> web.Response:
    state, _, _ = await _enter(request)
    return web.Response(status=204, headers={
        **tus.protocol_headers(), "Tus-Version": tus.VERSION, "Tus-Extension": tus.EXTENSIONS,
        "Tus-Max-Size": str(state.limits.max_upload_bytes)})


def _name_of(metadata: dict[str, str]) -> PurePosixPath:
    # Uppy sends relativePath "null" for a file outside a folder, and a dropped folder's
    # paths as "/folder/file" (relative to the drop, whatever the slash says).
    names = {key: metadata.get(key, "") for key in NAME_KEYS}
    names["relativePath"] = names["relativePath"].removeprefix("/")
    raw = next((names[key] for key in NAME_KEYS if names[key] not in ("", "null")), None)
    if raw is None:
        raise tus.error(400, "no_name", "Upload-Metadata must give the file's name "
                        f"({' or '.join(NAME_KEYS)})")
    try:
        relative = safe_relative(raw)
        check_accepted(relative)
    except RefusedName as refused:
        raise tus.error(422, "refused_name", str(refused)) from None
    return relative


def _batch_of(metadata: dict[str, str]) -> str | None:
    """Files dropped together name one batch: their objects are found together, once every
    upload of the batch created so far has arrived (a client creates them all first)."""
    batch = metadata.get("batch")
    if batch is not None and not _BATCH_ID.fullmatch(batch):
        raise tus.error(400, "bad_metadata", "batch must be 1-64 letters, digits, '-' or '_'")
    return batch


def _check_room(state: StudioUploads, exhibition_id: str, name: PurePosixPath,
                length: int) -> None:
    """Refuse (409/413/507) an upload whose name is taken or whose bytes do not fit."""
    sources = state.store.sources(exhibition_id)
    if (sources / name).exists() or name.as_posix() in state.store.claimed_names(exhibition_id):
        raise tus.error(409, "name_taken", f"sources/{name} already exists (or is being "
                        "uploaded); rename the file, or delete the old one first")
    quota = state.limits.quota_bytes
    if state.store.claimed_bytes(exhibition_id) + length > quota:
        raise tus.error(413, "quota", f"this file would take the exhibition past its "
                        f"storage quota of {quota // (1 << 20)} MB; delete unused files first")
    state.store.root.mkdir(parents=True, exist_ok=True)
    try:
        ensure_room(state.store.root, length, state.limits.min_free_bytes)
    except UploadError as error:
        raise _refused(error) from None


async def create_upload(request: web.Request) -> web.Response:
    state, exhibition_id, curator = await _enter(request)
    tus.check_version(request)
    if "Upload-Defer-Length" in request.headers:
        raise tus.error(400, "defer_length", "send Upload-Length: deferred lengths are not "
                        "supported")
    length = tus.number_header(request, "Upload-Length")
    if length > state.limits.max_upload_bytes:
        raise tus.error(413, "too_large", f"a file may be at most "
                        f"{state.limits.max_upload_bytes // (1 << 20)} MB")
    if length == 0:
        raise tus.error(400, "empty", "the file is empty")
    metadata = tus.parse_metadata(request.headers.get("Upload-Metadata"))
    relative = _name_of(metadata)
    name = relative.with_suffix("") if is_archive(relative) else relative  # a zip: its folder
    batch = _batch_of(metadata)
    info = UploadInfo(id=secrets.token_hex(16), exhibition=exhibition_id, length=length,
                      name=name.as_posix(), curator=curator, created=state.clock(),
                      metadata=metadata, batch=batch,
                      archive=is_archive(relative))
    async with _finishing_lock(state, exhibition_id):  # two creations never claim one name
        await asyncio.to_thread(_check_room, state, exhibition_id, name, length)
        await asyncio.to_thread(state.store.create, info)
    await state.changed(curator, exhibition_id, "upload_started",
                        {"upload": info.id, "name": relative.as_posix(), "bytes": length})
    location = public_path(request, f"/studio/api/exhibitions/{exhibition_id}/uploads/{info.id}")
    return web.Response(status=201, headers={**tus.protocol_headers(), "Location": location})


async def upload_offset(request: web.Request) -> web.Response:
    state, exhibition_id, _ = await _enter(request)
    tus.check_version(request)
    info = _upload(state, request, exhibition_id)
    headers = {**tus.protocol_headers(), "Upload-Offset": str(state.store.offset(info)),
               "Upload-Length": str(info.length)}
    if info.metadata:
        headers["Upload-Metadata"] = tus.encode_metadata(info.metadata)
    return web.Response(status=200, headers=headers)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[BinaryIO]:
    """The upload's data file opened for appending, held by this request alone (423 if another
    request, in any process, holds it). Never created here: a finished upload has none."""
    try:
        handle = os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND), "ab")
    except FileNotFoundError:
        raise tus.error(409, "finished", "the upload has already finished") from None
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise tus.error(423, "locked", "another request is sending this upload's bytes "
                            "right now; wait for it to end, then ask for the offset") from None
        yield handle
    finally:
        handle.close()


async def _receive(request: web.Request, out: BinaryIO, remaining: int,
                   store_root: Path, min_free_bytes: int) -> int:
    """Append the body to `out` in bounded batches; returns the bytes written. What arrived
    before the connection broke is written too, so the client resumes after it.

    One batch is written (in a thread) while the next arrives: waiting for each write would
    stall the socket (aiohttp stops reading when its small buffer is full) and halve the
    throughput. Memory: two batches at most."""
    written = 0
    pending: list[bytes] = []  # the chunks as aiohttp gave them: written without copying
    pending_bytes = 0
    writing: asyncio.Future[int] | None = None

    def write(batch: list[bytes], size: int) -> int:  # one thread hop: disk check and write
        ensure_room(store_root, size, min_free_bytes)
        out.writelines(batch)
        return size

    async def wait_for_write() -> None:
        nonlocal writing, written
        if writing is not None:
            done, writing = writing, None
            written += await done

    async def flush() -> None:
        nonlocal writing, pending, pending_bytes
        await wait_for_write()
        batch, size = pending, pending_bytes
        pending, pending_bytes = [], 0
        writing = asyncio.ensure_future(asyncio.to_thread(write, batch, size))

    try:
        async for chunk in iter_body(request, remaining):
            pending.append(chunk)
            pending_bytes += len(chunk)
            if pending_bytes >= WRITE_BATCH:
                await flush()
    finally:
        with contextlib.suppress(UploadError):  # a full disk: keep what was written
            await wait_for_write()
            if pending:
                await flush()
                await wait_for_write()
        await asyncio.to_thread(out.flush)
    return written


async def append_to_upload(request: web.Request) -> web.Response:
    state, exhibition_id, curator = await _enter(request)
    tus.check_version(request)
    info = _upload(state, request, exhibition_id)
    if request.content_type != tus.OFFSET_CONTENT_TYPE:
        raise tus.error(415, "content_type", f"send the bytes as {tus.OFFSET_CONTENT_TYPE}")
    offset = tus.number_header(request, "Upload-Offset")
    if info.finished:
        if offset == info.length and not request.content_length:
            return web.Response(status=204, headers={**tus.protocol_headers(),
                                                     "Upload-Offset": str(info.length)})
        raise tus.error(409, "finished", "the upload has already finished",
                        {"Upload-Offset": str(info.length)})
    with _locked(state.store.data(info)) as out:
        current = os.fstat(out.fileno()).st_size
        if offset != current:
            raise tus.error(409, "offset", f"Upload-Offset is {offset} but the server has "
                            f"{current} bytes; ask for the offset (HEAD) and continue there",
                            {"Upload-Offset": str(current)})
        remaining = info.length - current
        if request.content_length is not None and request.content_length > remaining:
            raise tus.error(413, "too_large", f"the body is longer than the {remaining} bytes "
                            "left of Upload-Length")
        if state.receiving >= state.limits.max_concurrent_patches:
            raise tus.error(503, "busy", "the server is receiving too many uploads at once; "
                            "the upload continues by itself in a moment",
                            {"Retry-After": "2"})
        state.receiving += 1
        try:
            written = await _receive(request, out, remaining, state.store.root,
                                     state.limits.min_free_bytes)
        except UploadError as error:
            raise _refused(error) from None
        except OSError as error:
            if error.errno == errno.ENOSPC:
                raise tus.error(507, "no_space", "the server's disk is full") from None
            raise
        finally:
            state.receiving -= 1
        new_offset = current + written
        if new_offset == info.length:  # still holding the lock: no second PATCH finishes it
            await _finish(state, info, curator)
    return web.Response(status=204, headers={**tus.protocol_headers(),
                                             "Upload-Offset": str(new_offset)})


def _finishing_lock(state: StudioUploads, exhibition_id: str) -> asyncio.Lock:
    return state.finishing.setdefault(exhibition_id, asyncio.Lock())


def _land(state: StudioUploads, info: UploadInfo) -> None:
    """Move (or unpack) the finished bytes into sources/. Blocking."""
    data = state.store.data(info)
    sources = state.store.sources(info.exhibition)
    target = sources / info.name
    taken = UploadError(409, "name_taken", f"sources/{info.name} (or a file where one of its "
                        "folders would be) appeared meanwhile; upload it again under another "
                        "name")
    if target.exists():
        raise taken
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise taken from None
    if info.archive:
        unpacked = unpack_zip(data, target, state.limits.zip)
        info.files = [f"{info.name}/{file.as_posix()}" for file in unpacked.files]
        info.skipped = list(unpacked.skipped)
        data.unlink()
    else:
        os.replace(data, target)
        info.files = [info.name]


def _examine(state: StudioUploads, exhibition_id: str, batch: str | None,
             info: UploadInfo | None) -> list[tuple[str, str]]:
    """The objects to convert now: those of `info` alone, or, for files dropped together
    (`batch`), the whole batch's once none of it is still arriving. Registers them in
    collection.toml and records them on the upload (for a restart). Blocking."""
    store = state.store
    if batch is None:
        group = [info] if info is not None else []
    else:
        members = [other for other in store.all(exhibition_id)
                   if other.batch == batch and other.error is None]
        if not all(other.finished for other in members):
            return []  # the rest of the batch is still on its way
        group = [other for other in members if not other.examined]
    if not group:
        return []
    root = store.exhibition(exhibition_id)
    taken = object_ids(root) | {object_id for other in store.all(exhibition_id)
                                for object_id, _ in other.objects}
    files = [PurePosixPath("sources", name) for other in group for name in other.files]
    found = objects_among(files, root, taken)
    for object_id, source in found:
        try:
            register_object(root, object_id, source)
        except OSError as error:  # converted all the same; the editor can add it later
            log.warning("could not add %s to %s/collection.toml: %s", object_id,
                        exhibition_id, error)
    for other in group:
        other.examined = True
    group[-1].objects = [[object_id, source.as_posix()] for object_id, source in found]
    for other in group:
        store.save(other)
    return [(object_id, source.as_posix()) for object_id, source in found]


def _queue_objects(state: StudioUploads, exhibition_id: str,
                   found: list[tuple[str, str]]) -> None:
    root = state.store.exhibition(exhibition_id)
    for object_id, source in found:
        state.queue.submit(ConversionTask(exhibition_id, object_id, root, source))


async def _finish(state: StudioUploads, info: UploadInfo, curator: str) -> None:
    exhibition_id = info.exhibition
    async with _finishing_lock(state, exhibition_id):
        try:
            await asyncio.to_thread(_land, state, info)
        except (UploadError, OSError) as error:
            status, code, message = ((error.status, error.code, error.message)
                                     if isinstance(error, UploadError)
                                     else (507, "no_space", "the server's disk is full")
                                     if error.errno == errno.ENOSPC else
                                     (500, "not_stored", "the file could not be stored"))
            info.finished, info.error = True, message
            await asyncio.to_thread(state.store.save, info)
            with contextlib.suppress(OSError):
                await asyncio.to_thread(state.store.data(info).unlink)
            state.hub.publish(exhibition_id, "failed", {
                "upload": info.id, "file": PurePosixPath(info.name).name,
                "message": f"{PurePosixPath(info.name).name}: {message}"})
            # The rest of its batch need not wait for it.
            found = await asyncio.to_thread(_examine, state, exhibition_id, info.batch, None)
            _queue_objects(state, exhibition_id, found)
            raise tus.error(status, code, message) from None
        info.finished = True
        await asyncio.to_thread(state.store.save, info)
        found = await asyncio.to_thread(_examine, state, exhibition_id, info.batch, info)
    state.hub.publish(exhibition_id, "upload", {
        "upload": info.id, "name": info.name, "files": info.files, "skipped": info.skipped})
    await state.changed(curator, exhibition_id, "upload_finished",
                        {"upload": info.id, "name": info.name, "files": info.files,
                         "objects": [object_id for object_id, _ in found]})
    _queue_objects(state, exhibition_id, found)


async def delete_upload(request: web.Request) -> web.Response:
    state, exhibition_id, curator = await _enter(request)
    tus.check_version(request)
    info = _upload(state, request, exhibition_id)
    if info.finished:
        await asyncio.to_thread(state.store.delete, info)
    else:
        with _locked(state.store.data(info)):  # not while a PATCH is writing
            await asyncio.to_thread(state.store.delete, info)
        if info.batch is not None:  # the rest of its batch need not wait for it
            async with _finishing_lock(state, exhibition_id):
                found = await asyncio.to_thread(_examine, state, exhibition_id, info.batch,
                                                None)
            _queue_objects(state, exhibition_id, found)
    await state.changed(curator, exhibition_id, "upload_deleted",
                        {"upload": info.id, "name": info.name})
    return web.Response(status=204, headers=tus.protocol_headers())


async def list_uploads(request: web.Request) -> web.Response:
    state, exhibition_id, _ = await _enter(request)

    def describe() -> list[dict[str, Any]]:
        return [{"id": info.id, "name": info.name, "length": info.length,
                 "offset": state.store.offset(info), "finished": info.finished,
                 "error": info.error, "files": info.files, "skipped": info.skipped,
                 "objects": [object_id for object_id, _ in info.objects]}
                for info in state.store.all(exhibition_id)]

    uploads = await asyncio.to_thread(describe)
    objects = await asyncio.to_thread(state.hub.states, exhibition_id)
    return json_reply(request, {"uploads": uploads, "objects": objects}, etag=False,
                      cache_control="no-store")


async def events(request: web.Request) -> web.StreamResponse:
    state, exhibition_id, _ = await _enter(request)
    return await stream_events(request, state.hub, exhibition_id)

