"""A small Python client of the rooms protocol (tests, scripting), on aiohttp's WebSocket client.

tools/bench_rooms.py has its own minimal client: it must parse hundreds of thousands of
frames a second without becoming the bottleneck it measures.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from vrculture.server.rooms.codec import STATE_FRAME, Part, decode_state_frame, encode_pose_frame


class RoomClient:
    """Wraps one aiohttp WebSocket; keeps the avatars' newest decoded parts in `poses`."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.welcome: dict[str, Any] = {}
        self.poses: dict[int, dict[str, Part | None]] = {}
        self.frames = 0
        self.entries = 0
        self.messages: list[dict[str, Any]] = []  # control messages, in order

    @classmethod
    async def connect(
        cls,
        session: aiohttp.ClientSession,
        url: str,
        name: str = "Visitor",
        color: str = "#336699",
        lang: str = "en",
        **hello: Any,
    ) -> RoomClient:
        ws = await session.ws_connect(url, autoping=True)
        client = cls(ws)
        await client.send({"type": "hello", "v": 1, "name": name, "color": color, "lang": lang,
                           **hello})
        client.welcome = await client.expect("welcome")
        return client

    @property
    def id(self) -> int:
        return int(self.welcome["id"])

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))

    async def send_pose(self, head: Part | None, left: Part | None = None,
                        right: Part | None = None) -> None:
        await self.ws.send_bytes(encode_pose_frame(head, left, right))

    async def receive(self, timeout: float = 5.0) -> dict[str, Any] | None:
        """The next message: a control message, or None after a state frame was applied."""
        msg = await self.ws.receive(timeout=timeout)
        if msg.type == aiohttp.WSMsgType.TEXT:
            message = json.loads(msg.data)
            self.messages.append(message)
            return message
        if msg.type == aiohttp.WSMsgType.BINARY:
            if msg.data[:1] != bytes((STATE_FRAME,)):
                raise AssertionError("server sent a binary frame that is not a state frame")
            _, visitors = decode_state_frame(msg.data)
            self.frames += 1
            self.entries += len(visitors)
            for visitor_id, parts in visitors.items():
                self.poses.setdefault(visitor_id, {}).update(parts)
            return None
        raise ConnectionError(f"socket closed ({msg.type.name}, code {self.ws.close_code})")

    async def expect(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        """Read until a control message of this type arrives (state frames are applied)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"no {kind!r} message within {timeout} s")
            message = await self.receive(timeout=left)
            if message is not None and message.get("type") == kind:
                return message

    async def wait_for(self, condition: Any, timeout: float = 5.0) -> None:
        """Read (applying state frames) until `condition()` holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            try:
                await self.receive(timeout=left)
            except TimeoutError:
                continue

    async def pump(self, seconds: float) -> None:
        """Read everything that arrives for this long."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            try:
                await self.receive(timeout=left)
            except TimeoutError:
                return

    async def pump_until_closed(self, timeout: float = 5.0) -> None:
        """Read until the server closes (raises ConnectionError then)."""
        while True:
            await self.receive(timeout=timeout)

    async def close(self) -> None:
        await self.ws.close()
