"""The studio's records (curator accounts, sessions, memberships, the audit log) behind one
async interface, in the store the server's settings name: the data folder's SQLite, or the
PostgreSQL of `--database`, so that every machine behind a load balancer knows every curator
and session.

Both keep the same promises: a name is unique, passwords are stored as argon2id hashes and
session ids as SHA-256 hashes, removing a curator ends their sessions and memberships (the
audit log keeps what they did), a password change ends their sessions, and audit entries come
back newest first in the order they were written.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any, Protocol

from vrculture.server.storage import AsyncStore, hash_secret
from vrculture.server.studio import accounts, audit, members, sessions
from vrculture.server.studio.accounts import Curator
from vrculture.server.studio.schema import create_tables
from vrculture.server.studio.sessions import LiveSession, SessionRules

if TYPE_CHECKING:
    import asyncpg

    from vrculture.server.config import ServerConfig
    from vrculture.server.storage_postgres import PostgresStore


class StudioRecords(Protocol):
    async def prepare(self) -> None:
        """Make sure the tables exist (before the first request)."""

    async def close(self) -> None:
        """Release what this object opened itself (never a store it was handed)."""

    # accounts
    async def add_curator(self, name: str, password_hash: str, now: float) -> None:
        """KeyError if the name is taken."""

    async def set_password(self, name: str, password_hash: str, now: float, *,
                           one_time: bool) -> None:
        """Replace a password and end the curator's sessions; KeyError if unknown."""

    async def remove_curator(self, name: str) -> bool: ...

    async def password_hash_of(self, name: str) -> str | None: ...

    async def curator(self, name: str) -> Curator | None: ...

    async def curators(self) -> list[Curator]: ...

    # sessions
    async def create_session(self, session_id: str, curator: str, now: float) -> None: ...

    async def touch_session(self, session_id: str, now: float, rules: SessionRules
                            ) -> LiveSession | None:
        """The curator of a live session (now marked used) and whether their one-time
        password is still in use, or None."""

    async def delete_session(self, session_id: str) -> None: ...

    async def prune_sessions(self, now: float, rules: SessionRules) -> int: ...

    # members
    async def add_member(self, exhibition: str, curator: str, added_by: str, now: float
                         ) -> bool:
        """False if already a member (or the curator is gone)."""

    async def members(self, exhibition: str) -> list[str]: ...

    # audit log
    async def add_entry(self, at: float, curator: str, exhibition: str | None, action: str,
                        detail: dict[str, Any]) -> None: ...

    async def entries(self, exhibition: str, limit: int = audit.MAX_ENTRIES
                      ) -> list[dict[str, Any]]:
        """The newest `limit` entries about an exhibition, newest first."""

    async def last_change(self, exhibition: str, actions: tuple[str, ...]
                          ) -> tuple[str, float] | None: ...


class SqliteRecords:
    """The records in the data folder's SQLite: the functions of accounts, sessions, members
    and audit, run on the AsyncStore's one thread."""

    def __init__(self, store: AsyncStore, *, own: bool = False) -> None:
        self.store = store
        self._own = own  # a store opened for the studio alone is closed with it

    async def prepare(self) -> None:
        await self.store.run(lambda store: create_tables(store.conn))

    async def close(self) -> None:
        if self._own:
            await self.store.close()

    async def add_curator(self, name: str, password_hash: str, now: float) -> None:
        await self.store.run(accounts.add_curator, name, password_hash, now)

    async def set_password(self, name: str, password_hash: str, now: float, *,
                           one_time: bool) -> None:
        await self.store.run(accounts.set_password, name, password_hash, now,
                             one_time=one_time)

    async def remove_curator(self, name: str) -> bool:
        return await self.store.run(accounts.remove_curator, name)

    async def password_hash_of(self, name: str) -> str | None:
        return await self.store.run(accounts.password_hash_of, name)

    async def curator(self, name: str) -> Curator | None:
        return await self.store.run(accounts.curator, name)

    async def curators(self) -> list[Curator]:
        return await self.store.run(accounts.curators)

    async def create_session(self, session_id: str, curator: str, now: float) -> None:
        await self.store.run(sessions.create_session, session_id, curator, now)

    async def touch_session(self, session_id: str, now: float, rules: SessionRules
                            ) -> LiveSession | None:
        return await self.store.run(sessions.touch_session, session_id, now, rules)

    async def delete_session(self, session_id: str) -> None:
        await self.store.run(sessions.delete_session, session_id)

    async def prune_sessions(self, now: float, rules: SessionRules) -> int:
        return await self.store.run(sessions.prune_sessions, now, rules)

    async def add_member(self, exhibition: str, curator: str, added_by: str, now: float
                         ) -> bool:
        return await self.store.run(members.add_member, exhibition, curator, added_by, now)

    async def members(self, exhibition: str) -> list[str]:
        return await self.store.run(members.members, exhibition)

    async def add_entry(self, at: float, curator: str, exhibition: str | None, action: str,
                        detail: dict[str, Any]) -> None:
        await self.store.run(audit.add_entry, at, curator, exhibition, action, detail)

    async def entries(self, exhibition: str, limit: int = audit.MAX_ENTRIES
                      ) -> list[dict[str, Any]]:
        return await self.store.run(audit.entries, exhibition, limit)

    async def last_change(self, exhibition: str, actions: tuple[str, ...]
                          ) -> tuple[str, float] | None:
        return await self.store.run(audit.last_change, exhibition, actions)


