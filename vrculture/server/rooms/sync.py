"""Rooms shared by several server processes over the PubSub seam (Redis in production).

Each process ("node") publishes on `room:{exhibition}:{room}`:
- `P` + node + a state frame: its own visitors' parts that changed this tick (their node-local ids);
- `E` + node + JSON: joins (also as the answer to a newcomer's `sync`), leaves, picks, reactions,
  tour changes, mute states, commands for a visitor of another node (mute, kick), heartbeats.
Every node keeps the others' visitors as remote Visitors in its own slots, so its clients see one
room with ids of this node; the tick loop treats remote poses like local ones. A node silent for
NODE_TIMEOUT seconds (crashed) has its visitors removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import struct
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from vrculture.server.keys import PubSub
from vrculture.server.rooms.codec import PART_BYTES, STATE_FRAME, STATE_HEADER_BYTES
from vrculture.server.rooms.messages import REACTIONS
from vrculture.server.rooms.poses import PARTS
from vrculture.server.rooms.room import Room
from vrculture.server.rooms.visitor import Visitor
from vrculture.server.supervision import report_failure, start_supervised

log = logging.getLogger(__name__)
NODE_BYTES = 12
HEARTBEAT_SECONDS = 2.0
NODE_TIMEOUT = 7.0
SNAPSHOT_WAIT = 0.25  # how long a node listens for the others' visitors before placing a visitor
Ref = tuple[str, int]  # (node, node-local id)


class RoomsSync:
    def __init__(self, pubsub: PubSub) -> None:
        self.pubsub = pubsub
        self.node = uuid.uuid4().hex[:NODE_BYTES]
        self.links: dict[Room, RoomLink] = {}
        self._heartbeat: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._heartbeat = start_supervised("rooms-heartbeat", self._beat)

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        for link in list(self.links.values()):
            await link.close()

    async def attach(self, room: Room) -> None:
        link = self.links.get(room)
        if link is None:
            link = RoomLink(self, room)
            self.links[room] = link
            room.sync = link
            await link.open()
        await link.ready.wait()

    async def detach(self, room: Room) -> None:
        link = self.links.pop(room, None)
        if link is not None:
            await link.close()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            for link in list(self.links.values()):
                link.publish_event({"ev": "alive"})
                link.prune(time.monotonic() - NODE_TIMEOUT)


class RoomLink:
    """One room's exchange with the other nodes (the Room's `sync`)."""

    def __init__(self, sync: RoomsSync, room: Room) -> None:
        self.sync = sync
        self.room = room
        self.channel = f"room:{room.exhibition}:{room.name}"
        self.prefix = sync.node.encode()
        self.remote: dict[Ref, Visitor] = {}
        self.heard: dict[str, float] = {}
        self.ready = asyncio.Event()
        self._unsubscribe: Callable[[], Awaitable[None]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        self._unsubscribe = await self.sync.pubsub.subscribe(self.channel, self._on_message)
        self.publish_event({"ev": "sync"})
        await asyncio.sleep(SNAPSHOT_WAIT)
        self.ready.set()

    async def close(self) -> None:
        self.room.sync = None
        if self._unsubscribe is not None:
            await self._unsubscribe()
        for visitor in list(self.remote.values()):
            self.room.remove(visitor, "closed")
        self.remote.clear()
        self.ready.set()

    # ----- outgoing (called by the Room)

    def _publish(self, payload: bytes) -> None:
        task = asyncio.get_running_loop().create_task(
            self.sync.pubsub.publish(self.channel, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(report_failure)

    def publish_event(self, body: dict[str, Any]) -> None:
        self._publish(b"E" + self.prefix + json.dumps(body, ensure_ascii=False).encode())

    def ref(self, visitor: Visitor) -> list[Any]:
        if visitor.local:
            return [self.sync.node, visitor.id]
        return [visitor.node, visitor.remote_id]

    def joined(self, visitor: Visitor) -> None:
        self.publish_event({"ev": "join", "id": visitor.id, "name": visitor.name,
                            "color": visitor.color, "guide": visitor.guide,
                            "picked": visitor.picked, "muted": visitor.muted})

    def left(self, visitor: Visitor, reason: str) -> None:
        self.publish_event({"ev": "leave", "id": visitor.id, "reason": reason})

    def event(self, visitor: Visitor, body: dict[str, Any]) -> None:
        self.publish_event({**body, "id": visitor.id})

    def command(self, guide: Visitor, target: Visitor, body: dict[str, Any]) -> None:
        self.publish_event({**body, "by": self.ref(guide), "target": self.ref(target)})

    def poses(self, frame: bytes) -> None:
        self._publish(b"P" + self.prefix + frame)

    # ----- incoming

    def _on_message(self, channel: str, payload: bytes) -> None:
        if len(payload) < 1 + NODE_BYTES:
            return
        node = payload[1 : 1 + NODE_BYTES].decode("ascii", "replace")
        if node == self.sync.node:
            return  # our own message, back from the broker
        self.heard[node] = time.monotonic()
        body = payload[1 + NODE_BYTES :]
        try:
            if payload[:1] == b"P":
                self._apply_poses(node, body)
            elif payload[:1] == b"E":
                self._apply_event(node, json.loads(body))
        except (ValueError, KeyError, TypeError, struct.error) as exc:
            log.warning("ignored a bad message on %s: %s", channel, exc)

    def _resolve(self, ref: Any) -> Visitor | None:
        node, visitor_id = ref
        if node == self.sync.node:
            return self.room.visitors.get(int(visitor_id) - 1)
        return self.remote.get((node, int(visitor_id)))

    def _apply_event(self, node: str, event: dict[str, Any]) -> None:
        kind = event["ev"]
        room = self.room
        if kind == "sync":
            self._answer_sync()
            return
        if kind == "alive":
            return
        if kind == "join":
            self._upsert(node, event)
            return
        key = (node, int(event.get("id", 0)))
        visitor = self.remote.get(key)
        if kind == "leave":
            if visitor is not None:
                del self.remote[key]
                reason = event.get("reason")
                room.remove(visitor, reason if reason in ("left", "kicked", "closed") else "left")
        elif kind == "pick" and visitor is not None:
            obj = event.get("object")
            visitor.picked = obj if isinstance(obj, str) or obj is None else None
            room.broadcast({"type": "picked", "id": visitor.id, "object": visitor.picked})
        elif kind == "reaction" and visitor is not None and event.get("emoji") in REACTIONS:
            room.broadcast({"type": "reaction", "id": visitor.id, "emoji": event["emoji"]})
        elif kind == "tour" and visitor is not None:
            tour = event.get("tour")
            room.apply_remote_tour(visitor, tour if isinstance(tour, str) else None,
                                   int(event.get("stop", 0)))
        elif kind == "mute_state" and visitor is not None:
            if visitor.muted != bool(event["muted"]):
                guide = self._resolve(event["by"]) or visitor
                room.apply_mute(guide, visitor, bool(event["muted"]))
        elif kind in ("mute", "kick"):
            self._apply_command(kind, event)
        room.wake()

    def _apply_command(self, kind: str, event: dict[str, Any]) -> None:
        target = self._resolve(event["target"])
        guide = self._resolve(event["by"])
        if target is None or guide is None or not target.local or not guide.guide:
            return
        if kind == "mute":
            muted = bool(event["muted"])
            self.room.apply_mute(guide, target, muted)
            self.event(target, {"ev": "mute_state", "muted": muted, "by": event["by"]})
        elif not target.guide:
            self.room.apply_kick(guide, target)

    def _upsert(self, node: str, event: dict[str, Any]) -> None:
        key = (node, int(event["id"]))
        visitor = self.remote.get(key)
        if visitor is None:
            visitor = self.room.add(
                name=str(event["name"])[:64], color=str(event["color"])[:7], lang="en",
                guide=bool(event["guide"]), node=node, remote_id=key[1],
                picked=event.get("picked"), muted=bool(event.get("muted")),
            )
            self.remote[key] = visitor

    def _answer_sync(self) -> None:
        local = [v for v in self.room.visitors.values() if v.local]
        for visitor in local:
            self.joined(visitor)
        tour = self.room.tour
        if tour is not None and tour["guide"].local:
            self.event(tour["guide"], {"ev": "tour", "tour": tour["tour"], "stop": tour["stop"]})
        # Everyone's full pose goes out again on the next tick, for the newcomer.
        for visitor in local:
            self.room.table.published[visitor.slot] = 0

    def _apply_poses(self, node: str, frame: bytes) -> None:
        if frame[:1] != bytes((STATE_FRAME,)):
            return
        (count,) = struct.unpack_from("<H", frame, 6)
        offset = STATE_HEADER_BYTES
        table = self.room.table
        pending = self.room.pending
        for _ in range(count):
            (word,) = struct.unpack_from("<H", frame, offset)
            offset += 2
            visitor = self.remote.get((node, word & 0x1FFF))
            mask = word >> 13
            size = PART_BYTES * mask.bit_count()
            parts = frame[offset : offset + size]
            offset += size
            if visitor is None or len(parts) != size:
                continue
            row = pending.get(visitor.slot) or table.parts[visitor.slot].tobytes()
            pieces = [row[i * PART_BYTES : (i + 1) * PART_BYTES] for i in range(PARTS)]
            at = 0
            for bit in range(PARTS):
                if mask & (1 << bit):
                    pieces[bit] = parts[at : at + PART_BYTES]
                    at += PART_BYTES
            pending[visitor.slot] = b"".join(pieces)

    def prune(self, before: float) -> None:
        dead = {node for node, seen in self.heard.items() if seen < before}
        for (node, remote_id), visitor in list(self.remote.items()):
            if node in dead:
                del self.remote[(node, remote_id)]
                self.room.remove(visitor, "closed")
        for node in dead:
            del self.heard[node]
        if dead:
            self.room.wake()
