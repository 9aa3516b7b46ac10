"""Feeds, readings, guide codes and the curator token in PostgreSQL (`--database
postgresql://…`): for a city that runs vrculture on several machines against one database.

The same schema and promises as the SQLite store (storage.py): a reading is committed before
the ingest answers 2xx (`synchronous_commit=on` for this client, whatever the cluster's
default), duplicates (same feed and time) are ignored, secrets are stored as SHA-256 hashes
and compared in constant time.

asyncpg: native asyncio (no thread per call), the binary protocol, and arrays as parameters,
so a batch of readings is one `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING
RETURNING t`: one round trip that also says which readings were new.

Connections come from a pool of at most POOL_MAX_SIZE. When the database restarts, the pool's
connections die; an operation that meets a dead connection or a server that is still starting
is retried on a fresh one for up to RECONNECT_SECONDS. Every operation is idempotent or
harmless to repeat (readings: ON CONFLICT DO NOTHING), so a retry after a commit whose answer
was lost stores nothing twice.

The DSN may hold a password: only `redacted(dsn)` is ever logged or put in an error.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from vrculture.server.readings import disclosure_controlled
from vrculture.server.storage import (
    Feed,
    guide_code_matches,
    hash_secret,
    new_curator_token,
    new_feed_token,
    new_guide_code,
    normalise_guide_code,
)
from vrculture.server.store_interface import StoreError

log = logging.getLogger(__name__)

T = TypeVar("T")
POOL_MIN_SIZE = 1
POOL_MAX_SIZE = 10  # per server process; readings commit in one statement, so few suffice
COMMAND_TIMEOUT = 30.0  # seconds: a hung database fails the request instead of holding it
CONNECT_TIMEOUT = 10.0
RECONNECT_SECONDS = 15.0  # how long an operation waits for a restarting database
# Held while migrating, so that machines starting together migrate one after the other.
MIGRATION_LOCK = 0x7672_6375  # "vrcu"

# Version n's statements take the schema from version n-1 to n. Never edit a released step.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE feeds (
        id TEXT PRIMARY KEY,
        kind TEXT,              -- NULL: taken from the exhibition that lists the feed
        exhibition TEXT,
        unit TEXT, min DOUBLE PRECISION, max DOUBLE PRECISION,  -- gauges only
        token_hash TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        rotated_at DOUBLE PRECISION
    );
    CREATE TABLE readings (
        feed TEXT NOT NULL,
        t DOUBLE PRECISION NOT NULL,  -- epoch seconds, the reading's own time
        reading TEXT NOT NULL,        -- the normalised reading as JSON, byte for byte
        received_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (feed, t)
    );
    CREATE TABLE guide_codes (
        exhibition TEXT NOT NULL,
        code_hash TEXT NOT NULL,
        label TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (exhibition, code_hash)
    );
    CREATE TABLE curator_token (
        id INTEGER PRIMARY KEY CHECK (id = 1),  -- one curator token per city
        token_hash TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        rotated_at DOUBLE PRECISION
    );
    """,
    # 2: the curator studio's accounts, sessions, memberships and audit log (studio/records.py),
    # so that a curator signed in on one machine is known on the next.
    """
    CREATE TABLE studio_curators (
        name TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,          -- argon2id
        must_change BOOLEAN NOT NULL,         -- while the printed one-time password is in use
        created_at DOUBLE PRECISION NOT NULL,
        password_set_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE studio_sessions (
        id_hash TEXT PRIMARY KEY,             -- SHA-256 of the cookie's random value
        curator TEXT NOT NULL REFERENCES studio_curators (name) ON DELETE CASCADE,
        created_at DOUBLE PRECISION NOT NULL,
        last_seen DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE studio_members (
        exhibition TEXT NOT NULL,
        curator TEXT NOT NULL REFERENCES studio_curators (name) ON DELETE CASCADE,
        added_by TEXT NOT NULL,
        added_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (exhibition, curator)
    );
    CREATE TABLE studio_audit (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at DOUBLE PRECISION NOT NULL,
        curator TEXT NOT NULL,                -- no reference: the log outlives the account
        exhibition TEXT,
        action TEXT NOT NULL,
        detail TEXT NOT NULL                  -- JSON
    );
    CREATE INDEX studio_audit_by_exhibition ON studio_audit (exhibition, at);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)

# A dead pool connection, a refused connection, or a server starting up or shutting down.
_RECONNECTABLE: tuple[type[BaseException], ...] = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    ConnectionError,
    OSError,
)


def redacted(dsn: str) -> str:
    """The DSN with its password (if any) replaced, fit for logs and error messages."""
    try:
        parts = urlsplit(dsn)
        netloc = parts.netloc
        if "@" in netloc:
            user, _, host = netloc.rpartition("@")
            name = user.partition(":")[0]
            netloc = f"{name}:***@{host}" if ":" in user else f"{name}@{host}"
        query = "&".join("password=***" if p.lower().startswith("password=") else p
                         for p in parts.query.split("&")) if parts.query else ""
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:
        return "postgresql://(unparsable)"


async def _keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset between operations. The default (RESET ALL, UNLISTEN *, ...) costs a
    round trip per operation; the store changes no session state (no SET, LISTEN or session
    advisory lock), and asyncpg itself rolls back a transaction left open."""


