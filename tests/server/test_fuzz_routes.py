"""Property: whatever a client sends to any route — parameters, headers, bodies, as raw bytes
that need not be UTF-8 — the server answers with something other than a 5xx.

Requests go over a plain socket to the real app (pytest-aiohttp's server on a real port), so
the fuzzer can send what an HTTP client library would refuse to encode: non-UTF-8 bytes in a
header, an escaped lone surrogate in JSON, '²' where digits belong. The examples named with
@example are the crashes that were found and fixed; the rest are generated (a bounded number:
the whole file runs in well under a minute).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from typing import Any
from urllib.parse import quote_from_bytes

import aiohttp
import pytest
from fixed_clock import FakeClock
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from vrculture.server import appkeys
from vrculture.server.app import create_app
from vrculture.server.bodies import IDLE_SECONDS
from vrculture.server.storage import Store

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
# The same examples on every run (CI stays deterministic); FUZZ_RANDOM=1 explores new ones.
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                derandomize=not os.environ.get("FUZZ_RANDOM"),
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
START = 1_767_225_600  # 2026-01-01T00:00:00Z: a fixed past time, no wall clock
# Answers that are 5xx by design: oEmbed's specification says 501 for an unknown format.
DESIGNED_5XX = {("/oembed", 501)}


# ----- what the fuzzer is made of

def utf8_or_not(text: str) -> bytes:
    """Text as UTF-8, except that a lone surrogate becomes the bytes ED A0 80 (not UTF-8)."""
    return text.encode("utf-8", "surrogatepass")


TRICKY_TEXT = ["", "²", "٣", "１２", "-1", "0", "+5", " 7", "7 ", "1e309", "9" * 40,
               "NaN", "\ud800", "\udcff", "%ED%A0%80", "%00", "\x00", "\u202e", "bytes=²-3"]
texts = st.one_of(st.sampled_from(TRICKY_TEXT), st.text(max_size=24),
                  st.text(st.characters(codec=None, exclude_categories=()), max_size=12))
raw_values = st.one_of(texts.map(utf8_or_not), st.binary(max_size=24))


def query_value(raw: bytes, percent: bool) -> bytes:
    return quote_from_bytes(raw, safe="").encode() if percent else raw.replace(b" ", b"+")


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
    texts, st.sampled_from([10**400, -(10**309), 2**63, 1e308, 0.1]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)


def dump(value: Any) -> bytes:
    """JSON as a client would send it: escapes (\\ud800 stays valid JSON), any int size."""
    return json.dumps(value).encode("ascii")


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


bodies = st.one_of(
    json_values.map(dump),
    st.builds(nested, st.integers(1, 100_000)),
    st.sampled_from([b"1" * 5000, b"1e999", b"NaN", b'{"t": Infinity}', b"\xff\xfe",
                     b'"\\ud800"', b'{"\\udfff": 1}']),
    st.binary(max_size=64),
)
HEADER_NAMES = ["Authorization", "Range", "If-Range", "If-None-Match", "If-Modified-Since",
                "Origin", "Accept-Encoding", "Content-Type", "Accept-Language", "Cookie",
                "X-Forwarded-For", "Expect", "Content-Encoding", "Host"]
headers = st.dictionaries(st.sampled_from(HEADER_NAMES), raw_values, max_size=4)


_CONTROLS = bytes(c for c in range(32) if c != 9) + b"\x7f"


def header_value(raw: bytes) -> bytes:
    # Control bytes end a header line or are refused by the parser before any route runs;
    # bytes 0x80-0xff (not UTF-8 on their own) reach the routes.
    return raw.translate(None, _CONTROLS)


# ----- the server and one raw exchange

@pytest.fixture
async def target(aiohttp_server, config, clock) -> dict[str, Any]:
    store = Store.open(config.data_dir, clock=FakeClock())
    try:
        tokens = {"feed": store.add_feed("street-lights"),
                  "gauge": store.add_feed("temperature"),
                  "curator": store.create_curator_token()}
    finally:
        store.close()
    app = create_app(config, watch_interval=60, clock=clock)
    app[IDLE_SECONDS] = 0.5
    server = await aiohttp_server(app)
    exhibition = app[appkeys.EXHIBITIONS].all()[0]
    objects = exhibition.manifest["objects"]
    return {"server": server, "tokens": tokens, "exhibition": exhibition.id,
            "object": objects[0]["id"], "file": objects[0]["levels"][0]["url"]}


async def exchange(server, method: str, target: bytes, head: dict[str, bytes],
                   body: bytes = b"") -> int:
    """Send one request (Connection: close); the status of the answer."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Connection: close"]
    if "Host" not in head:
        lines.append(b"Host: fuzz")
    lines += [name.encode() + b": " + header_value(value) for name, value in head.items()]
    if body or method in ("POST", "PUT"):
        lines.append(b"Content-Length: %d" % len(body))
    writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 30)  # the server closes after its answer
    writer.close()
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1."), answer[:200]
    return int(status_line.split()[1])


