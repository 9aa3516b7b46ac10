"""A real application with the studio's upload routes, a small real `authorize`, and a tus
client's steps, for the studio upload tests."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from vrculture.server.app import create_app
from vrculture.server.config import ServerConfig
from vrculture.server.studio.uploads import StudioUploadLimits, setup_studio_uploads

EXHIBITION = "sjostad"
BASE = f"/studio/api/exhibitions/{EXHIBITION}"
TUS = {"Tus-Resumable": "1.0.0"}
# Who may do what: the studio's sign-in (another module) is injected the same way.
TOKENS = {"anna-token": "anna", "bo-token": "bo"}
MEMBERS = {"anna": {EXHIBITION}, "bo": {"elsewhere"}}
CSRF = "csrf-ok"
ANNA = {"X-Curator": "anna-token", "X-CSRF": CSRF}


async def authorize(request: web.Request, exhibition_id: str) -> str:
    """A curator named by the X-Curator token, a member of the exhibition, with the CSRF
    header on unsafe methods: what the studio's own sign-in checks, in miniature."""
    curator = TOKENS.get(request.headers.get("X-Curator", ""))
    if curator is None:
        raise web.HTTPUnauthorized(text="sign in")
    if exhibition_id not in MEMBERS[curator]:
        raise web.HTTPForbidden(text="not your exhibition")
    if request.method not in ("GET", "HEAD", "OPTIONS") and \
            request.headers.get("X-CSRF") != CSRF:
        raise web.HTTPForbidden(text="cross-site request")
    return curator


def make_app(config: ServerConfig, *, limits: StudioUploadLimits | None = None,
             changes: list[tuple[str, str, str, dict[str, Any]]] | None = None,
             clock: Callable[[], float] = lambda: 1_000_000.0) -> web.Application:
    app = create_app(config, watch_interval=60, clock=clock)  # one clock for the whole app

    async def on_change(curator: str, exhibition_id: str, action: str,
                        detail: dict[str, Any]) -> None:
        if changes is not None:
            changes.append((curator, exhibition_id, action, detail))

    setup_studio_uploads(app, authorize=authorize, on_change=on_change, limits=limits,
                         workers=1, clock=clock)
    return app


def make_exhibition(data_dir: Path, with_toml: bool = True) -> Path:
    root = data_dir / "studio" / "exhibitions" / EXHIBITION
    root.mkdir(parents=True)
    if with_toml:
        (root / "collection.toml").write_text(
            '# written by the studio\n[exhibition]\nid = "sjostad"\ndefault_language = "en"\n'
            'title = "Sjöstad"\n', "utf-8")
    return root


def metadata(**values: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}"
                    for key, value in values.items())


async def create(client, name: str, length: int, **extra: str) -> str:
    """Create an upload; returns its URL path."""
    response = await client.post(f"{BASE}/uploads", headers={
        **TUS, **ANNA, "Upload-Length": str(length),
        "Upload-Metadata": metadata(filename=name, **extra)})
    assert response.status == 201, await response.text()
    return response.headers["Location"]


async def patch(client, url: str, offset: int, body: bytes, **headers: str):
    return await client.patch(url, data=body, headers={
        **TUS, **ANNA, "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream", **headers})


async def offset_of(client, url: str) -> int:
    response = await client.head(url, headers={**TUS, **ANNA})
    assert response.status == 200
    return int(response.headers["Upload-Offset"])


async def upload(client, name: str, data: bytes, piece: int = 1 << 20, **extra: str):
    """A whole upload in pieces, as a tus client sends it; returns the last PATCH's answer."""
    url = await create(client, name, len(data), **extra)
    offset = 0
    while True:
        response = await patch(client, url, offset, data[offset:offset + piece])
        if response.status != 204:
            return response
        offset = int(response.headers["Upload-Offset"])
        if offset == len(data):
            return response


async def wait_for(condition, timeout: float = 10.0) -> None:
    """Wait on state: poll `condition()` (an async function) until it is true."""
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.02)
