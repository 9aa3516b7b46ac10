"""Full-text search over every exhibition's objects: titles, creators, descriptions, in every
language of the manifests (SQLite FTS5, rebuilt in memory whenever the exhibitions change).

Swedish compounds: "kanin" must find "Stanfordkaninen", so every row is indexed twice, in a
word index (`unicode61 remove_diacritics 0`) for whole-word and prefix hits and in a `trigram`
index for hits inside a word. A hit ranks by how each query term matched (whole word before
prefix before part of a word), then by bm25. Terms shorter than three characters can only match
as word prefixes (a trigram index cannot look them up).

Case is folded for all of Unicode (Å = å) but diacritics are kept by both tokenizers, because
in Swedish å, ä and ö are letters of their own ("får" (sheep) is not "far" (father), "kanna"
(jug) is not "känna" (to feel)). Query terms are lowered with str.lower, not casefold: casefold
turns "ß" into "ss", which the tokenizers do not, so German words would stop matching.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from vrculture.server import appkeys
from vrculture.server.jsonreply import JSONError, json_reply
from vrculture.server.keys import LoadedExhibition
from vrculture.server.params import whole_number
from vrculture.server.registry import BundleRegistry
from vrculture.server.supervision import start_supervised

MAX_QUERY_CHARS = 200
MAX_TERMS = 16
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
REBUILD_WAIT = 5.0  # seconds a query waits for the index of newly published exhibitions
EXHIBITION_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")

SEARCH_INDEX: web.AppKey[SearchIndex] = web.AppKey("vrculture_search_index")


def _rows(exhibition: LoadedExhibition) -> Iterator[tuple[str, str, str, str, str, str, str]]:
    manifest = exhibition.manifest
    records = [("object", o) for o in manifest["objects"]]
    records += [("smart_exhibit", s) for s in manifest["smart_exhibits"]]
    for kind, record in records:
        title = record.get("title", {})
        description = record.get("description", {})
        notes: dict[str, str] = {}
        for annotation in record.get("annotations", []):
            for lang, text in {**annotation.get("title", {}), **annotation.get("text", {})}.items():
                notes[lang] = f"{notes.get(lang, '')} {text}"
        for lang in sorted(set(title) | set(description) | set(notes)):
            yield (
                exhibition.id, record["id"], kind, lang,
                title.get(lang, ""), record.get("creator", ""),
                f"{description.get(lang, '')} {notes.get(lang, '')}".strip(),
            )


COLUMNS = ("exhibition UNINDEXED, object UNINDEXED, kind UNINDEXED, lang UNINDEXED,"
           " title, creator, description")
WEIGHTS = "10.0, 5.0, 1.0"  # bm25 weights of title, creator, description
MIN_TRIGRAM_CHARS = 3
MAX_CANDIDATES = 2000  # per term and kind of match: bounds the work of a very common term
SNIPPET_WORDS = 16

# How a term matched a row; a row's rank is the sum over the query's terms.
WHOLE_WORD, PREFIX, INSIDE_WORD = 0, 1, 2


def build_index(exhibitions: list[LoadedExhibition]) -> sqlite3.Connection:
    """Two FTS5 tables over the same rows with the same rowids: words and trigrams."""
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.execute(f"CREATE VIRTUAL TABLE words USING fts5({COLUMNS},"
                 " tokenize = 'unicode61 remove_diacritics 0')")
    conn.execute(f"CREATE VIRTUAL TABLE grams USING fts5({COLUMNS}, tokenize = 'trigram')")
    rowid = 0
    for exhibition in exhibitions:
        for row in _rows(exhibition):
            rowid += 1
            conn.execute("INSERT INTO words(rowid, exhibition, object, kind, lang, title, creator,"
                         " description) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (rowid, *row))
            conn.execute("INSERT INTO grams(rowid, exhibition, object, kind, lang, title, creator,"
                         " description) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (rowid, *row))
    conn.commit()
    return conn


def query_terms(text: str) -> list[str]:
    """The words of a query, lowered; nothing else of the visitor's text reaches FTS5."""
    return re.findall(r"\w+", text.lower())[:MAX_TERMS]


def fts_query(text: str) -> str | None:
    """A safe FTS5 expression: every word must occur (as a prefix), operators are not passed."""
    terms = query_terms(text)
    if not terms:
        return None
    return " ".join(f'"{term}"*' for term in terms)


def _term_matches(conn: sqlite3.Connection, term: str, where: str,
                  params: list[Any]) -> dict[int, tuple[int, float]]:
    """rowid -> (how the term matched, bm25) for the best kind of match of one term."""
    # A term is \w+ only, so quoting it makes a plain FTS5 string: no operator, no column.
    lookups = [(WHOLE_WORD, "words", f'"{term}"'), (PREFIX, "words", f'"{term}"*')]
    if len(term) >= MIN_TRIGRAM_CHARS:
        lookups.append((INSIDE_WORD, "grams", f'"{term}"'))
    found: dict[int, tuple[int, float]] = {}
    for tier, table, expression in lookups:
        sql = (f"SELECT rowid, bm25({table}, {WEIGHTS}) FROM {table} WHERE {table} MATCH ?"
               f"{where} ORDER BY bm25({table}, {WEIGHTS}) LIMIT {MAX_CANDIDATES}")
        for rowid, rank in conn.execute(sql, [expression, *params]):
            found.setdefault(rowid, (tier, rank))
    return found


