"""One guarded edit of a studio exhibition's collection.toml, for every studio route that
changes it (texts, objects, tours, smart exhibits, the floor plan): the curator's version
checked (If-Match, 409 naming who changed it since), the change applied through tomlkit, an
optional side effect (a feed) made before the write and undone if the write fails, the file
replaced atomically and the change audited."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import tomlkit
from aiohttp import web

from vrculture.server.jsonreply import JSONError
from vrculture.server.studio import exhibitions
from vrculture.server.studio.audit import record
from vrculture.server.studio.auth import authorize, exhibition_folder, state, store

# Every action that rewrites collection.toml: the 409 names whoever did the newest of them.
FILE_ACTIONS = ("create", "edit_exhibition", "edit_object", "edit_object_geometry",
                "edit_object_presentation",
                "edit_annotations", "create_tour", "edit_tour", "delete_tour",
                "add_smart_exhibit", "remove_smart_exhibit", "edit_floor_plan")

Change = Callable[[tomlkit.TOMLDocument, str], None]
SideEffect = Callable[[], Awaitable[None]]


def if_match(request: web.Request) -> str:
    version = request.headers.get("If-Match")
    if version is None:
        raise JSONError(428, "version_required", "send If-Match with the version (ETag) you "
                        "read, so that nobody else's change is overwritten unseen")
    return version.strip()


async def read(path: Any) -> exhibitions.Snapshot:
    try:
        return await asyncio.to_thread(exhibitions.read, path)
    except exhibitions.StudioError as error:
        raise JSONError(error.status, error.code, error.message) from None


async def snapshot_of(request: web.Request, exhibition_id: str) -> exhibitions.Snapshot:
    return await read(await exhibition_folder(request, exhibition_id))


async def edit(request: web.Request, exhibition_id: str, action: str, change: Change,
               detail: dict[str, Any], *, before_write: SideEffect | None = None,
               undo: SideEffect | None = None, subject: str | None = None,
               reload: str = "Reload") -> exhibitions.Snapshot:
    """Apply `change(doc, default_language)` to the version the curator read and write it.
    A 409 says "{subject} was not saved ... {reload} to see their change" (the exhibition by
    default; an editor names what the curator was saving and where to reload it)."""
    curator = await authorize(request, exhibition_id)
    expected = if_match(request)
    path = await exhibition_folder(request, exhibition_id)
    async with state(request).lock(exhibition_id):
        snapshot = await read(path)
        if expected != snapshot.version:
            last = await store(request).last_change(exhibition_id, FILE_ACTIONS)
            who = f"{last[0]} changed it since you read it" if last else \
                "it was changed on disk since you read it"
            raise JSONError(409, "conflict", f"{subject or repr(exhibition_id)} was not "
                            f"saved: {who}. {reload} to see their change, then make yours "
                            "again.",
                            changed_by=last[0] if last else None,
                            changed_at=last[1] if last else None,
                            version=snapshot.version)
        default, _ = exhibitions.languages_of(snapshot.doc)
        try:
            change(snapshot.doc, default)
            data = exhibitions.serialise(snapshot.doc)
        except exhibitions.StudioError as error:
            raise JSONError(error.status, error.code, error.message) from None
        if data != snapshot.raw:
            if before_write is not None:
                await before_write()
            try:
                await asyncio.to_thread(exhibitions.write_atomic,
                                        path / exhibitions.TOML_NAME, data)
            except BaseException:
                if undo is not None:
                    await undo()
                raise
            await record(request, curator, exhibition_id, action, detail)
    return exhibitions.Snapshot(data, snapshot.doc)


def array_of_tables(doc: tomlkit.TOMLDocument, key: str) -> Any:
    """The document's `[[key]]` list, made when absent; 422 when `key` is something else."""
    value = doc.get(key)
    if value is None:
        value = tomlkit.aot()
        doc.append(key, value)
        return doc[key]
    if not isinstance(value, list):
        raise exhibitions.StudioError(422, "invalid_collection", f"{key} is not a list of "
                                      f"[[{key}]] tables")
    return value
