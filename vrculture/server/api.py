"""The read-only JSON API: exhibitions, manifests, object records, health."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from typing import Any

from aiohttp import web

from vrculture.server import appkeys
from vrculture.server.jsonreply import JSONError, encode, json_reply
from vrculture.server.keys import LoadedExhibition
from vrculture.server.registry import BundleRegistry
from vrculture.server.store_interface import DataStore, StoreError

HEALTH_TIMEOUT = 2.0  # seconds; a database stuck longer than this cannot take readings


def _registry(request: web.Request) -> BundleRegistry:
    return request.app[appkeys.EXHIBITIONS]


def _exhibition(request: web.Request) -> LoadedExhibition:
    exhibition = _registry(request).get(request.match_info["exhibition"])
    if exhibition is None:
        raise JSONError(404, "unknown_exhibition", "no exhibition with this id")
    return exhibition


def summary(exhibition: LoadedExhibition) -> dict[str, Any]:
    manifest = exhibition.manifest
    thumbnail = next(
        (o["thumbnail"]["url"] for o in manifest["objects"] if "thumbnail" in o), None
    )
    return {
        "id": exhibition.id,
        "title": manifest["title"],
        "description": manifest.get("description", {}),
        "languages": manifest["languages"],
        "objects": len(manifest["objects"]),
        "thumbnail": f"/bundles/{exhibition.id}/{thumbnail}" if thumbnail else None,
        "url": f"/exhibitions/{exhibition.id}",
        "version": exhibition.version,
    }


_MANIFEST_BODIES: dict[str, bytes] = {}


def _manifest_body(exhibition: LoadedExhibition) -> bytes:
    """The manifest encoded once per published version (the version is its content hash)."""
    body = _MANIFEST_BODIES.get(exhibition.version)
    if body is None:
        if len(_MANIFEST_BODIES) >= 64:
            _MANIFEST_BODIES.clear()
        body = _MANIFEST_BODIES[exhibition.version] = encode(exhibition.manifest)
    return body


async def list_exhibitions(request: web.Request) -> web.Response:
    return json_reply(request, [summary(e) for e in _registry(request).all()])


async def get_exhibition(request: web.Request) -> web.Response:
    return json_reply(request, body=_manifest_body(_exhibition(request)))


async def get_object(request: web.Request) -> web.Response:
    exhibition = _exhibition(request)
    object_id = request.match_info["object"]
    for record in exhibition.manifest["objects"]:
        if record["id"] == object_id:
            return json_reply(request, record)
    for record in exhibition.manifest["smart_exhibits"]:
        if record["id"] == object_id:
            return json_reply(request, record)
    raise JSONError(404, "unknown_object", f"no object {object_id!r} in {exhibition.id!r}")


async def _health(request: web.Request, *, detailed: bool) -> web.Response:
    """200 when the server can answer and its database can commit readings, else 503."""
    registry = _registry(request)
    store: DataStore = request.app[appkeys.FEED_STORE]
    problem = None
    try:
        await asyncio.wait_for(store.ping(), timeout=HEALTH_TIMEOUT)
    except (TimeoutError, sqlite3.Error, StoreError) as error:
        problem = type(error).__name__
    body: dict[str, Any] = {
        "status": "degraded" if problem else "ok",
        "database": "unavailable" if problem else "ok",
        "exhibitions": [{"id": e.id, "version": e.version} for e in registry.all()],
        "bundles_failing": len(registry.errors),
    }
    if detailed:  # host paths and process ids: for the curator, never for any visitor
        body |= {"process": os.getpid(),  # tells `--workers` processes apart
                 "database_error": problem,
                 "bundle_errors": sorted(registry.errors.values())}
        if appkeys.MQTT_REPORT in request.app:
            body["mqtt"] = request.app[appkeys.MQTT_REPORT]()
    return json_reply(request, body, status=503 if problem else 200, etag=False)


async def healthz(request: web.Request) -> web.Response:
    """Public: nothing about the host (paths, process ids); see health_details."""
    return await _health(request, detailed=False)


async def health_details(request: web.Request) -> web.Response:
    """/healthz plus the process id and the bundles' errors with their paths (curator only:
    admin.py registers it behind the token)."""
    return await _health(request, detailed=True)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/exhibitions", list_exhibitions, name="api_exhibitions")
    app.router.add_get("/api/exhibitions/{exhibition}", get_exhibition, name="api_exhibition")
    app.router.add_get(
        "/api/exhibitions/{exhibition}/objects/{object}", get_object, name="api_object"
    )
    app.router.add_get("/healthz", healthz, name="healthz")
