"""The deployment recipe (deploy/) working: nginx serves published bundle files from the data
folder as another user, with the right types, caching and ranges, without asking vrculture;
it passes the viewer, the API and the rooms' WebSockets to vrculture with the client's address;
and a `vrculture publish` changes what nginx serves without reloading it."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import aiohttp
import pytest
from e2e.bundle_factory import EXHIBITION_ID

from . import nginx_recipe as recipe
from .conftest import Deployment, manifest_of

IMMUTABLE = "public, max-age=31536000, immutable"
TYPES = {".glb": "model/gltf-binary", ".ktx2": "image/ktx2", ".wasm": "application/wasm",
         ".webp": "image/webp", ".json": "application/json"}


def bundle_files(deployment: Deployment) -> list[str]:
    root = deployment.published.resolve()
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def worker_uids(master: int) -> set[int]:
    uids = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines()
                          if ":\t" in line)
        except OSError:
            continue
        if int(fields["PPid"]) == master:
            uids.add(int(fields["Uid"].split()[0]))
    return uids


async def test_bundle_files_come_from_disk_with_types_caching_and_ranges(deployment):
    files = bundle_files(deployment)
    assert {Path(f).suffix for f in files} >= set(TYPES)
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        for relative in files:
            on_disk = (deployment.published / relative).read_bytes()
            async with session.get(deployment.url(f"/bundles/{EXHIBITION_ID}/{relative}"),
                                   headers={"Accept-Encoding": "identity"}) as response:
                assert response.status == 200, relative
                assert await response.read() == on_disk, relative
                suffix = Path(relative).suffix
                if suffix in TYPES:
                    assert response.content_type == TYPES[suffix], relative
                hashed = relative != "exhibition.json" and relative != "build-report.json"
                assert response.headers["Cache-Control"] == (IMMUTABLE if hashed else "no-cache")
                assert response.headers["Access-Control-Allow-Origin"] == "*"
                assert response.headers["X-Content-Type-Options"] == "nosniff"

        glb = next(f for f in files if f.endswith(".glb"))
        data = (deployment.published / glb).read_bytes()
        url = deployment.url(f"/bundles/{EXHIBITION_ID}/{glb}")
        async with session.get(url, headers={"Range": "bytes=10-109"}) as response:
            assert response.status == 206
            assert response.headers["Content-Range"] == f"bytes 10-109/{len(data)}"
            assert await response.read() == data[10:110]
        async with session.get(url, headers={"Range": "bytes=0-3,-4"}) as response:
            assert response.status == 206
            assert response.content_type == "multipart/byteranges"
            body = await response.read()
            assert data[:4] in body and data[-4:] in body
        async with session.get(url) as response:
            etag = response.headers["ETag"]
        async with session.get(url, headers={"If-None-Match": etag}) as response:
            assert response.status == 304
        manifest_url = deployment.url(f"/bundles/{EXHIBITION_ID}/exhibition.json")
        async with session.get(manifest_url, headers={"Accept-Encoding": "gzip"}) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            assert response.headers["Vary"] == "Accept-Encoding"


async def test_nginx_answers_bundle_files_without_vrculture(deployment):
    """Proof from nginx's own access log: `$upstream_addr` is empty for the GLB (nginx opened
    the file itself) and names vrculture for a page."""
    glb = next(f for f in bundle_files(deployment) if f.endswith(".glb"))
    probe = uuid.uuid4().hex
    glb_uri = f"/bundles/{EXHIBITION_ID}/{glb}?probe={probe}"
    page_uri = f"/exhibitions/{EXHIBITION_ID}?probe={probe}"
    async with aiohttp.ClientSession() as session:
        for uri in (glb_uri, page_uri):
            async with session.get(deployment.url(uri)) as response:
                assert response.status == 200
                await response.read()
    assert deployment.upstream_of(glb_uri) == "-"
    assert deployment.upstream_of(page_uri) == f"127.0.0.1:{deployment.vrculture_port}"


async def test_a_file_not_published_is_left_to_vrculture(deployment):
    """Bundles given to `vrculture serve` on its command line live outside DATA: a bundle URL
    nginx finds no file for is passed on, and vrculture answers it (here: 404)."""
    uri = f"/bundles/{EXHIBITION_ID}/objects/none.0123456789ab.glb?probe={uuid.uuid4().hex}"
    async with aiohttp.ClientSession() as session, session.get(deployment.url(uri)) as response:
        assert response.status == 404
    assert deployment.upstream_of(uri) == f"127.0.0.1:{deployment.vrculture_port}"


@pytest.mark.skipif(os.geteuid() != 0, reason="nginx switches its workers' user only as root")
def test_workers_run_as_another_user_than_the_publisher(deployment):
    """The published files (0600 as `vrculture build` wrote them) were readable by www-data:
    publish writes them with the unit's umask; the test above read every one through nginx."""
    uids = worker_uids(deployment.nginx.pid)
    assert uids == {recipe.pwd.getpwnam(recipe.NGINX_USER).pw_uid}
    assert os.getuid() not in uids
    source_glb = next(deployment.source.rglob("*.glb"))
    assert source_glb.stat().st_mode & 0o777 == 0o600


