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


# Swedish compounds: a query finds a word inside a compound, not only at its start.
COMPOUNDS = [
    {"id": "bunny", "title": {"sv": "Stanfordkaninen", "en": "The Stanford bunny"},
     "description": {"sv": "Gipsavgjutning av datorgrafikens mest skannade kanin."}},
    {"id": "jug", "title": {"sv": "Saltglaserad kanna", "en": "Salt-glazed jug"}},
    {"id": "vase", "title": {"sv": "Fajansvas", "en": "Faience vase"}},
    {"id": "grave", "title": {"sv": "Fynd från ett järnåldersgravfält", "en": "Iron Age finds"},
     "description": {"sv": "Från Järnåldersgravfältet vid Gamla Uppsala."}},
    {"id": "stones", "title": {"sv": "Smålandsstenar", "en": "Stones from Småland"}},
    {"id": "censer", "title": {"sv": "Rökelsekar", "en": "Censer"}},
    {"id": "limestone", "title": {"sv": "Ölandskalksten", "en": "Limestone from Öland"}},
    {"id": "feel", "title": {"sv": "Att känna med händerna", "en": "Touching"}},
    {"id": "kettle", "title": {"sv": "Tekannan", "en": "The teapot"}},
]


@pytest.fixture(scope="module")
def compounds(tmp_path_factory):
    from vrculture.server.registry import load_bundle

    from .bundle_factory import make_bundle

    root = tmp_path_factory.mktemp("compounds") / "b"
    return build_index([load_bundle(make_bundle(root, "sv", objects=COMPOUNDS))])


def _objects(conn, query, **kw):
    return [h["object"] for h in search(conn, query, **kw)]


@pytest.mark.parametrize(("query", "expected"), [
    ("kanin", {"bunny"}), ("kanna", {"jug", "kettle", "bunny"}), ("vas", {"vase"}),
    ("gravfält", {"grave"}), ("sten", {"stones", "limestone"}), ("kalk", {"limestone"}),
    ("rökelse", {"censer"}), ("öland", {"limestone"}), ("ÖLAND", {"limestone"}),
    ("GRAVFÄLT", {"grave"}), ("landssten", {"stones"}), ("saltglaserad kanna", {"jug"}),
])
def test_parts_of_swedish_compounds_are_found(compounds, query, expected):
    assert set(_objects(compounds, query, lang="sv")) == expected


def test_a_o_with_dots_and_ring_are_letters_not_diacritics(compounds):
    assert "feel" not in _objects(compounds, "kanna")  # "kanna" (jug) is not "känna" (to feel)
    assert _objects(compounds, "känna") == ["feel"]
    assert _objects(compounds, "rokelse") == []
    assert _objects(compounds, "oland") == []
    assert _objects(compounds, "smalandsstenar") == []
    assert _objects(compounds, "järnalder") == []


def test_whole_words_rank_before_prefixes_before_parts_of_words(compounds):
    # "kanna" is a word of the jug's title, part of the title "Tekannan" and part of "skannade"
    # in the bunny's description (a title weighs more than a description)
    assert _objects(compounds, "kanna") == ["jug", "kettle", "bunny"]
    # the bunny's description has the word "kanin"; no title begins with it
    assert search(compounds, "kanin")[0]["snippet"].startswith("Gipsavgjutning")
    assert _objects(compounds, "stanford") == ["bunny"]


def test_short_queries_match_word_starts_only(compounds):
    assert set(_objects(compounds, "ö")) == {"limestone"}  # "Ölandskalksten", "Öland"
    assert _objects(compounds, "sm", lang="sv") == ["stones"]
    assert _objects(compounds, "ni") == []  # inside "kaninen" but not the start of a word


def test_every_term_must_match(compounds):
    assert _objects(compounds, "stanford vas") == []
    assert _objects(compounds, "kanin gips") == ["bunny"]


@pytest.mark.parametrize("query", ['kanin" OR "kanna', "kanin*", "title:kanin", "NEAR(kanin",
                                   "kan-in", "^kanin"])
def test_fts_syntax_never_reaches_either_index(compounds, query):
    assert search(compounds, query) is not None  # no sqlite3.OperationalError
    assert "jug" not in _objects(compounds, query) or "kanna" in query


def test_snippet_shows_the_words_around_a_hit():
    from vrculture.server.search import snippet

    text = " ".join(f"ord{i}" for i in range(30)) + " Stanfordkaninen och mer"
    shown = snippet(text, ["kanin"])  # a hit near the end: the window still has 16 words
    assert shown.startswith("…ord17") and "Stanfordkaninen" in shown
    assert snippet("Kort text.", ["saknas"]) == "Kort text."
    assert snippet(text, ["ord3"]) == " ".join(f"ord{i}" for i in range(16)) + "…"
