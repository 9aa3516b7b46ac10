"""Studio uploads over the tus protocol: create, offset, append, terminate; limits; resume
after a dropped connection and after a server restart; who may upload."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from vrculture.server.config import ServerConfig
from vrculture.server.studio.uploads import STUDIO_UPLOADS, StudioUploadLimits

from .studio_helpers import (
    ANNA,
    BASE,
    TUS,
    create,
    make_app,
    make_exhibition,
    metadata,
    offset_of,
    patch,
    upload,
    wait_for,
)
from .test_bodies import Raw, chunked


@pytest.fixture
def data_dir(config: ServerConfig) -> Path:
    make_exhibition(config.data_dir)
    return config.data_dir


@pytest.fixture
def sources(data_dir: Path) -> Path:
    return data_dir / "studio" / "exhibitions" / "sjostad" / "sources"


@pytest.fixture
def changes() -> list:
    return []


@pytest.fixture
async def server(aiohttp_server, config, data_dir, changes):
    return await aiohttp_server(make_app(config, changes=changes))


@pytest.fixture
async def client(aiohttp_client, server):
    return await aiohttp_client(server)


async def test_options_tell_the_protocol_and_its_extensions(client) -> None:
    response = await client.options(f"{BASE}/uploads", headers=ANNA)
    assert response.status == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) == {"creation", "termination"}
    assert int(response.headers["Tus-Max-Size"]) == StudioUploadLimits().max_upload_bytes


async def test_create_head_patch_lands_the_file_in_sources(client, sources, changes) -> None:
    data = os.urandom(300_000)
    url = await create(client, "Nefertiti bust.ply", len(data))
    assert url.startswith(f"{BASE}/uploads/")
    head = await client.head(url, headers={**TUS, **ANNA})
    assert head.status == 200
    assert head.headers["Upload-Offset"] == "0"
    assert head.headers["Upload-Length"] == str(len(data))
    assert head.headers["Cache-Control"] == "no-store"
    first = await patch(client, url, 0, data[:100_000])
    assert first.status == 204
    assert first.headers["Upload-Offset"] == "100000"
    assert first.headers["Tus-Resumable"] == "1.0.0"
    assert await offset_of(client, url) == 100_000
    last = await patch(client, url, 100_000, data[100_000:])
    assert last.status == 204
    assert last.headers["Upload-Offset"] == str(len(data))
    assert (sources / "Nefertiti bust.ply").read_bytes() == data
    assert await offset_of(client, url) == len(data)  # a client asking again sees it done
    assert [c[2] for c in changes] == ["upload_started", "upload_finished"]
    assert changes[1][0] == "anna"
    listing = await (await client.get(f"{BASE}/uploads", headers=ANNA)).json()
    assert listing["uploads"][0]["finished"] is True
    assert listing["uploads"][0]["files"] == ["Nefertiti bust.ply"]


async def test_wrong_offset_is_a_conflict_that_names_the_right_one(client) -> None:
    url = await create(client, "a.stl", 1000)
    await patch(client, url, 0, b"x" * 400)
    response = await patch(client, url, 300, b"y" * 100)
    assert response.status == 409
    assert response.headers["Upload-Offset"] == "400"
    assert await offset_of(client, url) == 400


async def test_wrong_content_type_is_refused(client) -> None:
    url = await create(client, "a.stl", 1000)
    response = await patch(client, url, 0, b"x" * 10, **{"Content-Type": "text/plain"})
    assert response.status == 415
    assert await offset_of(client, url) == 0


async def test_oversize_is_refused_at_creation_and_in_a_patch(aiohttp_client, config,
                                                              data_dir) -> None:
    limits = StudioUploadLimits(max_upload_bytes=10_000)
    client = await aiohttp_client(make_app(config, limits=limits))
    too_big = await client.post(f"{BASE}/uploads", headers={
        **TUS, **ANNA, "Upload-Length": "10001", "Upload-Metadata": metadata(filename="a.obj")})
    assert too_big.status == 413
    url = await create(client, "a.obj", 1000)
    longer = await patch(client, url, 0, b"x" * 1001)
    assert longer.status == 413
    # A chunked body (no Content-Length) is cut off as soon as it passes the length.
    server = client.server
    raw = await Raw.open(server)
    await raw.send(_patch_head(server, url, 0, None), chunked(b"z" * 1500, 500))
    status, _, _ = await raw.response()
    raw.close()
    assert status == 413


async def test_missing_protocol_version_is_a_failed_precondition(client) -> None:
    url = await create(client, "a.stl", 10)
    response = await client.head(url, headers=ANNA)
    assert response.status == 412
    assert response.headers["Tus-Version"] == "1.0.0"


async def test_termination_forgets_the_upload(client, data_dir) -> None:
    url = await create(client, "a.stl", 1000)
    await patch(client, url, 0, b"x" * 10)
    response = await client.delete(url, headers={**TUS, **ANNA})
    assert response.status == 204
    assert (await client.head(url, headers={**TUS, **ANNA})).status == 404
    assert not list((data_dir / "studio" / "uploads" / "sjostad").iterdir())


def _patch_head(server, url: str, offset: int, length: int | None) -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (f"PATCH {url} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Tus-Resumable: 1.0.0\r\nX-Curator: anna-token\r\nX-CSRF: csrf-ok\r\n"
            f"Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n"
            f"{framing}\r\n\r\n").encode()


async def test_chunked_body_split_across_tcp_writes(client, sources) -> None:
    data = os.urandom(50_000)
    url = await create(client, "b.glb", len(data))
    raw = await Raw.open(client.server)
    body = chunked(data, 7_000)
    # Cut across chunk headers, mid chunk-size line and mid data.
    pieces = [body[i:i + 3_333] for i in range(0, len(body), 3_333)]
    await raw.send(_patch_head(client.server, url, 0, None), *pieces)
    status, headers, _ = await raw.response()
    raw.close()
    assert status == 204
    assert headers["upload-offset"] == str(len(data))
    assert (sources / "b.glb").read_bytes() == data


async def test_dropped_connection_keeps_what_arrived_and_resumes(client, sources) -> None:
    data = os.urandom(200_000)
    url = await create(client, "c.obj", len(data))
    raw = await Raw.open(client.server)
    await raw.send(_patch_head(client.server, url, 0, len(data)), data[:120_000])
    raw.close()  # the train went into a tunnel

    async def kept() -> bool:
        return await offset_of(client, url) == 120_000

    await wait_for(kept)
    response = await patch(client, url, 120_000, data[120_000:])
    assert response.status == 204
    assert (sources / "c.obj").read_bytes() == data


async def test_concurrent_patch_on_one_upload_is_refused(client, sources) -> None:
    data = os.urandom(100_000)
    url = await create(client, "d.ply", len(data))
    raw = await Raw.open(client.server)
    await raw.send(_patch_head(client.server, url, 0, len(data)), data[:30_000])

    data_file = next((client.server.app[STUDIO_UPLOADS].store.root / "uploads").glob(
        "sjostad/*/data"))

    async def first_holds_the_upload() -> bool:
        with open(data_file, "ab") as probe:
            try:
                fcntl.flock(probe.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(probe.fileno(), fcntl.LOCK_UN)
            return False

    await wait_for(first_holds_the_upload)
    second = await patch(client, url, 0, data[:10])
    assert second.status == 423
    await raw.send(data[30_000:])
    status, headers, _ = await raw.response()
    raw.close()
    assert status == 204
    assert (sources / "d.ply").read_bytes() == data


async def test_resume_after_a_server_restart(aiohttp_client, config, data_dir,
                                             sources) -> None:
    data = os.urandom(400_000)
    first = await aiohttp_client(make_app(config))
    url = await create(first, "scan.ply", len(data))
    assert (await patch(first, url, 0, data[:150_000])).status == 204
    await first.close()  # the server stops (a deploy, a crash)

    second = await aiohttp_client(make_app(config))  # a new process on the same data folder
    assert await offset_of(second, url) == 150_000
    assert (await patch(second, url, 150_000, data[150_000:])).status == 204
    assert (sources / "scan.ply").read_bytes() == data


async def test_quota_counts_sources_and_unfinished_uploads(aiohttp_client, config,
                                                           data_dir) -> None:
    client = await aiohttp_client(make_app(config, limits=StudioUploadLimits(
        quota_bytes=100_000)))
    assert (await upload(client, "one.stl", b"x" * 40_000)).status == 204
    await create(client, "two.stl", 40_000)  # not sent yet, but its bytes are promised
    refused = await client.post(f"{BASE}/uploads", headers={
        **TUS, **ANNA, "Upload-Length": "30000",
        "Upload-Metadata": metadata(filename="three.stl")})
    assert refused.status == 413
    assert "quota" in (await refused.json())["message"]


async def test_disk_headroom_is_kept(aiohttp_client, config, data_dir) -> None:
    client = await aiohttp_client(make_app(config, limits=StudioUploadLimits(
        min_free_bytes=1 << 62)))  # more than any disk: every upload would eat into it
    refused = await client.post(f"{BASE}/uploads", headers={
        **TUS, **ANNA, "Upload-Length": "10", "Upload-Metadata": metadata(filename="a.stl")})
    assert refused.status == 507


@pytest.mark.parametrize("name", ["../escape.obj", "/etc/passwd.obj", "a/../../b.obj",
                                  ".hidden.obj", "c:/x.obj", "a\\b.obj", "bell\x07.obj",
                                  "notes.docx", "run.sh",
                                  # 134 characters but 264 bytes: more than a file system's
                                  # 255 (that was a 500, "File name too long")
                                  pytest.param("\u00e9" * 130 + ".obj", id="264-bytes"),
                                  pytest.param("skåp/" + "\U0001d49c" * 64 + ".obj",
                                               id="260-bytes-in-a-folder"),
                                  "line\u2028break.obj"])
async def test_unsafe_or_unusable_names_are_refused(client, name: str) -> None:
    response = await client.post(f"{BASE}/uploads", headers={
        **TUS, **ANNA, "Upload-Length": "10", "Upload-Metadata": metadata(filename=name)})
    assert response.status == 422, name
    assert (await response.json())["message"]


async def test_names_are_unicode_normalised_and_folders_kept(client, sources) -> None:
    decomposed = "Fajansva\u0308s"  # "ä" as a Mac writes it (NFD)
    response = await upload(client, "x", b"v 0 0 0\n", relativePath=f"skåp/{decomposed}.obj")
    assert response.status == 204
    assert (sources / "skåp" / "Fajansväs.obj").read_bytes() == b"v 0 0 0\n"


async def test_what_uppy_sends_as_relative_paths(client, sources) -> None:
    assert (await upload(client, "loose.stl", b"x", relativePath="null")).status == 204
    assert (sources / "loose.stl").exists()
    response = await upload(client, "inner.stl", b"y", relativePath="/drop/inner.stl")
    assert response.status == 204
    assert (sources / "drop" / "inner.stl").exists()


async def test_a_taken_name_is_a_conflict(client) -> None:
    assert (await upload(client, "same.stl", b"x" * 10)).status == 204
    response = await client.post(f"{BASE}/uploads", headers={
        **TUS, **ANNA, "Upload-Length": "10", "Upload-Metadata": metadata(filename="same.stl")})
    assert response.status == 409


async def test_a_file_where_a_folder_would_be_is_a_conflict(client, sources) -> None:
    assert (await upload(client, "vas.obj", b"x" * 10)).status == 204
    response = await upload(client, "x", b"y" * 10, relativePath="vas.obj/inner.obj")
    assert response.status == 409
    assert (sources / "vas.obj").read_bytes() == b"x" * 10


async def test_malformed_metadata_and_lengths(client) -> None:
    for headers in ({"Upload-Length": "-1"}, {"Upload-Length": "1e9"}, {},
                    {"Upload-Length": "10", "Upload-Metadata": "filename not*base64"},
                    {"Upload-Length": "10", "Upload-Metadata": "filename"},
                    {"Upload-Length": "10", "Upload-Defer-Length": "1"}):
        response = await client.post(f"{BASE}/uploads", headers={**TUS, **ANNA, **headers})
        assert response.status == 400, headers


@pytest.mark.parametrize(("headers", "status"), [
    ({}, 401),  # not signed in
    ({"X-Curator": "bo-token", "X-CSRF": "csrf-ok"}, 403),  # another exhibition's curator
    ({"X-Curator": "anna-token"}, 403),  # a cross-site request: no CSRF token
])
async def test_who_may_upload(client, headers: dict[str, str], status: int) -> None:
    create_ = await client.post(f"{BASE}/uploads", headers={
        **TUS, **headers, "Upload-Length": "10", "Upload-Metadata": metadata(filename="a.stl")})
    assert create_.status == status
    url = await create(client, "a.stl", 10)
    sent = await client.patch(url, data=b"x" * 10, headers={
        **TUS, **headers, "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream"})
    assert sent.status == status
    removed = await client.delete(url, headers={**TUS, **headers})
    assert removed.status == status
    if headers.get("X-Curator") != "anna-token":  # reading needs no CSRF token
        for method in ("HEAD", "GET"):
            target = url if method == "HEAD" else f"{BASE}/events"
            answer = await client.request(method, target, headers={**TUS, **headers})
            assert answer.status == status, method


async def test_an_exhibition_the_studio_does_not_have_is_not_found(client) -> None:
    response = await client.post("/studio/api/exhibitions/nowhere/uploads", headers={
        **TUS, "X-Curator": "anna-token", "X-CSRF": "csrf-ok", "Upload-Length": "10"})
    assert response.status in (403, 404)
    bad_id = await client.post("/studio/api/exhibitions/..%2Fx/uploads", headers={
        **TUS, **ANNA, "Upload-Length": "10"})
    assert bad_id.status == 404


async def test_a_body_larger_than_the_apps_body_limit_streams_through(client) -> None:
    # The memory bound itself is measured by tools/bench_upload.py.
    data = os.urandom(3 << 20)  # the app reads other bodies whole up to 1 MB
    url = await create(client, "big.glb", len(data))
    response = await patch(client, url, 0, data)
    assert response.status == 204


async def test_files_dropped_together_are_judged_together(client, sources) -> None:
    """A batch's objects are found once none of it is still arriving; a member abandoned
    (DELETE) or refused does not hold the others back."""
    obj = b"mtllib t.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"
    urls = {name: await create(client, name, size, relativePath=f"t/{name}", batch="b1")
            for name, size in (("t.png", 4), ("t.mtl", 14), ("t.obj", len(obj)), ("u.obj", 9))}
    assert (await patch(client, urls["t.png"], 0, b"\x89PNG")).status == 204
    assert (await patch(client, urls["t.mtl"], 0, b"map_Kd t.png\n\n")).status == 204
    assert (await patch(client, urls["t.obj"], 0, obj)).status == 204

    async def objects() -> list[str]:
        listing = await (await client.get(f"{BASE}/uploads", headers=ANNA)).json()
        return [o for upload in listing["uploads"] for o in upload["objects"]]

    assert await objects() == []  # u.obj is still on its way
    assert (await client.delete(urls["u.obj"], headers={**TUS, **ANNA})).status == 204
    assert await objects() == ["t"]  # the texture is no painting


async def test_too_many_uploads_at_once_are_asked_to_retry(aiohttp_client, config,
                                                           data_dir) -> None:
    client = await aiohttp_client(make_app(config, limits=StudioUploadLimits(
        max_concurrent_patches=1)))
    first = await create(client, "one.stl", 100_000)
    second = await create(client, "two.stl", 10)
    raw = await Raw.open(client.server)
    await raw.send(_patch_head(client.server, first, 0, 100_000), b"x" * 1000)
    state = client.server.app[STUDIO_UPLOADS]

    async def first_is_streaming() -> bool:
        return state.receiving == 1

    await wait_for(first_is_streaming)
    busy = await patch(client, second, 0, b"y" * 10)
    assert busy.status == 503
    assert busy.headers["Retry-After"] == "2"
    await raw.send(b"x" * 99_000)
    status, _, _ = await raw.response()
    raw.close()
    assert status == 204
    assert (await patch(client, second, 0, b"y" * 10)).status == 204


async def test_the_location_carries_the_public_base_path(aiohttp_client, config, data_dir):
    """Behind a proxy that serves the studio under /vr/ (public_url), the browser must PATCH
    /vr/studio/api/…: the Location says so."""
    config.public_url = "https://museum.example/vr"
    client = await aiohttp_client(make_app(config))
    url = await create(client, "a.ply", 10)
    assert url.startswith(f"/vr{BASE}/uploads/")
