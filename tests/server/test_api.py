"""The JSON API and the viewer pages against the real app."""

from __future__ import annotations

import json
import os
from pathlib import Path

from vrculture.server.app import create_app
from vrculture.server.config import ServerConfig


async def test_exhibition_list(client):
    response = await client.get("/api/exhibitions")
    assert response.status == 200
    [summary] = await response.json()
    assert summary["id"] == "demo"
    assert summary["title"]["sv"] == "Sagor och ängder"
    assert summary["objects"] == 2
    assert summary["url"] == "/exhibitions/demo"
    assert summary["thumbnail"].startswith("/bundles/demo/objects/angel/angel.thumb.")
    thumb = await client.get(summary["thumbnail"])
    assert thumb.status == 200 and thumb.headers["Content-Type"] == "image/webp"


async def test_manifest_matches_the_bundle_and_revalidates(client, bundle: Path):
    response = await client.get("/api/exhibitions/demo")
    assert response.status == 200
    assert await response.json() == json.loads((bundle / "exhibition.json").read_text())
    etag = response.headers["ETag"]
    again = await client.get("/api/exhibitions/demo", headers={"If-None-Match": etag})
    assert again.status == 304


async def test_object_record_and_smart_exhibit(client):
    response = await client.get("/api/exhibitions/demo/objects/bowl")
    assert response.status == 200
    assert (await response.json())["creator"] == "Anna Öberg"
    lights = await client.get("/api/exhibitions/demo/objects/lights")
    assert (await lights.json())["kind"] == "street-lighting"


async def test_unknown_ids_are_json_404(client):
    for path in ("/api/exhibitions/nope", "/api/exhibitions/demo/objects/nope",
                 "/api/exhibitions/nope/objects/bowl"):
        response = await client.get(path)
        assert response.status == 404
        body = await response.json()
        assert body["type"] == "error" and body["code"].startswith("unknown_")


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert [e["id"] for e in body["exhibitions"]] == ["demo"]
    assert body["bundles_failing"] == 0


async def test_healthz_tells_a_visitor_nothing_about_the_host(aiohttp_client, tmp_path, bundle,
                                                             web_dir, clock):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "exhibition.json").write_text("{")
    client = await aiohttp_client(create_app(ServerConfig(
        bundles=[bundle, broken], data_dir=tmp_path / "data", web_dir=web_dir), clock=clock))
    response = await client.get("/healthz")
    text = await response.text()
    body = json.loads(text)
    assert body["bundles_failing"] == 1 and [e["id"] for e in body["exhibitions"]] == ["demo"]
    assert str(tmp_path) not in text and "broken" not in text
    assert "process" not in body and str(os.getpid()) not in text


async def test_a_build_report_in_a_bundle_is_never_served(client, bundle):
    (bundle / "build-report.json").write_text(json.dumps({"collection": "/home/curator/x"}))
    assert (await client.get("/bundles/demo/build-report.json")).status == 404


async def test_healthz_reports_a_broken_database(client):
    from vrculture.server import appkeys

    # closed on the store's own thread: closing a connection while that thread runs a query on
    # it (the goal figures' keeper reads readings in the background) crashes SQLite itself
    await client.app[appkeys.FEED_STORE].run(lambda store: store.conn.close())
    response = await client.get("/healthz")
    assert response.status == 503
    assert (await response.json())["status"] == "degraded"


async def test_pages(client):
    index = await client.get("/")
    assert index.status == 200 and "index.html" in await index.text()
    assert index.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = index.headers["Content-Security-Policy"]  # the full page policy: see test_csp
    assert policy.startswith("frame-ancestors 'self'; script-src 'self'")
    page = await client.get("/exhibitions/demo")
    assert "exhibition.html" in await page.text()
    assert (await client.get("/exhibitions/nope")).status == 404
    assert (await client.get("/static/js/app.js")).status == 200
    alias = await client.get("/vrculture-embed.js")
    assert alias.status == 200
    assert alias.headers["Access-Control-Allow-Origin"] == "*"


async def test_embed_pages_carry_the_allowed_origins(client):
    for path in ("/embed/demo", "/embed/demo/angel"):
        response = await client.get(path)
        assert response.status == 200
        assert "embed.html" in await response.text()
        assert response.headers["Content-Security-Policy"].startswith(
            "frame-ancestors 'self' https://museum.example; ")
    assert (await client.get("/embed/demo/nope")).status == 404
    assert (await client.get("/embed/nope")).status == 404


async def test_api_json_is_gzipped_when_large(client):
    response = await client.get("/api/exhibitions/demo", headers={"Accept-Encoding": "gzip"},
                                auto_decompress=False)
    assert response.headers["Content-Encoding"] == "gzip"


async def test_real_viewer_files_are_served(aiohttp_client, config, clock):
    """Against the repository's web/ (written by the viewer's author): every file there."""
    from vrculture.server.app import create_app

    real = Path(__file__).resolve().parents[2] / "web"
    files = [p for p in real.rglob("*") if p.is_file() and not any(
        part.startswith(".") for part in p.relative_to(real).parts)]
    if not files:
        return
    config.web_dir = real
    client = await aiohttp_client(create_app(config, clock=clock))
    for path in files[:50]:
        response = await client.get(f"/static/{path.relative_to(real).as_posix()}")
        assert response.status == 200, path
        assert await response.read() == path.read_bytes()
