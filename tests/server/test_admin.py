"""The curator's admin API against the real app: the token, every route good and bad, hostile
bundle uploads, publishing and rollback seen by the running registry, no secret in any log."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import logging
import math
import os
import tarfile
import time
from pathlib import Path

import pytest
from file_modes import assert_modes_follow_umask
from fixed_clock import FIXED_NOW, FakeClock

from vrculture.cli import main as vrculture
from vrculture.server.admin import PUBLISH_LOCK, UPLOAD_LIMITS
from vrculture.server.app import create_app
from vrculture.server.bundle_upload import UploadLimits
from vrculture.server.storage import Store

from .bundle_factory import make_bundle

TAR = {"Content-Type": "application/x-tar"}


@pytest.fixture
def curator(config) -> str:
    store = Store.open(config.data_dir, clock=FakeClock())
    try:
        return store.create_curator_token()
    finally:
        store.close()


@pytest.fixture
async def admin(aiohttp_client, config, clock):
    app = create_app(config, watch_interval=0.1, clock=clock)
    app[UPLOAD_LIMITS] = UploadLimits(max_upload_bytes=256 * 1024,
                                      max_unpacked_bytes=512 * 1024, max_members=64)
    return await aiohttp_client(app)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def tar_of(folder: Path, *, prefix: str = "", compress: bool = False) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if compress else "w") as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname=prefix + path.relative_to(folder).as_posix(), recursive=False)
    return buffer.getvalue()


def tar_with(*members: tuple[tarfile.TarInfo, bytes | None], base: Path | None = None) -> bytes:
    """A tar of a valid bundle (if `base`) followed by hand-made members."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        if base is not None:
            for path in sorted(base.rglob("*")):
                tar.add(path, arcname=path.relative_to(base).as_posix(), recursive=False)
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def member(name: str, data: bytes = b"x", kind: bytes = tarfile.REGTYPE,
           link: str = "") -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data if kind == tarfile.REGTYPE else None


async def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def served_title(client, exhibition: str) -> str | None:
    response = await client.get(f"/bundles/{exhibition}/exhibition.json")
    return (await response.json())["title"]["sv"] if response.status == 200 else None


async def error_of(response, status: int) -> dict:
    assert response.status == status, await response.text()
    body = await response.json()
    assert body["type"] == "error"
    return body