def no_server_error(path: str, status: int) -> None:
    assert status < 500 or (path, status) in DESIGNED_5XX, f"{path}: {status}"


def query(params: dict[str, bytes], percent: bool) -> bytes:
    return b"&".join(name.encode() + b"=" + query_value(value, percent)
                     for name, value in params.items())


# ----- the properties

QUERY_ROUTES = ["/api/search", "/oembed", "/api/feeds/street-lights/readings",
                "/api/exhibitions", "/healthz"]
PARAMETERS = ["q", "lang", "exhibition", "limit", "url", "maxwidth", "maxheight", "format",
              "since", "object"]
OURS = [b"http://fuzz/exhibitions/demo", b"http://fuzz/embed/demo/angel",
        b"http://fuzz/exhibitions/demo?object=angel"]  # Host: fuzz; the bundle's ids
parameters = st.dictionaries(st.sampled_from(PARAMETERS),
                             st.one_of(raw_values, st.sampled_from(OURS)), max_size=5)


@FUZZ
@given(path=st.sampled_from(QUERY_ROUTES), params=parameters, percent=st.booleans(),
       head=headers)
@example(path="/api/feeds/street-lights/readings", params={"limit": "²".encode()},
         percent=True, head={}).via("isdigit() passed '²' to int()")
@example(path="/api/search", params={"q": b"angel", "limit": "²".encode()}, percent=True,
         head={}).via("search limit=²")
@example(path="/oembed", params={"url": OURS[0], "maxwidth": "²".encode()}, percent=True,
         head={}).via("maxwidth=²")
@example(path="/api/exhibitions", params={}, percent=False,
         head={"Expect": b"\xff"}).via("aiohttp's expect handler quoted a non-UTF-8 byte")
async def test_query_parameters_and_headers(target, path, params, percent, head):
    url = path.encode() + (b"?" + query(params, percent) if params else b"")
    no_server_error(path, await exchange(target["server"], "GET", url, head))


@FUZZ
@given(kind=st.sampled_from(["manifest", "object", "file", "page", "embed", "static"]),
       segment=raw_values, head=headers, method=st.sampled_from(["GET", "HEAD"]))
@example(kind="file", segment=b"", head={"Range": "bytes=²-".encode()}, method="GET")
@example(kind="file", segment=b"", head={"Range": b"bytes=0-1,\xb2-"}, method="GET")
@example(kind="file", segment=b"", head={"If-Modified-Since": b"\xff"}, method="GET")
async def test_paths_and_file_headers(target, kind, segment, head, method):
    piece = quote_from_bytes(segment, safe="").encode() or b"x"
    exhibition, obj = target["exhibition"].encode(), target["object"].encode()
    paths = {
        "manifest": b"/api/exhibitions/" + piece,
        "object": b"/api/exhibitions/" + exhibition + b"/objects/" + piece,
        "file": b"/bundles/" + exhibition + b"/" + target["file"].encode(),
        "page": b"/exhibitions/" + piece,
        "embed": b"/embed/" + exhibition + b"/" + (piece if segment else obj),
        "static": b"/static/" + piece,
    }
    no_server_error(kind, await exchange(target["server"], method, paths[kind], head))