def _count(status: str) -> int:
    """The row count of a command tag such as 'DELETE 3'."""
    return int(status.rsplit(" ", 1)[-1])


def _feed(row: asyncpg.Record) -> Feed:
    return Feed(row["id"], row["kind"], row["exhibition"], row["unit"], row["min"], row["max"],
                row["token_hash"])


class PostgresStore:
    """A store_interface.DataStore on a PostgreSQL database."""

    def __init__(self, dsn: str, *, max_size: int = POOL_MAX_SIZE,
                 clock: Callable[[], float] = time.time) -> None:
        self.dsn = dsn
        self.max_size = max_size
        self.clock = clock  # the times written (created, rotated, received): the app's clock
        self._pool: asyncpg.Pool | None = None
        self._guide_hashes: dict[str, list[str]] = {}

    def __repr__(self) -> str:
        return f"PostgresStore({redacted(self.dsn)!r})"

    # connection ---------------------------------------------------------------------------
    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.dsn, min_size=POOL_MIN_SIZE, max_size=self.max_size,
                command_timeout=COMMAND_TIMEOUT, timeout=CONNECT_TIMEOUT,
                # The 2xx is a promise: COMMIT returns once the WAL is flushed, even where the
                # cluster's default trades that away.
                server_settings={"synchronous_commit": "on", "application_name": "vrculture"},
                reset=_keep_session,
            )
            await self._migrate()
        except (asyncpg.PostgresError, *_RECONNECTABLE) as error:
            await self.close()
            raise StoreError(f"{redacted(self.dsn)}: cannot open the database "
                             f"({type(error).__name__}: {error})") from None
        await self.refresh_guide_codes()

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def _migrate(self) -> None:
        async with self._connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute("CREATE TABLE IF NOT EXISTS schema_version"
                               " (version INTEGER NOT NULL)")
            found = await conn.fetchval("SELECT max(version) FROM schema_version")
            version = found or 0
            if version > SCHEMA_VERSION:
                raise StoreError(f"{redacted(self.dsn)}: written by a newer vrculture "
                                 f"(schema {version}); upgrade first")
            for number in range(version + 1, SCHEMA_VERSION + 1):
                await conn.execute(MIGRATIONS[number - 1])
                await conn.execute("INSERT INTO schema_version VALUES ($1)", number)
                log.info("database %s: schema version %d", redacted(self.dsn), number)

    def _connection(self) -> Any:
        if self._pool is None:
            raise StoreError("the PostgreSQL store is not open")
        return self._pool.acquire()

    async def _run(self, operation: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """`operation` on a pool connection; retried on a fresh one while the database is
        unreachable (restarting), for up to RECONNECT_SECONDS."""
        deadline = time.monotonic() + RECONNECT_SECONDS
        delay = 0.05
        while True:
            try:
                async with self._connection() as conn:
                    return await operation(conn)
            except asyncpg.UniqueViolationError:
                raise  # the caller's to answer (an existing feed or curator token)
            except _RECONNECTABLE as error:
                if time.monotonic() + delay > deadline:
                    raise StoreError(f"{redacted(self.dsn)}: database unreachable "
                                     f"({type(error).__name__})") from None
                log.warning("database %s unreachable (%s); retrying", redacted(self.dsn),
                            type(error).__name__)
                if self._pool is not None:
                    await self._pool.expire_connections()  # the others are as dead as this
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
            except asyncpg.PostgresError as error:  # the server's message names no secret
                raise StoreError(f"database error {error.sqlstate}: {error}") from error

    async def run(self, operation: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """`operation` on a pool connection with the store's retries and error mapping (for
        the studio's records, which share this pool and schema)."""
        return await self._run(operation)

    async def ping(self) -> None:
        await self._run(lambda conn: conn.fetchval("SELECT count(*) FROM schema_version"))

    # feeds --------------------------------------------------------------------------------
    async def add_feed(self, feed_id: str, *, kind: str | None = None,
                       exhibition: str | None = None, unit: str | None = None,
                       minimum: float | None = None, maximum: float | None = None) -> str:
        token = new_feed_token()
        try:
            await self._run(lambda conn: conn.execute(
                "INSERT INTO feeds (id, kind, exhibition, unit, min, max, token_hash, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                feed_id, kind, exhibition, unit, minimum, maximum, hash_secret(token),
                self.clock()))
        except asyncpg.UniqueViolationError as error:
            raise KeyError(feed_id) from error
        return token

    async def rotate_feed_token(self, feed_id: str) -> str:
        token = new_feed_token()
        status = await self._run(lambda conn: conn.execute(
            "UPDATE feeds SET token_hash=$1, rotated_at=$2 WHERE id=$3",
            hash_secret(token), self.clock(), feed_id))
        if _count(status) == 0:
            raise KeyError(feed_id)
        return token

    async def remove_feed(self, feed_id: str, *, keep_readings: bool = True) -> bool:
        async def remove(conn: asyncpg.Connection) -> bool:
            async with conn.transaction():
                removed = _count(await conn.execute("DELETE FROM feeds WHERE id=$1", feed_id))
                if not keep_readings:
                    await conn.execute("DELETE FROM readings WHERE feed=$1", feed_id)
            return removed > 0

        return await self._run(remove)

    async def feed(self, feed_id: str) -> Feed | None:
        row = await self._run(lambda conn: conn.fetchrow(
            "SELECT id, kind, exhibition, unit, min, max, token_hash FROM feeds WHERE id=$1",
            feed_id))
        return _feed(row) if row else None

    async def feeds(self) -> list[tuple[Feed, int, float | None]]:
        rows = await self._run(lambda conn: conn.fetch(
            "SELECT f.id, f.kind, f.exhibition, f.unit, f.min, f.max, f.token_hash,"
            " (SELECT count(*) FROM readings r WHERE r.feed=f.id) AS count,"
            " (SELECT max(t) FROM readings r WHERE r.feed=f.id) AS newest"
            " FROM feeds f ORDER BY f.id"))
        return [(_feed(row), row["count"], row["newest"]) for row in rows]

    async def check_feed_token(self, feed_id: str, token: str) -> Feed | None:
        feed = await self.feed(feed_id)
        presented = hash_secret(token)
        expected = feed.token_hash if feed else hash_secret(new_feed_token())
        # Compare even for an unknown feed so both cases take the same time.
        if hmac.compare_digest(presented, expected) and feed is not None:
            return feed
        return None

    # readings -----------------------------------------------------------------------------
    async def insert_readings(self, feed_id: str, readings: list[tuple[float, dict[str, Any]]]
                              ) -> list[dict[str, Any]]:
        if not readings:
            return []
        times = [t for t, _ in readings]
        texts = [json.dumps(reading, separators=(",", ":")) for _, reading in readings]
        # One statement, one implicit transaction: committed (and flushed) when it returns.
        # ON CONFLICT DO NOTHING also skips a repeat within the batch: the first one stays.
        rows = await self._run(lambda conn: conn.fetch(
            "INSERT INTO readings (feed, t, reading, received_at)"
            " SELECT $1, u.t, u.reading, $4"
            " FROM unnest($2::double precision[], $3::text[]) WITH ORDINALITY AS u(t, reading, n)"
            " ORDER BY u.n"
            " ON CONFLICT (feed, t) DO NOTHING RETURNING t",
            feed_id, times, texts, self.clock()))
        new = {row["t"] for row in rows}
        stored: list[dict[str, Any]] = []
        for t, reading in readings:
            if t in new:
                new.discard(t)  # a repeat within the batch is a duplicate
                stored.append(reading)
        return stored

    async def readings(self, feed_id: str, *, since: float | None, limit: int
                       ) -> list[dict[str, Any]]:
        if since is not None:
            rows = await self._run(lambda conn: conn.fetch(
                "SELECT reading FROM readings WHERE feed=$1 AND t>$2 ORDER BY t LIMIT $3",
                feed_id, since, limit))
        else:
            rows = (await self._run(lambda conn: conn.fetch(
                "SELECT reading FROM readings WHERE feed=$1 ORDER BY t DESC LIMIT $2",
                feed_id, limit)))[::-1]
        return [disclosure_controlled(json.loads(row["reading"])) for row in rows]

    async def prune_readings(self, before: float, feed_id: str | None = None) -> int:
        if feed_id is None:
            status = await self._run(lambda conn: conn.execute(
                "DELETE FROM readings WHERE t < $1", before))
        else:
            status = await self._run(lambda conn: conn.execute(
                "DELETE FROM readings WHERE feed = $1 AND t < $2", feed_id, before))
        return _count(status)

    async def latest_readings(self, feed_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not feed_ids:
            return {}
        rows = await self._run(lambda conn: conn.fetch(
            "SELECT DISTINCT ON (feed) feed, reading FROM readings"
            " WHERE feed = ANY($1::text[]) ORDER BY feed, t DESC", list(feed_ids)))
        return {row["feed"]: disclosure_controlled(json.loads(row["reading"])) for row in rows}

    # guide codes --------------------------------------------------------------------------
    async def add_guide_code(self, exhibition: str, label: str) -> str:
        code = new_guide_code()
        await self._run(lambda conn: conn.execute(
            "INSERT INTO guide_codes VALUES ($1, $2, $3, $4)",
            exhibition, hash_secret(normalise_guide_code(code)), label, self.clock()))
        return code

    async def remove_guide_codes(self, exhibition: str, label: str | None = None) -> int:
        if label is None:
            status = await self._run(lambda conn: conn.execute(
                "DELETE FROM guide_codes WHERE exhibition=$1", exhibition))
        else:
            status = await self._run(lambda conn: conn.execute(
                "DELETE FROM guide_codes WHERE exhibition=$1 AND label=$2", exhibition, label))
        return _count(status)

    async def guide_codes(self) -> list[tuple[str, str, float]]:
        rows = await self._run(lambda conn: conn.fetch(
            "SELECT exhibition, label, created_at FROM guide_codes"
            " ORDER BY exhibition, created_at"))
        return [(row["exhibition"], row["label"], row["created_at"]) for row in rows]

    async def refresh_guide_codes(self) -> None:
        rows = await self._run(lambda conn: conn.fetch(
            "SELECT exhibition, code_hash FROM guide_codes"))
        hashes: dict[str, list[str]] = {}
        for row in rows:
            hashes.setdefault(row["exhibition"], []).append(row["code_hash"])
        self._guide_hashes = hashes

    def verify(self, exhibition_id: str, code: str) -> bool:
        return guide_code_matches(self._guide_hashes, exhibition_id, code)

    # the curator token --------------------------------------------------------------------
    async def create_curator_token(self, *, rotate: bool = False) -> str:
        token = new_curator_token()
        now = self.clock()
        if rotate:
            await self._run(lambda conn: conn.execute(
                "INSERT INTO curator_token (id, token_hash, created_at) VALUES (1, $1, $2)"
                " ON CONFLICT (id) DO UPDATE SET token_hash=excluded.token_hash, rotated_at=$2",
                hash_secret(token), now))
            return token
        try:
            await self._run(lambda conn: conn.execute(
                "INSERT INTO curator_token (id, token_hash, created_at) VALUES (1, $1, $2)",
                hash_secret(token), now))
        except asyncpg.UniqueViolationError as error:
            raise KeyError("curator token") from error
        return token

    async def has_curator_token(self) -> bool:
        found = await self._run(lambda conn: conn.fetchval("SELECT 1 FROM curator_token"))
        return found is not None

    async def check_curator_token(self, token: str) -> bool:
        row = await self._run(lambda conn: conn.fetchrow(
            "SELECT token_hash FROM curator_token WHERE id=1"))
        presented = hash_secret(token)
        # Without a token set, compare against a random one so both cases take the same time.
        expected = row["token_hash"] if row else hash_secret(new_curator_token())
        return hmac.compare_digest(presented, expected) and row is not None