# the token ---------------------------------------------------------------------------------
ROUTES = [
    ("POST", "/api/admin/feeds"),
    ("POST", "/api/admin/feeds/bins/rotate"),
    ("DELETE", "/api/admin/feeds/bins"),
    ("POST", "/api/admin/guides"),
    ("PUT", "/api/admin/exhibitions/gallery"),
    ("POST", "/api/admin/exhibitions/gallery/rollback"),
    ("GET", "/api/admin/exhibitions/gallery/versions"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_route_refuses_a_missing_or_wrong_token(admin, curator, method, path):
    missing = await admin.request(method, path, json={})
    assert (await error_of(missing, 401))["code"] == "unauthenticated"
    assert "Bearer" in missing.headers["WWW-Authenticate"]
    basic = await admin.request(method, path, json={}, headers={"Authorization": "Basic eDp5"})
    await error_of(basic, 401)
    almost = curator[:-1] + ("A" if curator[-1] != "A" else "B")  # one character off
    wrong = await admin.request(method, path, json={}, headers=auth(almost))
    assert (await error_of(wrong, 401))["code"] == "invalid_token"


async def test_routes_refuse_everyone_until_a_curator_token_exists(admin, config):
    response = await admin.post("/api/admin/guides", json={"exhibition": "demo"},
                                headers=auth("vrc_" + "A" * 43))
    await error_of(response, 401)


def test_cli_creates_once_then_rotates(config, capsys):
    data = str(config.data_dir)
    assert vrculture(["curator", "token", "--data", data]) == 0
    first = capsys.readouterr().out.strip()
    assert first.startswith("vrc_") and len(first) > 40
    assert vrculture(["curator", "token", "--data", data]) == 1  # never replaced by accident
    assert "--rotate" in capsys.readouterr().err
    assert vrculture(["curator", "token", "--rotate", "--data", data]) == 0
    second = capsys.readouterr().out.strip()
    store = Store.open(config.data_dir, clock=FakeClock())
    try:
        assert not store.check_curator_token(first)
        assert store.check_curator_token(second)
        stored = store.conn.execute("SELECT token_hash FROM curator_token").fetchall()
        assert second not in repr(stored)  # only the hash is kept
    finally:
        store.close()


async def test_a_rotated_token_is_refused_at_once(admin, curator, config):
    store = Store.open(config.data_dir, clock=FakeClock())
    try:
        new = store.create_curator_token(rotate=True)
    finally:
        store.close()
    old = await admin.post("/api/admin/guides", json={"exhibition": "demo"}, headers=auth(curator))
    assert (await error_of(old, 401))["code"] == "invalid_token"
    ok = await admin.post("/api/admin/guides", json={"exhibition": "demo"}, headers=auth(new))
    assert ok.status == 201


# feeds and guide codes ---------------------------------------------------------------------
async def test_feed_create_rotate_delete(admin, curator, config):
    created = await admin.post("/api/admin/feeds", headers=auth(curator), json={
        "feed_id": "hall-temp", "kind": "gauge", "unit": "°C", "min": -40, "max": 50})
    assert created.status == 201, await created.text()
    assert created.headers["Cache-Control"] == "no-store"
    first = (await created.json())["token"]
    reading = {"t": FIXED_NOW - 5, "value": 21.5}  # the app's clock: FIXED_NOW
    ingest = await admin.post("/api/feeds/hall-temp/readings", json=reading, headers=auth(first))
    assert ingest.status == 201, await ingest.text()
    again = await admin.post("/api/admin/feeds", headers=auth(curator),
                             json={"feed_id": "hall-temp", "kind": "gauge"})
    assert (await error_of(again, 409))["code"] == "exists"

    rotated = await admin.post("/api/admin/feeds/hall-temp/rotate", headers=auth(curator))
    assert rotated.status == 200
    second = (await rotated.json())["token"]
    assert second != first
    refused = await admin.post("/api/feeds/hall-temp/readings", json=reading, headers=auth(first))
    assert refused.status == 401
    duplicate = await admin.post("/api/feeds/hall-temp/readings", json=reading,
                                 headers=auth(second))
    assert duplicate.status == 200  # the new token works (the reading was already stored)

    deleted = await admin.delete("/api/admin/feeds/hall-temp", headers=auth(curator))
    assert deleted.status == 204
    gone = await admin.post("/api/feeds/hall-temp/readings", json=reading, headers=auth(second))
    assert gone.status == 401
    for method, path in (("DELETE", "/api/admin/feeds/hall-temp"),
                         ("POST", "/api/admin/feeds/hall-temp/rotate"),
                         ("POST", "/api/admin/feeds/NOT_AN_ID/rotate")):
        await error_of(await admin.request(method, path, headers=auth(curator)), 404)


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "gauge"}, "feed_id"),
    ({"feed_id": "../x", "kind": "gauge"}, "feed_id"),
    ({"feed_id": "x", "kind": "volcano"}, "kind"),
    ({"feed_id": "x", "kind": "smart-bin", "unit": "kg"}, "unit"),
    ({"feed_id": "x", "kind": "gauge", "min": 5, "max": 1}, "min"),
    ({"feed_id": "x", "kind": "gauge", "max": True}, "max"),
    ({"feed_id": "x", "token": "mine"}, "token"),
])
async def test_feed_create_names_the_bad_field(admin, curator, body, field):
    response = await admin.post("/api/admin/feeds", json=body, headers=auth(curator))
    assert (await error_of(response, 422))["field"] == field


async def test_json_bodies_are_checked(admin, curator):
    not_json = await admin.post("/api/admin/feeds", data=b"feed_id=x", headers={
        **auth(curator), "Content-Type": "application/x-www-form-urlencoded"})
    await error_of(not_json, 415)
    broken = await admin.post("/api/admin/guides", data=b"{", headers={
        **auth(curator), "Content-Type": "application/json"})
    await error_of(broken, 400)
    huge = await admin.post("/api/admin/guides", json={"exhibition": "demo",
                                                       "label": "x" * 20000},
                            headers=auth(curator))
    await error_of(huge, 413)
    array = await admin.post("/api/admin/guides", json=["demo"], headers=auth(curator))
    await error_of(array, 422)


