"""The WebSocket endpoint `/ws/rooms/{exhibition}`: checks, the hello, then one loop per visitor."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Any

from aiohttp import WSMessage, WSMsgType, web

from vrculture.server import appkeys
from vrculture.server.rooms.codec import PART_BYTES, FrameError, parse_pose_frame
from vrculture.server.rooms.hub import RoomsHub
from vrculture.server.rooms.limits import TokenBucket
from vrculture.server.rooms.messages import (
    PROTOCOL_VERSION,
    REACTIONS,
    ProtocolError,
    RequestError,
    check_color,
    check_id,
    check_int,
    check_lang,
    clean_name,
    error,
    parse_message,
)
from vrculture.server.rooms.poses import full_row
from vrculture.server.rooms.room import Room
from vrculture.server.rooms.visitor import Visitor
from vrculture.server.security import is_origin_allowed

log = logging.getLogger(__name__)
HUB = web.AppKey("vrculture_rooms_hub", RoomsHub)
HELLO_TIMEOUT = 10.0
HARD_FRAME_CAP = 64 * 1024  # aiohttp drops anything larger itself (close 1009, no message)
REACTIONS_PER_SECOND = 4.0
FULL_POSE = 2 + 3 * PART_BYTES
_HIDDEN = b"\x00\x80"  # int16 -32768: a client's bytes must not carry it anywhere (see full_row)
SEND_BUFFER = 256 * 1024  # kernel send buffer per socket: bounds memory held for a slow reader


async def rooms_websocket(request: web.Request) -> web.StreamResponse:
    hub = request.app[HUB]
    config = request.app[appkeys.CONFIG]
    exhibition = request.match_info["exhibition"]
    if not is_origin_allowed(request, config):
        raise web.HTTPForbidden(text="origin not allowed for rooms")
    if hub.registry.get(exhibition) is None:
        raise web.HTTPNotFound(text=f"no exhibition {exhibition!r}")
    # No permessage-deflate: quantised poses hardly compress, and aiohttp compresses large
    # frames in a thread, which would make the tick wait per client.
    # autoping off: the session answers pings itself, counted against the message rate.
    ws = web.WebSocketResponse(max_msg_size=HARD_FRAME_CAP, heartbeat=20.0, compress=False,
                               autoping=False)
    if not ws.can_prepare(request).ok:
        raise web.HTTPBadRequest(text="a WebSocket upgrade is expected here")
    await ws.prepare(request)
    sock = request.transport.get_extra_info("socket") if request.transport else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
    session = Session(hub, ws, request, exhibition)
    try:
        await session.run()
    except ProtocolError as exc:
        await session.refuse(exc)
    except ConnectionError:  # reset while a pong was being written: the visitor is gone
        session.reason = "closed"
    finally:
        await session.leave()
    return ws


class Session:
    """One visitor's connection."""

    def __init__(self, hub: RoomsHub, ws: web.WebSocketResponse, request: web.Request,
                 exhibition: str) -> None:
        self.hub = hub
        self.ws = ws
        self.request = request
        self.exhibition = exhibition
        s = hub.settings
        self.bucket = TokenBucket(s.max_messages_per_second, 2 * s.max_messages_per_second)
        # Reactions reach everyone's screen: far fewer of them than the message limit.
        self.reactions = TokenBucket(REACTIONS_PER_SECOND, 2 * REACTIONS_PER_SECOND)
        self.room: Room | None = None
        self.visitor: Visitor | None = None
        self.reason = "left"

    async def run(self) -> None:
        try:
            async with asyncio.timeout(HELLO_TIMEOUT):  # pings do not extend it
                first = await self._receive()
        except TimeoutError:
            raise ProtocolError("hello_required", "send hello within 10 s") from None
        if first.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            return
        message = self._text(first)
        if message.get("type") != "hello":
            raise ProtocolError("hello_required", "the first message must be hello")
        await self._join(message)
        while True:
            msg = await self._receive()
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                return
            if msg.type == WSMsgType.ERROR:
                self.reason = "closed"
                return
            if self.visitor is None or self.room is None or self.room.visitors.get(
                self.visitor.slot
            ) is not self.visitor:
                return  # kicked or closed as too slow while we waited
            if msg.type == WSMsgType.BINARY:
                data = msg.data
                self._count(len(data))
                if len(data) == FULL_POSE and data[:2] == b"\x01\x07" and _HIDDEN not in data:
                    # The common frame (head and both hands, nothing to clamp): no parsing.
                    self.room.pending[self.visitor.slot] = data[2:]
                    continue
                try:
                    mask, body = parse_pose_frame(data)
                except FrameError as exc:
                    raise ProtocolError("bad_frame", str(exc)) from None
                self.room.pose(self.visitor, full_row(mask, body))
                continue
            request = self._text(msg)
            try:
                self._handle(request)
            except RequestError as exc:
                self.visitor.post(error(exc.code, str(exc)))
            self.hub.want_flush()

    async def _receive(self) -> WSMessage:
        """The next text, binary or closing message. Pings are answered here: each costs a
        pong, so pings and pongs count against the message rate like any other frame (aiohttp
        answered a single client's ping flood at about 100,000 pongs a second)."""
        while True:
            msg = await self.ws.receive()
            if msg.type == WSMsgType.PING:
                self._count(len(msg.data))
                await self.ws.pong(msg.data)
            elif msg.type == WSMsgType.PONG:
                self._count(len(msg.data))
            else:
                return msg

    def _count(self, size: int) -> None:
        limit = self.hub.settings.max_message_bytes
        if size > limit:
            raise ProtocolError("too_large", f"messages are limited to {limit} bytes", 1009)
        if not self.bucket.take():
            rate = self.hub.settings.max_messages_per_second
            raise ProtocolError("rate_limited", f"more than {rate:g} messages per second")

    def _text(self, msg: Any) -> dict[str, Any]:
        if msg.type == WSMsgType.ERROR:
            raise ProtocolError("too_large", "message too large or not valid WebSocket", 1009)
        if msg.type != WSMsgType.TEXT:
            raise ProtocolError("bad_message", "expected a JSON text message")
        data: str = msg.data
        self._count(len(data) if data.isascii() else len(data.encode("utf-8", "surrogatepass")))
        return parse_message(data)

    async def _join(self, hello: dict[str, Any]) -> None:
        settings = self.hub.settings
        version = hello.get("v")  # True == 1.0 == 1 in Python: the type must match too
        if type(version) is not int or version != PROTOCOL_VERSION:
            raise ProtocolError(
                "unsupported_version", f"this server speaks version {PROTOCOL_VERSION}"
            )
        name = clean_name(hello.get("name"), settings.max_name_chars)
        color = check_color(hello.get("color"))
        lang = check_lang(hello.get("lang"))
        code = hello.get("guide_code")
        if code is not None and not isinstance(code, str):
            raise ProtocolError("bad_message", "hello.guide_code must be a string")
        wanted = hello.get("room")
        if wanted is not None and not isinstance(wanted, str):
            raise ProtocolError("bad_message", "hello.room must be a string")
        guide = False
        if code:
            codes = self.request.app.get(appkeys.GUIDE_CODES)
            guide = bool(codes is not None and codes.verify(self.exhibition, code[:256]))
        feeds = await self.hub.use_feeds(self.exhibition)
        readings = await self.hub.latest_readings(feeds)
        room = await self._choose_room(wanted)
        if room is None:
            return
        # No await from here to the welcome: nothing may reach this visitor's queue before it.
        self.visitor = room.add(name=name, color=color, lang=lang, guide=guide, ws=self.ws,
                                transport=self.request.transport,
                                guide_code=code[:256] if guide and code else None)
        self.room = room
        self.visitor.post(room.welcome(self.visitor, readings, list(REACTIONS)))
        if code and not guide:
            self.visitor.post(error("bad_guide_code", "that guide code is not valid here"))
        self.hub.want_flush()

    async def _choose_room(self, wanted: str | None) -> Room | None:
        """A room with space. With several processes, joining a room first listens to who is
        there elsewhere, so a room that looked empty here may turn out full: try the next."""
        capacity = self.hub.capacity
        full: set[str] = set()
        while True:
            room = self.hub.place(self.exhibition, wanted, frozenset(full))
            await self.hub.joined(room)
            if self.ws.closed:
                await self.hub.left(room)
                return None
            if not self.hub.holds(room):
                continue  # another visitor's join let it go while we listened: choose again
            if room.count < capacity:
                return room
            full.add(room.name)
            await self.hub.left(room)  # let it go if nobody here uses it

    def _handle(self, request: dict[str, Any]) -> None:
        room, visitor = self.room, self.visitor
        assert room is not None and visitor is not None
        kind = request["type"]
        if kind == "ping":
            t = request.get("t")
            visitor.post({"type": "pong", "t": t if isinstance(t, int | float) else None})
        elif kind == "pick":
            obj = request.get("object")
            room.pick(visitor, None if obj is None else check_id(obj, "pick.object"))
        elif kind == "reaction":
            emoji = request.get("emoji")
            if emoji not in REACTIONS:
                allowed = " ".join(REACTIONS)
                raise ProtocolError("bad_message", f"reaction.emoji must be one of {allowed}")
            if not self.reactions.take():
                raise RequestError("too_many_reactions",
                                   f"at most {REACTIONS_PER_SECOND:g} reactions per second")
            room.react(visitor, emoji)
        elif kind == "follow":
            guide = request.get("guide")
            room.follow(visitor, None if guide is None else check_int(guide, "follow.guide"))
        elif kind == "tour_start":
            room.tour_start(visitor, check_id(request.get("tour"), "tour_start.tour"))
        elif kind == "tour_goto":
            room.tour_goto(visitor, check_int(request.get("stop"), "tour_goto.stop"))
        elif kind == "tour_next":
            room.tour_next(visitor)
        elif kind == "tour_end":
            room.tour_end(visitor)
        elif kind == "mute":
            muted = request.get("muted", True)
            if not isinstance(muted, bool):
                raise ProtocolError("bad_message", "mute.muted must be true or false")
            room.mute(visitor, check_int(request.get("visitor"), "mute.visitor"), muted)
        elif kind == "kick":
            room.kick(visitor, check_int(request.get("visitor"), "kick.visitor"))
        elif kind == "hello":
            raise ProtocolError("bad_message", "hello was already sent")
        else:
            raise ProtocolError("bad_message", f"unknown message type {kind[:40]!r}")

    async def refuse(self, exc: ProtocolError) -> None:
        self.reason = "closed"
        if self.ws.closed:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_str(error(exc.code, str(exc)))
            await self.ws.close(code=exc.close_code, message=exc.code.encode())

    async def leave(self) -> None:
        if self.room is None or self.visitor is None:
            await self.hub.forget_if_unused(self.exhibition)
            return
        self.room.remove(self.visitor, self.reason)
        self.hub.want_flush()
        await self.hub.left(self.room)
        if not self.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.close()


__all__ = ["HUB", "rooms_websocket"]
