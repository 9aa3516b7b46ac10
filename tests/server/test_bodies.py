"""Request bodies as real networks deliver them: one byte at a time, in random TCP segments,
chunked past the limit, or stopping half-way. Raw sockets against the real app on a real port;
between two pieces the test drains its socket and yields to the event loop the server runs in,
so the server sees each piece arrive on its own."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import aiohttp
import pytest
from fixed_clock import FakeClock

from vrculture.server import appkeys
from vrculture.server.app import create_app
from vrculture.server.bodies import BODY_SECONDS, IDLE_SECONDS
from vrculture.server.feeds import MAX_BODY_BYTES
from vrculture.server.storage import Store

START = 1_767_225_600  # 2026-01-01T00:00:00Z: a fixed past time, no wall clock
FEED_URL = "/api/feeds/street-lights/readings"


def lamp(i: int) -> dict[str, Any]:
    return {"t": START + i, "lamp": f"L{i % 7}", "presence": i % 2 == 0, "level": i % 100,
            "power_w": 12.5}


HOST = "Host: 127.0.0.1\r\n"  # a host name the server answers to (others get 421)

@pytest.fixture
def tokens(config) -> dict[str, str]:
    store = Store.open(config.data_dir, clock=FakeClock())
    try:
        return {"feed": store.add_feed("street-lights"), "curator": store.create_curator_token()}
    finally:
        store.close()


@pytest.fixture
async def server(aiohttp_server, config, clock):
    app = create_app(config, watch_interval=60, clock=clock)
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
    return (f"POST {path} HTTP/1.1\r\n{HOST}Authorization: Bearer {token}\r\n"
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
    await raw.send(f"GET {FEED_URL}?limit=1000 HTTP/1.1\r\n{HOST}\r\n".encode())
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


async def test_a_body_that_trickles_in_past_its_deadline_gets_408(aiohttp_server, config,
                                                                   tokens, clock):
    app = create_app(config, watch_interval=60, clock=clock)
    app[BODY_SECONDS] = 0.3  # the whole body's deadline; a pause alone would take 30 s
    server = await aiohttp_server(app)
    body = json.dumps(lamp(2)).encode()
    raw = await Raw.open(server)
    await raw.send(request_head(FEED_URL, tokens["feed"], length=len(body)), body[:10])
    status, _, reply = await raw.response()
    assert status == 408
    assert "did not arrive within" in json.loads(reply)["message"]
    raw.close()


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


# ----- JSON that parses but that the server could not hold

async def post_raw_json(server, token: str, body: bytes) -> tuple[int, dict[str, Any]]:
    raw = await Raw.open(server)
    await raw.send(request_head(FEED_URL, token, length=len(body)) + body)
    status, _, reply = await raw.response()
    raw.close()
    return status, json.loads(reply)


@pytest.mark.parametrize(("body", "status", "code"), [
    (json.dumps(lamp(4) | {"lamp": "\ud800"}).encode(), 422, "invalid_text"),
    (json.dumps(lamp(4) | {"\udfff": 1}).encode(), 422, "invalid_text"),
    (json.dumps({"readings": [lamp(4), lamp(5) | {"lamp": "L\udc80"}]}).encode(), 422,
     "invalid_text"),
    (json.dumps(lamp(4) | {"power_w": 10**400}).encode(), 422, "invalid_number"),
    (b'{"t": 1767225600, "level": ' + b"9" * 5000 + b"}", 422, "invalid_number"),
    (b'{"t": 1767225600, "level": 1e309}', 422, "invalid_number"),
    (b'{"t": 1767225600, "level": NaN}', 400, "malformed"),
    (b"[" * 100_000 + b"]" * 100_000, 400, "malformed"),
    (b"[" * 40 + b"]" * 40, 400, "malformed"),
    (b'{"t": 1767225600, "lamp": "\xff"}', 400, "malformed"),
])
async def test_json_the_server_cannot_hold_is_refused_before_it_is_stored(
    server, tokens, body, status, code
):
    answer = await post_raw_json(server, tokens["feed"], body)
    assert answer[0] == status and answer[1]["code"] == code, answer
    assert answer[1]["type"] == "error"
    assert await history(server) == []
    good = await post_raw_json(server, tokens["feed"], json.dumps(lamp(6)).encode())
    assert good[0] == 201  # and the feed goes on working
    assert len(await history(server)) == 1


async def test_a_gauge_unit_with_a_lone_surrogate_is_422(server, config):
    store = Store.open(config.data_dir, clock=FakeClock())
    token = store.add_feed("temperature")
    store.close()
    raw = await Raw.open(server)
    body = json.dumps({"t": START, "value": 21, "unit": "\ud800C"}).encode()
    await raw.send(request_head("/api/feeds/temperature/readings", token, length=len(body))
                   + body)
    status, _, reply = await raw.response()
    assert status == 422 and json.loads(reply)["field"].endswith(".unit")
    raw.close()


async def test_admin_inputs_with_a_lone_surrogate_are_422(server, tokens):
    raw = await Raw.open(server)
    body = json.dumps({"exhibition": "demo", "label": "Anna \udc00"}).encode()
    await raw.send(request_head("/api/admin/guides", tokens["curator"], length=len(body)) + body)
    status, _, reply = await raw.response()
    assert status == 422 and json.loads(reply)["code"] == "invalid_text"
    raw.close()


async def test_a_room_message_with_a_lone_surrogate_is_refused(server):
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(server.make_url("/ws/rooms/demo"))
        await ws.send_str(json.dumps({"type": "hello", "v": 1, "name": "Ann", "color": "#336699",
                                      "lang": "en", "guide_code": "\ud800"}))
        message = await ws.receive_json(timeout=10)
        assert message["type"] == "error" and message["code"] == "bad_message"
        closing = await ws.receive(timeout=10)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == 1008


# ----- headers and parameters that looked like what they are not

async def exchange(server, request: bytes) -> tuple[int, bytes]:
    raw = await Raw.open(server)
    await raw.send(request)
    status, _, body = await raw.response()
    raw.close()
    return status, body


@pytest.mark.parametrize("path", [FEED_URL, "/api/admin/feeds"])
async def test_a_non_utf8_authorization_is_401(server, path):
    status, body = await exchange(server, (
        f"POST {path} HTTP/1.1\r\n{HOST}Content-Type: application/json\r\n"
        "Content-Length: 2\r\n").encode() + b"Authorization: Bearer vrf_\xe9\xff\r\n\r\n{}")
    assert status == 401 and json.loads(body)["code"] == "unauthenticated"


@pytest.mark.parametrize("query", [
    "/api/feeds/street-lights/readings?limit=%C2%B2",  # '²': isdigit() but not int()
    "/api/feeds/street-lights/readings?limit=%D9%A3",  # '٣': int() reads it as 3
    "/api/search?q=angel&limit=%C2%B2",
    "/oembed?url=http%3A%2F%2F127.0.0.1%2Fexhibitions%2Fdemo&maxwidth=%C2%B2",
    "/oembed?url=http%3A%2F%2F127.0.0.1%2Fexhibitions%2Fdemo&maxheight=%EF%BC%91",  # fullwidth 1
])
async def test_digits_that_are_not_ascii_are_400(server, query):
    status, body = await exchange(server, f"GET {query} HTTP/1.1\r\n{HOST}\r\n".encode())
    assert status == 400 and json.loads(body)["code"] == "invalid_query"


@pytest.mark.parametrize("header", ["bytes=²-3", "bytes=0-²", "bytes=-²", "bytes=٣-"])
async def test_a_range_with_other_digits_is_ignored(server, header):
    exhibition = server.app[appkeys.EXHIBITIONS].all()[0]
    url = f"/bundles/{exhibition.id}/{exhibition.manifest['objects'][0]['levels'][0]['url']}"
    status, _ = await exchange(server, f"GET {url} HTTP/1.1\r\n{HOST}".encode()
                               + b"Range: " + header.encode() + b"\r\n\r\n")
    assert status == 200  # an invalid Range is ignored: the whole file (RFC 9110 14.2)


async def test_a_non_utf8_expect_is_417(server):
    status, body = await exchange(server, b"GET /api/exhibitions HTTP/1.1\r\n" + HOST.encode() +
                                  b"Expect: \xff\r\n\r\n")
    assert status == 417 and json.loads(body)["code"] == "expectation_failed"


async def test_a_row_stored_before_the_checks_still_reaches_history_and_welcome(server, config):
    """A database written before lone surrogates were refused may hold one: the replies
    carry it escaped (\\ud800, valid JSON) instead of failing."""
    store = Store.open(config.data_dir, clock=FakeClock())
    store.insert_readings("street-lights", [(START, lamp(0) | {"lamp": "\ud800"})])
    store.close()
    status, body = await exchange(server, f"GET {FEED_URL} HTTP/1.1\r\n{HOST}\r\n".encode())
    assert status == 200 and b"\\ud800" in body
    assert json.loads(body)["readings"][0]["lamp"] == "\ud800"
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(server.make_url("/ws/rooms/demo"))
        await ws.send_str(json.dumps({"type": "hello", "v": 1, "name": "Ann",
                                      "color": "#336699", "lang": "en"}))
        welcome = await ws.receive_json(timeout=10)
        assert welcome["type"] == "welcome"
        assert welcome["readings"]["street-lights"]["lamp"] == "\ud800"
        await ws.close()