async def test_hidden_and_outside_paths_are_not_served_from_disk(deployment):
    (deployment.published / ".secret").write_text("no")
    try:
        async with aiohttp.ClientSession() as session:
            for path in (f"/bundles/{EXHIBITION_ID}/.secret",
                         f"/bundles/{EXHIBITION_ID}/../current/exhibition.json/../.secret",
                         f"/bundles/{EXHIBITION_ID}/%2e%2e/%2e%2e/vrculture.sqlite",
                         "/bundles/..%2f..%2fdata/exhibitions"):
                async with session.get(deployment.url(path)) as response:
                    assert response.status in (400, 404), path
                    assert await response.read() != b"no"
    finally:
        (deployment.published / ".secret").unlink()


async def test_the_viewer_loads_through_nginx(deployment):
    async with aiohttp.ClientSession() as session:
        async with session.get(deployment.url(f"/exhibitions/{EXHIBITION_ID}")) as response:
            assert response.status == 200
            assert response.content_type == "text/html"
            page = await response.text()
        assert '<base href="/">' in page  # the page's relative URLs resolve against the root
        modules = ["/vendor/three/build/three.module.js", "/vendor/three/build/three.core.js",
                   "/static/js/main.js"]
        for module in modules:
            assert f'"{module[1:]}"' in page or f'"./{module[1:]}"' in page
            async with session.get(deployment.url(module)) as response:
                assert response.status == 200, module
                assert response.content_type == "text/javascript", module
                assert len(await response.read()) > 1000, module
        async with session.get(deployment.url("/api/exhibitions")) as response:
            assert response.status == 200
            assert EXHIBITION_ID in json.dumps(await response.json())


async def test_rooms_connect_through_nginx_with_the_visitors_address(deployment):
    """A browser-like WebSocket (Origin of the nginx site) gets the welcome; vrculture sees the
    visitor's own address (here 127.0.0.2), not nginx's nor what the client claims."""
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.ws_connect(deployment.url(f"/ws/rooms/{EXHIBITION_ID}"),
                                      origin=deployment.base) as ws:
            await ws.send_json({"type": "hello", "v": 1, "name": "Ann", "color": "#ff8800",
                                "lang": "sv"})
            assert (await ws.receive_json(timeout=10))["type"] == "welcome"
        async with session.post(deployment.url("/api/admin/feeds"), json={"id": "x"},
                                headers={"Authorization": "Bearer wrong",
                                         "X-Forwarded-For": "198.51.100.7"}) as response:
            assert response.status == 401
    deadline = time.monotonic() + 10
    while "invalid curator token" not in deployment.vrculture_log.read_text():
        assert time.monotonic() < deadline, deployment.vrculture_log.read_text()
        time.sleep(0.05)
    assert "/api/admin/feeds from 127.0.0.2:" in deployment.vrculture_log.read_text()


