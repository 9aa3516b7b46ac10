"""Typed application keys and the interfaces the server's modules share.

The modules of the server meet only here: the HTTP side (assets, API, feeds, storage) and the
rooms side (WebSocket presence, tours, live readings) each depend on these protocols, not on
each other, so that the in-process fan-out can be swapped for Redis pub/sub without touching
either side.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class LoadedExhibition:
    """One published bundle: its manifest (exhibition.json, already validated) and its folder."""

    id: str
    root: Path
    manifest: dict[str, Any]
    version: str  # content hash of exhibition.json; changes when a bundle is republished


class ExhibitionRegistry(Protocol):
    def get(self, exhibition_id: str) -> LoadedExhibition | None: ...
    def all(self) -> list[LoadedExhibition]: ...


Subscriber = Callable[[str, bytes], Awaitable[None] | None]


class PubSub(Protocol):
    """Fan-out between server processes. Channels used:
    `feed:{feed_id}`  -> JSON {"type": "reading", "feed": id, "reading": {...}}
    `figures:{feed_id}` -> JSON {"type": "figures", "feed": id, "figures": [...]} (figures.py,
                           published locally by each process)
    `room:{exhibition}:{room}` -> rooms-internal state exchange (rooms module's own format)
    """

    async def publish(self, channel: str, payload: bytes) -> None: ...
    async def publish_local(self, channel: str, payload: bytes) -> None:
        """To this process's subscribers only: for what every process derives by itself from the
        shared store (the goal figures), which would otherwise reach each visitor once per
        process."""
        ...
    async def subscribe(self, channel: str, callback: Subscriber) -> Callable[[], Awaitable[None]]:
        """Returns an async unsubscribe function."""
        ...
    async def close(self) -> None: ...


class FeedStore(Protocol):
    async def latest_readings(self, feed_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The newest stored reading per feed id (feeds without readings are absent)."""
        ...


class GuideCodes(Protocol):
    def verify(self, exhibition_id: str, code: str) -> bool:
        """Constant-time check of a guide code against its stored hash."""
        ...

