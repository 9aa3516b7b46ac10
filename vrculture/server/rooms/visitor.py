"""One visitor of a room: a local WebSocket client, or (with Redis) a visitor of another process."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

OUTBOX_LIMIT = 256  # control messages waiting for a slow socket before it is closed as too slow


@dataclass(eq=False)
class Visitor:
    slot: int
    name: str
    color: str
    lang: str
    guide: bool
    ws: web.WebSocketResponse | None = None  # None: lives on another server process
    transport: asyncio.Transport | None = None
    node: str | None = None  # the owning process's id (remote visitors)
    remote_id: int | None = None  # its id on that process
    picked: str | None = None
    muted: bool = False
    following: int | None = None  # the guide's id
    outbox: deque[tuple[str | None, str]] = field(default_factory=deque)
    overflowed: bool = False
    skipped_ticks: int = 0  # ticks skipped because the socket had not drained (observability)
    # The code that made a local visitor a guide: checked again whenever the codes are
    # refreshed, so that revoking it ends the guide's rights at once. Never logged (repr=False).
    guide_code: str | None = field(default=None, repr=False)

    @property
    def id(self) -> int:
        return self.slot + 1

    @property
    def local(self) -> bool:
        return self.ws is not None

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "color": self.color, "guide": self.guide,
                "picked": self.picked, "muted": self.muted}

    def write_buffer(self) -> int:
        """Bytes our side still holds for this socket (0 = the kernel took everything)."""
        if self.transport is None or self.transport.is_closing():
            return -1
        return self.transport.get_write_buffer_size()

    def post(self, message: dict[str, Any] | str, coalesce: str | None = None) -> None:
        """Queue a control message; `coalesce` replaces a queued one with the same key."""
        if self.ws is None or self.overflowed:
            return
        text = message if isinstance(message, str) else json.dumps(message, ensure_ascii=False)
        if coalesce is not None and self.outbox:
            for i, (key, _) in enumerate(self.outbox):
                if key == coalesce:
                    del self.outbox[i]
                    break
        if len(self.outbox) >= OUTBOX_LIMIT:
            self.overflowed = True
            self.outbox.clear()
            return
        self.outbox.append((coalesce, text))
