"""Every studio route against the three refusals of issue 12: no session (401), a curator who
is not a member of the exhibition (403), and a change that does not come from the studio's own
pages (missing or foreign Origin, missing or wrong CSRF token: 403)."""

from __future__ import annotations

import pytest

from .conftest import create

EXHIBITION = "/studio/api/exhibitions/sjostad"
# (method, path, body) of every studio API route; bodies are valid, so only the gate refuses.
API_ROUTES = [
    ("GET", "/studio/api/session", None),
    ("DELETE", "/studio/api/session", None),
    ("POST", "/studio/api/session/password",
     {"current": "alice-password-1", "new": "a-new-password-1"}),
    ("GET", "/studio/api/exhibitions", None),
    ("POST", "/studio/api/exhibitions", {"id": "new-one", "languages": ["sv"],
                                         "title": {"sv": "Ny"}}),
    ("GET", EXHIBITION, None),
    ("PATCH", EXHIBITION, {"title": {"en": "Changed"}}),
    ("PATCH", f"{EXHIBITION}/objects/vas", {"creator": "Someone"}),
    ("GET", f"{EXHIBITION}/objects/vas", None),
    ("PATCH", f"{EXHIBITION}/objects/vas/geometry", {"up": "+Z"}),
    ("PATCH", f"{EXHIBITION}/objects/vas/presentation", {"light": 1.2}),
    ("PUT", f"{EXHIBITION}/objects/vas/annotations", {"annotations": []}),
    ("GET", f"{EXHIBITION}/objects/vas/preview", None),
    ("GET", f"{EXHIBITION}/members", None),
    ("POST", f"{EXHIBITION}/members", {"curator": "carol"}),
    ("GET", "/studio/api/audit?exhibition=sjostad", None),
    ("POST", f"{EXHIBITION}/publish", None),
    ("POST", f"{EXHIBITION}/rollback", {"version": "0123456789abcdef"}),
    ("GET", f"{EXHIBITION}/publications", None),
    # resumable uploads (tus) and the conversion queue's events
    ("OPTIONS", f"{EXHIBITION}/uploads", None),
    ("POST", f"{EXHIBITION}/uploads", None),
    ("GET", f"{EXHIBITION}/uploads", None),
    ("PATCH", f"{EXHIBITION}/uploads/u1", None),
    ("DELETE", f"{EXHIBITION}/uploads/u1", None),
    ("GET", f"{EXHIBITION}/events", None),
    ("GET", f"{EXHIBITION}/tours", None),
    ("POST", f"{EXHIBITION}/tours", {"id": "t1", "title": {"sv": "Tur"},
                                     "stops": [{"object": "vas", "narration": {"sv": "Se"}}]}),
    ("PUT", f"{EXHIBITION}/tours/t1", {"title": {"sv": "Tur"},
                                       "stops": [{"object": "vas", "narration": {"sv": "Se"}}]}),
    ("DELETE", f"{EXHIBITION}/tours/t1", None),
    ("GET", f"{EXHIBITION}/smart", None),
    ("POST", f"{EXHIBITION}/smart", {"id": "s1", "kind": "street-lighting", "goal": "climate",
                                     "title": {"sv": "Gatuljus"}}),
    ("GET", f"{EXHIBITION}/smart/s1/readings", None),
    ("DELETE", f"{EXHIBITION}/smart/s1", None),
    # the floor plan and the private preview (plan.py)
    ("POST", f"{EXHIBITION}/preview", None),
    ("GET", f"{EXHIBITION}/floorplan", None),
    ("PUT", f"{EXHIBITION}/floorplan", {"version": 1, "rooms": [], "works": []}),
]
EXHIBITION_ROUTES = [route for route in API_ROUTES if "sjostad" in route[1]]
CHANGES = [route for route in API_ROUTES if route[0] not in ("GET", "OPTIONS")]  # safe methods
PAGES = ["/studio/", "/studio/exhibitions/sjostad", "/studio/exhibitions/sjostad/objects/vas"]
PAGES += ["/studio/exhibitions/sjostad/plan"]  # the preview page: test_studio_plan.py


def test_every_studio_route_is_in_this_table(client):
    ours = {(r.method, r.resource.canonical) for r in client.app.router.routes()
            if r.resource is not None and r.resource.canonical.startswith("/studio/api/")
            and r.method != "HEAD"}
    listed = {(method, path.split("?")[0].replace("sjostad", "{exhibition}")
               .replace("/vas", "/{object}").replace("/u1", "/{upload_id}")
               .replace("/t1", "/{tour}").replace("/s1", "/{smart}"))
              for method, path, _ in API_ROUTES}
    assert ours - {("POST", "/studio/api/session")} == listed


@pytest.mark.parametrize(("method", "path", "body"), API_ROUTES)
async def test_without_a_session_the_api_answers_401_json(client, exhibition, method, path,
                                                          body):
    origin = str(client.make_url("")).rstrip("/")
    response = await client.request(method, path, json=body, headers={"Origin": origin})
    assert response.status == 401
    assert (await response.json())["code"] == "unauthenticated"


@pytest.mark.parametrize(("method", "path", "body"), API_ROUTES)
async def test_an_unknown_or_expired_cookie_is_no_session(alice, exhibition, method, path,
                                                          body):
    alice.session_id = "vrs_" + "A" * 43
    response = await alice.request(method, path, json=body)
    assert response.status == 401