def _curator(row: asyncpg.Record) -> Curator:
    return Curator(row["name"], bool(row["must_change"]), row["created_at"])


def _count(status: str) -> int:
    """The row count of a command tag such as 'DELETE 3'."""
    return int(status.rsplit(" ", 1)[-1])


class PostgresRecords:
    """The records in the server's PostgreSQL, on the feed store's pool (its tables are that
    store's schema version 2). Sessions and memberships reference their curator with ON DELETE
    CASCADE: a sign-in racing a removal on another machine cannot leave a live session."""

    def __init__(self, store: PostgresStore, *, own: bool = False) -> None:
        self.store = store
        self._own = own

    async def prepare(self) -> None:
        """Nothing: the store's migrations created the tables when it opened."""

    async def close(self) -> None:
        if self._own:
            await self.store.close()

    # accounts -----------------------------------------------------------------------------
    async def add_curator(self, name: str, password_hash: str, now: float) -> None:
        import asyncpg

        try:
            await self.store.run(lambda conn: conn.execute(
                "INSERT INTO studio_curators (name, password_hash, must_change, created_at,"
                " password_set_at) VALUES ($1, $2, true, $3, $3)", name, password_hash, now))
        except asyncpg.UniqueViolationError as error:
            raise KeyError(name) from error

    async def set_password(self, name: str, password_hash: str, now: float, *,
                           one_time: bool) -> None:
        async def change(conn: asyncpg.Connection) -> int:
            async with conn.transaction():
                changed = _count(await conn.execute(
                    "UPDATE studio_curators SET password_hash=$1, must_change=$2,"
                    " password_set_at=$3 WHERE name=$4", password_hash, one_time, now, name))
                await conn.execute("DELETE FROM studio_sessions WHERE curator=$1", name)
            return changed

        if await self.store.run(change) == 0:
            raise KeyError(name)

    async def remove_curator(self, name: str) -> bool:
        # Sessions and memberships go with it (ON DELETE CASCADE), in the same statement.
        status = await self.store.run(lambda conn: conn.execute(
            "DELETE FROM studio_curators WHERE name=$1", name))
        return _count(status) > 0

    async def password_hash_of(self, name: str) -> str | None:
        found = await self.store.run(lambda conn: conn.fetchval(
            "SELECT password_hash FROM studio_curators WHERE name=$1", name))
        return str(found) if found is not None else None

    async def curator(self, name: str) -> Curator | None:
        row = await self.store.run(lambda conn: conn.fetchrow(
            "SELECT name, must_change, created_at FROM studio_curators WHERE name=$1", name))
        return _curator(row) if row else None

    async def curators(self) -> list[Curator]:
        rows = await self.store.run(lambda conn: conn.fetch(
            "SELECT name, must_change, created_at FROM studio_curators ORDER BY name"))
        return [_curator(row) for row in rows]

    # sessions -----------------------------------------------------------------------------
    async def create_session(self, session_id: str, curator: str, now: float) -> None:
        """A session of a curator removed meanwhile is not stored (it could not be used)."""
        import asyncpg

        async def insert(conn: asyncpg.Connection) -> None:
            with contextlib.suppress(asyncpg.ForeignKeyViolationError):
                await conn.execute(
                    "INSERT INTO studio_sessions (id_hash, curator, created_at, last_seen)"
                    " VALUES ($1, $2, $3, $3)", hash_secret(session_id), curator, now)

        await self.store.run(insert)

    async def touch_session(self, session_id: str, now: float, rules: SessionRules
                            ) -> LiveSession | None:
        id_hash = hash_secret(session_id)  # looked up by hash: the id is never compared

        async def touch(conn: asyncpg.Connection) -> LiveSession | None:
            # One statement: the session is marked used only if it is still live.
            found = await conn.fetchrow(
                "UPDATE studio_sessions s SET last_seen=$2 FROM studio_curators c"
                " WHERE s.id_hash=$1 AND c.name = s.curator"
                " AND $2 - s.last_seen <= $3 AND $2 - s.created_at <= $4"
                " RETURNING s.curator, c.must_change",
                id_hash, now, rules.idle_seconds, rules.absolute_seconds)
            if found is None:  # unknown or expired: an expired one goes now
                await conn.execute("DELETE FROM studio_sessions WHERE id_hash=$1", id_hash)
                return None
            return LiveSession(str(found["curator"]), bool(found["must_change"]))

        return await self.store.run(touch)

    async def delete_session(self, session_id: str) -> None:
        await self.store.run(lambda conn: conn.execute(
            "DELETE FROM studio_sessions WHERE id_hash=$1", hash_secret(session_id)))

    async def prune_sessions(self, now: float, rules: SessionRules) -> int:
        status = await self.store.run(lambda conn: conn.execute(
            "DELETE FROM studio_sessions WHERE last_seen < $1 OR created_at < $2",
            now - rules.idle_seconds, now - rules.absolute_seconds))
        return _count(status)

    # members ------------------------------------------------------------------------------
    async def add_member(self, exhibition: str, curator: str, added_by: str, now: float
                         ) -> bool:
        import asyncpg

        async def insert(conn: asyncpg.Connection) -> bool:
            try:
                return _count(await conn.execute(
                    "INSERT INTO studio_members (exhibition, curator, added_by, added_at)"
                    " VALUES ($1, $2, $3, $4) ON CONFLICT (exhibition, curator) DO NOTHING",
                    exhibition, curator, added_by, now)) > 0
            except asyncpg.ForeignKeyViolationError:  # the curator was removed meanwhile
                return False

        return await self.store.run(insert)

    async def members(self, exhibition: str) -> list[str]:
        rows = await self.store.run(lambda conn: conn.fetch(
            "SELECT curator FROM studio_members WHERE exhibition=$1"
            " ORDER BY added_at, curator", exhibition))
        return [str(row["curator"]) for row in rows]

    # audit log ----------------------------------------------------------------------------
    async def add_entry(self, at: float, curator: str, exhibition: str | None, action: str,
                        detail: dict[str, Any]) -> None:
        text = json.dumps(detail, ensure_ascii=False, separators=(",", ":"))
        await self.store.run(lambda conn: conn.execute(
            "INSERT INTO studio_audit (at, curator, exhibition, action, detail)"
            " VALUES ($1, $2, $3, $4, $5)", at, curator, exhibition, action, text))

    async def entries(self, exhibition: str, limit: int = audit.MAX_ENTRIES
                      ) -> list[dict[str, Any]]:
        rows = await self.store.run(lambda conn: conn.fetch(
            "SELECT at, curator, action, detail FROM studio_audit WHERE exhibition=$1"
            " ORDER BY at DESC, id DESC LIMIT $2", exhibition, limit))
        return [{"at": row["at"], "curator": row["curator"], "exhibition": exhibition,
                 "action": row["action"], "detail": json.loads(row["detail"])} for row in rows]

    async def last_change(self, exhibition: str, actions: tuple[str, ...]
                          ) -> tuple[str, float] | None:
        row = await self.store.run(lambda conn: conn.fetchrow(
            "SELECT curator, at FROM studio_audit WHERE exhibition=$1"
            " AND action = ANY($2::text[]) ORDER BY at DESC, id DESC LIMIT 1",
            exhibition, list(actions)))
        return (str(row["curator"]), float(row["at"])) if row else None


