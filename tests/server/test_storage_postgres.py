"""The PostgreSQL store against a real PostgreSQL (tests/pg_cluster.py): schema and migrations,
hashed secrets, batches, reconnecting after a restart, the DSN's password kept out of logs, the
CLIs with --database, and the app's ingest, history and rooms on it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest
from fixed_clock import FakeClock
from pg_cluster import PostgresCluster

from vrculture.cli import main
from vrculture.server.app import create_app
from vrculture.server.storage import hash_secret
from vrculture.server.storage_postgres import SCHEMA_VERSION, PostgresStore, redacted
from vrculture.server.store_interface import StoreError

from .postgres_fixtures import postgres_bindir
from .test_rooms import EXHIBITION, Server, make_config

NOW = 1_790_000_000.0  # readings' own times; no test here reads the wall clock for them


@pytest.fixture
async def store(postgres_dsn: str) -> AsyncIterator[PostgresStore]:
    opened = PostgresStore(postgres_dsn, clock=FakeClock())
    await opened.open()
    yield opened
    await opened.close()


async def _query(dsn: str, sql: str) -> list[Any]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


async def test_schema_is_created_once_and_versioned(postgres_dsn):
    machines = [PostgresStore(postgres_dsn, clock=FakeClock()) for _ in range(3)]
    await asyncio.gather(*(m.open() for m in machines))  # started together: one migrates
    await asyncio.gather(*(m.close() for m in machines))
    versions = [r[0] for r in await _query(postgres_dsn, "SELECT version FROM schema_version")]
    tables = {r[0] for r in await _query(
        postgres_dsn, "SELECT tablename FROM pg_tables WHERE schemaname='public'")}
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    assert {"feeds", "readings", "guide_codes", "curator_token", "studio_curators",
            "studio_sessions", "studio_members", "studio_audit"} <= tables


async def test_a_newer_schema_is_refused(store, postgres_dsn):
    await _query(postgres_dsn, "INSERT INTO schema_version VALUES (99)")
    with pytest.raises(StoreError, match="newer"):
        await PostgresStore(postgres_dsn, clock=FakeClock()).open()


async def test_secrets_are_stored_hashed_and_checked(store, postgres_dsn):
    token = await store.add_feed("lamp", kind="street-lighting")
    code = await store.add_guide_code("demo", "anna")
    curator = await store.create_curator_token()
    rows = []
    for table in ("feeds", "guide_codes", "curator_token"):
        rows += await _query(postgres_dsn, f"SELECT * FROM {table}")
    dump = "\n".join(str(tuple(row)) for row in rows)
    for secret in (token, code, curator):
        assert secret not in dump
    assert hash_secret(token) in dump and hash_secret(curator) in dump
    assert (await store.check_feed_token("lamp", token)).kind == "street-lighting"
    assert await store.check_feed_token("lamp", token + "x") is None
    assert await store.check_feed_token("other", token) is None
    new = await store.rotate_feed_token("lamp")
    assert await store.check_feed_token("lamp", token) is None
    assert await store.check_feed_token("lamp", new) is not None
    with pytest.raises(KeyError):
        await store.add_feed("lamp")
    with pytest.raises(KeyError):
        await store.rotate_feed_token("nope")
    assert await store.check_curator_token(curator)
    with pytest.raises(KeyError):
        await store.create_curator_token()
    rotated = await store.create_curator_token(rotate=True)
    assert not await store.check_curator_token(curator)
    assert await store.check_curator_token(rotated) and await store.has_curator_token()
    assert not store.verify("demo", code)  # the snapshot is refreshed, not read per call
    await store.refresh_guide_codes()
    assert store.verify("demo", code.lower().replace("-", " "))
    assert not store.verify("other", code)
    assert [(e, label) for e, label, _ in await store.guide_codes()] == [("demo", "anna")]
    assert await store.remove_guide_codes("demo", "anna") == 1


async def test_batches_are_idempotent_and_read_back_in_order(store):
    await store.add_feed("g", kind="gauge")
    first = await store.insert_readings("g", [(NOW + i, {"t": NOW + i, "value": i})
                                              for i in range(250)])
    assert len(first) == 250
    again = await store.insert_readings("g", [
        (NOW + 1, {"t": NOW + 1, "value": -1}),      # stored already
        (NOW + 900, {"t": NOW + 900, "value": 1}),   # new
        (NOW + 900, {"t": NOW + 900, "value": 2}),   # a repeat within the batch
    ])
    assert again == [{"t": NOW + 900, "value": 1}]
    newest = await store.readings("g", since=None, limit=3)
    assert [r["value"] for r in newest] == [248, 249, 1]  # oldest first, the first one kept
    page = await store.readings("g", since=NOW + 9, limit=2)
    assert [r["value"] for r in page] == [10, 11]
    latest = await store.latest_readings(["g", "none"])
    assert latest == {"g": {"t": NOW + 900, "value": 1}}
    assert await store.insert_readings("g", []) == []
    feed, count, newest_t = (await store.feeds())[0]
    assert (feed.id, count, newest_t) == ("g", 251, NOW + 900)
    assert await store.prune_readings(NOW + 100, "g") == 100
    assert await store.prune_readings(NOW + 100) == 0
    assert await store.remove_feed("g", keep_readings=True)
    assert len(await store.readings("g", since=None, limit=1000)) == 151
    assert not await store.remove_feed("g")
    await store.add_feed("g")
    assert await store.remove_feed("g", keep_readings=False)
    assert await store.readings("g", since=None, limit=1000) == []


@pytest.fixture
def own_cluster() -> Iterator[PostgresCluster]:
    """A cluster of the test's own, to restart without disturbing the others' databases."""
    cluster = PostgresCluster(postgres_bindir())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


async def test_the_store_reconnects_when_postgres_restarts(own_cluster):
    store = PostgresStore(own_cluster.dsn("postgres"), clock=FakeClock())
    await store.open()
    try:
        await store.add_feed("g", kind="gauge")
        assert len(await store.insert_readings("g", [(NOW, {"t": NOW})])) == 1
        await asyncio.to_thread(own_cluster.restart)  # the pool's connections all die
        assert len(await store.insert_readings("g", [(NOW + 1, {"t": NOW + 1})])) == 1
        await asyncio.to_thread(own_cluster.stop)
        # Started while the database is down: waits for it (within RECONNECT_SECONDS).
        pending = asyncio.ensure_future(store.insert_readings("g", [(NOW + 2, {"t": NOW + 2})]))
        await asyncio.to_thread(own_cluster.start)
        assert len(await pending) == 1
        assert len(await store.readings("g", since=None, limit=10)) == 3
        await store.ping()
    finally:
        await store.close()


async def test_the_password_is_never_logged_or_shown(own_cluster, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = own_cluster.dsn("postgres").replace(own_cluster.password, "Wr0ngSecretValue")
    with pytest.raises(StoreError) as refused:
        await PostgresStore(wrong, clock=FakeClock()).open()
    assert "Wr0ngSecretValue" not in str(refused.value)
    store = PostgresStore(own_cluster.dsn("postgres"), clock=FakeClock())
    await store.open()
    await asyncio.to_thread(own_cluster.restart)  # logs a warning naming the database
    await store.ping()
    assert own_cluster.password not in repr(store)
    await store.close()
    assert "vrculture:***@127.0.0.1" in redacted(own_cluster.dsn("postgres"))
    for record in caplog.records:
        assert own_cluster.password not in record.getMessage()
        assert "Wr0ngSecretValue" not in record.getMessage()


def test_redacted_hides_every_form_of_password():
    assert redacted("postgresql://u:p%40ss@h:5/db") == "postgresql://u:***@h:5/db"
    assert redacted("postgresql://u@h/db?password=x&sslmode=require") == \
        "postgresql://u@h/db?password=***&sslmode=require"
    assert redacted("postgres://h/db") == "postgres://h/db"


def test_the_clis_manage_the_database_named_by_database(postgres_dsn, tmp_path, capsys):
    data = ["--data", str(tmp_path / "unused"), "--database", postgres_dsn]
    assert main(["feeds", "add", "lamps", "--kind", "street-lighting", *data]) == 0
    token = capsys.readouterr().out.strip()
    assert main(["feeds", "list", *data]) == 0
    assert "lamps" in capsys.readouterr().out
    assert main(["feeds", "rotate", "lamps", *data]) == 0
    assert capsys.readouterr().out.strip() != token
    assert main(["curator", "token", *data]) == 0
    assert main(["curator", "token", *data]) != 0  # exists: --rotate replaces it
    assert main(["guides", "list", *data]) == 0
    assert main(["feeds", "remove", "lamps", *data]) == 0
    assert not (tmp_path / "unused").exists()  # nothing went to a SQLite file
    capsys.readouterr()
    wrong = postgres_dsn.rsplit("@", 1)[0] + "@127.0.0.1:1/none"
    assert main(["feeds", "list", "--database", wrong]) == 1
    error = capsys.readouterr().err
    assert "cannot open the database" in error and postgres_dsn.split(":")[2] not in error


async def test_ingest_history_and_rooms_on_postgresql(tmp_path, aiohttp_client, postgres_dsn):
    config = make_config(tmp_path)
    config.database = postgres_dsn
    setup = PostgresStore(postgres_dsn, clock=FakeClock())
    await setup.open()
    code = await setup.add_guide_code(EXHIBITION, "tests")
    token = await setup.add_feed("lamps", kind="street-lighting", exhibition=EXHIBITION)
    await setup.close()
    app = create_app(config, watch_interval=0.2, clock=FakeClock(NOW))
    server = Server(await aiohttp_client(app), code, token)
    ann = await server.join("Ann")
    assert ann.welcome["readings"] == {}
    headers = {"Authorization": f"Bearer {token}"}
    t0 = NOW - 60  # readings a minute older than the app's clock
    batch = [{"t": t0 + i, "lamp": "l1", "presence": True, "level": i, "power_w": 40}
             for i in range(5)]
    response = await server.http.post("/api/feeds/lamps/readings",
                                      json={"readings": batch + batch[:2]}, headers=headers)
    assert response.status == 201, await response.text()
    assert await response.json() == {"stored": 5, "duplicates": 2}
    levels = [(await ann.expect("reading"))["reading"]["level"]]
    while levels[-1] != 4:  # a room coalesces a feed's readings: the newest always arrives
        levels.append((await ann.expect("reading"))["reading"]["level"])
    assert levels == sorted(levels)
    history = await (await server.http.get("/api/feeds/lamps/readings",
                                           params={"limit": "3"})).json()
    assert [r["level"] for r in history["readings"]] == [2, 3, 4]
    bob = await server.join("Bob")  # the welcome carries the latest reading, from PostgreSQL
    assert bob.welcome["readings"]["lamps"]["level"] == 4
    health = await server.http.get("/healthz")
    assert (await health.json())["database"] == "ok"
    await ann.close()
    await bob.close()


def test_the_database_setting_from_toml_environment_and_flags(tmp_path):
    from vrculture.server.settings import ConfigError, load_config

    settings = tmp_path / "settings.toml"
    settings.write_text('database = "postgresql://city:S3cretPass@db/vr"\n')
    config = load_config(settings, environ={})
    assert config.database == "postgresql://city:S3cretPass@db/vr"
    assert "S3cretPass" not in repr(config)
    from_env = load_config(settings, environ={"VRCULTURE_DATABASE": "postgres://h/x"})
    assert from_env.database == "postgres://h/x"
    flag = load_config(settings, environ={}, overrides={"database": "postgresql://f/y"})
    assert flag.database == "postgresql://f/y"
    assert load_config(None, environ={}).database is None  # the default: SQLite
    with pytest.raises(ConfigError, match="postgresql://") as refused:
        load_config(None, environ={"VRCULTURE_DATABASE": "mysql://u:Hidden@h/x"})
    assert "Hidden" not in str(refused.value)


async def test_health_is_degraded_while_postgres_is_down(tmp_path, aiohttp_client, own_cluster,
                                                         clock):
    config = make_config(tmp_path)
    config.database = own_cluster.dsn("postgres")
    client = await aiohttp_client(create_app(config, watch_interval=0.2, clock=clock))
    assert (await client.get("/healthz")).status == 200
    await asyncio.to_thread(own_cluster.stop)
    down = await client.get("/healthz")
    assert down.status == 503 and (await down.json())["database"] == "unavailable"
    await asyncio.to_thread(own_cluster.start)
    assert (await client.get("/healthz")).status == 200


def test_serve_stops_with_a_message_when_the_database_is_unreachable(tmp_path, bundle):
    import os
    import subprocess
    import sys

    unreachable = "postgresql://city:N0tForLogs@127.0.0.1:1/vrculture"
    done = subprocess.run(
        [sys.executable, "-m", "vrculture", "serve", str(bundle), "--data", str(tmp_path),
         "--port", "0"], env={**os.environ, "VRCULTURE_DATABASE": unreachable},
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "cannot start" in done.stderr and "city:***@127.0.0.1:1" in done.stderr
    assert "N0tForLogs" not in done.stderr and "Traceback" not in done.stderr
