"""One room of an exhibition: its visitors, their poses, picks, reactions, tour and mutes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from vrculture.server.config import RoomSettings
from vrculture.server.rooms.messages import RequestError, localise
from vrculture.server.rooms.poses import PoseTable
from vrculture.server.rooms.visitor import Visitor
from vrculture.server.supervision import report_failure

if TYPE_CHECKING:  # sync imports this module
    from vrculture.server.rooms.sync import RoomLink

log = logging.getLogger(__name__)
DRAINED_BELOW = 64 * 1024  # control messages go out while our buffer for the socket is below this
KICKED = 4000
TOO_SLOW = 1013


class TourState(TypedDict):
    """The tour running in a room: which tour, the stop shown now, and who leads it."""

    tour: str
    stop: int
    guide: Visitor


class Room:
    def __init__(
        self,
        exhibition: str,
        name: str,
        settings: RoomSettings,
        manifest: Callable[[], dict[str, Any] | None],
    ) -> None:
        self.exhibition = exhibition
        self.name = name
        self.settings = settings
        self._manifest = manifest
        self.visitors: dict[int, Visitor] = {}  # by slot
        self.far_period = max(1, math.ceil(settings.tick_hz / settings.far_rate_hz))
        self.table = PoseTable(min(64, max(2, settings.capacity)), self.far_period)
        self.pending: dict[int, bytes] = {}  # slot -> newest 30-byte row since the last tick
        self.tour: TourState | None = None
        self.sync: RoomLink | None = None  # when several processes share rooms (Redis)
        self.wake: Callable[[], None] = lambda: None  # asks the hub to send queued messages now
        self._closing: set[asyncio.Task[None]] = set()

    # ----- membership

    @property
    def count(self) -> int:
        return len(self.visitors)

    def local_visitors(self) -> list[Visitor]:
        return [v for v in self.visitors.values() if v.ws is not None]

    def add(self, **fields: Any) -> Visitor:
        slot = self.table.add()
        visitor = Visitor(slot=slot, **fields)
        self.visitors[slot] = visitor
        self.broadcast({"type": "joined", "visitor": visitor.public()}, exclude=visitor)
        if self.sync is not None and visitor.local:
            self.sync.joined(visitor)
        return visitor

    def remove(self, visitor: Visitor, reason: str) -> None:
        if self.visitors.get(visitor.slot) is not visitor:
            return
        del self.visitors[visitor.slot]
        self.pending.pop(visitor.slot, None)
        self.table.remove(visitor.slot)
        for other in self.visitors.values():
            if other.following == visitor.id:
                other.following = None
        self.broadcast({"type": "left", "id": visitor.id, "reason": reason})
        if self.sync is not None and visitor.local:
            self.sync.left(visitor, reason)
        if self.tour is not None and self.tour["guide"] is visitor:
            guides = [v for v in self.visitors.values() if v.guide]
            if guides:
                self.tour["guide"] = guides[0]
            else:
                self.tour = None
                self._send_tour()

    def by_id(self, visitor_id: Any) -> Visitor:
        if isinstance(visitor_id, bool) or not isinstance(visitor_id, int):
            raise RequestError("unknown_visitor", "visitor must be a visitor id (integer)")
        visitor = self.visitors.get(visitor_id - 1)
        if visitor is None:
            raise RequestError("unknown_visitor", f"no visitor {visitor_id} in this room")
        return visitor

    def welcome(self, visitor: Visitor, readings: dict[str, Any], reactions: list[str]) -> dict:
        s = self.settings
        return {
            "type": "welcome", "v": 1, "id": visitor.id, "room": self.name,
            "exhibition": self.exhibition, "guide": visitor.guide,
            "visitors": [v.public() for v in self.visitors.values() if v is not visitor],
            "tour": self._tour_fields(visitor), "readings": readings, "tick_hz": s.tick_hz,
            "nearest": s.nearest_full_rate, "far_hz": s.far_rate_hz, "reactions": reactions,
            "limits": {"max_message_bytes": s.max_message_bytes,
                       "max_messages_per_second": s.max_messages_per_second},
        }

    def broadcast(self, message: dict[str, Any], exclude: Visitor | None = None) -> None:
        text = json.dumps(message, ensure_ascii=False)
        for v in self.visitors.values():
            if v is not exclude and v.ws is not None:
                v.post(text)

    # ----- visitors' requests (the handler has checked the field types)

    def pose(self, visitor: Visitor, row: bytes) -> None:
        self.pending[visitor.slot] = row

    def pick(self, visitor: Visitor, obj: str | None, origin_local: bool = True) -> None:
        if visitor.muted:
            raise RequestError("muted", "a guide muted you: your picks are not shown")
        if obj is not None and obj not in self._object_ids():
            raise RequestError("unknown_object", f"no object {obj!r} in this exhibition")
        visitor.picked = obj
        self.broadcast({"type": "picked", "id": visitor.id, "object": obj}, exclude=visitor)
        if self.sync is not None and visitor.local:
            self.sync.event(visitor, {"ev": "pick", "object": obj})

    def react(self, visitor: Visitor, emoji: str) -> None:
        if visitor.muted:
            raise RequestError("muted", "a guide muted you: your reactions are not shown")
        self.broadcast({"type": "reaction", "id": visitor.id, "emoji": emoji}, exclude=visitor)
        if self.sync is not None and visitor.local:
            self.sync.event(visitor, {"ev": "reaction", "emoji": emoji})

    def follow(self, visitor: Visitor, guide_id: int | None) -> None:
        if guide_id is None:
            visitor.following = None
            return
        guide = self.by_id(guide_id)
        if not guide.guide:
            raise RequestError("unknown_visitor", f"visitor {guide_id} is not a guide")
        visitor.following = guide.id
        if self.tour is not None:
            visitor.post(self._tour_message(visitor))

    def _require_guide(self, visitor: Visitor) -> None:
        if not visitor.guide:
            raise RequestError("not_guide", "only a guide (with a guide code) can do that")

    def _tours(self) -> dict[str, dict[str, Any]]:
        manifest = self._manifest() or {}
        return {t["id"]: t for t in manifest.get("tours", []) if isinstance(t, dict) and "id" in t}

    def _object_ids(self) -> set[str]:
        manifest = self._manifest() or {}
        ids = {o.get("id") for o in manifest.get("objects", []) if isinstance(o, dict)}
        ids |= {o.get("id") for o in manifest.get("smart_exhibits", []) if isinstance(o, dict)}
        return {i for i in ids if isinstance(i, str)}

    def tour_start(self, guide: Visitor, tour_id: str) -> None:
        self._require_guide(guide)
        if tour_id not in self._tours():
            raise RequestError("unknown_tour", f"no tour {tour_id!r} in this exhibition")
        self._set_tour({"tour": tour_id, "stop": 0, "guide": guide})

    def tour_goto(self, guide: Visitor, stop: int) -> None:
        self._require_guide(guide)
        tour, stops = self._running_tour()
        if not 0 <= stop < len(stops):
            raise RequestError("unknown_stop", f"stop must be 0..{len(stops) - 1}")
        self._set_tour({"tour": tour["tour"], "stop": stop, "guide": guide})

    def tour_next(self, guide: Visitor) -> None:
        self._require_guide(guide)
        tour, stops = self._running_tour()
        stop = tour["stop"] + 1
        if stop >= len(stops):
            raise RequestError("tour_finished", "that was the last stop")
        self._set_tour({"tour": tour["tour"], "stop": stop, "guide": guide})

    def tour_end(self, guide: Visitor) -> None:
        self._require_guide(guide)
        if self.tour is None:
            raise RequestError("no_tour", "no tour is running in this room")
        self._set_tour(None, guide)

    def _running_tour(self) -> tuple[TourState, list[dict[str, Any]]]:
        """The running tour's state and its stops in the manifest."""
        state = self.tour
        if state is None:
            raise RequestError("no_tour", "no tour is running in this room")
        tour = self._tours().get(state["tour"])
        if tour is None:  # the bundle was republished without it
            self.tour = None
            self._send_tour()
            raise RequestError("no_tour", "the tour is no longer in this exhibition")
        return state, tour["stops"]

    def _set_tour(self, state: TourState | None, guide: Visitor | None = None) -> None:
        self.tour = state
        self._send_tour(guide)
        if self.sync is not None:
            actor = state["guide"] if state else guide
            if actor is not None and actor.local:
                body = {"ev": "tour", "tour": state["tour"] if state else None,
                        "stop": state["stop"] if state else 0}
                self.sync.event(actor, body)

    def apply_remote_tour(self, guide: Visitor, tour_id: str | None, stop: int) -> None:
        self.tour = None if tour_id is None else {"tour": tour_id, "stop": stop, "guide": guide}
        self._send_tour(guide)

    def _send_tour(self, guide: Visitor | None = None) -> None:
        for v in self.local_visitors():
            v.post(self._tour_message(v, guide))

    def _tour_fields(
        self, visitor: Visitor, ended_by: Visitor | None = None
    ) -> dict[str, Any] | None:
        if self.tour is None:
            return None
        manifest = self._manifest() or {}
        tour = self._tours().get(self.tour["tour"])
        if tour is None:
            return None
        stop = tour["stops"][self.tour["stop"]]
        default = manifest.get("default_language", "en")
        guide = self.tour["guide"]
        fields: dict[str, Any] = {
            "tour": tour["id"], "guide": guide.id, "stop": self.tour["stop"],
            "stops": len(tour["stops"]),
            "narration": localise(stop.get("narration"), visitor.lang, default),
            "view_point": stop.get("view_point"),
            "follow": visitor.following == guide.id,
        }
        if "object" in stop:
            fields["object"] = stop["object"]
        if "title" in stop:
            fields["title"] = localise(stop["title"], visitor.lang, default)
        return fields

    def _tour_message(self, visitor: Visitor, guide: Visitor | None = None) -> dict[str, Any]:
        fields = self._tour_fields(visitor)
        if fields is None:
            return {"type": "tour", "tour": None, "guide": guide.id if guide else None,
                    "follow": False}
        return {"type": "tour", **fields}

    def mute(self, guide: Visitor, target_id: Any, muted: bool) -> None:
        self._require_guide(guide)
        target = self.by_id(target_id)
        self.apply_mute(guide, target, muted)
        if self.sync is not None:
            if target.local:
                body = {"ev": "mute_state", "muted": muted, "by": self.sync.ref(guide)}
                self.sync.event(target, body)
            else:
                self.sync.command(guide, target, {"ev": "mute", "muted": muted})

    def apply_mute(self, guide: Visitor, target: Visitor, muted: bool) -> None:
        target.muted = muted
        message = {"type": "muted", "visitor": target.id, "muted": muted, "by": guide.id}
        for v in self.local_visitors():
            if v is target or v.guide:
                v.post(message)

    def kick(self, guide: Visitor, target_id: Any) -> Visitor:
        self._require_guide(guide)
        target = self.by_id(target_id)
        if target.guide:
            raise RequestError("forbidden", "a guide cannot be removed")
        if target is guide:
            raise RequestError("forbidden", "you cannot remove yourself")
        if target.local:
            self.apply_kick(guide, target)
        elif self.sync is not None:
            self.sync.command(guide, target, {"ev": "kick"})
        return target

    def apply_kick(self, guide: Visitor, target: Visitor) -> None:
        target.post({"type": "kicked", "by": guide.id})
        self.remove(target, "kicked")
        self._close_later(target, KICKED, b"kicked")

    def _close_later(self, visitor: Visitor, code: int, reason: bytes) -> None:
        async def close() -> None:
            await self.flush(visitor, force=True)
            if visitor.ws is not None:
                await visitor.ws.close(code=code, message=reason)

        task = asyncio.get_running_loop().create_task(close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        task.add_done_callback(report_failure)

    # ----- sending

    async def flush(self, visitor: Visitor, force: bool = False) -> None:
        """Send queued control messages while the socket keeps up (never waits on a slow one)."""
        ws = visitor.ws
        if ws is None or ws.closed:
            visitor.outbox.clear()
            return
        if visitor.overflowed:
            visitor.overflowed = False
            log.info("closing a visitor of %s who stopped reading", self.name)
            self.remove(visitor, "closed")
            self._close_later(visitor, TOO_SLOW, b"too_slow")
            return
        while visitor.outbox:
            buffered = visitor.write_buffer()
            if buffered < 0 or (buffered > DRAINED_BELOW and not force):
                return
            _, text = visitor.outbox.popleft()
            try:
                try:
                    await ws.send_str(text)
                except UnicodeEncodeError:  # a lone surrogate stored before input was checked
                    await ws.send_str(json.dumps(json.loads(text)))  # escaped as \udXXX
            except (ConnectionError, RuntimeError):
                visitor.outbox.clear()
                return

    async def tick(self) -> None:
        table = self.table
        if self.pending:
            slots = list(self.pending)
            rows = list(self.pending.values())
            self.pending.clear()
            table.apply(slots, rows)
        receivers: list[int] = []
        for v in self.local_visitors():
            if v.outbox or v.overflowed:
                await self.flush(v)
            if v.write_buffer() == 0:
                receivers.append(v.slot)
            else:
                v.skipped_ticks += 1
        if receivers:
            frames = table.frames(
                np.asarray(receivers, dtype=np.intp),
                self.settings.nearest_full_rate,
                self.far_period,
            )
            for slot, frame in frames:
                receiver = self.visitors.get(slot)
                if receiver is None or receiver.ws is None:
                    continue
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await receiver.ws.send_bytes(frame)
        if self.sync is not None:
            local = np.asarray([v.slot for v in self.local_visitors()], dtype=np.intp)
            changes = table.changes_of(local)
            if changes is not None:
                self.sync.poses(changes)
        table.tick += 1