async def test_guide_code_works_in_the_rooms_at_once(admin, curator):
    created = await admin.post("/api/admin/guides", headers=auth(curator),
                               json={"exhibition": "demo", "label": "Anna"})
    assert created.status == 201
    body = await created.json()
    assert body["exhibition"] == "demo" and body["label"] == "Anna"
    from vrculture.server import appkeys

    assert admin.app[appkeys.GUIDE_CODES].verify("demo", body["code"])
    assert not admin.app[appkeys.GUIDE_CODES].verify("other", body["code"])
    for bad in ({"label": "x"}, {"exhibition": "Demo!"},
                {"exhibition": "demo", "label": "a\nb"}):
        response = await admin.post("/api/admin/guides", json=bad, headers=auth(curator))
        await error_of(response, 422)


async def test_guide_codes_are_not_issued_for_an_exhibition_not_served(admin, curator, config):
    response = await admin.post("/api/admin/guides", headers=auth(curator),
                                json={"exhibition": "nowhere", "label": "Anna"})
    assert (await error_of(response, 404))["code"] == "unknown_exhibition"
    store = Store.open(config.data_dir, clock=FakeClock())
    try:
        assert store.guide_codes() == []
    finally:
        store.close()


# publishing --------------------------------------------------------------------------------
async def test_upload_is_served_then_replaced_then_rolled_back(admin, curator, tmp_path, config):
    first = tar_of(make_bundle(tmp_path / "v1", "gallery", title_sv="Första"))
    put = await admin.put("/api/admin/exhibitions/gallery", data=first,
                          headers={**auth(curator), **TAR})
    assert put.status == 201, await put.text()
    v1 = await put.json()
    assert v1["exhibition"] == "gallery" and v1["previous"] is None
    await wait_for(lambda: _title_is(admin, "gallery", "Första"))
    same = await admin.put("/api/admin/exhibitions/gallery", data=first,
                           headers={**auth(curator), **TAR})
    assert same.status == 200  # the same bundle again changes nothing

    # a gzip-compressed archive of a folder (one top folder) is accepted too
    second = tar_of(make_bundle(tmp_path / "v2", "gallery", title_sv="Andra"),
                    prefix="gallery/", compress=True)
    put = await admin.put("/api/admin/exhibitions/gallery", data=second,
                          headers={**auth(curator), "Content-Type": "application/gzip"})
    assert put.status == 201, await put.text()
    assert (await put.json())["previous"] == v1["version"]
    await wait_for(lambda: _title_is(admin, "gallery", "Andra"))
    assert not any((config.data_dir / "uploads").iterdir())  # nothing left behind

    back = await admin.post("/api/admin/exhibitions/gallery/rollback", headers=auth(curator))
    assert back.status == 200
    assert (await back.json())["version"] == v1["version"]
    await wait_for(lambda: _title_is(admin, "gallery", "Första"))


async def _title_is(client, exhibition: str, title: str) -> bool:
    return await served_title(client, exhibition) == title


async def test_rollback_without_a_previous_version(admin, curator, tmp_path):
    unknown = await admin.post("/api/admin/exhibitions/nowhere/rollback", headers=auth(curator))
    await error_of(unknown, 404)
    put = await admin.put("/api/admin/exhibitions/gallery", headers={**auth(curator), **TAR},
                          data=tar_of(make_bundle(tmp_path / "v1", "gallery")))
    assert put.status == 201
    once = await admin.post("/api/admin/exhibitions/gallery/rollback", headers=auth(curator))
    assert (await error_of(once, 409))["code"] == "no_previous"


async def test_versions_list_who_published_and_rollback_takes_any_kept_one(admin, curator,
                                                                           tmp_path):
    published = []
    for title in ("Ett", "Två", "Tre"):
        put = await admin.put("/api/admin/exhibitions/gallery", headers={**auth(curator), **TAR},
                              data=tar_of(make_bundle(tmp_path / title, "gallery",
                                                      title_sv=title)))
        assert put.status == 201
        published.append((await put.json())["version"])
    listed = await (await admin.get("/api/admin/exhibitions/gallery/versions",
                                     headers=auth(curator))).json()
    assert [v["version"] for v in listed["versions"]] == published[::-1]
    assert [v["current"] for v in listed["versions"]] == [True, False, False]
    assert listed["versions"][2]["history"][0]["by"] == "admin API (curator token)"
    back = await admin.post("/api/admin/exhibitions/gallery/rollback", headers=auth(curator),
                            json={"version": published[0]})
    assert back.status == 200 and (await back.json())["version"] == published[0]
    await wait_for(lambda: _title_is(admin, "gallery", "Ett"))
    for body, code in (({"version": "../../x"}, "invalid_field"),
                       ({"version": "0" * 16}, "not_kept"),
                       ({"version": published[0], "extra": 1}, "unknown_field")):
        response = await admin.post("/api/admin/exhibitions/gallery/rollback",
                                    headers=auth(curator), json=body)
        assert (await error_of(response, 409 if code == "not_kept" else 422))["code"] == code
    wrong_type = await admin.post("/api/admin/exhibitions/gallery/rollback",
                                  headers={**auth(curator), "Content-Type": "text/plain"},
                                  data=b"x")
    await error_of(wrong_type, 415)
    unknown = await admin.get("/api/admin/exhibitions/nowhere/versions", headers=auth(curator))
    await error_of(unknown, 404)