@FUZZ
@given(path=raw_values, method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH",
                                               "OPTIONS", "HEAD"]), head=headers)
@example(path=b"nowhere", method="GET", head={"Expect": b"\xff"}).via("404 with a bad Expect")
@example(path=b"api/exhibitions", method="PATCH", head={"Expect": b"\xe9"}).via("405, too")
async def test_unknown_paths_and_methods(target, path, method, head):
    url = b"/" + quote_from_bytes(path, safe="/").encode()
    no_server_error(url.decode(), await exchange(target["server"], method, url, head))


def auth(token: bytes) -> dict[str, bytes]:
    return {"Authorization": b"Bearer " + token}


@FUZZ
@given(body=bodies, feed=st.sampled_from(["street-lights", "temperature"]),
       token=st.one_of(st.none(), raw_values), content_type=st.sampled_from(
           [b"application/json", b"text/plain", b"application/json; charset=latin-1"]))
@example(body=dump({"t": START, "value": 1, "unit": "\ud800"}), feed="temperature", token=None,
         content_type=b"application/json").via("a lone surrogate in a gauge unit")
@example(body=dump({"t": START, "lamp": "L", "presence": True, "level": 1, "power_w": 1,
                    "\ud800": 1}), feed="street-lights", token=None,
         content_type=b"application/json").via("a lone surrogate in a field name")
@example(body=dump({"t": START, "value": 10**400}), feed="temperature", token=None,
         content_type=b"application/json").via("an integer beyond a float")
@example(body=b'{"t": 1767225600, "value": ' + b"9" * 5000 + b"}", feed="temperature",
         token=None, content_type=b"application/json").via("over 4300 digits")
@example(body=nested(50_000), feed="temperature", token=None,
         content_type=b"application/json").via("deeply nested JSON")
@example(body=b"{}", feed="temperature", token="Zürich\ud800".encode("utf-8", "surrogatepass"),
         content_type=b"application/json").via("a non-UTF-8 byte in Authorization")
async def test_feed_ingest_bodies(target, body, feed, token, content_type):
    key = "gauge" if feed == "temperature" else "feed"
    head = {"Content-Type": content_type,
            **auth(token if token is not None else target["tokens"][key].encode())}
    path = f"/api/feeds/{feed}/readings"
    no_server_error(path, await exchange(target["server"], "POST", path.encode(), head, body))


ADMIN_ROUTES = [("POST", "/api/admin/feeds"), ("POST", "/api/admin/guides"),
                ("POST", "/api/admin/feeds/street-lights/rotate"),
                ("DELETE", "/api/admin/feeds/{}"), ("PUT", "/api/admin/exhibitions/{}"),
                ("POST", "/api/admin/exhibitions/{}/rollback")]


@FUZZ
@given(route=st.sampled_from(ADMIN_ROUTES), body=st.one_of(
           bodies, st.fixed_dictionaries({"feed_id": texts}, optional={
               "kind": st.sampled_from(["gauge", "smart-bin", "\ud800"]), "unit": texts,
               "min": json_scalars, "max": json_scalars, "exhibition": texts,
               "label": texts}).map(dump)),
       segment=raw_values, token=st.one_of(st.none(), raw_values),
       content_type=st.sampled_from([b"application/json", b"application/x-tar",
                                     b"application/gzip", b"\xff"]))
@example(route=("POST", "/api/admin/guides"), body=dump({"exhibition": "a", "label": "\udcff"}),
         segment=b"", token=None, content_type=b"application/json")
