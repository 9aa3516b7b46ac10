"""The OpenAPI 3.1 description of every HTTP route, served at /api/openapi.json.

Written by hand (the routes are few and their contracts matter more than their code); a test
checks that the routes of the running app and the paths here are the same set.
"""

from __future__ import annotations

import importlib.metadata
import json
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

from vrculture.server.jsonreply import json_reply
from vrculture.server.readings import KINDS

try:  # from the installed metadata: `vrculture/__init__` is not always what gets imported
    VERSION = importlib.metadata.version("vrculture")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a checkout
    VERSION = "0.0.0"
SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def _inline(path: Path, prefix: str) -> dict[str, dict[str, Any]]:
    """A published JSON Schema as OpenAPI components, so the document is self-contained:
    its `$defs` become `<prefix>_<name>` and every `#/$defs/x` is rewritten to point there."""
    schema = json.loads(path.read_text(encoding="utf-8"))

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (f"#/components/schemas/{prefix}_{v.split('/')[-1]}"
                        if k == "$ref" and isinstance(v, str) and v.startswith("#/$defs/")
                        else rewrite(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    defs = schema.pop("$defs", {})
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    components = {f"{prefix}_{name}": rewrite(d) for name, d in defs.items()}
    components[prefix] = rewrite(schema)
    return components


def _param(name: str, where: str = "path", schema: dict | None = None, required: bool = True,
           description: str = "") -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "description": description,
            "schema": schema or {"type": "string"}}


ID = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"}
EXHIBITION = _param("exhibition", schema=ID)
OBJECT = _param("object", schema=ID)
TOUR = _param("tour", schema=ID)
SMART_EXHIBIT = _param("smart", schema=ID)
UPLOAD = _param("upload_id", schema={"type": "string", "maxLength": 64})
FEED = _param("feed", schema=ID)
PATH = _param("path", description="a file path inside the folder")
ERROR = {"description": "error", "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/Error"}}}}
NOT_FOUND = {"404": ERROR}


# What the two ingest routes (feed API, NGSI-LD notifications) answer: the same store behind both.
INGEST_RESPONSES = {
    "201": {"description": "stored", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/IngestResult"}}}},
    "200": {"description": "all were duplicates", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/IngestResult"}}}},
    **{code: ERROR for code in ("400", "401", "404", "408", "409", "413", "415", "422")},
}


def _file(summary: str, params: list, content_type: str = "*/*") -> dict[str, Any]:
    """A GET answering a file, with conditional and range requests."""
    return {"get": {
        "summary": summary,
        "parameters": [*params,
                       _param("Range", "header", required=False,
                              description="single or multiple byte ranges"),
                       _param("If-None-Match", "header", required=False)],
        "responses": {
            "200": {"description": "the file", "content": {content_type: {}}},
            "206": {"description": "partial content (single or multipart/byteranges)"},
            "304": {"description": "not modified"},
            "404": {"description": "no such file"},
            "416": {"description": "range not satisfiable"},
        },
    }}


def _json(summary: str, params: list, schema: dict, extra: dict | None = None) -> dict:
    return {"summary": summary, "parameters": params, "responses": {
        "200": {"description": "ok", "content": {"application/json": {"schema": schema}}},
        **(extra or {}),
    }}


def _html(summary: str, params: list) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": params, "responses": {
        "200": {"description": "HTML page", "content": {"text/html": {}}},
        "404": {"description": "unknown exhibition or object"}}}}


def _admin(summary: str, params: list, ok: dict[str, Any], errors: tuple[str, ...],
           body: dict[str, Any] | None = None, body_required: bool = True) -> dict[str, Any]:
    """A curator-only operation: every one can answer 401 (no or wrong curator token) and 429
    (too many wrong tokens from this address; Retry-After says when to try again)."""
    operation: dict[str, Any] = {
        "summary": summary, "security": [{"curatorToken": []}], "parameters": params,
        "responses": {**ok, **{code: ERROR for code in ("401", "429", *errors)}},
    }
    if body is not None:
        operation["requestBody"] = {"required": body_required, "content": body}
    return operation