def snippet(text: str, terms: list[str]) -> str:
    """Up to SNIPPET_WORDS words of text around the first word that contains a term."""
    words = list(re.finditer(r"\S+", text))
    if not words:
        return ""
    first = next((i for i, w in enumerate(words)
                  if any(term in w.group().lower() for term in terms)), 0)
    start = max(0, min(first - 3, len(words) - SNIPPET_WORDS))
    end = min(len(words), start + SNIPPET_WORDS)
    part = text[words[start].start():words[end - 1].end()]
    return ("…" if start > 0 else "") + part + ("…" if end < len(words) else "")


def search(
    conn: sqlite3.Connection,
    text: str,
    *,
    lang: str | None = None,
    exhibition: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[dict[str, Any]]:
    terms = query_terms(text)
    if not terms:
        return []
    where, params = "", []
    if lang:
        where += " AND (lang = ? OR lang LIKE ?)"
        params += [lang, f"{lang}-%"]
    if exhibition:
        where += " AND exhibition = ?"
        params.append(exhibition)
    # Every term must match a row, each in its best way.
    ranked: dict[int, tuple[int, float]] | None = None
    for term in dict.fromkeys(terms):
        found = _term_matches(conn, term, where, params)
        if ranked is None:
            ranked = found
        else:
            ranked = {rowid: (ranked[rowid][0] + found[rowid][0],
                              ranked[rowid][1] + found[rowid][1])
                      for rowid in ranked.keys() & found.keys()}
        if not ranked:
            return []
    assert ranked is not None
    order = sorted(ranked, key=lambda rowid: (ranked[rowid], rowid))
    seen: set[tuple[str, str]] = set()
    hits = []
    for rowid in order:
        row = conn.execute("SELECT exhibition, object, kind, lang, title, creator, description"
                           " FROM words WHERE rowid = ?", (rowid,)).fetchone()
        key = (row[0], row[1])
        if key in seen:  # one object can match in several languages: its best row counts
            continue
        seen.add(key)
        hits.append({
            "exhibition": row[0], "object": row[1], "kind": row[2], "lang": row[3],
            "title": row[4], "creator": row[5] or None, "snippet": snippet(row[6], terms),
            "api": f"/api/exhibitions/{row[0]}/objects/{row[1]}",
            "embed": f"/embed/{row[0]}/{row[1]}" if row[2] == "object" else None,
        })
        if len(hits) == limit:
            break
    return hits


class SearchIndex:
    """Holds the current index; a rebuild happens off the event loop and swaps it in."""

    def __init__(self) -> None:
        self._conn = build_index([])
        self._lock = asyncio.Lock()  # queries and the swap never overlap on one connection
        self._pending: asyncio.Task | None = None
        self._generation = 0

    def rebuild(self, exhibitions: list[LoadedExhibition]) -> None:
        self._generation += 1
        generation = self._generation

        async def run() -> None:
            conn = await asyncio.to_thread(build_index, exhibitions)
            if generation != self._generation:  # a newer rebuild started: this one is stale
                conn.close()
                return
            async with self._lock:
                old, self._conn = self._conn, conn
            old.close()

        # Retried (logged) if it fails, until it succeeds or a newer rebuild supersedes it.
        self._pending = start_supervised("search-index", run, forever=False)

    async def query(self, text: str, **kwargs: Any) -> list[dict[str, Any]]:
        if self._pending is not None and not self._pending.done():
            # A rebuild that keeps failing is retried in the background; meanwhile the
            # previous index answers (never cancels the rebuild, never raises its error).
            await asyncio.wait([self._pending], timeout=REBUILD_WAIT)
        async with self._lock:
            return await asyncio.to_thread(search, self._conn, text, **kwargs)


async def search_handler(request: web.Request) -> web.Response:
    query = request.query
    text = query.get("q", "")
    if not text.strip() or len(text) > MAX_QUERY_CHARS:
        raise JSONError(400, "invalid_query",
                        f"q: 1 to {MAX_QUERY_CHARS} characters, not only spaces", field="q")
    lang = query.get("lang")
    if lang is not None and not LANG.fullmatch(lang):
        raise JSONError(400, "invalid_query", "lang: a BCP 47 tag such as sv or en", field="lang")
    exhibition = query.get("exhibition")
    if exhibition is not None and not EXHIBITION_ID.fullmatch(exhibition):
        raise JSONError(400, "invalid_query", "exhibition: an exhibition id", field="exhibition")
    if exhibition is not None and request.app[appkeys.EXHIBITIONS].get(exhibition) is None:
        raise JSONError(404, "unknown_exhibition", f"no exhibition {exhibition!r}")
    limit = whole_number(query.get("limit", str(DEFAULT_LIMIT)))
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise JSONError(400, "invalid_query", f"limit: 1 to {MAX_LIMIT}", field="limit")
    index = request.app[SEARCH_INDEX]
    hits = await index.query(text, lang=lang, exhibition=exhibition, limit=limit)
    return json_reply(request, {"query": text, "results": hits}, etag=False)


def setup(app: web.Application) -> None:
    index = SearchIndex()
    app[SEARCH_INDEX] = index
    registry: BundleRegistry = app[appkeys.EXHIBITIONS]
    registry.on_change(index.rebuild)
    app.router.add_get("/api/search", search_handler, name="api_search")
