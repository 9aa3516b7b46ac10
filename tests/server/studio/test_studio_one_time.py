"""The printed one-time password opens nothing but the way to replace it: while it is the
account's password, every studio API route but the session's own three (read it, change the
password, sign out) answers 403 `password_change_required`, every studio page but the home
page (its password form) sends the browser there. Replacing it (with a different password)
opens the whole studio; the printed password then signs in no more."""

from __future__ import annotations

import re
from typing import Any

from vrculture.server.studio.sessions import COOKIE

from .conftest import NEWCOMER, ONE_TIME_PASSWORD, Curator, create, sign_in_response

# (method, route) a one-time password may use: the session's own routes and sign-in itself.
OPEN_ROUTES = {("POST", "/studio/api/session"), ("GET", "/studio/api/session"),
               ("HEAD", "/studio/api/session"),
               ("DELETE", "/studio/api/session"), ("POST", "/studio/api/session/password")}
# Pages that are no part of the studio's work: the sign-in page, and the home page (the
# password form), and the bare /studio redirect.
OPEN_PAGES = {"/studio", "/studio/", "/studio/sign-in"}
_PARAM = re.compile(r"\{([a-z_]+)(?::[^}]*)?\}")
# A well-formed value for every path parameter, so no route refuses on the path first.
VALUES = {"exhibition": "sjostad", "object": "portratt", "tour": "tour1", "smart": "sensor1",
          "upload_id": "a" * 32, "path": "exhibition.json"}


def studio_routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, path template) of the studio on the app, as the router holds them: a
    route added later is tested without anyone listing it here."""
    found = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path == "/studio" or path.startswith("/studio/"):
            found.add((route.method, path))
    return sorted(found)


def concrete(path: str) -> str:
    return _PARAM.sub(lambda m: VALUES[m.group(1)], path)


async def test_every_studio_api_route_refuses_a_one_time_session(client, sign_in, exhibition):
    erik = await sign_in(NEWCOMER)
    routes = studio_routes(client.app)
    api = [(m, p) for m, p in routes if p.startswith(("/studio/api/", "/studio/preview/"))
           and (m, p) not in OPEN_ROUTES]
    assert len(api) >= 30, api  # the studio's whole API: not an empty loop
    for method, path in api:
        response = await erik.request(method, concrete(path), json=None if method in (
            "GET", "HEAD", "OPTIONS", "DELETE") else {})
        assert response.status == 403, (method, path, response.status)
        if method != "HEAD":
            body = await response.json()
            assert body["type"] == "error", (method, path)
            assert body["code"] == "password_change_required", (method, path, body)
            assert "/studio/api/session/password" in body["message"]


async def test_every_studio_page_but_home_sends_a_one_time_session_home(client, sign_in,
                                                                     exhibition):
    erik = await sign_in(NEWCOMER)
    pages = [(m, p) for m, p in studio_routes(client.app) if m == "GET"
             and not p.startswith(("/studio/api/", "/studio/preview/"))
             and p not in OPEN_PAGES]
    assert len(pages) >= 4, pages
    for _, path in pages:
        response = await client.get(concrete(path), headers=erik.headers(),
                                    allow_redirects=False)
        assert response.status == 303, (path, response.status)
        assert response.headers["Location"] == "/studio/", path
    home = await client.get("/studio/", headers=erik.headers(), allow_redirects=False)
    assert home.status == 200


async def test_the_session_routes_stay_open_to_a_one_time_session(client, sign_in):
    erik = await sign_in(NEWCOMER)
    me = await erik.request("GET", "/studio/api/session")
    assert me.status == 200
    assert (await me.json())["must_change_password"] is True
    # CSRF is still checked first on the open routes.
    forged = await erik.request("DELETE", "/studio/api/session", csrf=None)
    assert forged.status == 403 and (await forged.json())["code"] == "csrf"
    assert (await erik.request("DELETE", "/studio/api/session")).status == 204
    assert (await erik.request("GET", "/studio/api/session")).status == 401


async def test_the_one_time_password_signs_in_until_it_is_replaced(client):
    """A curator who closed the tab before choosing can sign in again with it; each such
    session is as limited as the first."""
    sessions = []
    for _ in range(2):
        response = await sign_in_response(client, NEWCOMER, ONE_TIME_PASSWORD)
        assert response.status == 201
        body = await response.json()
        assert body["must_change_password"] is True
        sessions.append(Curator(client, NEWCOMER, response.cookies[COOKIE].value,
                                body["csrf_token"]))
    for erik in sessions:
        refused = await create(erik)
        assert refused.status == 403
        assert (await refused.json())["code"] == "password_change_required"

    done = await sessions[0].request("POST", "/studio/api/session/password", json={
        "current": ONE_TIME_PASSWORD, "new": "eriks-own-password"})
    assert done.status == 200, await done.text()
    body = await done.json()
    assert body["must_change_password"] is False
    for erik in sessions:  # both one-time sessions ended, not upgraded
        assert (await erik.request("GET", "/studio/api/session")).status == 401
    fresh = Curator(client, NEWCOMER, done.cookies[COOKIE].value, body["csrf_token"])
    assert fresh.session_id not in {s.session_id for s in sessions}
    created = await create(fresh)
    assert created.status == 201, await created.text()

    assert (await sign_in_response(client, NEWCOMER, ONE_TIME_PASSWORD)).status == 401
    again = await sign_in_response(client, NEWCOMER, "eriks-own-password")
    assert again.status == 201
    assert (await again.json())["must_change_password"] is False
    later = Curator(client, NEWCOMER, again.cookies[COOKIE].value,
                    (await again.json())["csrf_token"])
    listed = await later.request("GET", "/studio/api/exhibitions")
    assert listed.status == 200
    assert [e["id"] for e in (await listed.json())["exhibitions"]] == ["sjostad"]


async def test_the_new_password_must_differ_from_the_one_time_one(client, sign_in):
    erik = await sign_in(NEWCOMER)
    same = await erik.request("POST", "/studio/api/session/password", json={
        "current": ONE_TIME_PASSWORD, "new": ONE_TIME_PASSWORD})
    assert same.status == 422
    body = await same.json()
    assert body["code"] == "same_password" and body["field"] == "new"
    me = await erik.request("GET", "/studio/api/session")  # nothing changed, still limited
    assert (await me.json())["must_change_password"] is True
    assert (await create(erik)).status == 403


async def test_a_reset_limits_the_account_again(client, sign_in, alice):
    """`vrculture curators reset` prints a new one-time password: the account's sessions end,
    and a sign-in with it is as limited as a new account's."""
    from vrculture.server.studio.accounts import hash_password
    from vrculture.server.studio.auth import STUDIO_STORE

    records = client.app[STUDIO_STORE]
    await records.set_password("alice", hash_password("alice-reset-0001"), 0.0, one_time=True)
    assert (await alice.request("GET", "/studio/api/session")).status == 401
    response = await sign_in_response(client, "alice", "alice-reset-0001")
    assert response.status == 201
    body = await response.json()
    assert body["must_change_password"] is True
    again = Curator(client, "alice", response.cookies[COOKIE].value, body["csrf_token"])
    refused = await again.request("GET", "/studio/api/exhibitions")
    assert refused.status == 403
