"""`vrculture curators add|list|remove|reset`: the one-time password printed once, stored
only as an argon2id hash, and usable at the studio's sign-in."""

from __future__ import annotations

import aiohttp

from vrculture.cli import main
from vrculture.server.app import create_app
from vrculture.server.storage import DB_NAME

from .conftest import sign_in_response


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_add_prints_a_password_once_that_signs_in(tmp_path, capsys, aiohttp_client,
                                                        config):
    data = str(config.data_dir)
    code, out, err = run(capsys, "curators", "add", "dora", "--data", data)
    assert code == 0
    password = out.strip()
    assert len(password) >= 20 and "shown only this once" in err
    stored = b"".join(p.read_bytes() for p in config.data_dir.glob(f"{DB_NAME}*"))
    assert b"studio_curators" in stored and password.encode() not in stored
    code, out, _ = run(capsys, "curators", "list", "--data", data)
    assert code == 0
    assert "dora\t" in out and "one-time password not yet replaced" in out
    assert password not in out
    client = await aiohttp_client(create_app(config), cookie_jar=aiohttp.DummyCookieJar())
    response = await sign_in_response(client, "dora", password)
    assert response.status == 201
    assert (await response.json())["must_change_password"] is True


async def test_add_twice_reset_and_remove(capsys, aiohttp_client, config):
    data = str(config.data_dir)
    first = run(capsys, "curators", "add", "dora", "--data", data)[1].strip()
    code, out, err = run(capsys, "curators", "add", "dora", "--data", data)
    assert code == 1 and out == "" and "already exists" in err
    code, out, _ = run(capsys, "curators", "reset", "dora", "--data", data)
    second = out.strip()
    assert code == 0 and second != first
    client = await aiohttp_client(create_app(config), cookie_jar=aiohttp.DummyCookieJar())
    assert (await sign_in_response(client, "dora", first)).status == 401
    signed = await sign_in_response(client, "dora", second)
    assert signed.status == 201
    cookie = signed.cookies["vrculture_studio"].value
    code, _, err = run(capsys, "curators", "remove", "dora", "--data", data)
    assert code == 0
    session = await client.get("/studio/api/session",
                               headers={"Cookie": f"vrculture_studio={cookie}"})
    assert session.status == 401  # removing an account ends its sessions at once
    assert "dora" not in run(capsys, "curators", "list", "--data", data)[1]
    assert run(capsys, "curators", "remove", "dora", "--data", data)[0] == 1
    assert run(capsys, "curators", "reset", "dora", "--data", data)[0] == 1


def test_names_are_checked(capsys, config):
    for bad in ("Dora", "../x", "", "a" * 33, "dora smith", "_dora"):
        code, out, err = run(capsys, "curators", "add", bad, "--data", str(config.data_dir))
        assert code == 2 and out == "", bad
        assert "a name is" in err
