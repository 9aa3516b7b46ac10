"""Full-text search: Swedish letters are letters of their own and case-insensitive."""

from __future__ import annotations

import pytest

from vrculture.server.search import build_index, fts_query, search


async def _hits(client, **params):
    response = await client.get("/api/search", params=params)
    assert response.status == 200, await response.text()
    return [(h["exhibition"], h["object"]) for h in (await response.json())["results"]]


@pytest.mark.parametrize("query", ["ängel", "ÄNGEL", "Ängel", "äng"])
async def test_a_with_diaeresis_any_case(client, query):
    assert ("demo", "angel") in await _hits(client, q=query)


@pytest.mark.parametrize("query", ["åre", "ÅRE"])
async def test_a_with_ring(client, query):
    assert await _hits(client, q=query) == [("demo", "angel")]


@pytest.mark.parametrize("query", ["öberg", "ÖBERG", "Öländsk", "öLÄNDSK"])
async def test_o_with_diaeresis_in_creator_and_description(client, query):
    assert await _hits(client, q=query) == [("demo", "bowl")]


async def test_diacritics_are_not_removed(client):
    # "far" (father) must not match "får" (sheep); "angel" is not "ängel".
    assert await _hits(client, q="far") == []
    assert ("demo", "angel") not in await _hits(client, q="angelx")
    assert await _hits(client, q="får") == [("demo", "bowl")]


async def test_language_and_exhibition_filters(client):
    assert await _hits(client, q="wooden", lang="en") == [("demo", "angel")]
    assert await _hits(client, q="wooden", lang="sv") == []
    assert await _hits(client, q="skål", exhibition="demo") == [("demo", "bowl")]
    response = await client.get("/api/search", params={"q": "x", "exhibition": "nope"})
    assert response.status == 404


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "x" * 300}, {"q": "a", "limit": "0"},
                                    {"q": "a", "limit": "abc"}, {"q": "a", "lang": "<script>"}])
async def test_bad_queries_are_400(client, params):
    response = await client.get("/api/search", params=params)
    assert response.status == 400
    assert (await response.json())["code"] == "invalid_query"


@pytest.mark.parametrize("query", ['"', "NEAR(", "a OR", "*", "title:x", "-x", "^a"])
async def test_fts_syntax_in_queries_is_harmless(client, query):
    response = await client.get("/api/search", params={"q": query})
    assert response.status == 200


def test_query_is_quoted_terms():
    assert fts_query('Ängel "OR" x*') == '"ängel"* "or"* "x"*'
    assert fts_query("!!!") is None


def test_index_rebuild_unit(tmp_path):
    from vrculture.server.registry import load_bundle

    from .bundle_factory import make_bundle

    conn = build_index([load_bundle(make_bundle(tmp_path / "b", "other",
                                                objects=[{"id": "x", "title": {"sv": "Åsna"}}]))])
    assert [h["object"] for h in search(conn, "åSNA")] == ["x"]
    assert search(conn, "asna") == []