async def test_publish_changes_what_nginx_serves_without_a_reload(deployment):
    manifest_url = deployment.url(f"/bundles/{EXHIBITION_ID}/exhibition.json")
    new_file = "extras/notice.abcdef012345.json"
    master_and_workers = (deployment.nginx.pid, worker_uids(deployment.nginx.pid))
    workers_before = _children(deployment.nginx.pid)
    changed = deployment.work / "bundle-v2" / EXHIBITION_ID
    shutil.copytree(deployment.source, changed)
    manifest = manifest_of(changed)
    manifest["title"] = {lang: f"{title} (v2)" for lang, title in manifest["title"].items()}
    (changed / "exhibition.json").write_text(json.dumps(manifest), encoding="utf-8")
    (changed / new_file).write_text('{"v": 2}')
    async with aiohttp.ClientSession() as session:
        async with session.get(manifest_url) as response:
            assert "(v2)" not in (await response.json())["title"]["en"]
        async with session.get(deployment.url(f"/bundles/{EXHIBITION_ID}/{new_file}")) as r:
            assert r.status == 404
        try:
            recipe.publish(changed, deployment.data_dir)
            # nginx revalidates its open-file cache every second (open_file_cache_valid)
            await title_becomes(session, manifest_url, lambda title: title.endswith("(v2)"))
            fresh = f"/bundles/{EXHIBITION_ID}/{new_file}?probe={uuid.uuid4().hex}"
            async with session.get(deployment.url(fresh)) as r:
                assert r.status == 200
                assert await r.json() == {"v": 2}
            assert deployment.upstream_of(fresh) == "-"  # from disk, not from vrculture
        finally:  # back to the first version for the other tests (and rollback works too)
            done = subprocess.run([recipe.sys.executable, "-m", "vrculture", "publish",
                                   "--rollback", EXHIBITION_ID, "--data",
                                   str(deployment.data_dir)], cwd=recipe.ROOT, check=False,
                                  capture_output=True, text=True, umask=recipe.unit_umask())
            assert done.returncode == 0, done.stderr
        await title_becomes(session, manifest_url, lambda title: "(v2)" not in title)
    assert (deployment.nginx.pid, worker_uids(deployment.nginx.pid)) == master_and_workers
    assert _children(deployment.nginx.pid) == workers_before  # no reload: the same workers


async def title_becomes(session, url: str, wanted, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        async with session.get(url) as response:
            title = (await response.json())["title"]["en"]
        if wanted(title):
            return
        assert time.monotonic() < deadline, f"nginx still serves {title!r}"
        await asyncio.sleep(0.1)


def _children(pid: int) -> set[int]:
    found = set()
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(status.parent.name))
    return found


def test_the_unit_is_hardened_and_writes_only_its_data_folder():
    values = {key: recipe.unit_values(key) for key in (
        "User", "ProtectSystem", "ReadWritePaths", "Restart", "KillSignal", "ExecStart")}
    assert values["User"] and values["User"] != ["root"]
    assert values["ProtectSystem"] == ["strict"]
    assert values["ReadWritePaths"] == [recipe.UNIT_DATA]
    assert f"--data {recipe.UNIT_DATA} " in values["ExecStart"][0]
    assert "--trusted-proxy 127.0.0.1" in values["ExecStart"][0]
    assert "--host 127.0.0.1" in values["ExecStart"][0]  # reachable only through nginx
    assert values["Restart"] == ["on-failure"]
    assert values["KillSignal"] in ([], ["SIGTERM"])  # the clean stop test_shutdown.py pins


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_accepts_the_unit(tmp_path):
    """`systemd-analyze verify` with the ExecStart binary pointed at this checkout's (the
    shipped path exists only on an installed machine): any warning about the unit fails
    (warnings about other units of this machine are not the unit's)."""
    unit = tmp_path / "vrculture.service"
    vrculture = Path(recipe.sys.executable).with_name("vrculture")
    if not vrculture.exists():
        pytest.skip(f"{vrculture} not installed")
    unit.write_text(recipe.UNIT.read_text().replace(recipe.UNIT_BINARY, str(vrculture)))
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)],
                          capture_output=True, text=True, timeout=60, check=False)
    about_ours = [line for line in (done.stdout + done.stderr).splitlines()
                  if unit.name in line]
    assert done.returncode == 0 and not about_ours, done.stderr