def _admin_paths() -> dict[str, Any]:
    def reply(status: str, ref: str) -> dict[str, Any]:
        return {status: {"description": "ok", "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{ref}"}}}}}

    def json_body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
        # The server reads an optional field given as null as absent.
        optional = {name: schema if name in required else {"anyOf": [schema, {"type": "null"}]}
                    for name, schema in properties.items()}
        return {"application/json": {"schema": {
            "type": "object", "required": required, "additionalProperties": False,
            "properties": optional}}}

    tar = {"schema": {"type": "string", "format": "binary"}}
    text = {"type": "string", "maxLength": 64}
    return {
        "/api/admin/feeds": {"post": _admin(
            "register a feed; its token is in the reply, only this once", [],
            reply("201", "SecretOnce"), ("400", "408", "409", "413", "415", "422"),
            json_body({"feed_id": ID, "kind": {"enum": [*KINDS, None]}, "exhibition": ID,
                       "unit": {"type": "string", "maxLength": 16}, "min": {"type": "number"},
                       "max": {"type": "number"}}, ["feed_id"]))},
        "/api/admin/feeds/{feed}/rotate": {"post": _admin(
            "a new token for a feed (the old one stops working)", [FEED],
            reply("200", "SecretOnce"), ("404",))},
        "/api/admin/feeds/{feed}": {"delete": _admin(
            "remove a feed and its token (its readings are kept)", [FEED],
            {"204": {"description": "removed"}}, ("404",))},
        "/api/admin/guides": {"post": _admin(
            "a guide code for an exhibition, in the reply only this once", [],
            reply("201", "SecretOnce"), ("400", "404", "408", "413", "415", "422"),
            json_body({"exhibition": ID, "label": text}, ["exhibition"]))},
        "/api/admin/exhibitions/{exhibition}": {"put": _admin(
            "publish a bundle (tar or tar.gz of its folder); the previous version is kept "
            "for rollback", [EXHIBITION],
            {**reply("201", "Published"), **reply("200", "Published")},
            ("400", "404", "408", "409", "413", "415", "422", "507"),
            {"application/x-tar": tar, "application/gzip": tar,
             "application/octet-stream": tar})},
        "/api/admin/exhibitions/{exhibition}/rollback": {"post": _admin(
            "switch an exhibition back to its previous version, or to a kept `version`",
            [EXHIBITION], reply("200", "Published"), ("400", "404", "408", "409", "413", "415",
                                                      "422"),
            json_body({"version": {"type": "string", "pattern": "^[0-9a-f]{16}$"}}, []),
            body_required=False)},
        "/api/admin/exhibitions/{exhibition}/versions": {"get": _admin(
            "the exhibition's versions, most recently current first: which are still kept "
            "(can be rolled back to), and who made each current and when", [EXHIBITION],
            reply("200", "Versions"), ("404",))},
        "/api/admin/health": {"get": _admin(
            "/healthz plus the process id and each failing bundle's error (with its path)", [],
            {"200": {"description": "healthy", "content": {"application/json": {
                "schema": {"type": "object"}}}},
             "503": {"description": "the database is unavailable",
                     "content": {"application/json": {}}}}, ())},
    }


def _studio(summary: str, params: list, ok: dict[str, Any], errors: tuple[str, ...],
            *, change: bool = False, body: bool = False) -> dict[str, Any]:
    """A studio operation: a session cookie (401 without), and for a change the Origin and
    X-CSRF-Token checks (403)."""
    headers = [_param("X-CSRF-Token", "header", description="the session's CSRF token"),
               _param("Origin", "header", description="this server's own origin")]
    operation: dict[str, Any] = {
        "summary": summary, "security": [{"studioSession": []}],
        "parameters": [*params, *(headers if change else [])],
        "responses": {**ok, **{code: ERROR for code in ("401", *errors)}},
    }
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"type": "object"}}}}
    return operation