@example(route=("POST", "/api/admin/feeds"), body=b"{}", segment=b"", token=b"\xe9t\xe9",
         content_type=b"application/json").via("non-UTF-8 Authorization, no token needed")
@example(route=("POST", "/api/admin/feeds"), body=dump({"feed_id": "f", "kind": "gauge",
                                                         "min": 10**400}),
         segment=b"", token=None, content_type=b"application/json")
async def test_admin_routes(target, route, body, segment, token, content_type):
    method, template = route
    piece = quote_from_bytes(segment, safe="") or "x"
    path = template.format(piece)
    head = {"Content-Type": content_type,
            **auth(token if token is not None else target["tokens"]["curator"].encode())}
    no_server_error(path, await exchange(target["server"], method, path.encode(), head, body))


MESSAGE_TYPES = ["ping", "pick", "reaction", "follow", "tour_start", "tour_goto", "tour_next",
                 "tour_end", "mute", "kick", "hello", "\ud800", ""]
messages = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(MESSAGE_TYPES)}, optional={
        "t": json_scalars, "object": json_values, "emoji": st.sampled_from(["👍", "\ud83d"]),
        "guide": json_scalars, "tour": texts, "stop": json_scalars, "visitor": json_scalars,
        "muted": json_scalars}).map(lambda m: json.dumps(m)),
    json_values.map(json.dumps),
    st.builds(lambda depth: "[" * depth + "]" * depth, st.integers(1, 50_000)),
    st.binary(max_size=40),
)
hellos = st.fixed_dictionaries({"type": st.just("hello"), "v": st.just(1)}, optional={
    "name": texts, "color": st.sampled_from(["#336699", "\ud800", "#12345"]),
    "lang": st.sampled_from(["en", "sv-SE", "\udc00"]), "guide_code": texts,
    "room": texts}).map(json.dumps)


@FUZZ
@given(hello=hellos, sent=st.lists(messages, min_size=1, max_size=4))
@example(hello=json.dumps({"type": "hello", "v": 1, "name": "A", "guide_code": "\ud800"}),
         sent=[json.dumps({"type": "ping"})])
@example(hello=json.dumps({"type": "hello", "v": 1, "name": "A"}),
         sent=[json.dumps({"type": "pick", "object": "\udfff"})])
async def test_room_messages(target, hello, sent, caplog):
    """Whatever the messages, the server answers or closes the socket as the protocol says
    (1008 policy, 1009 too large): never an internal error (1011) or a traceback."""
    server = target["server"]
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(server.make_url(f"/ws/rooms/{target['exhibition']}"))
        for message in [hello, *sent, json.dumps({"type": "ping", "t": 7})]:
            if ws.closed:
                break
            with contextlib.suppress(ConnectionError):
                if isinstance(message, bytes):
                    await ws.send_bytes(message)
                else:
                    await ws.send_str(message)
        while not ws.closed:  # until the pong for t=7, or the server closes
            msg = await ws.receive(timeout=10)
            if msg.type == aiohttp.WSMsgType.TEXT and json.loads(msg.data) == {"type": "pong",
                                                                                 "t": 7}:
                break
        await ws.close()
        assert ws.close_code in (None, 1000, 1008, 1009), ws.close_code
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text


def wrapped(leaf: Any, depth: int) -> Any:
    for _ in range(depth):
        leaf = [leaf] if depth % 2 else {"k": leaf}
    return leaf


@FUZZ
@given(document=st.one_of(json_values, st.builds(wrapped, json_values, st.integers(0, 40))))
def test_the_fast_walk_and_the_naming_walk_agree(document):
    """safejson checks every document with a walk that builds no paths, and walks again only
    to name what it refuses: the two must find the same documents wrong."""
    from vrculture.server.safejson import _clean, _first_problem

    assert _clean(document) == (_first_problem(document) is None)
