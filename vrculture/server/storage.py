"""The server's SQLite database (DATA/vrculture.sqlite3): feeds, their readings, guide codes
and the curator token of the admin API.

WAL with `synchronous=FULL`: a reading is on disk before the ingest answers 2xx, and readers
(history, the rooms' latest readings) never wait for the writer. All calls go through one
thread so that the event loop never blocks on the disk and the connection is never shared
between threads at the same time. The CLIs (`vrculture feeds`, `guides`) use the same file
from another process; SQLite's locking keeps them consistent.

Secrets (feed tokens, guide codes, the curator token) are stored as SHA-256 hashes of
high-entropy random values: a stolen database does not give anyone a token, and a slow
password hash buys nothing for values that cannot be guessed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from vrculture.server.readings import disclosure_controlled
from vrculture.server.store_interface import StoreError

DB_NAME = "vrculture.sqlite3"
SCHEMA_VERSION = 1
TOKEN_PREFIX = "vrf_"
CURATOR_TOKEN_PREFIX = "vrc_"  # a distinct prefix: secret scanners and people can tell them apart
GUIDE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: typed on a headset keyboard

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feeds (
    id TEXT PRIMARY KEY,
    kind TEXT,              -- NULL: taken from the exhibition that lists the feed
    exhibition TEXT,
    unit TEXT, min REAL, max REAL,  -- gauges only
    token_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    rotated_at REAL
);
CREATE TABLE IF NOT EXISTS readings (
    feed TEXT NOT NULL,
    t REAL NOT NULL,        -- epoch seconds, the reading's own time
    reading TEXT NOT NULL,  -- the normalised reading as JSON
    received_at REAL NOT NULL,
    PRIMARY KEY (feed, t)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS guide_codes (
    exhibition TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (exhibition, code_hash)
);
CREATE TABLE IF NOT EXISTS curator_token (
    id INTEGER PRIMARY KEY CHECK (id = 1),  -- one curator token per server
    token_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    rotated_at REAL
);
"""

T = TypeVar("T")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_feed_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_curator_token() -> str:
    return CURATOR_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_guide_code() -> str:
    """Four groups of four letters/digits: 80 random bits, readable aloud."""
    chars = "".join(secrets.choice(GUIDE_ALPHABET) for _ in range(16))
    return "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def normalise_guide_code(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


@dataclass(frozen=True)
class Feed:
    id: str
    kind: str | None
    exhibition: str | None
    unit: str | None
    min: float | None
    max: float | None
    token_hash: str


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    # The database is the server's own (token hashes, curators' audit, readings), never served:
    # created owner-only whatever the umask; SQLite gives its -wal and -shm files the same mode.
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # durable at COMMIT: the 2xx is a promise
    conn.execute("PRAGMA busy_timeout=10000")
    conn.executescript(SCHEMA)
    found = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    if found is None:
        conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    elif int(found[0]) > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(
            f"{path}: written by a newer vrculture (schema {found[0]}); upgrade first"
        )
    return conn