def _studio_paths() -> dict[str, Any]:
    """The curator studio (/studio/): pages and its JSON API (docs/studio.md)."""
    obj = {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}
    page = {"200": {"description": "HTML page", "content": {"text/html": {}}},
            "303": {"description": "not signed in: to the sign-in page"}}
    if_match = _param("If-Match", "header", description="the version (ETag) read")
    edit_errors = ("400", "403", "404", "408", "409", "413", "415", "422", "428")
    return {
        "/studio": {"get": {"summary": "to /studio/", "responses": {
            "308": {"description": "permanent redirect to /studio/"}}}},
        "/studio/": {"get": {"summary": "the studio's home page", "responses": page}},
        "/studio/sign-in": {"get": {"summary": "the studio's sign-in page", "responses": {
            "200": page["200"]}}},
        "/studio/exhibitions/{exhibition}": {"get": {
            "summary": "the studio's editor of one exhibition", "parameters": [EXHIBITION],
            "responses": {**page, "403": {"description": "not a member"},
                          "404": {"description": "no such studio exhibition"}}}},
        "/studio/exhibitions/{exhibition}/objects/{object}": {"get": {
            "summary": "the studio's editor of one object (3D view, up, size, annotations)",
            "parameters": [EXHIBITION, OBJECT],
            "responses": {**page, "403": {"description": "not a member"},
                          "404": {"description": "no such studio exhibition"}}}},
        "/studio/api/session": {
            "post": {"summary": "sign in (name and password); sets the session cookie",
                     "parameters": [_param("Origin", "header")],
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"type": "object", "required": ["name", "password"],
                                    "properties": {"name": {"type": "string"},
                                                   "password": {"type": "string"}}}}}},
                     "responses": {"201": obj, **{code: ERROR for code in (
                         "400", "401", "403", "408", "413", "415", "422", "429")}}},
            "get": _studio("the signed-in curator and the session's CSRF token", [],
                           {"200": obj}, ()),
            "delete": _studio("sign out", [], {"204": {"description": "signed out"}}, ("403",),
                              change=True),
        },
        "/studio/api/session/password": {"post": _studio(
            "replace one's password (every other session ends)", [], {"200": obj},
            ("400", "403", "408", "413", "415", "422", "429"), change=True, body=True)},
        "/studio/api/exhibitions": {
            "get": _studio("the studio exhibitions the curator may open", [], {"200": obj}, ()),
            "post": _studio("create a studio exhibition (the creator is its member)", [],
                            {"201": obj}, ("400", "403", "408", "409", "413", "415", "422"),
                            change=True, body=True),
        },
        "/studio/api/exhibitions/{exhibition}": {
            "get": _studio("an exhibition's texts, objects, missing translations and members "
                           "(ETag: its version)", [EXHIBITION], {"200": obj}, ("403", "404",
                                                                                 "422")),
            "patch": _studio("edit the exhibition's texts (If-Match required)",
                             [EXHIBITION, if_match], {"200": obj}, edit_errors, change=True,
                             body=True),
        },
        "/studio/api/exhibitions/{exhibition}/objects/{object}": {
            "get": _studio("an object's up axis, turn, height or units, annotations and its "
                           "preview (ETag: the exhibition's version)", [EXHIBITION, OBJECT],
                           {"200": obj}, ("403", "404", "422")),
            "patch": _studio("edit an object's metadata (If-Match required)",
                             [EXHIBITION, OBJECT, if_match], {"200": obj}, edit_errors,
                             change=True, body=True)},
        "/studio/api/exhibitions/{exhibition}/objects/{object}/geometry": {"patch": _studio(
            "set an object's up, turn (degrees), height_m or units (If-Match required)",
            [EXHIBITION, OBJECT, if_match], {"200": obj}, edit_errors, change=True, body=True)},
        "/studio/api/exhibitions/{exhibition}/objects/{object}/presentation": {"patch": _studio(
            "set how an object is shown: mount, plinth_height, wall_height (metres), light "
            "(If-Match required)", [EXHIBITION, OBJECT, if_match], {"200": obj}, edit_errors,
            change=True, body=True)},
        "/studio/api/exhibitions/{exhibition}/objects/{object}/annotations": {"put": _studio(
            "replace an object's annotations: id, position, unit normal, title, text "
            "(If-Match required)", [EXHIBITION, OBJECT, if_match], {"200": obj}, edit_errors,
            change=True, body=True)},
        "/studio/api/exhibitions/{exhibition}/objects/{object}/preview": {"get": _studio(
            "the object's converted model from the studio's last build (members only)",
            [EXHIBITION, OBJECT], {"200": {"description": "GLB", "content": {
                "model/gltf-binary": {}}}}, ("403", "404"))},
        "/studio/api/exhibitions/{exhibition}/members": {
            "get": _studio("the exhibition's members", [EXHIBITION], {"200": obj},
                           ("403", "404")),
            "post": _studio("add a curator as a member", [EXHIBITION],
                            {"201": obj, "200": obj},
                            ("400", "403", "404", "408", "413", "415", "422"), change=True,
                            body=True),
        },
        "/studio/api/exhibitions/{exhibition}/publish": {"post": _studio(
            "build the collection and publish it (validated like `vrculture publish`)",
            [EXHIBITION], {"201": obj}, ("403", "404", "409", "422"), change=True)},
        "/studio/api/exhibitions/{exhibition}/rollback": {"post": _studio(
            "serve an earlier kept version again", [EXHIBITION], {"200": obj},
            ("400", "403", "404", "408", "409", "413", "415", "422"), change=True, body=True)},
        "/studio/api/exhibitions/{exhibition}/publications": {"get": _studio(
            "the version served and each kept version with who published it and when",
            [EXHIBITION], {"200": obj}, ("403", "404"))},
        "/studio/api/exhibitions/{exhibition}/tours": {
            "get": _studio("the tours with their stops, narration per language and missing "
                           "translations, and the objects a stop may lead to (ETag)",
                           [EXHIBITION], {"200": obj}, ("403", "404", "422")),
            "post": _studio("add a tour {id, title, stops: [{object, narration}]} (If-Match "
                            "required)", [EXHIBITION, if_match], {"201": obj}, edit_errors,
                            change=True, body=True),
        },
        "/studio/api/exhibitions/{exhibition}/tours/{tour}": {
            "put": _studio("replace a tour's title and stops, in the order sent (If-Match "
                           "required)", [EXHIBITION, TOUR, if_match], {"200": obj},
                           edit_errors, change=True, body=True),
            "delete": _studio("remove a tour (If-Match required)", [EXHIBITION, TOUR, if_match],
                              {"200": obj}, ("403", "404", "409", "422", "428"), change=True),
        },
        "/studio/api/exhibitions/{exhibition}/smart": {
            "get": _studio("the smart exhibits, and the kinds and goals the builder knows "
                           "(ETag)", [EXHIBITION], {"200": obj}, ("403", "404", "422")),
            "post": _studio("add a smart exhibit {id, kind, goal, title, description?, feed?, "
                            "gauge?} and create its feed: the reply holds the feed's token, "
                            "shown this once (If-Match required)", [EXHIBITION, if_match],
                            {"201": obj}, edit_errors, change=True, body=True),
        },
        "/studio/api/exhibitions/{exhibition}/smart/{smart}": {"delete": _studio(
            "remove a smart exhibit and the feed made for it (its readings are kept; "
            "If-Match required)", [EXHIBITION, SMART_EXHIBIT, if_match], {"200": obj},
            ("403", "404", "409", "422", "428"), change=True)},
        "/studio/api/exhibitions/{exhibition}/smart/{smart}/readings": {"get": _studio(
            "the latest readings of the smart exhibit's feeds (members only)",
            [EXHIBITION, SMART_EXHIBIT], {"200": obj}, ("403", "404"))},
        # resumable uploads: tus 1.0.0 core, creation and termination (docs/studio-uploads.md)
        "/studio/api/exhibitions/{exhibition}/uploads": {
            "options": _studio("the tus protocol's version, extensions and maximum size",
                               [EXHIBITION], {"204": {"description": "Tus-* headers"}},
                               ("403", "404")),
            "post": _studio("create an upload (Upload-Length, Upload-Metadata: name, batch, "
                            "…); Location names it", [EXHIBITION], {
                                "201": {"description": "created; Location is the upload"}},
                            ("400", "403", "404", "412", "413", "503", "507"), change=True),
            "get": _studio("the exhibition's uploads and each object's conversion state",
                           [EXHIBITION], {"200": obj}, ("403", "404")),
        },
        "/studio/api/exhibitions/{exhibition}/uploads/{upload_id}": {
            "patch": {**_studio(
                "append bytes at Upload-Offset (tus); the answer's Upload-Offset is the new "
                "size", [EXHIBITION, UPLOAD], {"204": {"description": "appended"}},
                ("400", "403", "404", "409", "412", "413", "415", "423", "503", "507"),
                change=True), "requestBody": {"required": True, "content": {
                    "application/offset+octet-stream": {
                        "schema": {"type": "string", "format": "binary"}}}}},
            "delete": _studio("abandon an upload and delete its bytes (tus termination)",
                              [EXHIBITION, UPLOAD], {"204": {"description": "deleted"}},
                              ("403", "404", "412", "423"), change=True),
        },
        "/studio/api/exhibitions/{exhibition}/events": {"get": _studio(
            "the conversion queue's progress per object, as server-sent events "
            "(Last-Event-ID resumes)", [EXHIBITION],
            {"200": {"description": "text/event-stream",
                     "content": {"text/event-stream": {}}}}, ("403", "404"))},
        "/studio/api/audit": {"get": _studio(
            "the audit log of one exhibition, newest first",
            [_param("exhibition", "query", ID)], {"200": obj}, ("400", "403", "404"))},
        # arranging the rooms and the private preview (studio/plan.py)
        "/studio/exhibitions/{exhibition}/plan": {"get": {
            "summary": "the studio's floor plan of the rooms", "parameters": [EXHIBITION],
            "responses": {**page, "403": {"description": "not a member"},
                          "404": {"description": "no such studio exhibition"}}}},
        "/studio/exhibitions/{exhibition}/preview/": {"get": {
            "summary": "the private preview in the viewer (members only, private, no-store)",
            "parameters": [EXHIBITION],
            "responses": {**page, "403": {"description": "not a member"},
                          "404": {"description": "no preview built yet"}}}},
        "/studio/preview/{exhibition}/{path}": {"get": _studio(
            "a file of the private preview's bundle (ETag, ranges; private, no-store)",
            [EXHIBITION, PATH], {"200": {"description": "the file"},
                                 "206": {"description": "the ranges asked for"}},
            ("403", "404"))},
        "/studio/api/exhibitions/{exhibition}/preview": {"post": _studio(
            "build the private preview with the publishing builder, without publishing "
            "(422: the builder's messages)", [EXHIBITION], {"201": obj},
            ("403", "404", "409", "422"), change=True)},
        "/studio/api/exhibitions/{exhibition}/floorplan": {
            "get": _studio("the floor plan model of the latest build, rebuilt first when "
                           "collection.toml changed since (ETag: its version)", [EXHIBITION],
                           {"200": obj}, ("403", "404", "409", "422")),
            "put": _studio("write a floor plan model into collection.toml (If-Match "
                           "required; 422 names the field)", [EXHIBITION, if_match],
                           {"200": obj}, edit_errors, change=True, body=True)},
    }


