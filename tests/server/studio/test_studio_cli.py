"""`vrculture curators add|list|remove|reset`: the one-time password printed once, stored
only as an argon2id hash, and usable at the studio's sign-in; in the data folder's SQLite or,
with `--database`, in PostgreSQL (the `backend` fixture), where the server then finds it."""

from __future__ import annotations

import asyncio

import aiohttp
import asyncpg
import pytest

from vrculture.cli import main
from vrculture.server.app import create_app
from vrculture.server.config import ServerConfig
from vrculture.server.storage import DB_NAME

from .conftest import sign_in_response


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def cli(capsys, *argv: str) -> tuple[int, str, str]:
    """The CLI from an async test: on a thread of its own, as from a shell (it runs its own
    event loop, which cannot nest in the test's)."""
    return await asyncio.to_thread(run, capsys, *argv)


@pytest.fixture
def config(config: ServerConfig, backend: str | None) -> ServerConfig:
    config.database = backend
    return config


@pytest.fixture
def where(config: ServerConfig) -> list[str]:
    """The options that name the server's store."""
    if config.database:
        return ["--data", str(config.data_dir), "--database", config.database]
    return ["--data", str(config.data_dir)]


async def stored_bytes(config: ServerConfig) -> bytes:
    """Everything the store holds about the studio's curators, as bytes."""
    if not config.database:
        return b"".join(p.read_bytes() for p in config.data_dir.glob(f"{DB_NAME}*"))
    conn = await asyncpg.connect(config.database)
    try:
        rows = await conn.fetch("SELECT * FROM studio_curators")
    finally:
        await conn.close()
    return ("studio_curators " + repr([tuple(row) for row in rows])).encode()


async def test_add_prints_a_password_once_that_signs_in(tmp_path, capsys, aiohttp_client,
                                                        config, where, clock):
    code, out, err = await cli(capsys, "curators", "add", "dora", *where)
    assert code == 0
    password = out.strip()
    assert len(password) >= 20 and "shown only this once" in err
    stored = await stored_bytes(config)
    assert b"studio_curators" in stored and b"dora" in stored
    assert password.encode() not in stored and b"$argon2id$" in stored
    code, out, _ = await cli(capsys, "curators", "list", *where)
    assert code == 0
    assert "dora\t" in out and "one-time password not yet replaced" in out
    assert password not in out
    client = await aiohttp_client(create_app(config, clock=clock),
                                  cookie_jar=aiohttp.DummyCookieJar())
    response = await sign_in_response(client, "dora", password)
    assert response.status == 201
    assert (await response.json())["must_change_password"] is True


async def test_add_twice_reset_and_remove(capsys, aiohttp_client, config, where, clock):
    first = (await cli(capsys, "curators", "add", "dora", *where))[1].strip()
    code, out, err = await cli(capsys, "curators", "add", "dora", *where)
    assert code == 1 and out == "" and "already exists" in err
    code, out, _ = await cli(capsys, "curators", "reset", "dora", *where)
    second = out.strip()
    assert code == 0 and second != first
    client = await aiohttp_client(create_app(config, clock=clock),
                                  cookie_jar=aiohttp.DummyCookieJar())
    assert (await sign_in_response(client, "dora", first)).status == 401
    signed = await sign_in_response(client, "dora", second)
    assert signed.status == 201
    cookie = signed.cookies["vrculture_studio"].value
    code, _, err = await cli(capsys, "curators", "remove", "dora", *where)
    assert code == 0
    session = await client.get("/studio/api/session",
                               headers={"Cookie": f"vrculture_studio={cookie}"})
    assert session.status == 401  # removing an account ends its sessions at once
    assert "dora" not in (await cli(capsys, "curators", "list", *where))[1]
    assert (await cli(capsys, "curators", "remove", "dora", *where))[0] == 1
    assert (await cli(capsys, "curators", "reset", "dora", *where))[0] == 1


def test_names_are_checked(capsys, config):
    for bad in ("Dora", "../x", "", "a" * 33, "dora smith", "_dora"):
        code, out, err = run(capsys, "curators", "add", bad, "--data", str(config.data_dir))
        assert code == 2 and out == "", bad
        assert "a name is" in err


def test_with_database_nothing_goes_to_the_data_folder(capsys, tmp_path, postgres_dsn):
    unused = tmp_path / "unused"
    where = ["--data", str(unused), "--database", postgres_dsn]
    assert run(capsys, "curators", "add", "dora", *where)[0] == 0
    assert "dora\t" in run(capsys, "curators", "list", *where)[1]
    assert not unused.exists()
    wrong = postgres_dsn.rsplit("@", 1)[0] + "@127.0.0.1:1/none"
    code, out, err = run(capsys, "curators", "list", "--database", wrong)
    assert code == 1 and out == ""
    assert "cannot open the database" in err and postgres_dsn.split(":")[2] not in err
