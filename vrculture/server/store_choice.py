"""Which store the settings name: SQLite in the data folder, or PostgreSQL with `database`.

`server_store` gives the server's async store (opened by the app on start-up);
`open_blocking_store` an open store for the CLIs.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from vrculture.server.config import ServerConfig
from vrculture.server.storage import AsyncStore, Feed, Store
from vrculture.server.store_interface import BlockingDataStore, DataStore, StoreError

T = TypeVar("T")
MISSING_DRIVER = "a postgresql:// database needs asyncpg: pip install 'vrculture[postgresql]'"


def postgres_driver_missing() -> bool:
    return importlib.util.find_spec("asyncpg") is None


def server_store(config: ServerConfig, clock: Callable[[], float] = time.time) -> DataStore:
    """The server's store; `clock` stamps what it writes (the app's injectable clock)."""
    if config.database:
        if postgres_driver_missing():
            raise StoreError(MISSING_DRIVER)
        from vrculture.server.storage_postgres import PostgresStore

        return PostgresStore(config.database, clock=clock)
    return AsyncStore(config.data_dir, clock)


def open_blocking_store(config: ServerConfig) -> BlockingDataStore:
    """The open store of `config` for one CLI command (StoreError if it cannot be opened;
    SQLite raises its own sqlite3.Error or OSError)."""
    if not config.database:
        return Store.open(config.data_dir)
    if postgres_driver_missing():
        raise StoreError(MISSING_DRIVER)
    from vrculture.server.storage_postgres import PostgresStore

    blocking = BlockingStore(PostgresStore(config.database, max_size=1))
    try:
        blocking.wait(blocking.store.open())
    except BaseException:
        blocking.close()
        raise
    return blocking


class BlockingStore:
    """An async DataStore driven by an event loop of its own, for code without one (the
    CLIs): each call runs to completion before it returns."""

    def __init__(self, store: DataStore) -> None:
        self.store = store
        self._loop = asyncio.new_event_loop()

    def wait(self, operation: Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(operation)

    def close(self) -> None:
        if not self._loop.is_closed():
            try:
                self.wait(self.store.close())
            finally:
                self._loop.close()

    def add_feed(self, feed_id: str, *, kind: str | None = None,
                 exhibition: str | None = None, unit: str | None = None,
                 minimum: float | None = None, maximum: float | None = None) -> str:
        return self.wait(self.store.add_feed(feed_id, kind=kind, exhibition=exhibition,
                                             unit=unit, minimum=minimum, maximum=maximum))

    def rotate_feed_token(self, feed_id: str) -> str:
        return self.wait(self.store.rotate_feed_token(feed_id))

    def remove_feed(self, feed_id: str, *, keep_readings: bool = True) -> bool:
        return self.wait(self.store.remove_feed(feed_id, keep_readings=keep_readings))

    def feed(self, feed_id: str) -> Feed | None:
        return self.wait(self.store.feed(feed_id))

    def feeds(self) -> list[tuple[Feed, int, float | None]]:
        return self.wait(self.store.feeds())

    def check_feed_token(self, feed_id: str, token: str) -> Feed | None:
        return self.wait(self.store.check_feed_token(feed_id, token))

    def insert_readings(self, feed_id: str, readings: list[tuple[float, dict[str, Any]]]
                        ) -> list[dict[str, Any]]:
        return self.wait(self.store.insert_readings(feed_id, readings))

    def readings(self, feed_id: str, *, since: float | None, limit: int
                 ) -> list[dict[str, Any]]:
        return self.wait(self.store.readings(feed_id, since=since, limit=limit))

    def prune_readings(self, before: float, feed_id: str | None = None) -> int:
        return self.wait(self.store.prune_readings(before, feed_id))

    def latest_readings(self, feed_ids: list[str]) -> dict[str, dict[str, Any]]:
        return self.wait(self.store.latest_readings(feed_ids))

    def add_guide_code(self, exhibition: str, label: str) -> str:
        return self.wait(self.store.add_guide_code(exhibition, label))

    def remove_guide_codes(self, exhibition: str, label: str | None = None) -> int:
        return self.wait(self.store.remove_guide_codes(exhibition, label))

    def guide_codes(self) -> list[tuple[str, str, float]]:
        return self.wait(self.store.guide_codes())

    def create_curator_token(self, *, rotate: bool = False) -> str:
        return self.wait(self.store.create_curator_token(rotate=rotate))

    def has_curator_token(self) -> bool:
        return self.wait(self.store.has_curator_token())

    def check_curator_token(self, token: str) -> bool:
        return self.wait(self.store.check_curator_token(token))
