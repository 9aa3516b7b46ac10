"""Serving files from a folder: the bundles, the viewer (web/) and three.js.

Why not aiohttp's FileResponse: it stats and opens every file in a thread pool (a 20 KB file
came out at ~4% of nginx's request rate), supports a single range only and never compresses a
cached copy. Here small files come from a byte-bounded in-memory LRU, large ones go through the
kernel's sendfile (`loop.sendfile`, plain asyncio loop), and both single and multiple byte
ranges are answered.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import re
import secrets
import stat
from collections import OrderedDict
from email.utils import formatdate, parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from multidict import CIMultiDict

from vrculture.server.params import whole_number
from vrculture.server.security import PUBLIC_ASSET_HEADERS, SECURED

try:  # brotli is optional: gzip alone is fine, brotli only saves a little more on JSON.
    import brotli
except ImportError:  # pragma: no cover - depends on the environment
    brotli = None

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

# `name.<12 hex>.ext` as written by `vrculture build`: the content hash is in the name, so the
# file at that URL never changes.
HASHED_NAME = re.compile(r"\.([0-9a-f]{12})\.[A-Za-z0-9]+$")

CONTENT_TYPES = {
    ".glb": "model/gltf-binary",
    ".gltf": "model/gltf+json",
    ".bin": "application/octet-stream",
    ".ktx2": "image/ktx2",
    ".webp": "image/webp",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".map": "application/json",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".wasm": "application/wasm",
    ".woff2": "font/woff2",
}
COMPRESSIBLE = {".gltf", ".json", ".map", ".js", ".mjs", ".css", ".html", ".txt", ".md", ".svg"}

SMALL_FILE_BYTES = 1 << 20  # held in memory; larger files are streamed with sendfile
COMPRESS_MAX_BYTES = 8 << 20  # text files up to this size get a cached compressed copy
MIN_COMPRESS_BYTES = 512  # below this the headers cost more than the saving
MAX_RANGES = 32  # more parts than this looks like abuse; the Range header is then ignored


class BytesLRU:
    """Least-recently-used cache bounded by the total bytes it holds."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[tuple, bytes] = OrderedDict()

    def get(self, key: tuple) -> bytes | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: tuple, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= len(old)
        self._items[key] = value
        self.bytes += len(value)
        while self.bytes > self.max_bytes:
            _, evicted = self._items.popitem(last=False)
            self.bytes -= len(evicted)

    def __len__(self) -> int:
        return len(self._items)


class _File(NamedTuple):
    """A file as one stat saw it; also its cache key (a NamedTuple: built and hashed in C,
    which matters at one per request)."""

    path: Path
    size: int
    mtime_ns: int
    ino: int


def _stat_file(path: Path) -> _File | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return _File(path, st.st_size, st.st_mtime_ns, st.st_ino)