@pytest.mark.parametrize(("method", "path", "body"), EXHIBITION_ROUTES)
async def test_a_curator_who_is_not_a_member_gets_403(bob, exhibition, method, path, body):
    response = await bob.request(method, path, json=body)
    assert response.status == 403, await response.text()
    assert (await response.json())["code"] == "not_a_member"


async def test_the_list_shows_only_the_curators_own_exhibitions(alice, bob, exhibition):
    mine = await (await alice.request("GET", "/studio/api/exhibitions")).json()
    theirs = await (await bob.request("GET", "/studio/api/exhibitions")).json()
    assert [e["id"] for e in mine["exhibitions"]] == ["sjostad"]
    assert theirs["exhibitions"] == []


CROSS_SITE = {
    "no Origin": {"origin": None},
    "foreign Origin": {"origin": "https://evil.example"},
    "null Origin": {"origin": "null"},
    "no CSRF token": {"csrf": None},
    "wrong CSRF token": {"csrf": "0" * 64},
}


@pytest.mark.parametrize("attack", CROSS_SITE)
@pytest.mark.parametrize(("method", "path", "body"), CHANGES)
async def test_a_change_from_elsewhere_is_refused(alice, exhibition, method, path, body,
                                                  attack):
    before = await (await alice.request("GET", "/studio/api/audit?exhibition=sjostad")).json()
    response = await alice.request(method, path, json=body, **CROSS_SITE[attack],
                                   **{"If-Match": "\"x\""})
    assert response.status == 403, await response.text()
    assert (await response.json())["code"] in ("cross_site", "csrf")
    after = await (await alice.request("GET", "/studio/api/audit?exhibition=sjostad")).json()
    assert after == before  # nothing happened
    still = await alice.request("GET", "/studio/api/session")
    assert still.status == 200  # not even the sign-out


async def test_another_sessions_csrf_token_does_not_do(alice, bob, exhibition):
    response = await alice.request("PATCH", EXHIBITION, json={"title": {"en": "X"}},
                                   csrf=bob.csrf)
    assert response.status == 403


async def test_sign_in_itself_refuses_a_foreign_or_missing_origin(client):
    for headers in ({}, {"Origin": "https://evil.example"}):
        response = await client.post("/studio/api/session", headers=headers,
                                     json={"name": "alice", "password": "alice-password-1"})
        assert response.status == 403
        assert (await response.json())["code"] == "cross_site"


@pytest.mark.parametrize(("method", "path", "body"), API_ROUTES)
async def test_no_other_site_may_read_the_studio_api(alice, exhibition, method, path, body):
    response = await alice.request("GET" if method == "GET" else "OPTIONS", path,
                                   origin="https://evil.example",
                                   **({"Access-Control-Request-Method": method}
                                      if method != "GET" else {}))
    assert "Access-Control-Allow-Origin" not in response.headers
    if method != "GET":
        assert response.status == 403  # no preflight: the browser never sends the change


async def test_pages_send_a_visitor_without_a_session_to_sign_in(client, exhibition):
    for page in PAGES:
        response = await client.get(page, allow_redirects=False)
        assert response.status == 303, page
        assert response.headers["Location"] == "/studio/sign-in"
    bare = await client.get("/studio", allow_redirects=False)
    assert bare.status == 308 and bare.headers["Location"] == "/studio/"
    sign_in = await client.get("/studio/sign-in")
    assert sign_in.status == 200
    assert "<form" in await sign_in.text()
    policy = sign_in.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy


async def test_pages_for_a_signed_in_curator(alice, bob, exhibition):
    for page in PAGES:
        response = await alice.request("GET", page)
        assert response.status == 200, page
        assert response.content_type == "text/html"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    refused = await bob.request("GET", "/studio/exhibitions/sjostad")
    assert refused.status == 403
    missing = await alice.request("GET", "/studio/exhibitions/nothing-here")
    assert missing.status == 404


async def test_a_member_added_by_a_member_gets_in(alice, bob, exhibition):
    added = await alice.request("POST", f"{EXHIBITION}/members", json={"curator": "bob"})
    assert added.status == 201
    assert (await added.json())["members"] == ["alice", "bob"]
    assert (await bob.request("GET", EXHIBITION)).status == 200
    again = await alice.request("POST", f"{EXHIBITION}/members", json={"curator": "bob"})
    assert again.status == 200
    unknown = await alice.request("POST", f"{EXHIBITION}/members", json={"curator": "nobody"})
    assert unknown.status == 422


async def test_creating_needs_no_membership_but_makes_one(bob, exhibition):
    response = await create(bob, "bobs-own")
    assert response.status == 201
    assert (await bob.request("GET", "/studio/api/exhibitions/bobs-own")).status == 200


def test_every_studio_api_route_is_in_the_openapi_document(client):
    from vrculture.server.openapi import document

    paths = document()["paths"]
    for route in client.app.router.routes():
        canonical = route.resource.canonical if route.resource is not None else ""
        if canonical.startswith("/studio/api/") and route.method != "HEAD":
            assert route.method.lower() in paths.get(canonical, {}), (route.method, canonical)
