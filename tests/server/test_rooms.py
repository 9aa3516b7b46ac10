"""The rooms WebSocket against the real app (create_app): every message, good and bad."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from fixed_clock import FIXED_NOW, FakeClock

from vrculture.server import appkeys
from vrculture.server.app import create_app
from vrculture.server.config import RoomSettings, ServerConfig
from vrculture.server.rooms import HUB
from vrculture.server.rooms.client import RoomClient
from vrculture.server.rooms.codec import decode_state_frame
from vrculture.server.storage import Store

EXHIBITION = "demo"
IDENTITY = (0.0, 0.0, 0.0, 1.0)


def _text(en: str, sv: str | None = None) -> dict[str, str]:
    return {"en": en, "sv": sv or f"{en} (sv)"}


def _placement(x: float) -> dict[str, Any]:
    return {"room": "hall", "position": [x, 0, 0], "yaw": 0, "footprint": [x - 1, -1, x + 1, 1],
            "view_point": {"position": [x, 0, 2], "yaw": 0}}


def manifest() -> dict[str, Any]:
    level = {"name": "low", "url": "objects/vase/vase.low.000000000000.glb", "bytes": 4,
             "triangles": 1, "texture_px": 0, "gpu_texture_bytes": 0}
    return {
        "schema_version": 1, "id": EXHIBITION, "generator": "tests", "default_language": "en",
        "languages": ["en", "sv"], "title": _text("Demo"),
        "entrance": {"position": [0, 0, 5], "yaw": 0},
        "rooms": [{"id": "hall", "title": _text("Hall"), "kind": "gallery",
                   "bounds": [-20, -20, 20, 20]}],
        "objects": [{
            "id": "vase", "kind": "model", "title": _text("Vase"),
            "rights": {"id": "CC0-1.0", "uri": "https://creativecommons.org/publicdomain/zero/1.0/",
                       "free_reuse": True},
            "levels": [level], "bounds": {"min": [-0.1, 0, -0.1], "max": [0.1, 0.3, 0.1]},
            "placement": _placement(0.0)}],
        "tours": [{"id": "highlights", "title": _text("Highlights"), "stops": [
            {"object": "vase", "title": _text("The vase", "Vasen"),
             "narration": {"en": "A vase.", "sv": "En vas.", "de": "Eine Vase."},
             "view_point": {"position": [0, 0, 2], "yaw": 0}},
            {"object": "lights", "narration": _text("Street lights."),
             "view_point": {"position": [5, 0, 2], "yaw": 1.5}},
        ]}],
        "smart_exhibits": [{
            "id": "lights", "kind": "street-lighting", "title": _text("Street lights"),
            "goal": "climate", "feeds": ["lamps"],
            "model": {"url": "smart/lights.000000000000.glb", "bytes": 4},
            "placement": _placement(5.0)}],
        "feeds": {"lamps": {"kind": "street-lighting", "exhibit": "lights"}},
        "totals": {"low": {"triangles": 1, "bytes": 4, "texture_bytes": 0,
                           "gpu_texture_bytes": 0}},
    }


def write_bundle(folder: Path) -> Path:
    for url in ("objects/vase/vase.low.000000000000.glb", "smart/lights.000000000000.glb"):
        (folder / url).parent.mkdir(parents=True, exist_ok=True)
        (folder / url).write_bytes(b"glTF")
    (folder / "exhibition.json").write_text(json.dumps(manifest()), encoding="utf-8")
    return folder


class Server:
    def __init__(self, client: Any, guide_code: str, feed_token: str) -> None:
        self.http = client
        self.guide_code = guide_code
        self.feed_token = feed_token
        self.url = f"/ws/rooms/{EXHIBITION}"

    @property
    def app(self) -> Any:
        return self.http.server.app

    @property
    def hub(self) -> Any:
        return self.app[HUB]

    async def join(self, name: str = "Ann", **hello: Any) -> RoomClient:
        url = str(self.http.make_url(self.url))
        return await RoomClient.connect(self.http.session, url, name=name, **hello)

    async def raw(self, headers: dict[str, str] | None = None) -> aiohttp.ClientWebSocketResponse:
        return await self.http.session.ws_connect(self.http.make_url(self.url), headers=headers)


def make_config(tmp_path: Path, **rooms: Any) -> ServerConfig:
    bundle = write_bundle(tmp_path / "bundle")
    settings = RoomSettings(**{"capacity": 50, **rooms})
    return ServerConfig(bundles=[bundle], data_dir=tmp_path / "data", rooms=settings,
                        allowed_origins=["https://museum.example"])


@pytest.fixture
def room_settings() -> dict[str, Any]:
    return {}


@pytest.fixture
async def server(tmp_path: Path, aiohttp_client: Any, room_settings: dict[str, Any]) -> Server:
    config = make_config(tmp_path, **room_settings)
    store = Store.open(config.data_dir, clock=FakeClock())
    code = store.add_guide_code(EXHIBITION, "tests")
    token = store.add_feed("lamps", kind="street-lighting", exhibition=EXHIBITION)
    store.close()
    client = await aiohttp_client(create_app(config, watch_interval=0.2, clock=FakeClock()))
    return Server(client, code, token)


def head_at(x: float, y: float = 1.6, z: float = 0.0, q: tuple = IDENTITY) -> tuple:
    return ((x, y, z), q)


async def until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def expect_closed(ws: aiohttp.ClientWebSocketResponse, code: int) -> list[dict]:
    """Read to the close; returns the error messages received; checks the close code."""
    errors = []
    while True:
        msg = await ws.receive(timeout=5)
        if msg.type == aiohttp.WSMsgType.TEXT:
            message = json.loads(msg.data)
            if message["type"] == "error":
                errors.append(message)
            continue
        if msg.type == aiohttp.WSMsgType.BINARY:
            continue
        break
    assert ws.close_code == code, (ws.close_code, errors)
    return errors


HELLO = {"type": "hello", "v": 1, "name": "Mallory", "color": "#112233", "lang": "en"}


# ----- joining


async def test_welcome_lists_others_and_joined_left_reach_them(server: Server) -> None:
    ann = await server.join("Ann", color="#AA0000", lang="sv")
    assert ann.welcome["v"] == 1 and ann.welcome["room"] == EXHIBITION
    assert ann.welcome["visitors"] == [] and ann.welcome["tour"] is None
    assert ann.welcome["guide"] is False and ann.welcome["tick_hz"] == 20
    assert ann.welcome["nearest"] == 24 and "👍" in ann.welcome["reactions"]
    bob = await server.join("Bob")
    assert [v["name"] for v in bob.welcome["visitors"]] == ["Ann"]
    assert bob.welcome["visitors"][0]["color"] == "#aa0000"
    joined = await ann.expect("joined")
    assert joined["visitor"]["id"] == bob.id and joined["visitor"]["name"] == "Bob"
    assert bob.id != ann.id
    await bob.close()
    left = await ann.expect("left")
    assert left == {"type": "left", "id": bob.id, "reason": "left"}


async def test_names_are_cleaned_and_capped(server: Server) -> None:
    evil = "\u202eevil\u0000\u200b  name\n" + "x" * 100
    ann = await server.join(evil)
    bob = await server.join("   \u2066\u0007  ")
    names = {v["id"]: v["name"] for v in bob.welcome["visitors"]}
    assert names[ann.id] == ("evil name " + "x" * 100)[:32].strip()
    joined = await ann.expect("joined")
    assert joined["visitor"]["name"] == "Visitor"


@pytest.mark.parametrize(
    ("change", "code"),
    [({"color": "red"}, "bad_message"), ({"lang": "english!"}, "bad_message"),
     ({"v": 2}, "unsupported_version"), ({"name": 42}, "bad_message"),
     # `$` matches before a final newline: the patterns must match the whole text
     ({"color": "#aabbcc\n"}, "bad_message"), ({"lang": "en\n"}, "bad_message"),
     # equal to 1 in Python, but not the protocol's integer version
     ({"v": True}, "unsupported_version"), ({"v": 1.0}, "unsupported_version")],
)
async def test_bad_hello_is_refused(server: Server, change: dict, code: str) -> None:
    ws = await server.raw()
    await ws.send_str(json.dumps({**HELLO, **change}))
    errors = await expect_closed(ws, 1008)
    assert [e["code"] for e in errors] == [code]


async def test_first_message_must_be_hello(server: Server) -> None:
    ws = await server.raw()
    await ws.send_str(json.dumps({"type": "ping"}))
    errors = await expect_closed(ws, 1008)
    assert errors[0]["code"] == "hello_required"


async def test_unknown_exhibition_is_404(server: Server) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await server.http.session.ws_connect(server.http.make_url("/ws/rooms/nope"))
    assert caught.value.status == 404


async def test_origin_is_checked(server: Server) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await server.raw({"Origin": "https://evil.example"})
    assert caught.value.status == 403
    for origin in ("https://museum.example", f"http://{server.http.host}:{server.http.port}"):
        ws = await server.raw({"Origin": origin})
        await ws.send_str(json.dumps(HELLO))
        assert json.loads((await ws.receive(timeout=5)).data)["type"] == "welcome"
        await ws.close()


# ----- poses


async def test_poses_reach_others_once_quantised_and_hidden_parts_are_marked(
    server: Server,
) -> None:
    ann = await server.join("Ann")
    bob = await server.join("Bob")
    q = (0.0, math.sin(0.3), 0.0, math.cos(0.3))
    await ann.send_pose(head_at(1.234, 1.6, -2.5, q), head_at(1.0, 1.2, -2.4), head_at(1.5))
    await until_pose(bob, ann.id, "right")
    head = bob.poses[ann.id]["head"]
    assert head is not None
    assert all(abs(a - b) <= 0.001 for a, b in zip(head[0], (1.234, 1.6, -2.5), strict=True))
    assert sum(a * b for a, b in zip(head[1], q, strict=True)) > math.cos(math.radians(0.25) / 2)
    # The same pose again is not news: no entry for Ann in the next second.
    entries = bob.entries
    await ann.send_pose(head_at(1.234, 1.6, -2.5, q), head_at(1.0, 1.2, -2.4), head_at(1.5))
    await bob.pump(0.3)
    assert bob.entries == entries
    # Ann never gets her own avatar back.
    await ann.pump(0.2)
    assert ann.id not in ann.poses
    # Putting a hand down: only that part travels, as the hidden marker.
    await ann.send_pose(head_at(1.234, 1.6, -2.5, q), head_at(1.0, 1.2, -2.4))
    await bob.wait_for(lambda: bob.poses[ann.id]["right"] is None)
    assert bob.poses[ann.id]["left"] is not None


async def until_pose(client: RoomClient, visitor: int, part: str, timeout: float = 5) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while client.poses.get(visitor, {}).get(part) is None:
        await client.receive(timeout=max(0.01, deadline - loop.time()))


async def test_newcomer_gets_everyones_current_pose(server: Server) -> None:
    ann = await server.join("Ann")
    carol = await server.join("Carol")
    await ann.send_pose(head_at(3.0))
    # Once Carol has it, the server holds Ann's pose: Bob can only get it as a newcomer.
    await until_pose(carol, ann.id, "head")
    bob = await server.join("Bob")
    await until_pose(bob, ann.id, "head")
    assert bob.poses[ann.id]["head"][0][0] == pytest.approx(3.0, abs=0.001)


# ----- picks, reactions, ping


async def test_pick_reaction_and_ping(server: Server) -> None:
    ann = await server.join("Ann")
    bob = await server.join("Bob")
    await ann.send({"type": "pick", "object": "vase"})
    assert await bob.expect("picked") == {"type": "picked", "id": ann.id, "object": "vase"}
    await ann.send({"type": "pick", "object": None})
    assert (await bob.expect("picked"))["object"] is None
    await ann.send({"type": "pick", "object": "nope"})
    assert (await ann.expect("error"))["code"] == "unknown_object"
    await ann.send({"type": "reaction", "emoji": "👏"})
    assert await bob.expect("reaction") == {"type": "reaction", "id": ann.id, "emoji": "👏"}
    await ann.send({"type": "ping", "t": 12.5})
    assert await ann.expect("pong") == {"type": "pong", "t": 12.5}
    carol = await server.join("Carol")
    await ann.send({"type": "pick", "object": "lights"})
    await bob.expect("picked")
    dave = await server.join("Dave")
    picked = {v["name"]: v["picked"] for v in dave.welcome["visitors"]}
    assert picked == {"Ann": "lights", "Bob": None, "Carol": None}
    await carol.close()


# ----- tours


async def test_a_revoked_guide_code_ends_the_guide_at_once(server: Server) -> None:
    guide = await server.join("Guide", guide_code=server.guide_code)
    ann = await server.join("Ann")
    assert guide.welcome["guide"] is True
    store = Store.open(server.app[appkeys.CONFIG].data_dir, clock=FakeClock())
    store.remove_guide_codes(EXHIBITION)  # what `vrculture guides revoke` does
    store.close()
    # The running server notices at its next refresh of the codes and closes the guide.
    errors = await expect_closed(guide.ws, 4001)
    assert [e["code"] for e in errors] == ["guide_code_revoked"]
    assert (await ann.expect("left"))["id"] == guide.id
    again = await server.join("Guide", guide_code=server.guide_code)  # rejoin: a visitor
    assert again.welcome["guide"] is False
    assert (await again.expect("error"))["code"] == "bad_guide_code"


async def test_guided_tour_follow_narration_in_language(server: Server) -> None:
    guide = await server.join("Guide", guide_code=server.guide_code)
    assert guide.welcome["guide"] is True
    swede = await server.join("Sven", lang="sv")
    german = await server.join("Greta", lang="de-AT")
    await swede.send({"type": "follow", "guide": guide.id})
    await guide.send({"type": "tour_start", "tour": "highlights"})
    tour = await swede.expect("tour")
    assert tour["tour"] == "highlights" and tour["stop"] == 0 and tour["stops"] == 2
    assert tour["narration"] == {"sv": "En vas.", "en": "A vase."}
    assert tour["title"] == {"sv": "Vasen", "en": "The vase"}
    assert tour["view_point"] == {"position": [0, 0, 2], "yaw": 0}
    assert tour["follow"] is True and tour["guide"] == guide.id and tour["object"] == "vase"
    other = await german.expect("tour")
    assert other["narration"] == {"de": "Eine Vase.", "en": "A vase."} and other["follow"] is False
    await guide.send({"type": "tour_next"})
    nxt = await swede.expect("tour")
    assert nxt["stop"] == 1 and nxt["view_point"]["position"] == [5, 0, 2]
    assert nxt["object"] == "lights"
    await guide.send({"type": "tour_next"})
    assert (await guide.expect("error"))["code"] == "tour_finished"
    await guide.send({"type": "tour_goto", "stop": 7})
    assert (await guide.expect("error"))["code"] == "unknown_stop"
    await guide.send({"type": "tour_goto", "stop": 0})
    assert (await swede.expect("tour"))["stop"] == 0
    late = await server.join("Late", lang="sv")
    assert late.welcome["tour"]["stop"] == 0 and late.welcome["tour"]["follow"] is False
    await guide.send({"type": "tour_end"})
    assert (await swede.expect("tour"))["tour"] is None
    await guide.send({"type": "tour_start", "tour": "missing"})
    assert (await guide.expect("error"))["code"] == "unknown_tour"


async def test_visitors_cannot_guide(server: Server) -> None:
    ann = await server.join("Ann", guide_code="not-a-code")
    assert ann.welcome["guide"] is False
    assert (await ann.expect("error"))["code"] == "bad_guide_code"
    bob = await server.join("Bob")
    for message in ({"type": "tour_start", "tour": "highlights"}, {"type": "tour_next"},
                    {"type": "tour_end"}, {"type": "mute", "visitor": bob.id},
                    {"type": "kick", "visitor": bob.id}):
        await ann.send(message)
        assert (await ann.expect("error"))["code"] == "not_guide"
    await ann.send({"type": "follow", "guide": bob.id})
    assert (await ann.expect("error"))["code"] == "unknown_visitor"
    await ann.send({"type": "ping"})
    await ann.expect("pong")  # still connected


async def test_guide_mutes_and_kicks(server: Server) -> None:
    guide = await server.join("Guide", guide_code=server.guide_code)
    ann = await server.join("Ann")
    bob = await server.join("Bob")
    await guide.send({"type": "mute", "visitor": ann.id})
    muted = await ann.expect("muted")
    assert muted == {"type": "muted", "visitor": ann.id, "muted": True, "by": guide.id}
    await ann.send({"type": "reaction", "emoji": "😂"})
    assert (await ann.expect("error"))["code"] == "muted"
    await ann.send({"type": "pick", "object": "vase"})
    assert (await ann.expect("error"))["code"] == "muted"
    await guide.send({"type": "mute", "visitor": ann.id, "muted": False})
    await ann.expect("muted")
    await ann.send({"type": "reaction", "emoji": "👍"})
    reaction = await bob.expect("reaction")  # the muted reactions never reached Bob
    assert reaction["emoji"] == "👍"
    assert not any(m.get("type") in ("reaction", "picked") for m in bob.messages[:-1])
    other_guide = await server.join("Co-guide", guide_code=server.guide_code)
    await guide.send({"type": "kick", "visitor": other_guide.id})
    assert (await guide.expect("error"))["code"] == "forbidden"
    await guide.send({"type": "kick", "visitor": 999})
    assert (await guide.expect("error"))["code"] == "unknown_visitor"
    await guide.send({"type": "kick", "visitor": ann.id})
    assert (await ann.expect("kicked"))["by"] == guide.id
    with pytest.raises(ConnectionError):
        await ann.pump_until_closed()
    assert ann.ws.close_code == 4000
    left = await bob.expect("left")
    assert left == {"type": "left", "id": ann.id, "reason": "kicked"}


# ----- misbehaving clients


async def _misbehave(server: Server, action: Any, code: int) -> list[dict]:
    bystander = await server.join("Bystander")
    ws = await server.raw()
    await ws.send_str(json.dumps(HELLO))
    welcome = json.loads((await ws.receive(timeout=5)).data)
    await action(ws)
    errors = await expect_closed(ws, code)
    left = await bystander.expect("left")
    assert left == {"type": "left", "id": welcome["id"], "reason": "closed"}
    # The bystander's connection is untouched.
    await bystander.send({"type": "ping", "t": 1})
    assert (await bystander.expect("pong"))["t"] == 1
    assert not [m for m in bystander.messages if m["type"] == "error"]
    return errors


async def test_oversized_message(server: Server) -> None:
    async def action(ws: Any) -> None:
        await ws.send_str(json.dumps({"type": "ping", "pad": "x" * 5000}))

    assert [e["code"] for e in await _misbehave(server, action, 1009)] == ["too_large"]


async def test_oversized_binary(server: Server) -> None:
    async def action(ws: Any) -> None:
        await ws.send_bytes(b"\x01\x07" + b"\x00" * 8000)

    assert [e["code"] for e in await _misbehave(server, action, 1009)] == ["too_large"]


@pytest.mark.parametrize(
    ("payload", "code"),
    [("{not json", "bad_message"), ("[1, 2]", "bad_message"), ('{"type": "dance"}', "bad_message"),
     ('{"type": "reaction", "emoji": "💩"}', "bad_message"), ('{"type": "hello"}', "bad_message"),
     ('{"type": "mute", "visitor": "1"}', "bad_message"),
     (b"\x07garbage", "bad_frame"), (b"\x01\x07\x00", "bad_frame"), (b"\x01\x08", "bad_frame")],
)
async def test_malformed_messages(server: Server, payload: str | bytes, code: str) -> None:
    async def action(ws: Any) -> None:
        if isinstance(payload, bytes):
            await ws.send_bytes(payload)
        else:
            await ws.send_str(payload)

    assert [e["code"] for e in await _misbehave(server, action, 1008)] == [code]


async def test_reaction_spam_is_dropped_not_relayed(server: Server) -> None:
    ann = await server.join("Ann")
    bob = await server.join("Bob")
    for _ in range(30):
        await ann.send({"type": "reaction", "emoji": "👏"})
    await ann.send({"type": "ping"})
    await ann.expect("pong")
    refused = [m for m in ann.messages if m["type"] == "error"]
    assert refused and {m["code"] for m in refused} == {"too_many_reactions"}
    await bob.pump(0.3)
    relayed = [m for m in bob.messages if m["type"] == "reaction"]
    assert 8 <= len(relayed) <= 12 and len(relayed) + len(refused) == 30


# WebSocket pings cost the server a pong each: they count against the message rate like
# text and binary frames (aiohttp answered them itself, ~100,000 a second for one client).
@pytest.mark.parametrize("frame", ["binary", "ping"])
async def test_a_flood_of_messages_or_pings_is_rate_limited(server: Server, frame: str) -> None:
    async def action(ws: Any) -> None:
        for _ in range(300):
            if ws.closed:
                return
            await (ws.send_bytes(b"\x01\x00") if frame == "binary" else ws.ping(b"p"))

    assert [e["code"] for e in await _misbehave(server, action, 1008)] == ["rate_limited"]


async def test_pings_within_the_rate_are_answered(server: Server) -> None:
    ws = await server.http.session.ws_connect(server.http.make_url(server.url), autoping=False)
    await ws.ping(b"early")  # before the hello too
    await ws.send_str(json.dumps(HELLO))
    await ws.ping(b"later")
    pongs = []
    while len(pongs) < 2:
        msg = await ws.receive(timeout=5)
        if msg.type == aiohttp.WSMsgType.PONG:
            pongs.append(msg.data)
    assert pongs == [b"early", b"later"]
    await ws.close()


async def test_a_pose_stream_at_30_hz_is_within_the_limit(server: Server) -> None:
    ann = await server.join("Ann")
    bob = await server.join("Bob")
    for i in range(60):
        await ann.send_pose(head_at(i * 0.01))
        await asyncio.sleep(1 / 30)
    await ann.send({"type": "ping"})
    await ann.expect("pong")
    await bob.wait_for(lambda: bob.poses.get(ann.id, {}).get("head") is not None)


# ----- scale rules


@pytest.mark.parametrize("room_settings", [{"capacity": 3}])
async def test_full_room_opens_overflow_rooms(server: Server) -> None:
    first = [await server.join(f"A{i}") for i in range(3)]
    assert {c.welcome["room"] for c in first} == {EXHIBITION}
    fourth = await server.join("D")
    assert fourth.welcome["room"] == f"{EXHIBITION}-2" and fourth.welcome["visitors"] == []
    await fourth.send_pose(head_at(1))
    await first[0].pump(0.3)
    assert fourth.id not in first[0].poses or first[0].poses == {}
    await first[1].close()
    await first[0].expect("left")
    back = await server.join("E", room=f"{EXHIBITION}-2")
    assert back.welcome["room"] == f"{EXHIBITION}-2"
    again = await server.join("F")
    assert again.welcome["room"] == EXHIBITION


@pytest.mark.slow
async def test_thirty_visitors_nearest_24_at_full_rate_the_rest_at_2_hz(server: Server) -> None:
    clients = [await server.join(f"V{i}") for i in range(30)]
    viewer = clients[0]
    # Everyone on a line: distance to the viewer grows with the index.
    stop = asyncio.Event()

    async def move(i: int, client: RoomClient) -> None:
        step = 0
        while not stop.is_set():
            step += 1
            await client.send_pose(head_at(float(i), 1.6 + (step % 2) * 0.01))
            await asyncio.sleep(0.05)

    async def drain(client: RoomClient) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await client.receive(timeout=0.1)

    movers = [asyncio.create_task(move(i, c)) for i, c in enumerate(clients)]
    drains = [asyncio.create_task(drain(c)) for c in clients[1:]]
    # Settle: everyone's first pose has arrived.
    await viewer.wait_for(lambda: len(viewer.poses) >= len(clients) - 1, timeout=10)
    counts: dict[int, int] = {c.id: 0 for c in clients[1:]}
    seconds = 3.0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    frames = 0
    ticks: list[int] = []
    while loop.time() < deadline:
        msg = await viewer.ws.receive(timeout=1)
        if msg.type == aiohttp.WSMsgType.BINARY:
            frames += 1
            tick, visitors = decode_state_frame(msg.data)
            ticks.append(tick)
            for visitor_id in visitors:
                counts[visitor_id] += 1
    stop.set()
    await asyncio.gather(*movers, *drains)
    by_distance = [counts[c.id] for c in clients[1:]]
    near, far = by_distance[:24], by_distance[24:]
    # Relative to the frames received, so that a busy test machine (late ticks) cannot fail it.
    assert frames >= 10, frames
    assert min(near) >= 0.6 * frames, (frames, by_distance)  # in (nearly) every frame
    elapsed = ticks[-1] - ticks[0] + 1  # server ticks (20 a second when not overloaded)
    assert max(far) <= elapsed / 10 + 1, (elapsed, by_distance)  # <= 2 Hz
    assert min(far) >= 1, (frames, by_distance)  # but not forgotten
    assert max(far) < min(near) / 4, (frames, by_distance)


async def test_slow_client_is_skipped_then_gets_the_newest_state(server: Server) -> None:
    slow = await server.join("Slow")
    mover = await server.join("Mover")
    visitor = server.hub.rooms[EXHIBITION][0].visitors[slow.id - 1]
    # Stop reading on the slow client: its socket fills up (large readings help), the server
    # must then skip its ticks instead of queueing.
    slow.ws._response.connection.transport.pause_reading()  # the client stops reading
    pubsub = server.app[appkeys.PUBSUB]
    big = {"t": 1, "lamp": "x" * 60000}
    x = 0.0
    for round_ in range(400):
        await pubsub.publish("feed:lamps", json.dumps(
            {"type": "reading", "feed": "lamps", "reading": {**big, "n": round_}}).encode())
        x = round_ * 0.01
        await mover.send_pose(head_at(x))
        await mover.pump(0.02)  # paced under the rate limit, and the mover keeps reading
        if visitor.skipped_ticks > 10:
            break
    await until(lambda: visitor.skipped_ticks > 10)
    buffered = visitor.write_buffer()
    assert 0 < buffered < 512 * 1024, buffered  # bounded: not 400 readings' worth
    assert len(visitor.outbox) <= 1  # readings of one feed replace each other
    final = x + 1.0
    await mover.send_pose(head_at(final))
    slow.ws._response.connection.transport.resume_reading()
    await until_x(slow, mover.id, final)
    readings = [m for m in slow.messages if m["type"] == "reading"]
    assert readings[-1]["reading"]["n"] == round_  # caught up with the newest reading
    assert len(readings) < round_  # and skipped the ones in between


async def until_x(client: RoomClient, visitor: int, x: float, timeout: float = 10) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        head = client.poses.get(visitor, {}).get("head")
        if head is not None and abs(head[0][0] - x) < 0.002:
            return
        await client.receive(timeout=max(0.01, deadline - loop.time()))


# ----- live readings


async def test_feeds_are_subscribed_while_visitors_are_there(server: Server) -> None:
    assert server.hub.subscribed_feeds() == set()
    ann = await server.join("Ann")
    assert server.hub.subscribed_feeds() == {"lamps"}
    await ann.close()
    await until(lambda: server.hub.subscribed_feeds() == set())


async def test_ingested_reading_reaches_visitors_and_the_next_welcome(server: Server) -> None:
    ann = await server.join("Ann")
    assert ann.welcome["readings"] == {}
    reading = {"t": FIXED_NOW, "lamp": "l1", "presence": True, "level": 80, "power_w": 40}
    response = await server.http.post(
        "/api/feeds/lamps/readings", json=reading,
        headers={"Authorization": f"Bearer {server.feed_token}"})
    assert response.status == 201, await response.text()
    live = await ann.expect("reading")
    assert live["feed"] == "lamps" and live["reading"]["lamp"] == "l1"
    bob = await server.join("Bob")
    assert bob.welcome["readings"]["lamps"]["lamp"] == "l1"


async def test_silent_connection_is_closed_after_the_hello_timeout(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vrculture.server.rooms import handler

    monkeypatch.setattr(handler, "HELLO_TIMEOUT", 0.3)
    ws = await server.raw()
    errors = await expect_closed(ws, 1008)
    assert [e["code"] for e in errors] == ["hello_required"]


async def test_client_that_never_reads_is_closed_when_its_queue_overflows(server: Server) -> None:
    slow = await server.join("Slow")
    watcher = await server.join("Watcher")
    guides = [await server.join(f"G{i}", guide_code=server.guide_code) for i in range(3)]
    slow.ws._response.connection.transport.pause_reading()
    readers = [asyncio.create_task(c.pump(8.0)) for c in (watcher, *guides)]  # they keep up
    pubsub = server.app[appkeys.PUBSUB]
    for n in range(40):  # fill the socket first, so that control messages have to queue
        await pubsub.publish("feed:lamps", json.dumps(
            {"type": "reading", "feed": "lamps", "reading": {"t": n, "lamp": "x" * 60000}}
        ).encode())
        await asyncio.sleep(0.01)
    await guides[0].send({"type": "tour_start", "tour": "highlights"})
    for i in range(100):  # 300 tour moves: more than a slow client's queue holds
        for guide in guides:
            await guide.send({"type": "tour_goto", "stop": i % 2})
        await asyncio.sleep(0.005)
    await until(lambda: any(m["type"] == "left" for m in watcher.messages), timeout=8)
    left = next(m for m in watcher.messages if m["type"] == "left")
    assert left == {"type": "left", "id": slow.id, "reason": "closed"}
    for reader in readers:
        reader.cancel()
    slow.ws._response.connection.transport.resume_reading()
    with pytest.raises(ConnectionError):
        await slow.pump_until_closed(timeout=10)
    assert slow.ws.close_code == 1013


async def test_no_compression_is_negotiated_even_when_offered(server: Server) -> None:
    ws = await server.http.session.ws_connect(server.http.make_url(server.url), compress=15)
    assert ws.compress == 0  # state frames go out as they are, never through a zlib thread
    await ws.close()
