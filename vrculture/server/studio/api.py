"""The studio's JSON API under /studio/api/: sign-in, exhibitions, their metadata, members and
the audit log. Every answer is `Cache-Control: no-store` (a curator's private data)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from vrculture.server import appkeys
from vrculture.server.admin import PUBLISH_LOCK
from vrculture.server.bodies import read_json
from vrculture.server.jsonreply import JSONError, json_reply
from vrculture.server.studio import accounts, collection_edit, exhibitions, sessions
from vrculture.server.studio import publish as publishing
from vrculture.server.studio.audit import record
from vrculture.server.studio.auth import (
    authorize,
    check_origin,
    exhibition_folder,
    now,
    refusal,
    signed_in,
    state,
    store,
)
from vrculture.server.studio.collection_edit import read as _read
from vrculture.server.studio.csrf import csrf_token
from vrculture.server.studio.fields import (
    EXHIBITION_ID,
    EXHIBITION_TEXTS,
    OBJECT_TEXTS,
    FieldError,
    check_keys,
    check_languages,
    check_plain,
    check_texts,
)

log = logging.getLogger(__name__)

MAX_JSON_BYTES = 64 * 1024  # a whole exhibition's texts in every language fit easily


def reply(request: web.Request, payload: Any, *, status: int = 200,
          version: str | None = None) -> web.Response:
    response = json_reply(request, payload, status=status, etag=False,
                          cache_control="no-store")
    if version is not None:
        response.headers["ETag"] = version
    return response


async def json_object(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise JSONError(415, "unsupported_media_type", "send application/json")
    body = await read_json(request, MAX_JSON_BYTES)
    if not isinstance(body, dict):
        raise JSONError(422, "invalid_field", "the body must be a JSON object")
    return body


def field_refusal(error: FieldError) -> JSONError:
    return JSONError(422, "invalid_field", error.message if error.field in error.message
                     else f"{error.field}: {error.message}", field=error.field)


def studio_refusal(error: exhibitions.StudioError) -> JSONError:
    return JSONError(error.status, error.code, error.message)


# session -----------------------------------------------------------------------------------
def _session_payload(curator: accounts.Curator, session_id: str) -> dict[str, Any]:
    return {"curator": curator.name, "must_change_password": curator.must_change,
            "csrf_token": csrf_token(session_id)}


async def sign_in(request: web.Request) -> web.Response:
    check_origin(request)  # a forged sign-in would put the victim in the attacker's account
    body = await json_object(request)
    name, password = body.get("name"), body.get("password")
    if not isinstance(name, str) or not isinstance(password, str) or set(body) != {
            "name", "password"}:
        raise JSONError(422, "invalid_field", "send {\"name\": …, \"password\": …}")
    name = name[:64]
    limits = state(request)
    client = request.remote or "unknown"
    wait = max(limits.by_address.retry_after(client) or 0,
               limits.by_account.retry_after(name) or 0)
    if wait:  # before the password is checked: a locked-out guesser learns nothing
        raise refusal(web.HTTPTooManyRequests, "too_many_attempts",
                      f"too many failed sign-ins: retry in {wait} s",
                      headers={"Retry-After": str(wait)})
    known = accounts.valid_name(name) and len(password) <= accounts.MAX_PASSWORD_CHARS
    password_hash = await store(request).password_hash_of(name) if known else None
    async with limits.hashing:
        matched = await asyncio.to_thread(accounts.check_password, password_hash,
                                          password[:accounts.MAX_PASSWORD_CHARS])
    if not matched or not known:
        limits.by_address.failed(client)
        limits.by_account.failed(name)
        log.warning("studio: failed sign-in from %s", request.remote)
        raise refusal(web.HTTPUnauthorized, "wrong_credentials",
                      "wrong name or password")
    session_id = sessions.new_session_id()
    at = now(request)
    await store(request).prune_sessions(at, limits.rules)
    await store(request).create_session(session_id, name, at)
    curator = await store(request).curator(name)
    assert curator is not None
    await record(request, name, None, "sign_in", {})
    log.info("studio: %s signed in", name)
    response = reply(request, _session_payload(curator, session_id), status=201)
    sessions.set_cookie(request, response, session_id, limits.rules)
    return response


async def current_session(request: web.Request) -> web.Response:
    name, session_id = await signed_in(request, one_time_password_ok=True)
    curator = await store(request).curator(name)
    if curator is None:  # removed while signed in
        raise refusal(web.HTTPUnauthorized, "unauthenticated", "this account was removed")
    return reply(request, _session_payload(curator, session_id))


async def sign_out(request: web.Request) -> web.Response:
    name, session_id = await signed_in(request, one_time_password_ok=True)
    await store(request).delete_session(session_id)
    await record(request, name, None, "sign_out", {})
    response = web.Response(status=204, headers={"Cache-Control": "no-store"})
    sessions.clear_cookie(request, response)
    return response


async def change_password(request: web.Request) -> web.Response:
    """Replace the one-time password (or any) with the curator's own, which must differ from
    it; every session of theirs ends (a one-time one too: it was limited to this form) and
    this browser goes on in a new one, under a new id, with the whole studio open."""
    name, _ = await signed_in(request, one_time_password_ok=True)
    body = await json_object(request)
    current, new = body.get("current"), body.get("new")
    if not isinstance(current, str) or not isinstance(new, str) or set(body) != {
            "current", "new"}:
        raise JSONError(422, "invalid_field", "send {\"current\": …, \"new\": …}")
    limits = state(request)
    wait = limits.by_account.retry_after(name)
    if wait:
        raise refusal(web.HTTPTooManyRequests, "too_many_attempts",
                      f"too many wrong passwords: retry in {wait} s",
                      headers={"Retry-After": str(wait)})
    password_hash = await store(request).password_hash_of(name)
    async with limits.hashing:
        matched = await asyncio.to_thread(accounts.check_password, password_hash,
                                          current[:accounts.MAX_PASSWORD_CHARS])
    if not matched:
        limits.by_account.failed(name)
        raise JSONError(422, "wrong_password", "the current password is wrong",
                        field="current")
    try:
        accounts.check_new_password(new)
    except accounts.AccountError as error:
        raise JSONError(422, "invalid_field", str(error), field="new") from None
    if accounts.same_password(new, current):  # current matched the stored hash just now
        raise JSONError(422, "same_password", "the new password must differ from the current "
                        "one", field="new")
    async with limits.hashing:
        new_hash = await asyncio.to_thread(accounts.hash_password, new)
    at = now(request)
    await store(request).set_password(name, new_hash, at, one_time=False)
    fresh = sessions.new_session_id()
    await store(request).create_session(fresh, name, at)
    await record(request, name, None, "password_changed", {})
    curator = await store(request).curator(name)
    assert curator is not None
    response = reply(request, _session_payload(curator, fresh))
    sessions.set_cookie(request, response, fresh, limits.rules)
    return response


# exhibitions -------------------------------------------------------------------------------
def _list(root: Any, ids: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for exhibition_id in ids:
        path = exhibitions.folder(root, exhibition_id)
        if path is None:
            continue
        try:
            described = exhibitions.describe(exhibition_id, exhibitions.read(path))
        except exhibitions.StudioError as error:
            out.append({"id": exhibition_id, "error": error.message})
            continue
        out.append({"id": exhibition_id, "title": described["title"],
                    "languages": described["languages"],
                    "objects": len(described["objects"])})
    return out


async def list_exhibitions(request: web.Request) -> web.Response:
    curator, _ = await signed_in(request)
    root = state(request).root
    ids = await asyncio.to_thread(exhibitions.list_ids, root)
    visible = []
    for exhibition_id in ids:
        listed = await store(request).members(exhibition_id)
        if not listed or curator in listed:
            visible.append(exhibition_id)
    return reply(request, {"exhibitions": await asyncio.to_thread(_list, root, visible)})


async def create_exhibition(request: web.Request) -> web.Response:
    curator, _ = await signed_in(request)
    body = await json_object(request)
    try:
        check_keys(body, {"id", "languages", *EXHIBITION_TEXTS})
        exhibition_id = body.get("id")
        if not isinstance(exhibition_id, str) or EXHIBITION_ID.fullmatch(exhibition_id) is None:
            raise FieldError("id", "1-64 of a-z, 0-9, _ and -, starting with a letter or digit")
        languages = check_languages(body.get("languages"))
        texts = check_texts(body, EXHIBITION_TEXTS, languages, nullable=False)
        if not any(texts.get("title", {}).values()):
            raise FieldError("title", "required in at least one language")
    except FieldError as error:
        raise field_refusal(error) from None
    clean = {f: {lang: t for lang, t in v.items() if t} for f, v in texts.items()}
    folder_state = state(request)
    async with folder_state.create_lock:
        try:
            snapshot = await asyncio.to_thread(exhibitions.create, folder_state.root,
                                               exhibition_id, languages, clean)
        except exhibitions.StudioError as error:
            raise studio_refusal(error) from None
        await store(request).add_member(exhibition_id, curator, curator,
                                 now(request))
    await record(request, curator, exhibition_id, "create",
                 {"languages": languages, **clean})
    log.info("studio: %s created exhibition %s", curator, exhibition_id)
    described = exhibitions.describe(exhibition_id, snapshot)
    return reply(request, described, status=201, version=snapshot.version)


def _exhibition_id(request: web.Request) -> str:
    value = request.match_info["exhibition"]
    if EXHIBITION_ID.fullmatch(value) is None:
        raise refusal(web.HTTPNotFound, "unknown_exhibition",
                      "exhibition ids are 1-64 of a-z, 0-9, _ and -")
    return value


async def get_exhibition(request: web.Request) -> web.Response:
    exhibition_id = _exhibition_id(request)
    await authorize(request, exhibition_id)
    path = await exhibition_folder(request, exhibition_id)
    snapshot = await _read(path)
    described = exhibitions.describe(exhibition_id, snapshot)
    described["members"] = await store(request).members(exhibition_id)
    return reply(request, described, version=snapshot.version)


async def _edit(request: web.Request, exhibition_id: str, action: str,
                change: Any, detail: dict[str, Any]) -> web.Response:
    """Apply `change` through the studio's one guarded edit (If-Match, 409 naming who changed
    it since, atomic write, audit) and answer with the exhibition as it now is."""
    fresh = await collection_edit.edit(request, exhibition_id, action, change, detail)
    return reply(request, exhibitions.describe(exhibition_id, fresh), version=fresh.version)


async def _languages(request: web.Request, exhibition_id: str) -> list[str]:
    path = await exhibition_folder(request, exhibition_id)
    return exhibitions.languages_of((await _read(path)).doc)[1]


async def edit_exhibition(request: web.Request) -> web.Response:
    exhibition_id = _exhibition_id(request)
    await authorize(request, exhibition_id)  # before the body is read
    body = await json_object(request)
    try:
        check_keys(body, set(EXHIBITION_TEXTS))
        texts = check_texts(body, EXHIBITION_TEXTS, await _languages(request, exhibition_id),
                            nullable=True)
    except FieldError as error:
        raise field_refusal(error) from None

    def change(doc: Any, default: str) -> None:
        table = exhibitions.exhibition_table(doc)
        for field, values in texts.items():
            exhibitions.set_texts(table, field, values, default, required=field == "title")

    return await _edit(request, exhibition_id, "edit_exhibition", change, texts)


async def edit_object(request: web.Request) -> web.Response:
    exhibition_id = _exhibition_id(request)
    await authorize(request, exhibition_id)
    object_id = request.match_info["object"]
    if EXHIBITION_ID.fullmatch(object_id) is None:
        raise refusal(web.HTTPNotFound, "unknown_object", "object ids are 1-64 of a-z, 0-9, "
                      "_ and -")
    body = await json_object(request)
    try:
        check_keys(body, {*OBJECT_TEXTS, "creator", "date", "rights"})
        texts = check_texts(body, OBJECT_TEXTS, await _languages(request, exhibition_id),
                            nullable=True)
        plain = check_plain(body)
    except FieldError as error:
        raise field_refusal(error) from None

    def change(doc: Any, default: str) -> None:
        table = exhibitions.find_object(doc, object_id)
        for field, values in texts.items():
            exhibitions.set_texts(table, field, values, default, required=field == "title")
        exhibitions.set_plain(table, plain)

    return await _edit(request, exhibition_id, "edit_object", change,
                       {"object": object_id, **texts, **plain})


# members and audit -------------------------------------------------------------------------
async def list_members(request: web.Request) -> web.Response:
    exhibition_id = _exhibition_id(request)
    await authorize(request, exhibition_id)
    listed = await store(request).members(exhibition_id)
    return reply(request, {"exhibition": exhibition_id, "members": listed})


async def add_member(request: web.Request) -> web.Response:
    exhibition_id = _exhibition_id(request)
    curator = await authorize(request, exhibition_id)
    body = await json_object(request)
    name = body.get("curator")
    if set(body) != {"curator"} or not isinstance(name, str) or not accounts.valid_name(name):
        raise JSONError(422, "invalid_field", "send {\"curator\": NAME}", field="curator")
    if await store(request).curator(name) is None:
        raise JSONError(422, "unknown_curator", f"no curator is called {name!r}",
                        field="curator")
    added = await store(request).add_member(exhibition_id, name, curator,
                                     now(request))
    if added:
        await record(request, curator, exhibition_id, "add_member", {"curator": name})
    listed = await store(request).members(exhibition_id)
    return reply(request, {"exhibition": exhibition_id, "members": listed},
                 status=201 if added else 200)


async def audit_log(request: web.Request) -> web.Response:
    exhibition_id = request.query.get("exhibition", "")
    if EXHIBITION_ID.fullmatch(exhibition_id) is None:
        await signed_in(request)  # who asks comes first: 401, or 403 on a one-time password
        raise JSONError(400, "invalid_parameter", "exhibition: the id of a studio exhibition",
                        field="exhibition")
    await authorize(request, exhibition_id)
    found = await store(request).entries(exhibition_id)
    return reply(request, {"exhibition": exhibition_id, "entries": found})


# publishing --------------------------------------------------------------------------------
def _served_elsewhere(request: web.Request, exhibition_id: str) -> None:
    """A bundle folder named on `vrculture serve`'s command line wins over a published one:
    publishing would install a version nobody sees, so say so instead."""
    served = request.app[appkeys.EXHIBITIONS].get(exhibition_id)
    home = (request.app[appkeys.CONFIG].data_dir / "exhibitions" / exhibition_id).resolve()
    if served is not None and not served.root.is_relative_to(home):
        raise JSONError(409, "served_from_folder", f"exhibition {exhibition_id!r} is served "
                        "from a bundle folder given to `vrculture serve`; it cannot be "
                        "published from the studio")


def _publish_lock(request: web.Request) -> asyncio.Lock:
    lock = request.app[PUBLISH_LOCK]  # shared with the admin API's uploads and rollbacks
    if lock.locked():
        raise JSONError(409, "busy", "another publication or rollback is in progress; retry")
    return lock


async def publish_exhibition(request: web.Request) -> web.Response:
    exhibition_id = _exhibition_id(request)
    curator = await authorize(request, exhibition_id)
    _served_elsewhere(request, exhibition_id)
    path = await exhibition_folder(request, exhibition_id)
    data_dir = request.app[appkeys.CONFIG].data_dir
    async with _publish_lock(request):
        try:
            done = await asyncio.to_thread(publishing.build_and_publish, path, exhibition_id,
                                           data_dir, by=curator,
                                           clock=request.app[appkeys.CLOCK])
        except exhibitions.StudioError as error:
            raise studio_refusal(error) from None
    await record(request, curator, exhibition_id, "publish",
                 {"version": done["version"], "previous": done["previous"]})
    log.info("studio: %s published %s version %s", curator, exhibition_id, done["version"])
    return reply(request, done, status=201)


async def roll_back_exhibition(request: web.Request) -> web.Response:
    exhibition_id = _exhibition_id(request)
    curator = await authorize(request, exhibition_id)
    _served_elsewhere(request, exhibition_id)
    body = await json_object(request)
    version = body.get("version")
    if set(body) != {"version"} or not isinstance(version, str):
        raise JSONError(422, "invalid_field", "send {\"version\": …} (GET …/publications "
                        "lists them)", field="version")
    data_dir = request.app[appkeys.CONFIG].data_dir
    async with _publish_lock(request):
        try:
            done = await asyncio.to_thread(publishing.roll_back, data_dir, exhibition_id,
                                           version, by=curator,
                                           clock=request.app[appkeys.CLOCK])
        except exhibitions.StudioError as error:
            raise studio_refusal(error) from None
    await record(request, curator, exhibition_id, "rollback",
                 {"version": done["version"], "previous": done["previous"]})
    log.info("studio: %s rolled %s back to %s", curator, exhibition_id, done["version"])
    return reply(request, done)


async def list_publications(request: web.Request) -> web.Response:
    exhibition_id = _exhibition_id(request)
    await authorize(request, exhibition_id)
    data_dir = request.app[appkeys.CONFIG].data_dir
    listed = await asyncio.to_thread(publishing.publications, data_dir, exhibition_id)
    return reply(request, listed)