def content_type_for(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")


@lru_cache(maxsize=16384)
def _base_headers(file: _File, cache_control: str | None, public: bool) -> dict[str, str]:
    """The headers that depend only on the file's identity and route (cached: formatting dates
    and matching names for every request of a small file costs more than sending it)."""
    immutable = HASHED_NAME.search(file.path.name) is not None
    headers = {
        "Content-Type": content_type_for(file.path),
        "ETag": _etag_for(file),
        "Last-Modified": formatdate(file.mtime_ns / 1e9, usegmt=True),
        "Cache-Control": cache_control or (IMMUTABLE if immutable else REVALIDATE),
    }
    if file.path.suffix.lower() in COMPRESSIBLE:  # the reply depends on Accept-Encoding
        headers["Vary"] = "Accept-Encoding"
    if public:
        headers.update(PUBLIC_ASSET_HEADERS)
    return headers


@lru_cache(maxsize=16384)
def _whole_file_headers(file: _File, cache_control: str | None, public: bool) -> CIMultiDict:
    """The complete headers of a plain 200 (the common case), ready for web.Response to copy."""
    return CIMultiDict({**_base_headers(file, cache_control, public), "Accept-Ranges": "bytes"})


def _etag_for(file: _File) -> str:
    match = HASHED_NAME.search(file.path.name)
    if match:  # the name carries the content hash: the same across republished copies
        return f'"{match.group(1)}-{file.size:x}"'
    return f'"{file.mtime_ns:x}-{file.size:x}"'


def _etag_list(header: str) -> list[str]:
    """Entity tags of an If-None-Match / If-Match header (weak prefix kept)."""
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def etag_matches_weakly(header: str, etag: str) -> bool:
    """RFC 9110 If-None-Match: weak comparison, `*` matches anything."""
    bare = etag.removeprefix("W/")
    return any(tag == "*" or tag.removeprefix("W/") == bare for tag in _etag_list(header))


def parse_ranges(header: str, size: int) -> list[tuple[int, int]] | None:
    """Byte ranges (inclusive start, exclusive end) of a Range header.

    None: the header is to be ignored (not bytes, malformed, too many parts: answer 200).
    []: syntactically fine but nothing satisfiable (answer 416).
    """
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        return None
    items = spec.split(",")
    if len(items) > MAX_RANGES:
        return None
    ranges: list[tuple[int, int]] = []
    for item in items:
        first_text, dash, last_text = item.strip().partition("-")
        first = whole_number(first_text, 18) if first_text else None
        last = whole_number(last_text, 18) if last_text else None
        if not dash or (first_text and first is None) or (last_text and last is None):
            return None
        if first is None and last is None:
            return None
        if first is None:  # suffix range: the last N bytes
            suffix = last or 0
            if suffix > 0 and size > 0:
                ranges.append((max(0, size - suffix), size))
            continue
        start = first
        end = last + 1 if last is not None else size
        if last is not None and end <= start:
            return None  # last < first makes the whole header invalid (RFC 9110 14.1.1)
        if start < size:
            ranges.append((start, min(end, size)))
    return _coalesce(ranges)


def _coalesce(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping or touching ranges so a client cannot ask for the same bytes twice."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def accepted_encoding(accept: str) -> str | None:
    """Best encoding we can produce from an Accept-Encoding header (q-values honoured)."""
    quality: dict[str, float] = {}
    for item in accept.lower().split(","):
        name, _, params = item.strip().partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        quality[name.strip()] = q
    for encoding in ("br", "gzip"):
        if encoding == "br" and brotli is None:
            continue
        if quality.get(encoding, quality.get("*", 0.0)) > 0:
            return encoding
    return None


def compress(data: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return brotli.compress(data, quality=9)
    return gzip.compress(data, compresslevel=6, mtime=0)


class FileResponder:
    """Answers GET/HEAD for files; shared by every route that serves files."""

    def __init__(self, cache_bytes: int = 64 << 20) -> None:
        self.cache = BytesLRU(cache_bytes)
        self._compressing: dict[tuple, asyncio.Future[bytes]] = {}

    async def respond(
        self,
        request: web.Request,
        path: Path,
        *,
        cache_control: str | None = None,
        public: bool = False,
    ) -> web.StreamResponse:
        """`public`: the route is a public asset; its reply carries the security module's
        PUBLIC_ASSET_HEADERS and is marked so that the middleware leaves it alone."""
        response = await self._respond(request, path, cache_control, public)
        if public:
            response[SECURED] = True
        return response

    async def _respond(
        self, request: web.Request, path: Path, cache_control: str | None, public: bool
    ) -> web.StreamResponse:
        file = _stat_file(path)
        if file is None:
            raise web.HTTPNotFound()
        request_headers = request.headers
        if (  # the common case first: a whole small file, no conditions
            file.size <= SMALL_FILE_BYTES
            and "Range" not in request_headers
            and "If-None-Match" not in request_headers
            and "If-Modified-Since" not in request_headers
        ):
            whole = _whole_file_headers(file, cache_control, public)
            if "Vary" not in whole or not request_headers.get("Accept-Encoding"):  # no encoding
                data = self._read_small(file)
                if data is None:
                    raise web.HTTPNotFound()
                return web.Response(body=data, headers=whole)

        base = _base_headers(file, cache_control, public)
        compressible = "Vary" in base
        range_header = request_headers.get("Range")
        accept = request_headers.get("Accept-Encoding")
        headers = dict(base)
        encoding = None
        if (
            compressible
            and accept
            and range_header is None
            and MIN_COMPRESS_BYTES <= file.size <= COMPRESS_MAX_BYTES
        ):
            encoding = accepted_encoding(accept)
        if encoding:
            # A compressed copy is a different representation: it needs its own strong ETag.
            headers["ETag"] = headers["ETag"][:-1] + f'-{encoding}"'
            headers["Content-Encoding"] = encoding
        else:
            headers["Accept-Ranges"] = "bytes"

        if self._not_modified(request, headers["ETag"], file):
            return web.Response(status=304, headers=_for_304(headers))

        if encoding:
            body = await self._compressed(file, encoding)
            return web.Response(body=body, headers=headers)

        ranges = None
        if range_header is not None and self._if_range_holds(request, headers["ETag"], file):
            ranges = parse_ranges(range_header, file.size)
            if ranges == []:
                headers.pop("Content-Type")
                headers["Content-Range"] = f"bytes */{file.size}"
                return web.Response(status=416, headers=headers)

        if file.size <= SMALL_FILE_BYTES:
            data = self._read_small(file)
            if data is None:
                raise web.HTTPNotFound()
            return _bytes_response(data, ranges, headers)
        return _SendfileResponse(file, ranges, headers)

    @staticmethod
    def _not_modified(request: web.Request, etag: str, file: _File) -> bool:
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match is not None:
            return etag_matches_weakly(if_none_match, etag)
        since = request.headers.get("If-Modified-Since")
        if since:
            try:
                return int(parsedate_to_datetime(since).timestamp()) >= file.mtime_ns // 10**9
            except (TypeError, ValueError, IndexError, OverflowError):
                return False
        return False

    @staticmethod
    def _if_range_holds(request: web.Request, etag: str, file: _File) -> bool:
        """If-Range: serve the range only if the client's copy is this one (strong compare)."""
        if_range = request.headers.get("If-Range")
        if if_range is None:
            return True
        if_range = if_range.strip()
        if if_range.startswith(('"', "W/")):
            return if_range == etag
        try:
            return int(parsedate_to_datetime(if_range).timestamp()) == file.mtime_ns // 10**9
        except (TypeError, ValueError, IndexError, OverflowError):
            return False

    def _read_small(self, file: _File) -> bytes | None:
        data = self.cache.get(file)
        if data is None:
            # Small files on a local disk: reading inline is far cheaper than a thread hop.
            try:
                with open(file.path, "rb") as handle:
                    data = handle.read(file.size + 1)
            except OSError:
                return None
            if len(data) != file.size:  # changed while we read it: do not cache a torn copy
                return data
            self.cache.put(file, data)
        return data

    async def _compressed(self, file: _File, encoding: str) -> bytes:
        key = (*file, encoding)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        pending = self._compressing.get(key)
        if pending is None:  # one compression per file even when many ask at once
            pending = asyncio.ensure_future(asyncio.to_thread(_read_and_compress, file, encoding))
            self._compressing[key] = pending
            pending.add_done_callback(lambda _f: self._compressing.pop(key, None))
        body = await asyncio.shield(pending)
        self.cache.put(key, body)
        return body


def _read_and_compress(file: _File, encoding: str) -> bytes:
    return compress(file.path.read_bytes(), encoding)


def _for_304(headers: dict[str, str]) -> dict[str, str]:
    keep = ("ETag", "Cache-Control", "Last-Modified", "Vary", "Content-Security-Policy",
            "Access-Control-Allow-Origin")
    return {name: value for name, value in headers.items() if name in keep}


def _multipart_layout(
    ranges: list[tuple[int, int]], size: int, content_type: str
) -> tuple[str, list[bytes], bytes]:
    """The boundary, the header block before each part and the closing delimiter."""
    boundary = secrets.token_hex(12)
    heads = [
        (
            f"{'' if i == 0 else chr(13) + chr(10)}--{boundary}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Range: bytes {start}-{end - 1}/{size}\r\n\r\n"
        ).encode("ascii")
        for i, (start, end) in enumerate(ranges)
    ]
    closing = f"\r\n--{boundary}--\r\n".encode("ascii")
    return boundary, heads, closing


def _bytes_response(
    data: bytes, ranges: list[tuple[int, int]] | None, headers: dict[str, str]
) -> web.Response:
    size = len(data)
    if not ranges:
        return web.Response(body=data, headers=headers)
    if len(ranges) == 1:
        start, end = ranges[0]
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        return web.Response(status=206, body=data[start:end], headers=headers)
    boundary, heads, closing = _multipart_layout(ranges, size, headers["Content-Type"])
    chunks: list[bytes] = []
    for head, (start, end) in zip(heads, ranges, strict=True):
        chunks += [head, data[start:end]]
    chunks.append(closing)
    headers["Content-Type"] = f"multipart/byteranges; boundary={boundary}"
    return web.Response(status=206, body=b"".join(chunks), headers=headers)


class _SendfileResponse(web.StreamResponse):
    """A large file (or ranges of it) sent by the kernel: no copies through Python."""

    def __init__(
        self, file: _File, ranges: list[tuple[int, int]] | None, headers: dict[str, str]
    ) -> None:
        self._file = file
        if not ranges:
            self._parts = [(b"", 0, file.size)]
            self._closing = b""
            status = 200
        elif len(ranges) == 1:
            start, end = ranges[0]
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{file.size}"
            self._parts = [(b"", start, end - start)]
            self._closing = b""
            status = 206
        else:
            boundary, heads, self._closing = _multipart_layout(
                ranges, file.size, headers["Content-Type"]
            )
            self._parts = [
                (head, start, end - start)
                for head, (start, end) in zip(heads, ranges, strict=True)
            ]
            headers["Content-Type"] = f"multipart/byteranges; boundary={boundary}"
            status = 206
        super().__init__(status=status, headers=headers)
        self.content_length = sum(len(h) + n for h, _, n in self._parts) + len(self._closing)

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        if request.method == "HEAD":
            writer = await super().prepare(request)
            await super().write_eof()
            return writer
        try:
            handle = open(self._file.path, "rb")  # noqa: SIM115 - closed in the finally below
        except OSError as error:
            raise web.HTTPNotFound() from error
        try:
            writer = await super().prepare(request)
            loop = asyncio.get_running_loop()
            for head, offset, count in self._parts:
                if head:
                    await super().write(head)
                transport = request.transport
                if transport is None or transport.is_closing():
                    raise ConnectionResetError("client went away")
                # Falls back to read+write by itself for TLS transports.
                await loop.sendfile(transport, handle, offset, count)
            if self._closing:
                await super().write(self._closing)
            await super().write_eof()
            return writer
        finally:
            handle.close()
