"""Signing in through the real route: the cookie's flags, sessions stored hashed and
expiring (an injected clock), sign-out, sign-in limits per address and per account, and the
one-time password replaced."""

from __future__ import annotations

import sqlite3

from vrculture.server.storage import DB_NAME
from vrculture.server.studio.auth import STATE
from vrculture.server.studio.sessions import COOKIE

from .conftest import (
    NEWCOMER,
    ONE_TIME_PASSWORD,
    PASSWORDS,
    Curator,
    origin_of,
    sign_in_response,
)


async def test_sign_in_sets_a_strict_httponly_cookie_stored_only_hashed(client, data_dir):
    response = await sign_in_response(client, NEWCOMER, ONE_TIME_PASSWORD)
    assert response.status == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    assert body["curator"] == NEWCOMER and body["must_change_password"] is True
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert cookie["path"] == "/studio"
    assert not cookie["secure"]  # plain http here; see the proxy test below
    session_id = cookie.value
    assert session_id.startswith("vrs_") and len(session_id) > 40
    database = b"".join(p.read_bytes() for p in data_dir.glob(f"{DB_NAME}*"))
    assert session_id.encode() not in database
    assert ONE_TIME_PASSWORD.encode() not in database
    me = Curator(client, NEWCOMER, session_id, body["csrf_token"])
    assert (await (await me.request("GET", "/studio/api/session")).json())["curator"] == NEWCOMER
    own = await sign_in_response(client, "alice", PASSWORDS["alice"])
    assert own.status == 201 and (await own.json())["must_change_password"] is False


async def test_the_cookie_is_secure_behind_a_trusted_https_proxy(aiohttp_client, config, clock):
    import aiohttp

    from vrculture.server.app import create_app

    config.trusted_proxies = ["127.0.0.1"]
    client = await aiohttp_client(create_app(config, clock=clock),
                                  cookie_jar=aiohttp.DummyCookieJar())
    host = client.make_url("").host + ":" + str(client.make_url("").port)
    response = await client.post("/studio/api/session",
                                 json={"name": "alice", "password": PASSWORDS["alice"]},
                                 headers={"X-Forwarded-Proto": "https",
                                          "Origin": f"https://{host}"})
    assert response.status == 201, await response.text()
    assert response.cookies[COOKIE]["secure"]


async def test_wrong_password_and_unknown_name_answer_alike(client):
    wrong = await sign_in_response(client, "alice", "not-her-password")
    unknown = await sign_in_response(client, "mallory", "whatever-password")
    assert wrong.status == unknown.status == 401
    assert (await wrong.json()) == (await unknown.json())
    assert COOKIE not in wrong.cookies


async def test_sign_in_limits_per_address(client):
    client.app[STATE].by_address.burst = 3  # the same limiter, a smaller burst: fewer hashes
    for _ in range(3):
        assert (await sign_in_response(client, "mallory", "guess-guess-guess")).status == 401
    refused = await sign_in_response(client, "alice", PASSWORDS["alice"])
    assert refused.status == 429  # even the right password: the address is locked out
    assert int(refused.headers["Retry-After"]) >= 1


async def test_sign_in_limits_per_account_from_any_address(client, clock):
    state = client.app[STATE]
    state.by_account.burst = 2
    for _ in range(2):
        assert (await sign_in_response(client, "alice", "guess-guess-guess")).status == 401
    state.by_address._buckets.clear()  # as if the next guess came from another address
    refused = await sign_in_response(client, "alice", PASSWORDS["alice"])
    assert refused.status == 429
    wait = int(refused.headers["Retry-After"])
    assert (await sign_in_response(client, "bob", PASSWORDS["bob"])).status == 201
    clock.now += wait
    assert (await sign_in_response(client, "alice", PASSWORDS["alice"])).status == 201


async def test_sessions_expire_when_idle_and_after_the_absolute_limit(alice, client, clock):
    rules = client.app[STATE].rules
    clock.now += rules.idle_seconds - 1
    assert (await alice.request("GET", "/studio/api/session")).status == 200
    clock.now += rules.idle_seconds - 1  # used just now: still alive
    assert (await alice.request("GET", "/studio/api/session")).status == 200
    clock.now += rules.idle_seconds + 1
    assert (await alice.request("GET", "/studio/api/session")).status == 401


async def test_a_busy_session_still_ends_at_the_absolute_limit(alice, client, clock):
    rules = client.app[STATE].rules
    step = rules.idle_seconds / 2
    while clock.now + step < 1_800_000_000.0 + rules.absolute_seconds:
        clock.now += step
        assert (await alice.request("GET", "/studio/api/session")).status == 200
    clock.now += step + 1  # past the absolute limit, though used within the idle limit
    assert (await alice.request("GET", "/studio/api/session")).status == 401


async def test_sign_out_deletes_the_session(alice, data_dir):
    response = await alice.request("DELETE", "/studio/api/session")
    assert response.status == 204
    assert response.cookies[COOKIE].value == ""
    assert (await alice.request("GET", "/studio/api/session")).status == 401
    with sqlite3.connect(data_dir / DB_NAME) as db:
        assert db.execute("SELECT count(*) FROM studio_sessions").fetchone()[0] == 0


async def test_replacing_the_one_time_password(client, sign_in):
    erik = await sign_in(NEWCOMER)
    other = await sign_in(NEWCOMER)  # a second browser
    weak = await erik.request("POST", "/studio/api/session/password",
                              json={"current": ONE_TIME_PASSWORD, "new": "short"})
    assert weak.status == 422
    wrong = await erik.request("POST", "/studio/api/session/password",
                               json={"current": "not-it-at-all", "new": "a-new-password-1"})
    assert wrong.status == 422
    done = await erik.request("POST", "/studio/api/session/password",
                              json={"current": ONE_TIME_PASSWORD, "new": "a-new-password-1"})
    assert done.status == 200, await done.text()
    body = await done.json()
    assert body["must_change_password"] is False
    assert (await other.request("GET", "/studio/api/session")).status == 401  # ended
    assert (await erik.request("GET", "/studio/api/session")).status == 401  # old id too
    fresh = Curator(client, NEWCOMER, done.cookies[COOKIE].value, body["csrf_token"])
    assert (await fresh.request("GET", "/studio/api/session")).status == 200
    assert (await sign_in_response(client, NEWCOMER, ONE_TIME_PASSWORD)).status == 401
    assert (await sign_in_response(client, NEWCOMER, "a-new-password-1")).status == 201


async def test_sign_in_bodies_are_checked(client):
    origin = {"Origin": origin_of(client)}
    for body in ({"name": "alice"}, {"name": 1, "password": "x"}, [], {"name": "alice",
                 "password": "p", "extra": 1}):
        response = await client.post("/studio/api/session", json=body, headers=origin)
        assert response.status == 422
    text = await client.post("/studio/api/session", data="name=alice", headers=origin)
    assert text.status == 415
    huge = await client.post("/studio/api/session", headers={**origin, "Content-Type":
                             "application/json"}, data=b"x" * 100_000)
    assert huge.status == 413
