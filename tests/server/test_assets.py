"""Bundle and viewer file serving against the real app: caching, ranges, compression, MIME,
traversal."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from vrculture.server.assets import IMMUTABLE, BytesLRU, parse_ranges
from vrculture.server.webfiles import THREE_DIR


def _level_url(bundle: Path, name: str) -> tuple[str, bytes]:
    folder = bundle / "objects" / "angel"
    path = next(p for p in folder.iterdir() if f".{name}." in p.name)
    return f"/bundles/demo/objects/angel/{path.name}", path.read_bytes()


@pytest.mark.parametrize("level", ["low", "high"])  # in-memory and sendfile paths
async def test_hashed_file_is_immutable_with_strong_etag(client, bundle, level):
    url, data = _level_url(bundle, level)
    response = await client.get(url)
    assert response.status == 200
    assert await response.read() == data
    assert response.headers["Content-Type"] == "model/gltf-binary"
    assert response.headers["Cache-Control"] == IMMUTABLE
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    again = await client.get(url, headers={"If-None-Match": etag})
    assert again.status == 304
    assert again.headers["ETag"] == etag
    assert await again.read() == b""
    other = await client.get(url, headers={"If-None-Match": '"something-else"'})
    assert other.status == 200


async def test_manifest_is_revalidated_not_immutable(client, bundle):
    response = await client.get("/bundles/demo/exhibition.json")
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Content-Encoding"] == "gzip"  # aiohttp's client asks for it
    assert await response.read() == (bundle / "exhibition.json").read_bytes()


@pytest.mark.parametrize("level", ["low", "high"])
async def test_single_range(client, bundle, level):
    url, data = _level_url(bundle, level)
    response = await client.get(url, headers={"Range": "bytes=4-11"})
    assert response.status == 206
    assert response.headers["Content-Range"] == f"bytes 4-11/{len(data)}"
    assert await response.read() == data[4:12]
    suffix = await client.get(url, headers={"Range": "bytes=-10"})
    assert suffix.status == 206
    assert await suffix.read() == data[-10:]
    open_end = await client.get(url, headers={"Range": f"bytes={len(data) - 5}-"})
    assert await open_end.read() == data[-5:]


@pytest.mark.parametrize("level", ["low", "high"])
async def test_multiple_ranges_are_multipart(client, bundle, level):
    url, data = _level_url(bundle, level)
    response = await client.get(url, headers={"Range": "bytes=0-3,100-199,-16"})
    assert response.status == 206
    content_type = response.headers["Content-Type"]
    assert content_type.startswith("multipart/byteranges; boundary=")
    boundary = content_type.split("boundary=")[1].encode()
    body = await response.read()
    assert int(response.headers["Content-Length"]) == len(body)
    parts = [p for p in body.split(b"--" + boundary) if p.strip(b"\r\n") not in (b"", b"--")]
    assert len(parts) == 3
    expected = [(0, 4), (100, 200), (len(data) - 16, len(data))]
    for part, (start, end) in zip(parts, expected, strict=True):
        head, _, payload = part.partition(b"\r\n\r\n")
        assert f"Content-Range: bytes {start}-{end - 1}/{len(data)}".encode() in head
        assert b"Content-Type: model/gltf-binary" in head
        assert payload.removesuffix(b"\r\n") == data[start:end]


async def test_overlapping_ranges_are_coalesced(client, bundle):
    url, data = _level_url(bundle, "low")
    response = await client.get(url, headers={"Range": "bytes=0-99,50-149"})
    assert response.status == 206
    assert response.headers["Content-Range"] == f"bytes 0-149/{len(data)}"
    assert await response.read() == data[:150]


@pytest.mark.parametrize("level", ["low", "high"])
async def test_unsatisfiable_range_is_416(client, bundle, level):
    url, data = _level_url(bundle, level)
    response = await client.get(url, headers={"Range": f"bytes={len(data) + 10}-"})
    assert response.status == 416
    assert response.headers["Content-Range"] == f"bytes */{len(data)}"


@pytest.mark.parametrize("header", ["bytes=9-3", "items=0-3", "bytes=abc", "bytes=-",
                                    "bytes=" + ",".join(f"{i}-{i}" for i in range(40))])
async def test_malformed_range_is_ignored(client, bundle, header):
    url, data = _level_url(bundle, "low")
    response = await client.get(url, headers={"Range": header})
    assert response.status == 200
    assert await response.read() == data


async def test_if_range_with_an_old_etag_gets_the_whole_file(client, bundle):
    url, data = _level_url(bundle, "low")
    response = await client.get(url, headers={"Range": "bytes=0-3", "If-Range": '"old"'})
    assert response.status == 200
    assert await response.read() == data
    etag = (await client.get(url)).headers["ETag"]
    ranged = await client.get(url, headers={"Range": "bytes=0-3", "If-Range": etag})
    assert ranged.status == 206


@pytest.mark.parametrize("level", ["low", "high"])
async def test_head_has_length_but_no_body(client, bundle, level):
    url, data = _level_url(bundle, level)
    response = await client.head(url)
    assert response.status == 200
    assert int(response.headers["Content-Length"]) == len(data)
    assert await response.read() == b""


async def test_text_is_compressed_and_binary_is_not(client, bundle):
    js = await client.get("/static/js/app.js", headers={"Accept-Encoding": "gzip"},
                          auto_decompress=False)
    assert js.headers["Content-Encoding"] == "gzip"
    assert js.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "Accept-Encoding" in js.headers["Vary"]
    assert gzip.decompress(await js.read()) == ("console.log('viewer');\n" * 200).encode()
    plain = await client.get("/static/js/app.js", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert plain.headers["ETag"] != js.headers["ETag"]  # two representations, two strong tags
    revalidated = await client.get("/static/js/app.js", headers={
        "Accept-Encoding": "gzip", "If-None-Match": js.headers["ETag"]})
    assert revalidated.status == 304
    url, _ = _level_url(bundle, "low")
    glb = await client.get(url, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in glb.headers


@pytest.mark.parametrize("path", [
    "/bundles/demo/..%2f..%2fetc/passwd",
    "/bundles/demo/%2e%2e/%2e%2e/etc/passwd",
    "/bundles/demo/objects/../../../etc/passwd",
    "/bundles/demo/objects/angel/%00x",
    "/static/..%2f..%2fetc%2fpasswd",
    "/static/.secret",
    "/static/js/..%5c..%5cetc%5cpasswd",
    "/vendor/three/package.json",
    "/vendor/three/build/../../../../etc/passwd",
    "/assets/..%2f..%2fetc/passwd",
])
async def test_path_traversal_is_impossible(client, path):
    response = await client.get(path)
    assert response.status in (400, 404)
    assert b"root:" not in await response.read()


async def test_symlink_out_of_the_bundle_is_refused(client, bundle, tmp_path):
    secret = tmp_path / "outside.txt"
    secret.write_text("outside")
    os.symlink(secret, bundle / "objects" / "link.txt")
    response = await client.get("/bundles/demo/objects/link.txt")
    assert response.status == 404


async def test_unknown_exhibition_and_missing_file_are_404(client):
    assert (await client.get("/bundles/nope/exhibition.json")).status == 404
    assert (await client.get("/bundles/demo/objects/none.glb")).status == 404
    assert (await client.get("/bundles/demo/objects")).status == 404  # a folder


async def test_three_is_served_from_the_vendored_subset(client):
    response = await client.get("/vendor/three/build/three.module.js")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert await response.read() == (THREE_DIR / "build" / "three.module.js").read_bytes()
    decoder = await client.get("/vendor/three/examples/jsm/libs/meshopt_decoder.module.js")
    assert decoder.status == 200
    wasm = await client.get("/vendor/three/examples/jsm/libs/basis/basis_transcoder.wasm")
    assert wasm.status == 200
    assert wasm.headers["Content-Type"] == "application/wasm"  # streaming compilation
    # three is in node_modules for the tests and tools, but only the vendored files are served
    unused = await client.get("/vendor/three/examples/jsm/controls/TrackballControls.js")
    assert unused.status == 404


def test_parse_ranges_edges():
    assert parse_ranges("bytes=0-0", 10) == [(0, 1)]
    assert parse_ranges("bytes=5-100", 10) == [(5, 10)]
    assert parse_ranges("bytes=-100", 10) == [(0, 10)]
    assert parse_ranges("bytes=20-30", 10) == []
    assert parse_ranges("bytes=-0", 10) == []
    assert parse_ranges("bytes=3-1", 10) is None
    assert parse_ranges("bytes= 1-2 , 4-5", 10) == [(1, 3), (4, 6)]


def test_lru_is_bounded_by_bytes():
    cache = BytesLRU(max_bytes=100)
    for i in range(10):
        cache.put((i,), bytes(30))
    assert cache.bytes <= 100
    assert len(cache) == 3
    assert cache.get((9,)) is not None and cache.get((0,)) is None
    cache.put(("big",), bytes(101))
    assert cache.get(("big",)) is None


async def test_large_files_go_through_kernel_sendfile(client, bundle, monkeypatch):
    sent: list[int] = []
    real = os.sendfile

    def counting(out_fd, in_fd, offset, count):
        done = real(out_fd, in_fd, offset, count)
        sent.append(done)
        return done

    monkeypatch.setattr(os, "sendfile", counting)
    url, data = _level_url(bundle, "high")
    response = await client.get(url)
    assert await response.read() == data
    assert sum(sent) == len(data)  # every byte by the kernel, none copied through Python
    sent.clear()
    small_url, small = _level_url(bundle, "low")
    assert await (await client.get(small_url)).read() == small
    assert sent == []  # small files come from the in-memory cache
