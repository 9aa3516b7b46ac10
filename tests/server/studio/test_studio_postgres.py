"""The studio on a server whose database is PostgreSQL (`--database`): curators sign in through
the real route, their session, memberships and audit entries are in PostgreSQL, and a session
made on one machine is good on another (two apps on one database, each with its own data
folder, as behind a load balancer)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from fixed_clock import FakeClock

from vrculture.server.app import create_app
from vrculture.server.config import ServerConfig
from vrculture.server.storage import DB_NAME, hash_secret
from vrculture.server.storage_postgres import PostgresStore
from vrculture.server.studio.records import PostgresRecords
from vrculture.server.webfiles import default_web_dir

from .conftest import (
    NEWCOMER,
    ONE_TIME_PASSWORD,
    PASSWORDS,
    START,
    Clock,
    Curator,
    add_curators,
    create,
    sign_in_response,
)


@pytest.fixture
async def records(postgres_dsn: str, password_hashes: dict[str, str]
                  ) -> AsyncIterator[PostgresRecords]:
    """The database's studio records, with the curators added (as `vrculture curators add
    --database` would)."""
    store = PostgresStore(postgres_dsn, clock=FakeClock())
    await store.open()
    opened = PostgresRecords(store, own=True)
    await add_curators(opened, password_hashes)
    yield opened
    await opened.close()


@pytest.fixture
def machine(aiohttp_client, tmp_path: Path, postgres_dsn: str, records: PostgresRecords,
            clock: Clock) -> Callable[[str], Any]:
    """A server app on the database, with a data folder of its own."""
    async def start(name: str) -> Any:
        config = ServerConfig(bundles=[], data_dir=tmp_path / name, web_dir=default_web_dir(),
                              database=postgres_dsn)
        return await aiohttp_client(create_app(config, clock=clock, watch_interval=0.1),
                                    cookie_jar=aiohttp.DummyCookieJar())

    return start


async def sign_in(client: Any, name: str) -> Curator:
    response = await sign_in_response(client, name, PASSWORDS[name])
    assert response.status == 201, await response.text()
    body = await response.json()
    return Curator(client, name, response.cookies["vrculture_studio"].value, body["csrf_token"])


async def test_sign_in_through_the_route_keeps_the_session_in_postgresql(
        machine, records, postgres_dsn, tmp_path):
    client = await machine("a")
    alice = await sign_in(client, "alice")
    assert (await (await alice.request("GET", "/studio/api/session")).json())["curator"] == "alice"
    conn = await asyncpg.connect(postgres_dsn)
    try:
        stored = repr([tuple(r) for r in await conn.fetch("SELECT * FROM studio_sessions")])
        accounts = repr([tuple(r) for r in await conn.fetch("SELECT * FROM studio_curators")])
    finally:
        await conn.close()
    assert hash_secret(alice.session_id) in stored and alice.session_id not in stored
    assert PASSWORDS["alice"] not in accounts
    # Nothing of the studio's records went to the data folder's SQLite.
    local = b"".join(p.read_bytes() for p in (tmp_path / "a").glob(f"{DB_NAME}*"))
    assert hash_secret(alice.session_id).encode() not in local

    response = await create(alice)
    assert response.status == 201, await response.text()
    assert await records.members("sjostad") == ["alice"]
    assert [e["action"] for e in await records.entries("sjostad")] == ["create"]


async def test_a_session_made_on_one_machine_is_good_on_the_other(machine, records):
    first, second = await machine("a"), await machine("b")
    alice = await sign_in(first, "alice")
    on_second = Curator(second, "alice", alice.session_id, alice.csrf)
    answer = await on_second.request("GET", "/studio/api/session")
    assert answer.status == 200, await answer.text()
    assert (await answer.json())["curator"] == "alice"

    signed_out = await on_second.request("DELETE", "/studio/api/session")
    assert signed_out.status == 204
    assert (await alice.request("GET", "/studio/api/session")).status == 401


async def test_removing_a_curator_on_one_machine_ends_their_session_on_the_other(
        machine, records):
    first, second = await machine("a"), await machine("b")
    bob = await sign_in(first, "bob")
    assert await records.remove_curator("bob")  # `vrculture curators remove bob --database`
    on_second = Curator(second, "bob", bob.session_id, bob.csrf)
    assert (await on_second.request("GET", "/studio/api/session")).status == 401
    assert (await bob.request("GET", "/studio/api/session")).status == 401


async def test_a_one_time_password_opens_only_its_replacement_on_every_machine(
        machine, records, one_time_hash):
    await records.add_curator(NEWCOMER, one_time_hash, START)  # `curators add --database`
    first, second = await machine("a"), await machine("b")
    response = await sign_in_response(first, NEWCOMER, ONE_TIME_PASSWORD)
    assert response.status == 201
    body = await response.json()
    assert body["must_change_password"] is True
    newcomer = Curator(first, NEWCOMER, response.cookies["vrculture_studio"].value,
                       body["csrf_token"])
    on_second = Curator(second, NEWCOMER, newcomer.session_id, newcomer.csrf)
    for curator in (newcomer, on_second):
        refused = await create(curator)
        assert refused.status == 403
        assert (await refused.json())["code"] == "password_change_required"

    done = await on_second.request("POST", "/studio/api/session/password", json={
        "current": ONE_TIME_PASSWORD, "new": "a-postgres-password"})
    assert done.status == 200, await done.text()
    changed = await done.json()
    assert changed["must_change_password"] is False
    assert (await newcomer.request("GET", "/studio/api/session")).status == 401  # ended
    fresh = Curator(first, NEWCOMER, done.cookies["vrculture_studio"].value,
                    changed["csrf_token"])
    created = await create(fresh)  # the new session, on the other machine too
    assert created.status == 201, await created.text()
    assert (await sign_in_response(second, NEWCOMER, ONE_TIME_PASSWORD)).status == 401
