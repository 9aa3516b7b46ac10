"""Full-text search over every exhibition's objects: titles, creators, descriptions, in every
language of the manifests (SQLite FTS5, rebuilt in memory whenever the exhibitions change).

The tokenizer is `unicode61 remove_diacritics 0`: case is folded for all of Unicode (Å = å)
but diacritics are kept, because in Swedish å, ä and ö are letters of their own ("får" (sheep)
is not "far" (father)). Query terms are lowered with str.lower, not casefold: casefold turns
"ß" into "ss", which the tokenizer does not, so German words would stop matching.
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


def build_index(exhibitions: list[LoadedExhibition]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.execute(
        "CREATE VIRTUAL TABLE docs USING fts5("
        " exhibition UNINDEXED, object UNINDEXED, kind UNINDEXED, lang UNINDEXED,"
        " title, creator, description,"
        " tokenize = 'unicode61 remove_diacritics 0')"
    )
    for exhibition in exhibitions:
        conn.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?)", _rows(exhibition))
    conn.commit()
    return conn


def fts_query(text: str) -> str | None:
    """A safe FTS5 expression: every word must occur (as a prefix), operators are not passed."""
    terms = re.findall(r"\w+", text.lower())[:MAX_TERMS]
    if not terms:
        return None
    return " ".join(f'"{term}"*' for term in terms)


def search(
    conn: sqlite3.Connection,
    text: str,
    *,
    lang: str | None = None,
    exhibition: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[dict[str, Any]]:
    expression = fts_query(text)
    if expression is None:
        return []
    sql = ("SELECT exhibition, object, kind, lang, title, creator,"
           " snippet(docs, 6, '', '', '…', 16), bm25(docs, 10.0, 5.0, 1.0)"
           " FROM docs WHERE docs MATCH ?")
    params: list[Any] = [expression]
    if lang:
        sql += " AND (lang = ? OR lang LIKE ?)"
        params += [lang, f"{lang}-%"]
    if exhibition:
        sql += " AND exhibition = ?"
        params.append(exhibition)
    sql += " ORDER BY bm25(docs, 10.0, 5.0, 1.0) LIMIT ?"
    params.append(limit * 4)  # one object can match in several languages
    seen: set[tuple[str, str]] = set()
    hits = []
    for row in conn.execute(sql, params):
        key = (row[0], row[1])
        if key in seen:
            continue
        seen.add(key)
        hits.append({
            "exhibition": row[0], "object": row[1], "kind": row[2], "lang": row[3],
            "title": row[4], "creator": row[5] or None, "snippet": row[6],
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
