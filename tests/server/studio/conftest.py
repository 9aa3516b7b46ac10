"""The real app with the studio, a clock the tests move, and curators signed in through the
real sign-in route (each with their own cookie, kept by hand: one app, several curators)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from fixed_clock import FakeClock

from vrculture.server.app import create_app
from vrculture.server.config import ServerConfig
from vrculture.server.storage import AsyncStore
from vrculture.server.studio import accounts
from vrculture.server.studio.auth import STUDIO_STORE
from vrculture.server.studio.csrf import csrf_token
from vrculture.server.studio.records import SqliteRecords, StudioRecords
from vrculture.server.studio.sessions import COOKIE, new_session_id
from vrculture.server.webfiles import default_web_dir

PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-22", "carol": "carol-pass-333"}
# A curator just added by `vrculture curators add`: still on the printed one-time password.
NEWCOMER, ONE_TIME_PASSWORD = "erik", "erik-one-time-pass"
START = 1_800_000_000.0


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Curator:
    """A signed-in curator: their cookie, CSRF token and this server's origin."""
    client: Any
    name: str
    session_id: str
    csrf: str

    @property
    def origin(self) -> str:
        return str(self.client.make_url("")).rstrip("/")

    def headers(self, *, origin: str | None = "own", csrf: str | None = "own",
                **extra: str) -> dict[str, str]:
        headers = {"Cookie": f"{COOKIE}={self.session_id}", **extra}
        if origin is not None:
            headers["Origin"] = self.origin if origin == "own" else origin
        if csrf is not None:
            headers["X-CSRF-Token"] = self.csrf if csrf == "own" else csrf
        return headers

    async def request(self, method: str, path: str, *, json: Any = None,
                      **header_options: Any) -> aiohttp.ClientResponse:
        return await self.client.request(method, path, json=json,
                                         headers=self.headers(**header_options))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def password_hashes() -> dict[str, str]:
    """argon2id takes about a second per hash on a loaded test machine: hashed once."""
    return {name: accounts.hash_password(password) for name, password in PASSWORDS.items()}


@pytest.fixture(scope="session")
def one_time_hash() -> str:
    return accounts.hash_password(ONE_TIME_PASSWORD)


async def add_curators(records: StudioRecords, password_hashes: dict[str, str],
                       one_time_hash: str | None = None) -> None:
    """The curators of PASSWORDS, each past their first sign-in: the printed one-time
    password replaced by their own (as the password route stores it, without its argon2
    hash per test; the route itself is pinned in test_studio_one_time.py); and the NEWCOMER,
    still on the one-time password, when its hash is given."""
    await records.prepare()
    for name, password_hash in password_hashes.items():
        await records.add_curator(name, password_hash, START)
        await records.set_password(name, password_hash, START, one_time=False)
    if one_time_hash is not None:
        await records.add_curator(NEWCOMER, one_time_hash, START)


@pytest.fixture
async def data_dir(tmp_path: Path, password_hashes: dict[str, str], one_time_hash: str
                   ) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    records = SqliteRecords(AsyncStore(data, clock=FakeClock()), own=True)
    try:
        await add_curators(records, password_hashes, one_time_hash)
    finally:
        await records.close()
    return data


@pytest.fixture
def config(tmp_path: Path, data_dir: Path) -> ServerConfig:
    return ServerConfig(bundles=[], data_dir=data_dir, web_dir=default_web_dir())


@pytest.fixture
async def client(aiohttp_client, config: ServerConfig, clock: Clock):
    # No cookie jar: each curator's cookie is sent by hand, so one client serves them all.
    return await aiohttp_client(create_app(config, clock=clock, watch_interval=0.1),
                                cookie_jar=aiohttp.DummyCookieJar())


def origin_of(client: Any) -> str:
    return str(client.make_url("")).rstrip("/")


async def sign_in_response(client: Any, name: str, password: str, **headers: str
                           ) -> aiohttp.ClientResponse:
    return await client.post("/studio/api/session", json={"name": name, "password": password},
                             headers={"Origin": origin_of(client), **headers})


@pytest.fixture
def sign_in(client, clock: Clock) -> Callable[[str], Awaitable[Curator]]:
    """A session as the sign-in route makes it, without its argon2 check (a second each;
    tests/server/studio/test_studio_session.py signs in through the route)."""
    async def sign(name: str) -> Curator:
        session_id = new_session_id()
        await client.app[STUDIO_STORE].create_session(session_id, name, clock())
        return Curator(client, name, session_id, csrf_token(session_id))

    return sign


@pytest.fixture
async def alice(sign_in) -> Curator:
    return await sign_in("alice")


@pytest.fixture
async def bob(sign_in) -> Curator:
    return await sign_in("bob")


async def create(curator: Curator, exhibition_id: str = "sjostad", **fields: Any
                 ) -> aiohttp.ClientResponse:
    body = {"id": exhibition_id, "languages": ["sv", "en"],
            "title": {"sv": "Sjöstaden", "en": "The lake town"}, **fields}
    return await curator.request("POST", "/studio/api/exhibitions", json=body)


@pytest.fixture
async def exhibition(alice: Curator) -> str:
    response = await create(alice)
    assert response.status == 201, await response.text()
    return "sjostad"
