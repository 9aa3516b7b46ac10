"""The studio's tables in the data folder's SQLite database, beside (never inside) storage.py's.

Plain, portable SQL; the same tables in PostgreSQL are schema version 2 of
storage_postgres.py (records.py chooses between the two). Every function here takes the
`storage.Store` the executor thread hands it and uses its connection; none is called on the
event loop.
"""

from __future__ import annotations

import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS studio_curators (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,      -- argon2id, with its own salt and parameters
    must_change INTEGER NOT NULL,     -- 1 while the printed one-time password is in use
    created_at REAL NOT NULL,
    password_set_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS studio_sessions (
    id_hash TEXT PRIMARY KEY,         -- SHA-256 of the cookie's random value
    curator TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS studio_members (
    exhibition TEXT NOT NULL,
    curator TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at REAL NOT NULL,
    PRIMARY KEY (exhibition, curator)
);
CREATE TABLE IF NOT EXISTS studio_audit (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    curator TEXT NOT NULL,
    exhibition TEXT,                  -- NULL: not about one exhibition (sign-in, password)
    action TEXT NOT NULL,
    detail TEXT NOT NULL              -- JSON
);
CREATE INDEX IF NOT EXISTS studio_audit_by_exhibition ON studio_audit (exhibition, at);
"""


def create_tables(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)
