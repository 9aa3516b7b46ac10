"""Configuration layering, the database's secrets and the readings' published schema."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import jsonschema
import pytest
from fixed_clock import FIXED_NOW, FakeClock

from vrculture.server.config import ServerConfig
from vrculture.server.readings import FeedSpec, ReadingError, validate_reading
from vrculture.server.settings import ConfigError, load_config
from vrculture.server.storage import DB_NAME, Store, hash_secret
from vrculture.server.store_choice import server_store

SCHEMAS = Path(__file__).resolve().parents[2] / "vrculture" / "schemas"


def test_toml_then_environment_then_flags(tmp_path):
    toml = tmp_path / "vrculture.toml"
    toml.write_text('host = "0.0.0.0"\nport = 9000\nallowed_origins = ["https://a.example"]\n'
                    'data_dir = "/srv/data"\n[rooms]\ncapacity = 30\n')
    config = load_config(toml, environ={"VRCULTURE_PORT": "9100",
                                        "VRCULTURE_ALLOWED_ORIGINS": "https://b.example, "
                                                                     "https://c.example"},
                         overrides={"port": 9200, "host": None})
    assert config.host == "0.0.0.0"
    assert config.port == 9200
    assert config.allowed_origins == ["https://b.example", "https://c.example"]
    assert config.data_dir == Path("/srv/data")
    assert config.rooms.capacity == 30


@pytest.mark.parametrize(("text", "env", "message"), [
    ("port = 'x'", {}, "port"),
    ("colour = 'red'", {}, "unknown setting 'colour'"),
    ("[rooms]\ncapacity = -1", {}, "capacity"),
    ("[rooms]\nwho = 1", {}, "who"),
    # out of range, not a whole number, or not finite: refused, never clamped, truncated or
    # left to crash later (inf once ended in an OverflowError traceback, tick_hz = inf in a
    # busy loop)
    ("[rooms]\ncapacity = 2001", {}, "capacity: expected a whole number from 1 to 2000"),
    ("[rooms]\ncapacity = 1.5", {}, "capacity: expected a whole number"),
    ("[rooms]\ncapacity = inf", {}, "capacity"),
    ("[rooms]\ntick_hz = inf", {}, "tick_hz"),
    ("[rooms]\ntick_hz = nan", {}, "tick_hz"),
    ("[rooms]\ntick_hz = 100000", {}, "tick_hz"),
    ("[rooms]\nmax_message_bytes = 1e12", {}, "max_message_bytes"),
    ("max_connections = inf", {}, "max_connections"),
    ("port = inf", {}, "port"),
    ("allowed_origins = ['museum.example']", {}, "http"),
    ("port = ", {}, "not valid TOML"),
    ("", {"VRCULTURE_SELF_SIGNED": "maybe"}, "self_signed"),
    ("tls_cert = '/a.pem'", {}, "together"),
])
def test_bad_settings_name_the_setting(tmp_path, text, env, message):
    toml = tmp_path / "bad.toml"
    toml.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(toml, environ=env)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "none.toml", environ={})


def test_secrets_are_stored_hashed_and_rotated(tmp_path):
    store = Store.open(tmp_path, clock=FakeClock())
    token = store.add_feed("lamp", kind="street-lighting")
    code = store.add_guide_code("demo", "anna")
    dump = "\n".join(store.conn.iterdump())
    assert token not in dump and code not in dump
    assert hash_secret(token) in dump
    assert store.check_feed_token("lamp", token) is not None
    assert store.check_feed_token("lamp", token + "x") is None
    assert store.check_feed_token("other", token) is None
    new = store.rotate_feed_token("lamp")
    assert store.check_feed_token("lamp", token) is None
    assert store.check_feed_token("lamp", new) is not None
    with pytest.raises(KeyError):
        store.add_feed("lamp")
    with pytest.raises(KeyError):
        store.rotate_feed_token("nope")
    mode = store.conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()


async def test_guide_codes_verify_after_refresh(tmp_path, backend):
    config = ServerConfig(data_dir=tmp_path, database=backend)
    async_store = server_store(config, clock=FakeClock())
    await async_store.open()
    store = server_store(config, clock=FakeClock())  # another process's handle (`vrculture guides`)
    await store.open()
    code = await store.add_guide_code("demo", "anna")
    assert not async_store.verify("demo", code)  # not seen until the next refresh
    await async_store.refresh_guide_codes()
    assert async_store.verify("demo", code)
    assert async_store.verify("demo", code.lower().replace("-", " "))  # typed loosely
    assert not async_store.verify("other", code)
    assert not async_store.verify("demo", "AAAA-BBBB-CCCC-DDDD")
    await store.remove_guide_codes("demo", "anna")
    await async_store.refresh_guide_codes()
    assert not async_store.verify("demo", code)
    await store.close()
    await async_store.close()


async def test_the_store_stamps_what_it_writes_with_the_apps_clock(tmp_path, backend):
    store = server_store(ServerConfig(data_dir=tmp_path, database=backend), FakeClock())
    await store.open()
    try:
        await store.add_guide_code("demo", "anna")
        assert await store.guide_codes() == [("demo", "anna", FIXED_NOW)]
    finally:
        await store.remove_guide_codes("demo")
        await store.close()


def test_newer_database_is_refused(tmp_path):
    store = Store.open(tmp_path, clock=FakeClock())
    store.conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    store.close()
    with pytest.raises(sqlite3.DatabaseError, match="newer"):
        Store.open(tmp_path, clock=FakeClock())


NOW = FIXED_NOW  # 2026-06-15T12:00:00Z; every sample's time is at or before it
SAMPLES = [
    ("street-lighting", {"t": NOW, "lamp": "L", "presence": False, "level": 0, "power_w": 0}),
    ("street-lighting", {"t": NOW, "lamp": "L", "presence": True, "level": 100, "power_w": 30,
                         "rated_w": 60}),
    ("street-lighting", {"t": NOW, "lamp": "L", "presence": True, "level": 100.5, "power_w": 1}),
    ("street-lighting", {"t": NOW, "lamp": "L", "presence": 1, "level": 10, "power_w": 1}),
    ("street-lighting", {"t": NOW, "lamp": "L", "presence": True, "level": 10}),
    ("smart-bin", {"t": "2026-06-14T08:00:00Z", "bin": "B", "fill_pct": 50, "compactions": 2,
                   "emptied": False}),
    ("smart-bin", {"t": NOW, "bin": "B", "fill_pct": 50, "compactions": 2, "emptied": False,
                   "x": 1}),
    ("smart-bin", {"t": NOW, "bin": "B", "fill_pct": 50, "compactions": 2.5, "emptied": True}),
    ("eye-tracking-screening", {"t": NOW, "period": "2026-W48", "sessions": 5, "referred": 1}),
    ("eye-tracking-screening", {"t": NOW, "period": "2026-W48", "sessions": 5, "referred": 1,
                                "child": "x"}),
    ("eye-tracking-screening", {"t": NOW, "period": "", "sessions": 5, "referred": 1}),
    ("eye-tracking-screening", {"t": NOW, "period": "Anna S", "sessions": 5, "referred": 1}),
    ("eye-tracking-screening", {"t": NOW, "period": "2026-11", "sessions": 5, "referred": 1}),
    ("gauge", {"t": NOW, "value": 3.5}),
    ("gauge", {"t": NOW, "value": "3.5"}),
    ("gauge", {"t": True, "value": 3.5}),
]


@pytest.mark.parametrize(("kind", "reading"), SAMPLES)
def test_published_schema_agrees_with_the_validator(kind, reading):
    schema = json.loads((SCHEMAS / "readings.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    kind_schema = {**schema, "$ref": f"#/$defs/{kind}"}
    schema_ok = jsonschema.Draft202012Validator(kind_schema).is_valid(reading)
    try:
        validate_reading(reading, FeedSpec(kind), NOW)
        code_ok = True
    except ReadingError:
        code_ok = False
    assert schema_ok == code_ok


def test_the_database_is_the_owners_alone_whatever_the_umask(tmp_path):
    """Unlike published files (which follow the umask so a web server can read them), the
    database holds token hashes and the audit: nobody else on the machine reads it."""
    old = os.umask(0o022)
    try:
        store = Store.open(tmp_path / "data", clock=FakeClock())
        store.add_feed("street-lights")  # a write: the WAL file exists now
    finally:
        os.umask(old)
    try:
        written = [p for p in (tmp_path / "data").iterdir() if p.name.startswith(DB_NAME)]
        assert written and all(p.stat().st_mode & 0o077 == 0 for p in written), \
            {p.name: oct(p.stat().st_mode) for p in written}
    finally:
        store.close()