class Store:
    """Synchronous operations on one connection (used by the CLIs and, via AsyncStore, the
    server)."""

    def __init__(self, conn: sqlite3.Connection,
                 clock: Callable[[], float] = time.time) -> None:
        self.conn = conn
        self.clock = clock  # the times written (created, rotated, received): the app's clock

    @classmethod
    def open(cls, data_dir: Path, clock: Callable[[], float] = time.time) -> Store:
        return cls(connect(data_dir / DB_NAME), clock)

    def close(self) -> None:
        self.conn.close()

    def ping(self) -> None:
        """Fails if the database cannot be read (used by /healthz)."""
        self.conn.execute("SELECT count(*) FROM meta").fetchone()

    # feeds -----------------------------------------------------------------------------
    def add_feed(
        self,
        feed_id: str,
        *,
        kind: str | None = None,
        exhibition: str | None = None,
        unit: str | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> str:
        """Registers a feed and returns its token (shown once, stored only as a hash)."""
        token = new_feed_token()
        try:
            self.conn.execute(
                "INSERT INTO feeds (id, kind, exhibition, unit, min, max, token_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (feed_id, kind, exhibition, unit, minimum, maximum, hash_secret(token),
                 self.clock()),
            )
        except sqlite3.IntegrityError as error:
            raise KeyError(feed_id) from error
        return token

    def rotate_feed_token(self, feed_id: str) -> str:
        token = new_feed_token()
        cursor = self.conn.execute(
            "UPDATE feeds SET token_hash=?, rotated_at=? WHERE id=?",
            (hash_secret(token), self.clock(), feed_id),
        )
        if cursor.rowcount == 0:
            raise KeyError(feed_id)
        return token

    def remove_feed(self, feed_id: str, *, keep_readings: bool = True) -> bool:
        with self.conn:
            self.conn.execute("BEGIN")
            removed = self.conn.execute("DELETE FROM feeds WHERE id=?", (feed_id,)).rowcount
            if not keep_readings:
                self.conn.execute("DELETE FROM readings WHERE feed=?", (feed_id,))
        return removed > 0

    def feed(self, feed_id: str) -> Feed | None:
        row = self.conn.execute(
            "SELECT id, kind, exhibition, unit, min, max, token_hash FROM feeds WHERE id=?",
            (feed_id,),
        ).fetchone()
        return Feed(*row) if row else None

    def feeds(self) -> list[tuple[Feed, int, float | None]]:
        """Every feed with its number of readings and the time of its newest one."""
        rows = self.conn.execute(
            "SELECT f.id, f.kind, f.exhibition, f.unit, f.min, f.max, f.token_hash,"
            " (SELECT count(*) FROM readings r WHERE r.feed=f.id),"
            " (SELECT max(t) FROM readings r WHERE r.feed=f.id)"
            " FROM feeds f ORDER BY f.id"
        ).fetchall()
        return [(Feed(*row[:7]), row[7], row[8]) for row in rows]

    def check_feed_token(self, feed_id: str, token: str) -> Feed | None:
        """The feed if `token` is its current token (constant-time comparison of hashes)."""
        feed = self.feed(feed_id)
        presented = hash_secret(token)
        expected = feed.token_hash if feed else hash_secret(new_feed_token())
        # Compare even for an unknown feed so both cases take the same time.
        if hmac.compare_digest(presented, expected) and feed is not None:
            return feed
        return None

    # readings --------------------------------------------------------------------------
    def insert_readings(
        self, feed_id: str, readings: list[tuple[float, dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """Stores readings in one transaction; returns those that were new (not duplicates)."""
        now = self.clock()
        stored: list[dict[str, Any]] = []
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for t, reading in readings:
                cursor = self.conn.execute(
                    "INSERT OR IGNORE INTO readings (feed, t, reading, received_at)"
                    " VALUES (?, ?, ?, ?)",
                    (feed_id, t, json.dumps(reading, separators=(",", ":")), now),
                )
                if cursor.rowcount:
                    stored.append(reading)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return stored

    def readings(
        self, feed_id: str, *, since: float | None, limit: int
    ) -> list[dict[str, Any]]:
        """Oldest first. With `since`: the first `limit` after it; without: the newest."""
        if since is not None:
            rows = self.conn.execute(
                "SELECT reading FROM readings WHERE feed=? AND t>? ORDER BY t LIMIT ?",
                (feed_id, since, limit),
            ).fetchall()
        else:
            rows = self.conn.execute(
                "SELECT reading FROM readings WHERE feed=? ORDER BY t DESC LIMIT ?",
                (feed_id, limit),
            ).fetchall()[::-1]
        return [disclosure_controlled(json.loads(row[0])) for row in rows]

    def prune_readings(self, before: float, feed_id: str | None = None) -> int:
        """Deletes readings older than `before` (epoch seconds); returns how many."""
        if feed_id is None:
            cursor = self.conn.execute("DELETE FROM readings WHERE t < ?", (before,))
        else:
            cursor = self.conn.execute("DELETE FROM readings WHERE feed = ? AND t < ?",
                                       (feed_id, before))
        return cursor.rowcount

    def latest_readings(self, feed_ids: list[str]) -> dict[str, dict[str, Any]]:
        latest: dict[str, dict[str, Any]] = {}
        for feed_id in feed_ids:
            row = self.conn.execute(
                "SELECT reading FROM readings WHERE feed=? ORDER BY t DESC LIMIT 1", (feed_id,)
            ).fetchone()
            if row:
                latest[feed_id] = disclosure_controlled(json.loads(row[0]))
        return latest

    # guide codes -----------------------------------------------------------------------
    def add_guide_code(self, exhibition: str, label: str) -> str:
        code = new_guide_code()
        self.conn.execute(
            "INSERT INTO guide_codes VALUES (?, ?, ?, ?)",
            (exhibition, hash_secret(normalise_guide_code(code)), label, self.clock()),
        )
        return code

    def remove_guide_codes(self, exhibition: str, label: str | None = None) -> int:
        params: tuple[str, ...]
        if label is None:
            sql, params = "DELETE FROM guide_codes WHERE exhibition=?", (exhibition,)
        else:
            sql = "DELETE FROM guide_codes WHERE exhibition=? AND label=?"
            params = (exhibition, label)
        return self.conn.execute(sql, params).rowcount

    def guide_codes(self) -> list[tuple[str, str, float]]:
        """(exhibition, label, created_at) of every code; the codes themselves are not kept."""
        return self.conn.execute(
            "SELECT exhibition, label, created_at FROM guide_codes ORDER BY exhibition, created_at"
        ).fetchall()

    def guide_code_hashes(self) -> dict[str, list[str]]:
        hashes: dict[str, list[str]] = {}
        for exhibition, code_hash in self.conn.execute(
            "SELECT exhibition, code_hash FROM guide_codes"
        ):
            hashes.setdefault(exhibition, []).append(code_hash)
        return hashes


    # the curator token (admin API) ------------------------------------------------------
    def create_curator_token(self, *, rotate: bool = False) -> str:
        """A new curator token (shown once, stored only as a hash). Without `rotate`, refuses
        (KeyError) to replace an existing one; with it, the old token stops working."""
        token = new_curator_token()
        now = self.clock()
        if rotate:
            self.conn.execute(
                "INSERT INTO curator_token (id, token_hash, created_at) VALUES (1, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET token_hash=excluded.token_hash, rotated_at=?",
                (hash_secret(token), now, now),
            )
            return token
        try:
            self.conn.execute(
                "INSERT INTO curator_token (id, token_hash, created_at) VALUES (1, ?, ?)",
                (hash_secret(token), now),
            )
        except sqlite3.IntegrityError as error:
            raise KeyError("curator token") from error
        return token

    def has_curator_token(self) -> bool:
        return self.conn.execute("SELECT 1 FROM curator_token").fetchone() is not None

    def check_curator_token(self, token: str) -> bool:
        """True if `token` is the current curator token (constant-time comparison of hashes)."""
        row = self.conn.execute("SELECT token_hash FROM curator_token WHERE id=1").fetchone()
        presented = hash_secret(token)
        # Without a token set, compare against a random one so both cases take the same time.
        expected = row[0] if row else hash_secret(new_curator_token())
        return hmac.compare_digest(presented, expected) and row is not None


class AsyncStore:
    """The server's handle on SQLite (a store_interface.DataStore): every call runs on one
    dedicated thread.

    Implements keys.FeedStore (latest readings for the rooms) and keys.GuideCodes (a snapshot
    of the code hashes, refreshed by `refresh_guide_codes`, so that `verify` stays
    synchronous as the protocol requires and never touches the disk on the event loop).
    """

    def __init__(self, data_dir: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = data_dir / DB_NAME
        self.clock = clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._store: Store | None = None
        self._guide_hashes: dict[str, list[str]] = {}

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self.store, *args, **kwargs))

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(connect(self.path), self.clock)
        return self._store

    async def open(self) -> None:
        try:
            await self.run(lambda store: None)
        except (sqlite3.Error, OSError) as error:  # damaged file, data path not a folder, ...
            raise StoreError(f"cannot open the database {self.path} ({error})") from error
        await self.refresh_guide_codes()

    async def close(self) -> None:
        if self._store is not None:
            await self.run(Store.close)
            self._store = None
        self._executor.shutdown(wait=True)

    # keys.FeedStore
    async def latest_readings(self, feed_ids: list[str]) -> dict[str, dict[str, Any]]:
        return await self.run(Store.latest_readings, list(feed_ids))

    # keys.GuideCodes
    def verify(self, exhibition_id: str, code: str) -> bool:
        return guide_code_matches(self._guide_hashes, exhibition_id, code)

    async def refresh_guide_codes(self) -> None:
        self._guide_hashes = await self.run(Store.guide_code_hashes)

    # store_interface.DataStore: each operation of Store, on the store's thread
    async def ping(self) -> None:
        await self.run(Store.ping)

    async def add_feed(self, feed_id: str, *, kind: str | None = None,
                       exhibition: str | None = None, unit: str | None = None,
                       minimum: float | None = None, maximum: float | None = None) -> str:
        return await self.run(Store.add_feed, feed_id, kind=kind, exhibition=exhibition,
                              unit=unit, minimum=minimum, maximum=maximum)

    async def rotate_feed_token(self, feed_id: str) -> str:
        return await self.run(Store.rotate_feed_token, feed_id)

    async def remove_feed(self, feed_id: str, *, keep_readings: bool = True) -> bool:
        return await self.run(Store.remove_feed, feed_id, keep_readings=keep_readings)

    async def feed(self, feed_id: str) -> Feed | None:
        return await self.run(Store.feed, feed_id)

    async def feeds(self) -> list[tuple[Feed, int, float | None]]:
        return await self.run(Store.feeds)

    async def check_feed_token(self, feed_id: str, token: str) -> Feed | None:
        return await self.run(Store.check_feed_token, feed_id, token)

    async def insert_readings(self, feed_id: str, readings: list[tuple[float, dict[str, Any]]]
                              ) -> list[dict[str, Any]]:
        return await self.run(Store.insert_readings, feed_id, readings)

    async def readings(self, feed_id: str, *, since: float | None, limit: int
                       ) -> list[dict[str, Any]]:
        return await self.run(Store.readings, feed_id, since=since, limit=limit)

    async def prune_readings(self, before: float, feed_id: str | None = None) -> int:
        return await self.run(Store.prune_readings, before, feed_id)

    async def add_guide_code(self, exhibition: str, label: str) -> str:
        return await self.run(Store.add_guide_code, exhibition, label)

    async def remove_guide_codes(self, exhibition: str, label: str | None = None) -> int:
        return await self.run(Store.remove_guide_codes, exhibition, label)

    async def guide_codes(self) -> list[tuple[str, str, float]]:
        return await self.run(Store.guide_codes)

    async def create_curator_token(self, *, rotate: bool = False) -> str:
        return await self.run(Store.create_curator_token, rotate=rotate)

    async def has_curator_token(self) -> bool:
        return await self.run(Store.has_curator_token)

    async def check_curator_token(self, token: str) -> bool:
        return await self.run(Store.check_curator_token, token)


def guide_code_matches(hashes: dict[str, list[str]], exhibition_id: str, code: str) -> bool:
    """Whether `code` is one of the exhibition's codes: its hash against each stored hash, in
    constant time and without an early exit (shared by both stores' `verify`)."""
    presented = hash_secret(normalise_guide_code(code))
    matched = False
    for stored in hashes.get(exhibition_id, ()):
        matched |= hmac.compare_digest(presented, stored)
    return matched
