"""Request bodies as real networks deliver them: one byte at a time, in random TCP segments,
chunked past the limit, or stopping half-way. Raw sockets against the real app on a real port;
between two pieces the test drains its socket and yields to the event loop the server runs in,
so the server sees each piece arrive on its own."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pytest

from vrculture.server.app import create_app
from vrculture.server.bodies import IDLE_SECONDS
from vrculture.server.feeds import MAX_BODY_BYTES
from vrculture.server.storage import Store

START = 1_767_225_600  # 2026-01-01T00:00:00Z: a fixed past time, no wall clock
FEED_URL = "/api/feeds/street-lights/readings"


def lamp(i: int) -> dict[str, Any]:
    return {"t": START + i, "lamp": f"L{i % 7}", "presence": i % 2 == 0, "level": i % 100,
            "power_w": 12.5}


@pytest.fixture
def tokens(config) -> dict[str, str]:
    store = Store.open(config.data_dir)
    try:
        return {"feed": store.add_feed("street-lights"), "curator": store.create_curator_token()}
    finally:
        store.close()


@pytest.fixture
async def server(aiohttp_server, config):
    app = create_app(config, watch_interval=60)
    app[IDLE_SECONDS] = 0.5  # a client silent this long mid-body is given up on
    return await aiohttp_server(app)


async def settle() -> None:
    """Let the server's side of the loop run: it reads what the kernel has for it."""
    for _ in range(3):
        await asyncio.sleep(0)


class Raw:
    """One HTTP/1.1 exchange over a plain socket, written in the pieces the test chooses."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, server) -> Raw:
        return cls(*await asyncio.open_connection(server.host, server.port))

    async def send(self, *pieces: bytes) -> None:
        for piece in pieces:
            self.writer.write(piece)
            await self.writer.drain()
            await settle()

    async def response(self) -> tuple[int, dict[str, str], bytes]:
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 10)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = await asyncio.wait_for(self.reader.readexactly(length), 10)
        return int(status_line.split()[1]), headers, body

    def close(self) -> None:
        self.writer.close()


def request_head(path: str, token: str, *, length: int | None) -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (f"POST {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\n{framing}\r\n\r\n").encode()


def pieces_of(data: bytes, rng: random.Random, largest: int) -> list[bytes]:
    pieces, at = [], 0
    while at < len(data):
        size = rng.randint(1, largest)
        pieces.append(data[at : at + size])
        at += size
    return pieces


def chunked(data: bytes, size: int) -> bytes:
    out = b"".join(b"%x\r\n%s\r\n" % (len(data[i : i + size]), data[i : i + size])
                   for i in range(0, len(data), size))
    return out + b"0\r\n\r\n"


async def history(server) -> list[dict[str, Any]]:
    raw = await Raw.open(server)
    await raw.send(f"GET {FEED_URL}?limit=1000 HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    status, _, body = await raw.response()
    raw.close()
    assert status == 200
    return json.loads(body)["readings"]


async def test_request_and_body_one_byte_at_a_time(server, tokens):
    body = json.dumps(lamp(1)).encode()
    raw = await Raw.open(server)
    message = request_head(FEED_URL, tokens["feed"], length=len(body)) + body
    await raw.send(*(message[i : i + 1] for i in range(len(message))))
    status, _, reply = await raw.response()
    assert status == 201, reply
    raw.close()
    assert [r["t"] for r in await history(server)] == ["2026-01-01T00:00:01.000Z"]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_batch_in_random_segments_is_stored_whole(server, tokens, seed):
    rng = random.Random(seed)
    body = json.dumps({"readings": [lamp(i) for i in range(300)]}).encode()
    raw = await Raw.open(server)
    await raw.send(request_head(FEED_URL, tokens["feed"], length=len(body)),
                   *pieces_of(body, rng, 1448))
    status, _, reply = await raw.response()
    assert status == 201, reply
    raw.close()
    assert len(await history(server)) == 300


async def test_a_chunked_body_in_random_segments_is_read_whole(server, tokens):
    rng = random.Random(7)
    body = json.dumps({"readings": [lamp(i) for i in range(300)]}).encode()
    framed = chunked(body, 1000)
    raw = await Raw.open(server)
    await raw.send(request_head(FEED_URL, tokens["feed"], length=None),
                   *pieces_of(framed, rng, 700))
    status, _, reply = await raw.response()
    assert status == 201, reply
    raw.close()


async def test_a_chunked_body_over_the_limit_is_413_before_it_ends(server, tokens):
    raw = await Raw.open(server)
    await raw.send(request_head(FEED_URL, tokens["feed"], length=None))
    piece = b" " * 16_384
    for _ in range(MAX_BODY_BYTES // len(piece) + 2):  # past the limit, never the last chunk
        await raw.send(b"%x\r\n%s\r\n" % (len(piece), piece))
    status, _, reply = await raw.response()
    assert status == 413
    assert json.loads(reply)["code"] == "too_large"
    raw.close()


async def test_a_declared_length_over_the_limit_is_413_without_the_body(server, tokens):
    raw = await Raw.open(server)
    await raw.send(request_head(FEED_URL, tokens["feed"], length=MAX_BODY_BYTES + 1))
    status, _, reply = await raw.response()
    assert status == 413
    assert json.loads(reply)["code"] == "too_large"
    raw.close()


async def test_a_client_that_stops_sending_gets_408(server, tokens):
    body = json.dumps(lamp(2)).encode()
    raw = await Raw.open(server)
    await raw.send(request_head(FEED_URL, tokens["feed"], length=len(body)), body[:10])
    status, _, reply = await raw.response()  # nothing more is sent: the server gives up
    assert status == 408
    assert json.loads(reply)["code"] == "body_timeout"
    raw.close()
    assert await history(server) == []


async def test_a_connection_lost_mid_body_logs_no_traceback(server, tokens, caplog):
    body = json.dumps(lamp(3)).encode()
    raw = await Raw.open(server)
    await raw.send(request_head(FEED_URL, tokens["feed"], length=len(body)), body[:10])
    raw.close()
    await raw.writer.wait_closed()
    assert await history(server) == []  # a full exchange later: the loss has been handled
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text


async def test_admin_json_in_random_segments(server, tokens):
    body = json.dumps({"feed_id": "rain", "kind": "gauge", "unit": "mm"}).encode()
    raw = await Raw.open(server)
    await raw.send(request_head("/api/admin/feeds", tokens["curator"], length=len(body)),
                   *pieces_of(body, random.Random(11), 5))
    status, _, reply = await raw.response()
    assert status == 201, reply
    assert json.loads(reply)["feed_id"] == "rain"
    raw.close()


async def test_admin_chunked_json_over_the_limit_is_413(server, tokens):
    raw = await Raw.open(server)
    await raw.send(request_head("/api/admin/feeds", tokens["curator"], length=None))
    for _ in range(3):
        await raw.send(b"%x\r\n%s\r\n" % (8192, b" " * 8192))
    status, _, reply = await raw.response()
    assert status == 413
    raw.close()