def records_for(feed_store: object, config: ServerConfig) -> StudioRecords:
    """The records beside the server's feed store: in its PostgreSQL when it is one, else in
    the data folder's SQLite (the feed store's own handle when it is that)."""
    if isinstance(feed_store, AsyncStore):
        return SqliteRecords(feed_store)
    if config.database:
        from vrculture.server.storage_postgres import PostgresStore

        if isinstance(feed_store, PostgresStore):
            return PostgresRecords(feed_store)
    return SqliteRecords(AsyncStore(config.data_dir), own=True)


async def open_records(config: ServerConfig) -> StudioRecords:
    """Records of their own for one CLI command (close them after): StoreError if the
    PostgreSQL cannot be opened; SQLite raises its own sqlite3.Error or OSError."""
    if not config.database:
        records: StudioRecords = SqliteRecords(AsyncStore(config.data_dir), own=True)
        try:
            await records.prepare()
        except BaseException:
            await records.close()
            raise
        return records
    from vrculture.server.store_choice import MISSING_DRIVER, postgres_driver_missing
    from vrculture.server.store_interface import StoreError

    if postgres_driver_missing():
        raise StoreError(MISSING_DRIVER)
    from vrculture.server.storage_postgres import PostgresStore

    store = PostgresStore(config.database, max_size=1)
    await store.open()  # closes itself when it fails
    return PostgresRecords(store, own=True)
