"""oEmbed, OpenAPI, CORS and the origin checks shared with the rooms."""

from __future__ import annotations

import json

import pytest
from aiohttp import web

from vrculture.server.config import ServerConfig
from vrculture.server.openapi import document
from vrculture.server.security import frame_ancestors, is_origin_allowed


async def test_oembed_for_an_exhibition_and_an_object(client):
    base = str(client.make_url("")).rstrip("/")
    response = await client.get("/oembed", params={"url": f"{base}/exhibitions/demo",
                                                   "format": "json"})
    assert response.status == 200
    body = await response.json()
    assert body["version"] == "1.0" and body["type"] == "rich"
    assert body["title"] == "Sagor och ängder"
    assert f'src="{base}/embed/demo"' in body["html"]
    assert 'allow="xr-spatial-tracking; fullscreen"' in body["html"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    one = await (await client.get("/oembed", params={
        "url": f"{base}/embed/demo/bowl", "maxwidth": "400", "lang": "en"})).json()
    assert f'src="{base}/embed/demo/bowl"' in one["html"]
    assert one["width"] == 400 and one["title"] == "Bowl"
    assert one["author_name"] == "Anna Öberg"
    query_form = await (await client.get("/oembed", params={
        "url": f"{base}/exhibitions/demo?object=angel"})).json()
    assert "/embed/demo/angel" in query_form["html"]


async def test_oembed_uses_the_public_url(aiohttp_client, config, clock):
    from vrculture.server.app import create_app

    config.public_url = "https://museum.example/vr"
    client = await aiohttp_client(create_app(config, clock=clock))
    body = await (await client.get("/oembed", params={
        "url": "https://museum.example/vr/exhibitions/demo"})).json()
    assert 'src="https://museum.example/vr/embed/demo"' in body["html"]


@pytest.mark.parametrize(("params", "status"), [
    ({}, 400),
    ({"url": "https://elsewhere.example/exhibitions/demo"}, 404),
    ({"url": "LOCAL/exhibitions/nope"}, 404),
    ({"url": "LOCAL/embed/demo/nope"}, 404),
    ({"url": "LOCAL/api/exhibitions"}, 404),
    ({"url": "javascript:alert(1)"}, 404),
    ({"url": "LOCAL/exhibitions/demo", "format": "xml"}, 501),
    ({"url": "LOCAL/exhibitions/demo", "maxwidth": "wide"}, 400),
    # urlsplit raises ValueError on these: a 400, never a 500 with a traceback in the log
    ({"url": "http://[::1/exhibitions/demo"}, 400),
    ({"url": "http://[not-an-address]/exhibitions/demo"}, 400),
])
async def test_oembed_refusals(client, params, status):
    base = str(client.make_url("")).rstrip("/")
    params = {k: v.replace("LOCAL", base) for k, v in params.items()}
    response = await client.get("/oembed", params=params)
    assert response.status == status


async def test_openapi_lists_exactly_the_app_routes(client):
    response = await client.get("/api/openapi.json")
    assert response.status == 200
    doc = await response.json()
    assert doc["openapi"].startswith("3.1")
    routes = set()
    for route in client.app.router.routes():
        if route.method == "HEAD":
            continue
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        routes.add((path, route.method.lower()))
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert routes == documented


def test_openapi_document_is_valid_json_schema_wise():
    import jsonschema

    doc = document()
    json.dumps(doc)
    for schema in doc["components"]["schemas"].values():
        if "$ref" not in schema:
            jsonschema.Draft202012Validator.check_schema(schema)


async def test_cors_for_api_is_limited_to_allowed_origins(client):
    allowed = await client.get("/api/exhibitions", headers={"Origin": "https://museum.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://museum.example"
    assert "Origin" in allowed.headers["Vary"]
    other = await client.get("/api/exhibitions", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = await client.options("/api/feeds/street-lights/readings", headers={
        "Origin": "https://museum.example", "Access-Control-Request-Method": "POST"})
    assert preflight.status == 204
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    refused = await client.options("/api/feeds/street-lights/readings", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert refused.status == 403


async def test_assets_are_open_to_any_origin(client):
    response = await client.get("/bundles/demo/exhibition.json",
                                headers={"Origin": "https://anyone.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def _request(origin: str | None, host: str = "gallery.local:8080") -> web.Request:
    from aiohttp.test_utils import make_mocked_request

    headers = {"Host": host}
    if origin is not None:
        headers["Origin"] = origin
    return make_mocked_request("GET", "/ws/rooms/demo", headers=headers)


@pytest.mark.parametrize(("origin", "allowed"), [
    (None, True),
    ("http://gallery.local:8080", True),
    ("https://museum.example", True),
    ("https://museum.example/", True),
    ("https://MUSEUM.example", True),
    ("https://evil.example", False),
    ("https://museum.example.evil.example", False),
    ("null", False),
])
def test_is_origin_allowed(origin, allowed):
    config = ServerConfig(allowed_origins=["https://museum.example"])
    assert is_origin_allowed(_request(origin), config) is allowed


def test_public_url_origin_and_wildcard():
    config = ServerConfig(public_url="https://vr.museum.example/path")
    assert is_origin_allowed(_request("https://vr.museum.example"), config)
    assert not is_origin_allowed(_request("https://other.example"), config)
    assert is_origin_allowed(_request("https://other.example"), ServerConfig(
        allowed_origins=["*"]))


def test_frame_ancestors():
    config = ServerConfig(allowed_origins=["https://a.example", "https://b.example"])
    assert frame_ancestors(config, embed=True) == (
        "frame-ancestors 'self' https://a.example https://b.example")
    assert frame_ancestors(config, embed=False) == "frame-ancestors 'self'"
