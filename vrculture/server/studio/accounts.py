"""Curator accounts of the studio: names, argon2id password hashes, one-time passwords.

A password is a human secret that can be guessed, unlike the server's random tokens: it is
stored with argon2id (memory-hard: a stolen database costs an attacker 64 MiB and a few dozen
milliseconds per guess per account). Hashing runs off the event loop (`check_password` is
called through `asyncio.to_thread`), never on the database thread either, which would stall
every other query behind it.
"""

from __future__ import annotations

import hmac
import re
import secrets
import sqlite3
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from vrculture.server.storage import Store

NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 256  # argon2 takes any length; a bound keeps a request's cost bounded

_HASHER = PasswordHasher()  # argon2id, RFC 9106's second recommended parameter set
# Verified when the name is unknown, so that an unknown name takes as long as a wrong password.
_DECOY_HASH = _HASHER.hash(secrets.token_urlsafe(24))


class AccountError(Exception):
    """A refusal to show the user as it is (no secret in it)."""


@dataclass(frozen=True)
class Curator:
    name: str
    must_change: bool
    created_at: float


def valid_name(name: str) -> bool:
    return NAME.fullmatch(name) is not None


def new_password() -> str:
    """A one-time password to print: 144 random bits, easy to copy (no padding, URL-safe)."""
    return secrets.token_urlsafe(18)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    """True if `password` matches; an unknown account (None) is checked against a decoy."""
    try:
        matched = _HASHER.verify(password_hash or _DECOY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and password_hash is not None


def check_new_password(password: str) -> None:
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise AccountError(f"a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} "
                           "characters")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise AccountError("the password is not valid text") from None


def same_password(new: str, current: str) -> bool:
    """Compared in constant time: how long it takes tells nothing about either."""
    return hmac.compare_digest(new.encode("utf-8", "surrogatepass"),
                               current.encode("utf-8", "surrogatepass"))


# database side (runs on the store's thread) ---------------------------------------------
def add_curator(store: Store, name: str, password_hash: str, now: float) -> None:
    """KeyError if the name is taken."""
    try:
        store.conn.execute(
            "INSERT INTO studio_curators (name, password_hash, must_change, created_at,"
            " password_set_at) VALUES (?, ?, 1, ?, ?)", (name, password_hash, now, now))
    except sqlite3.IntegrityError as error:
        raise KeyError(name) from error


def set_password(store: Store, name: str, password_hash: str, now: float, *,
                 one_time: bool) -> None:
    """Replace a curator's password and end every session of theirs; KeyError if unknown."""
    with store.conn:
        store.conn.execute("BEGIN")
        cursor = store.conn.execute(
            "UPDATE studio_curators SET password_hash=?, must_change=?, password_set_at=?"
            " WHERE name=?", (password_hash, 1 if one_time else 0, now, name))
        if cursor.rowcount == 0:
            raise KeyError(name)
        store.conn.execute("DELETE FROM studio_sessions WHERE curator=?", (name,))


def remove_curator(store: Store, name: str) -> bool:
    """Remove the account, its sessions and memberships (a later account of the same name
    starts with nothing); the audit log keeps what it did."""
    with store.conn:
        store.conn.execute("BEGIN")
        removed = store.conn.execute("DELETE FROM studio_curators WHERE name=?",
                                     (name,)).rowcount
        store.conn.execute("DELETE FROM studio_sessions WHERE curator=?", (name,))
        store.conn.execute("DELETE FROM studio_members WHERE curator=?", (name,))
    return removed > 0


def password_hash_of(store: Store, name: str) -> str | None:
    row = store.conn.execute("SELECT password_hash FROM studio_curators WHERE name=?",
                             (name,)).fetchone()
    return str(row[0]) if row else None


def curator(store: Store, name: str) -> Curator | None:
    row = store.conn.execute(
        "SELECT name, must_change, created_at FROM studio_curators WHERE name=?",
        (name,)).fetchone()
    return Curator(row[0], bool(row[1]), row[2]) if row else None


def curators(store: Store) -> list[Curator]:
    rows = store.conn.execute(
        "SELECT name, must_change, created_at FROM studio_curators ORDER BY name").fetchall()
    return [Curator(row[0], bool(row[1]), row[2]) for row in rows]
