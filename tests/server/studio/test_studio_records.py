"""The studio's records (records.py) on SQLite and on PostgreSQL (the `backend` fixture): the
same answers to the same calls — unique names, hashed secrets, sessions that expire and end
with a password change or the account, memberships, and the audit log newest first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fixed_clock import FakeClock

from vrculture.server.storage import AsyncStore, hash_secret
from vrculture.server.storage_postgres import MIGRATIONS, SCHEMA_VERSION, PostgresStore
from vrculture.server.studio.records import PostgresRecords, SqliteRecords, StudioRecords
from vrculture.server.studio.sessions import LiveSession, SessionRules, new_session_id

NOW = 1_800_000_000.0
RULES = SessionRules(idle_seconds=100.0, absolute_seconds=1000.0)


@pytest.fixture
async def records(backend: str | None, tmp_path: Path) -> AsyncIterator[StudioRecords]:
    opened: StudioRecords
    if backend is None:
        opened = SqliteRecords(AsyncStore(tmp_path, clock=FakeClock()), own=True)
    else:
        store = PostgresStore(backend, clock=FakeClock())
        await store.open()
        opened = PostgresRecords(store, own=True)
    await opened.prepare()
    yield opened
    await opened.close()


async def raw_rows(records: StudioRecords, table: str) -> list[tuple[Any, ...]]:
    """Every row of a studio table as the database holds it."""
    sql = f"SELECT * FROM {table}"
    if isinstance(records, SqliteRecords):
        return await records.store.run(lambda store: store.conn.execute(sql).fetchall())
    assert isinstance(records, PostgresRecords)
    return [tuple(row) for row in await records.store.run(lambda conn: conn.fetch(sql))]


async def test_accounts_have_unique_names(records):
    await records.add_curator("bob", "hash-b", NOW)
    await records.add_curator("alice", "hash-a", NOW + 1)
    with pytest.raises(KeyError):
        await records.add_curator("alice", "other", NOW + 2)
    assert [c.name for c in await records.curators()] == ["alice", "bob"]
    alice = await records.curator("alice")
    assert alice is not None and alice.must_change and alice.created_at == NOW + 1
    assert await records.password_hash_of("alice") == "hash-a"
    assert await records.password_hash_of("nobody") is None
    assert await records.curator("nobody") is None


async def test_a_password_change_ends_the_curators_sessions(records):
    await records.add_curator("alice", "hash-a", NOW)
    await records.add_curator("bob", "hash-b", NOW)
    mine, theirs = new_session_id(), new_session_id()
    await records.create_session(mine, "alice", NOW)
    await records.create_session(theirs, "bob", NOW)
    await records.set_password("alice", "hash-a2", NOW + 1, one_time=False)
    assert await records.touch_session(mine, NOW + 2, RULES) is None
    assert await records.touch_session(theirs, NOW + 2, RULES) == LiveSession("bob", True)
    alice = await records.curator("alice")
    assert alice is not None and not alice.must_change
    assert await records.password_hash_of("alice") == "hash-a2"
    own = new_session_id()  # a session after the change has the whole studio open
    await records.create_session(own, "alice", NOW + 2)
    assert await records.touch_session(own, NOW + 2, RULES) == LiveSession("alice", False)
    await records.set_password("alice", "hash-a3", NOW + 3, one_time=True)
    alice = await records.curator("alice")
    assert alice is not None and alice.must_change
    assert await records.touch_session(own, NOW + 3, RULES) is None  # reset ends it too
    with pytest.raises(KeyError):
        await records.set_password("nobody", "hash", NOW, one_time=True)


async def test_sessions_are_stored_hashed_and_expire(records):
    await records.add_curator("alice", "hash-a", NOW)
    session_id = new_session_id()
    await records.create_session(session_id, "alice", NOW)
    stored = repr(await raw_rows(records, "studio_sessions"))
    assert session_id not in stored and hash_secret(session_id) in stored
    assert await records.touch_session(new_session_id(), NOW, RULES) is None
    # Used every 90 s it lives on past the idle limit, until the absolute one.
    for step in range(1, 11):
        live = await records.touch_session(session_id, NOW + 90 * step, RULES)
        assert live == LiveSession("alice", True)
    assert await records.touch_session(session_id, NOW + 1001, RULES) is None
    assert await raw_rows(records, "studio_sessions") == []  # deleted as it was met

    idle = new_session_id()
    await records.create_session(idle, "alice", NOW)
    assert await records.touch_session(idle, NOW + 101, RULES) is None
    await records.delete_session(idle)  # already gone: no error


async def test_prune_and_sign_out(records):
    await records.add_curator("alice", "hash-a", NOW)
    old, fresh = new_session_id(), new_session_id()
    await records.create_session(old, "alice", NOW)
    await records.create_session(fresh, "alice", NOW + 150)
    assert await records.prune_sessions(NOW + 160, RULES) == 1
    assert await records.touch_session(fresh, NOW + 160, RULES) == LiveSession("alice", True)
    await records.delete_session(fresh)
    assert await records.touch_session(fresh, NOW + 161, RULES) is None


async def test_removing_a_curator_removes_their_sessions_and_memberships(records):
    await records.add_curator("alice", "hash-a", NOW)
    await records.add_curator("bob", "hash-b", NOW)
    session_id = new_session_id()
    await records.create_session(session_id, "alice", NOW)
    assert await records.add_member("sjostad", "alice", "alice", NOW)
    assert await records.add_member("sjostad", "bob", "alice", NOW + 1)
    await records.add_entry(NOW, "alice", "sjostad", "create", {})
    assert await records.remove_curator("alice")
    assert not await records.remove_curator("alice")
    assert await records.touch_session(session_id, NOW + 1, RULES) is None
    assert await records.members("sjostad") == ["bob"]
    assert [e["curator"] for e in await records.entries("sjostad")] == ["alice"]  # kept
    await records.add_curator("alice", "hash-new", NOW + 5)  # the same name starts afresh
    assert await records.members("sjostad") == ["bob"]
    assert await records.touch_session(session_id, NOW + 6, RULES) is None


async def test_members_in_the_order_they_were_added(records):
    for name in ("alice", "bob", "carol"):
        await records.add_curator(name, "hash", NOW)
    assert await records.members("sjostad") == []
    assert await records.add_member("sjostad", "carol", "carol", NOW)
    assert await records.add_member("sjostad", "alice", "carol", NOW + 1)
    assert not await records.add_member("sjostad", "alice", "bob", NOW + 2)
    assert await records.add_member("other", "bob", "bob", NOW)
    assert await records.members("sjostad") == ["carol", "alice"]
    assert await records.members("other") == ["bob"]


async def test_audit_entries_newest_first_in_writing_order(records):
    await records.add_entry(NOW, "alice", "sjostad", "create", {"title": "Sjöstaden"})
    await records.add_entry(NOW + 5, "bob", "sjostad", "edit", {"fields": ["title"]})
    await records.add_entry(NOW + 5, "alice", "sjostad", "publish", {"version": 1})
    await records.add_entry(NOW + 9, "alice", None, "sign_in", {})
    await records.add_entry(NOW + 9, "carol", "other", "edit", {})
    found = await records.entries("sjostad")
    assert [(e["at"], e["curator"], e["action"]) for e in found] == [
        (NOW + 5, "alice", "publish"), (NOW + 5, "bob", "edit"), (NOW, "alice", "create")]
    assert found[-1] == {"at": NOW, "curator": "alice", "exhibition": "sjostad",
                         "action": "create", "detail": {"title": "Sjöstaden"}}
    assert [e["action"] for e in await records.entries("sjostad", limit=1)] == ["publish"]
    assert await records.last_change("sjostad", ("edit", "create")) == ("bob", NOW + 5)
    assert await records.last_change("sjostad", ("rollback",)) is None
    assert await records.entries("nothing") == []


async def test_prepare_twice_keeps_the_records(records):
    await records.add_curator("alice", "hash-a", NOW)
    await records.prepare()
    assert [c.name for c in await records.curators()] == ["alice"]


async def test_a_session_for_a_curator_removed_meanwhile_is_not_kept(postgres_dsn):
    """On PostgreSQL a sign-in on one machine can race a removal on another: the session
    insert then refers to no curator and is dropped, never left live."""
    store = PostgresStore(postgres_dsn, clock=FakeClock())
    await store.open()
    records = PostgresRecords(store, own=True)
    try:
        session_id = new_session_id()
        await records.create_session(session_id, "gone", NOW)
        assert await records.touch_session(session_id, NOW, RULES) is None
        assert not await records.add_member("sjostad", "gone", "gone", NOW)
        conn = await asyncpg.connect(postgres_dsn)
        try:
            assert await conn.fetchval("SELECT count(*) FROM studio_sessions") == 0
        finally:
            await conn.close()
    finally:
        await records.close()


async def test_a_version_1_database_gains_the_studio_tables_and_keeps_its_feeds(postgres_dsn):
    """A database written before the studio moved to PostgreSQL migrates when it opens."""
    conn = await asyncpg.connect(postgres_dsn)
    try:
        await conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        await conn.execute(MIGRATIONS[0])
        await conn.execute("INSERT INTO schema_version VALUES (1)")
        await conn.execute("INSERT INTO feeds (id, token_hash, created_at) VALUES"
                           " ('lamps', 'h', 1.0)")
    finally:
        await conn.close()
    store = PostgresStore(postgres_dsn, clock=FakeClock())
    await store.open()
    records = PostgresRecords(store, own=True)
    try:
        assert await store.feed("lamps") is not None
        await records.add_curator("alice", "hash-a", NOW)
        assert [c.name for c in await records.curators()] == ["alice"]
        versions = await store.run(lambda conn: conn.fetch("SELECT version FROM schema_version"))
        assert [row["version"] for row in versions] == [1, 2] == list(range(1, SCHEMA_VERSION + 1))
    finally:
        await records.close()