async def test_a_folder_bundle_given_to_serve_cannot_be_replaced(admin, curator, tmp_path):
    response = await admin.put("/api/admin/exhibitions/demo", headers={**auth(curator), **TAR},
                               data=tar_of(make_bundle(tmp_path / "d", "demo")))
    assert (await error_of(response, 409))["code"] == "served_from_folder"


def _bundle(tmp_path: Path, **kwargs) -> Path:
    return make_bundle(tmp_path / "gallery", "gallery", **kwargs)


HOSTILE = {
    "parent": lambda base: tar_with(member("../evil", b"owned"), base=base),
    "nested_parent": lambda base: tar_with(member("objects/../../evil"), base=base),
    "absolute": lambda base: tar_with(member("/tmp/evil"), base=base),
    "symlink": lambda base: tar_with(member("passwd", kind=tarfile.SYMTYPE,
                                            link="/etc/passwd"), base=base),
    "hardlink": lambda base: tar_with(member("copy", kind=tarfile.LNKTYPE,
                                             link="exhibition.json"), base=base),
    "device": lambda base: tar_with(member("null", kind=tarfile.CHRTYPE), base=base),
    "fifo": lambda base: tar_with(member("pipe", kind=tarfile.FIFOTYPE), base=base),
    "twice": lambda base: tar_with(member("exhibition.json", b"{}"), base=base),
    "not_a_tar": lambda base: b"this is not a tar archive at all" * 40,
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_hostile_archives_are_refused(admin, curator, tmp_path, config, case):
    body = HOSTILE[case](_bundle(tmp_path))
    response = await admin.put("/api/admin/exhibitions/gallery", data=body,
                               headers={**auth(curator), **TAR})
    assert (await error_of(response, 400))["code"] == "bad_archive"
    assert not (config.data_dir / "exhibitions" / "gallery").exists()
    assert not (config.data_dir.parent / "evil").exists()
    assert not Path("/tmp/evil").exists()
    assert not any((config.data_dir / "uploads").iterdir())


async def test_oversize_uploads_are_refused(admin, curator, tmp_path):
    big = _bundle(tmp_path) / "padding.bin"
    big.write_bytes(bytes(300 * 1024))  # over the 256 KB upload limit of the fixture
    body = tar_of(big.parent)
    declared = await admin.put("/api/admin/exhibitions/gallery", data=body,
                               headers={**auth(curator), **TAR})
    assert (await error_of(declared, 413))["code"] == "too_large"

    async def chunks():  # no Content-Length: the limit holds while streaming
        for start in range(0, len(body), 32 * 1024):
            yield body[start:start + 32 * 1024]

    streamed = await admin.put("/api/admin/exhibitions/gallery", data=chunks(),
                               headers={**auth(curator), **TAR})
    assert (await error_of(streamed, 413))["code"] == "too_large"


async def test_gzip_bomb_members_are_refused_before_unpacking(admin, curator, tmp_path, config):
    # 4 MB of zeros compress to a few KB: under the upload limit, far over the unpacked one.
    info, _ = member("objects/bomb.bin")
    info.size = 4 << 20
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    body = gzip.compress(buffer.getvalue())
    assert len(body) < 64 * 1024
    response = await admin.put("/api/admin/exhibitions/gallery", data=body,
                               headers={**auth(curator), "Content-Type": "application/gzip"})
    error = await error_of(response, 413)
    assert "bomb.bin" in error["message"]
    # A forged pax header claiming a huge size is refused without reading it into memory.
    header = tarfile.TarInfo("././@PaxHeader")
    header.type = tarfile.XHDTYPE
    header.size = 1 << 30
    raw = header.tobuf(format=tarfile.USTAR_FORMAT)
    forged = gzip.compress(raw + bytes(8 << 20))
    response = await admin.put("/api/admin/exhibitions/gallery", data=forged,
                               headers={**auth(curator), "Content-Type": "application/gzip"})
    assert "implausible size" in (await error_of(response, 400))["message"]
    assert not any((config.data_dir / "uploads").iterdir())


async def test_too_many_members_are_refused(admin, curator, tmp_path):
    body = tar_with(*(member(f"objects/f{i}.bin") for i in range(80)), base=_bundle(tmp_path))
    response = await admin.put("/api/admin/exhibitions/gallery", data=body,
                               headers={**auth(curator), **TAR})
    assert "members" in (await error_of(response, 413))["message"]


async def test_bundles_that_would_not_be_served_are_refused(admin, curator, tmp_path):
    base = _bundle(tmp_path)
    manifest = (base / "exhibition.json").read_text(encoding="utf-8")

    async def put(body: bytes) -> dict:
        response = await admin.put("/api/admin/exhibitions/gallery", data=body,
                                   headers={**auth(curator), **TAR})
        return await error_of(response, 422)

    (base / "exhibition.json").write_text(manifest.replace('"schema_version": 1',
                                                           '"schema_version": 99'))
    error = await put(tar_of(base))
    assert error["code"] == "invalid_bundle" and "schema_version" in error["message"]
    assert str(tmp_path) not in error["message"] and "uploads" not in error["message"]

    (base / "exhibition.json").write_text(manifest)
    lamp = next((base / "rooms").glob("lamp.*.glb"))
    lamp.unlink()
    error = await put(tar_of(base))
    assert "missing" in error["message"] and lamp.name in error["message"]

    other = make_bundle(tmp_path / "other", "other")
    assert (await put(tar_of(other)))["code"] == "id_mismatch"
    assert (await put(tar_with(member("readme.txt"))))["code"] == "invalid_bundle"


@pytest.mark.parametrize("spoil", [
    pytest.param(lambda m: "[" * 100_000, id="nested-past-the-recursion-limit"),  # was a 500
    pytest.param(lambda m: json.dumps({**m, "entrance": {**m["entrance"], "yaw": math.nan}}),
                 id="NaN"),  # valid to the schema, but no browser's JSON.parse reads it
    pytest.param(lambda m: json.dumps({**m, "title": {"en": "\ud800"}}), id="lone-surrogate"),
])
async def test_manifests_the_server_cannot_hold_are_refused(admin, curator, tmp_path, spoil):
    base = _bundle(tmp_path)
    manifest = json.loads((base / "exhibition.json").read_text(encoding="utf-8"))
    (base / "exhibition.json").write_text(spoil(manifest), encoding="utf-8")
    response = await admin.put("/api/admin/exhibitions/gallery", data=tar_of(base),
                               headers={**auth(curator), **TAR})
    assert (await error_of(response, 422))["code"] == "invalid_bundle"
    assert (await admin.get("/api/exhibitions/gallery")).status == 404


async def test_upload_needs_a_tar_content_type_and_a_body(admin, curator):
    response = await admin.put("/api/admin/exhibitions/gallery", data=b"{}", headers={
        **auth(curator), "Content-Type": "application/json"})
    await error_of(response, 415)
    empty = await admin.put("/api/admin/exhibitions/gallery", data=b"",
                            headers={**auth(curator), **TAR})
    await error_of(empty, 400)
    bad_id = await admin.put("/api/admin/exhibitions/..%2fetc", data=b"x",
                             headers={**auth(curator), **TAR})
    assert bad_id.status == 404


# secrets in logs ---------------------------------------------------------------------------
async def test_no_token_or_code_reaches_a_log(admin, curator, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    # Its own level too: `vrculture serve`, run in-process by other tests, raises it to WARNING.
    caplog.set_level(logging.DEBUG, logger="aiohttp.access")
    secrets = [curator]
    created = await admin.post("/api/admin/feeds", json={"feed_id": "f1", "kind": "smart-bin"},
                               headers=auth(curator))
    secrets.append((await created.json())["token"])
    rotated = await admin.post("/api/admin/feeds/f1/rotate", headers=auth(curator))
    secrets.append((await rotated.json())["token"])
    code = await admin.post("/api/admin/guides", json={"exhibition": "demo"},
                            headers=auth(curator))
    secrets.append((await code.json())["code"])
    await admin.post("/api/admin/guides", json={"exhibition": "demo"},
                     headers=auth("vrc_wrong-token-attempt"))
    secrets.append("vrc_wrong-token-attempt")
    await admin.put("/api/admin/exhibitions/gallery", headers={**auth(curator), **TAR},
                    data=tar_of(make_bundle(tmp_path / "g", "gallery")))

    async def logged() -> bool:  # aiohttp logs a request after its response has gone out
        return sum(r.name == "aiohttp.access" for r in caplog.records) >= 5

    await wait_for(logged)  # the access log did run: the check below is not vacuous
    assert any(r.name == "vrculture.server.admin" for r in caplog.records)
    for secret in secrets:
        assert secret not in caplog.text


async def test_expect_100_continue_refuses_before_the_body_is_sent(admin, curator, tmp_path):
    sent: list[int] = []

    async def body():
        for _ in range(4):
            sent.append(1)
            yield bytes(16 * 1024)

    refused = await admin.put("/api/admin/exhibitions/gallery", data=body(), expect100=True,
                              headers={**auth("vrc_not-the-token"), **TAR})
    assert refused.status == 401
    assert sent == []  # the client never had to send a byte of the body
    oversize = await admin.put("/api/admin/exhibitions/gallery", data=bytes(300 * 1024),
                               expect100=True, headers={**auth(curator), **TAR})
    assert oversize.status == 413
    good = await admin.put("/api/admin/exhibitions/gallery", expect100=True,
                           data=tar_of(make_bundle(tmp_path / "g", "gallery")),
                           headers={**auth(curator), **TAR})
    assert good.status == 201, await good.text()


async def test_one_publication_at_a_time(admin, curator, tmp_path):
    body = tar_of(make_bundle(tmp_path / "g", "gallery"))
    async with admin.app[PUBLISH_LOCK]:  # as if another upload were being installed
        busy = await admin.put("/api/admin/exhibitions/gallery", data=body,
                               headers={**auth(curator), **TAR})
        assert (await error_of(busy, 409))["code"] == "busy"
        rollback = await admin.post("/api/admin/exhibitions/gallery/rollback",
                                    headers=auth(curator))
        assert rollback.status in (404, 409)  # nothing published yet, or busy
    done = await admin.put("/api/admin/exhibitions/gallery", data=body,
                           headers={**auth(curator), **TAR})
    assert done.status == 201


async def test_a_client_that_drops_mid_upload_leaves_nothing_behind(admin, curator, config,
                                                                    caplog):
    reader, writer = await asyncio.open_connection(admin.server.host, admin.server.port)
    writer.write(
        b"PUT /api/admin/exhibitions/gallery HTTP/1.1\r\nHost: localhost\r\n"
        b"Authorization: Bearer " + curator.encode() + b"\r\n"
        b"Content-Type: application/x-tar\r\nContent-Length: 100000\r\n\r\n" + bytes(5000))
    await writer.drain()

    async def receiving() -> bool:  # the server made the upload's folder and waits for more
        return any((config.data_dir / "uploads").glob("upload-*"))

    await wait_for(receiving)
    writer.close()
    await writer.wait_closed()

    async def cleaned() -> bool:
        uploads = config.data_dir / "uploads"
        return uploads.is_dir() and not any(uploads.iterdir())

    await wait_for(cleaned)
    assert not (config.data_dir / "exhibitions" / "gallery").exists()
    assert curator not in caplog.text
    healthy = await admin.get("/healthz")
    assert healthy.status == 200


async def test_a_published_upload_follows_the_umask(admin, curator, tmp_path, config,
                                                    umask_022):
    bundle = make_bundle(tmp_path / "v1", "gallery")
    for path in bundle.rglob("*"):  # private in the archive: the server's umask decides
        path.chmod(0o700 if path.is_dir() else 0o600)
    put = await admin.put("/api/admin/exhibitions/gallery", data=tar_of(bundle),
                          headers={**auth(curator), **TAR})
    assert put.status == 201, await put.text()
    assert_modes_follow_umask(config.data_dir / "exhibitions" / "gallery", umask_022)


async def test_the_hosts_details_of_health_are_for_the_curator(aiohttp_client, curator, config,
                                                              tmp_path, clock):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "exhibition.json").write_text("{")
    config.bundles.append(broken)
    client = await aiohttp_client(create_app(config, clock=clock))
    assert (await client.get("/api/admin/health")).status == 401
    response = await client.get("/api/admin/health", headers=auth(curator))
    assert response.status == 200
    body = await response.json()
    assert body["process"] == os.getpid() and body["bundles_failing"] == 1
    assert [str(broken) in error for error in body["bundle_errors"]] == [True]