@cache
def document() -> dict[str, Any]:
    published = {**_inline(SCHEMAS / "exhibition.schema.json", "Exhibition"),
                 **_inline(SCHEMAS / "readings.schema.json", "Readings")}
    manifest_ref = {"$ref": "#/components/schemas/Exhibition"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "vrculture server", "version": VERSION,
                 "description": "Exhibitions, their assets, search, oEmbed and sensor feeds."},
        "paths": {
            "/": _html("exhibition list page", []),
            "/exhibitions/{exhibition}": _html("the viewer for one exhibition", [EXHIBITION]),
            "/exhibitions/{exhibition}/objects/{object}": _html(
                "the viewer opened at one object's view point (its deep link)",
                [EXHIBITION, OBJECT]),
            "/exhibitions/{exhibition}/labels": _html(
                "printable wall labels (A4), one per object with a QR code of its deep link",
                [EXHIBITION]),
            "/embed/{exhibition}": _html("iframe page: a whole exhibition", [EXHIBITION]),
            "/embed/{exhibition}/{object}": _html("iframe page: one object on a turntable",
                                                  [EXHIBITION, OBJECT]),
            "/static/{path}": _file("files of the viewer (web/)", [PATH]),
            "/vrculture-embed.js": _file("the embed script", [], "text/javascript"),
            "/vendor/three/{path}": _file("three.js (build/ and examples/jsm/ only)", [PATH]),
            "/vendor/basis_worker.js": _file(
                "the Basis Universal transcoder's worker, with a policy of its own", [],
                "text/javascript"),
            "/bundles/{exhibition}/{path}": _file("files of an exhibition bundle; content-hashed"
                                                  " names are immutable", [EXHIBITION, PATH]),
            "/api/exhibitions": {"get": _json(
                "every exhibition", [],
                {"type": "array", "items": {"$ref": "#/components/schemas/ExhibitionSummary"}})},
            "/api/exhibitions/{exhibition}": {"get": _json(
                "an exhibition's manifest (exhibition.json)", [EXHIBITION], manifest_ref,
                NOT_FOUND)},
            "/api/exhibitions/{exhibition}/objects/{object}": {"get": _json(
                "one object's (or smart exhibit's) record", [EXHIBITION, OBJECT],
                {"type": "object"}, NOT_FOUND)},
            "/api/search": {"get": _json(
                "full-text search over titles, creators and descriptions (parts of words too)",
                [_param("q", "query", {"type": "string", "minLength": 1, "maxLength": 200,
                                       "pattern": "\\S"}),
                 _param("lang", "query", {"type": "string",
                                          "pattern": "^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"},
                        required=False),
                 _param("exhibition", "query", ID, required=False),
                 _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 100},
                        required=False)],
                {"$ref": "#/components/schemas/SearchResults"}, {"400": ERROR, "404": ERROR})},
            "/api/feeds/{feed}/readings": {
                "post": {
                    "summary": "ingest one reading or a batch (bearer feed token)",
                    "security": [{"feedToken": []}],
                    "parameters": [FEED],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Readings_body"}}}},
                    "responses": INGEST_RESPONSES,
                },
                "get": _json(
                    "history, oldest first",
                    [FEED, _param("since", "query", required=False,
                                  description="ISO-8601 time or epoch seconds (exclusive)"),
                     _param("limit", "query", {"type": "integer", "minimum": 1,
                                               "maximum": 1000}, required=False)],
                    {"$ref": "#/components/schemas/History"}, {"400": ERROR, "404": ERROR}),
            },
            "/api/feeds/{feed}/figures": {"get": _json(
                "what the feed's readings mean for its exhibit's goal (energy saved, bin "
                "trips avoided, screening sessions this term), with period and assumptions",
                [FEED], {"$ref": "#/components/schemas/Figures"}, NOT_FOUND)},
            "/api/ngsi-ld/notify/{feed}": {
                "post": {
                    "summary": "NGSI-LD notification from a context broker: each entity of "
                               "`data` is one reading (bearer feed token)",
                    "security": [{"feedToken": []}],
                    "parameters": [FEED],
                    "requestBody": {"required": True, "content": {
                        media: {"schema": {"type": "object", "required": ["data"],
                                           "properties": {"data": {
                                               "type": "array", "minItems": 1,
                                               "maxItems": 1000,
                                               "items": {"type": "object"}}}}}
                        for media in ("application/json", "application/ld+json")}},
                    "responses": INGEST_RESPONSES,
                },
            },
            "/api/openapi.json": {"get": _json("this document", [], {"type": "object"})},
            "/oembed": {"get": _json(
                "oEmbed for an exhibition or object URL",
                [_param("url", "query", {"type": "string", "minLength": 1, "maxLength": 512}),
                 _param("format", "query", {"enum": ["json"]}, False),
                 _param("maxwidth", "query", {"type": "integer"}, False),
                 _param("maxheight", "query", {"type": "integer"}, False)],
                {"$ref": "#/components/schemas/OEmbed"},
                {"400": ERROR, "404": ERROR, "501": ERROR})},
            "/healthz": {"get": _json("liveness, database, loaded exhibitions and how many "
                                      "bundles fail to load (nothing about the host)", [],
                                      {"type": "object"},
                                      {"503": {"description": "the database is unavailable",
                                               "content": {"application/json": {}}}})},
            **_admin_paths(),
            **_studio_paths(),
            "/ws/rooms/{exhibition}": {"get": {
                "summary": "WebSocket upgrade: the rooms protocol (docs/rooms-protocol.md)",
                "parameters": [EXHIBITION],
                "responses": {"101": {"description": "switching protocols"},
                              "403": {"description": "origin not allowed"},
                              "404": {"description": "unknown exhibition"}}}},
        },
        "components": {
            "securitySchemes": {"feedToken": {"type": "http", "scheme": "bearer",
                                              "description": "from `vrculture feeds add`"},
                                "curatorToken": {"type": "http", "scheme": "bearer",
                                                 "description": "from `vrculture curator "
                                                                "token`"},
                                "studioSession": {"type": "apiKey", "in": "cookie",
                                                  "name": "vrculture_studio",
                                                  "description": "from POST "
                                                                 "/studio/api/session"}},
            "schemas": {
                **published,
                "Error": {"type": "object", "required": ["type", "code", "message"],
                          "properties": {"type": {"const": "error"}, "code": {"type": "string"},
                                         "message": {"type": "string"},
                                         "field": {"type": "string"},
                                         "index": {"type": "integer"}}},
                "ExhibitionSummary": {"type": "object", "required": ["id", "title", "url"],
                                      "properties": {"id": ID, "title": {"type": "object"},
                                                     "description": {"type": "object"},
                                                     "objects": {"type": "integer"},
                                                     "thumbnail": {"type": ["string", "null"]},
                                                     "url": {"type": "string"}}},
                "SearchResults": {"type": "object", "properties": {
                    "query": {"type": "string"},
                    "results": {"type": "array", "items": {"type": "object", "properties": {
                        "exhibition": ID, "object": ID, "lang": {"type": "string"},
                        "title": {"type": "string"}, "snippet": {"type": "string"}}}}}},
                "IngestResult": {"type": "object", "required": ["stored", "duplicates"],
                                 "properties": {"stored": {"type": "integer"},
                                                "duplicates": {"type": "integer"}}},
                "History": {"type": "object", "properties": {
                    "feed": ID, "kind": {"type": ["string", "null"]},
                    "readings": {"type": "array", "items": {"type": "object"}}}},
                "Figures": {"type": "object", "required": ["feed", "kind", "figures"],
                            "properties": {
                    "feed": ID, "kind": {"type": ["string", "null"]},
                    "figures": {"type": "array", "items": {
                        "type": "object",
                        "required": ["figure", "goal", "period", "value", "unit", "assumptions"],
                        "properties": {
                            "figure": {"enum": ["energy_saved", "trips_avoided",
                                                "screening_sessions"]},
                            "goal": {"type": "string"},
                            "value": {"type": ["number", "string"],
                                      "description": "a number, or \"<5\" for a count of "
                                                     "1-4 withheld for privacy"},
                            "unit": {"type": "string"},
                            "period": {"type": "object", "required": ["kind", "from", "to"],
                                       "properties": {
                                "kind": {"enum": ["month", "term"]},
                                "term": {"type": ["string", "null"]},
                                "from": {"type": "string", "format": "date"},
                                "to": {"type": "string", "format": "date"},
                                "start": {"type": "string"}, "end": {"type": "string"}}},
                            "assumptions": {"type": "object"}}}}}},
                "SecretOnce": {"type": "object", "description": "a token or code, shown only "
                               "in this reply (stored as a hash)", "additionalProperties": True},
                "Published": {"type": "object", "required": ["exhibition", "version"],
                              "properties": {"exhibition": ID, "version": {"type": "string"},
                                             "previous": {"type": ["string", "null"]}}},
                "Versions": {"type": "object", "required": ["exhibition", "versions"],
                             "properties": {"exhibition": ID, "versions": {
                                 "type": "array", "items": {
                                     "type": "object",
                                     "required": ["version", "current", "kept", "history"],
                                     "properties": {
                                         "version": {"type": "string"},
                                         "current": {"type": "boolean"},
                                         "kept": {"type": "boolean"},
                                         "history": {"type": "array", "items": {
                                             "type": "object", "properties": {
                                                 "action": {"enum": ["publish", "rollback"]},
                                                 "at": {"type": "number"},
                                                 "by": {"type": ["string", "null"]}}}}}}}}},
                "OEmbed": {"type": "object", "required": ["version", "type", "html"],
                           "properties": {"version": {"const": "1.0"}, "type": {"const": "rich"},
                                          "html": {"type": "string"},
                                          "width": {"type": "integer"},
                                          "height": {"type": "integer"}}},
            },
        },
    }


async def openapi_handler(request: web.Request) -> web.Response:
    return json_reply(request, document())


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/openapi.json", openapi_handler, name="openapi")
