"""Printable wall labels (/exhibitions/{id}/labels): one per object with its title, creator,
date and credit in the exhibition's languages, and a QR code of the object's deep link that
opens the viewer at its view point. Every manifest string is curator input and is escaped."""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
from collections import OrderedDict
from html import escape
from typing import Any
from urllib.parse import quote

import segno
from aiohttp import web

from vrculture.server import appkeys
from vrculture.server.oembed import base_url

# Level M: about 15 % of the code may be scuffed or covered (a thumb, a reflection) and it reads.
QR_OPTIONS: dict[str, Any] = {"error": "m", "micro": False}
QR_BORDER = 4  # the quiet zone the QR standard asks for, in modules
# Encoding is pure Python (~5 ms a code): pages are made off the event loop and kept per
# exhibition version and base URL, a few at a time.
PAGES_KEPT = 16
PAGE_CACHE = web.AppKey("vrculture_label_pages", OrderedDict)

STYLE = """
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { margin: 0; font: 11pt/1.35 Georgia, 'Times New Roman', serif; color: #000;
  background: #fff; }
header { padding: 8mm 12mm 0; }
@media print { header { display: none; } }
main { display: grid; grid-template-columns: 1fr 1fr; gap: 6mm; padding: 6mm 12mm; }
@media print { main { padding: 0; } }
.label { display: flex; gap: 4mm; justify-content: space-between; border: 0.3mm solid #999;
  padding: 5mm; min-height: 60mm; break-inside: avoid; page-break-inside: avoid; }
.label h2 { font-size: 14pt; margin: 0 0 1mm; }
.label p { margin: 0 0 1mm; }
.label .alt { font-style: italic; }
.label .creator { margin-top: 2mm; font-weight: bold; }
.label .credit { margin-top: 2mm; font-size: 8.5pt; }
.qr { margin: 0; flex: 0 0 30mm; text-align: center; }
.qr svg { display: block; width: 30mm; height: 30mm; }
.qr figcaption { font: 6pt/1.2 monospace; word-break: break-all; }
"""


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# No scripts at all; the one inline style by hash; the QR codes are inline SVG.
POLICY = "; ".join([
    "default-src 'none'",
    f"style-src {_csp_hash(STYLE)}",
    "frame-ancestors 'self'",
    "base-uri 'none'",
    "form-action 'none'",
])


def object_url(base: str, exhibition_id: str, object_id: str) -> str:
    """The deep link that opens the viewer at an object's view point with its panel open."""
    return (f"{base}/exhibitions/{quote(exhibition_id, safe='')}"
            f"/objects/{quote(object_id, safe='')}")


@functools.lru_cache(maxsize=2048)
def qr_svg(url: str) -> str:
    """An inline <svg> of the URL's QR code (a path of 1-module lines, sized by CSS)."""
    code = segno.make(url, **QR_OPTIONS)
    return code.svg_inline(scale=1, border=QR_BORDER, omitsize=True, dark="#000",
                           svgclass=None, lineclass=None)


def _in_languages(texts: object, languages: list[str]) -> list[tuple[str, str]]:
    """(language, text) in the exhibition's language order, each distinct wording once."""
    if not isinstance(texts, dict):
        return []
    seen: set[str] = set()
    found = []
    for lang in [*languages, *(k for k in texts if k not in languages)]:
        value = texts.get(lang)
        if isinstance(value, str) and value.strip() and value not in seen:
            seen.add(value)
            found.append((lang, value))
    return found


def _label(record: dict[str, Any], url: str, languages: list[str]) -> str:
    titles = _in_languages(record.get("title"), languages) or [("", record["id"])]
    (first_lang, first), *others = titles
    parts = [f'<h2 lang="{escape(first_lang)}">{escape(first)}</h2>']
    parts += [f'<p class="alt" lang="{escape(lang)}">{escape(text)}</p>' for lang, text in others]
    for key in ("creator", "date"):
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            parts.append(f'<p class="{key}">{escape(value)}</p>')
    parts += [f'<p class="credit" lang="{escape(lang)}">{escape(text)}</p>'
              for lang, text in _in_languages(record.get("credit"), languages)]
    return (
        f'<article class="label" data-object="{escape(record["id"])}">'
        f'<div class="text">{"".join(parts)}</div>'
        f'<figure class="qr" data-url="{escape(url)}">{qr_svg(url)}'
        f"<figcaption>{escape(url)}</figcaption></figure></article>"
    )


def render_labels(manifest: dict[str, Any], base: str) -> str:
    languages = list(manifest.get("languages") or [])
    default = manifest.get("default_language") or (languages[0] if languages else "en")
    title = dict(_in_languages(manifest.get("title"), [default, *languages])).get(default) \
        or manifest["id"]
    labels = "\n".join(
        _label(record, object_url(base, manifest["id"], record["id"]), languages)
        for record in manifest.get("objects", [])
    )
    return (
        f'<!doctype html>\n<html lang="{escape(default)}"><head><meta charset="utf-8">'
        f"<title>{escape(title)} – labels</title><style>{STYLE}</style></head>\n"
        f"<body><header><h1>{escape(title)}</h1>"
        f"<p>Wall labels: print on A4 and cut along the lines.</p></header>\n"
        f"<main>\n{labels}\n</main></body></html>\n"
    )


async def labels_page(request: web.Request) -> web.Response:
    exhibition = request.app[appkeys.EXHIBITIONS].get(request.match_info["exhibition"])
    if exhibition is None:
        raise web.HTTPNotFound(text="no such exhibition")
    base = base_url(request, request.app[appkeys.CONFIG])
    pages: OrderedDict[tuple[str, str, str], str] = request.app[PAGE_CACHE]
    key = (exhibition.id, exhibition.version, base)
    page = pages.get(key)
    if page is None:
        page = await asyncio.to_thread(render_labels, exhibition.manifest, base)
        pages[key] = page
        while len(pages) > PAGES_KEPT:
            pages.popitem(last=False)
    pages.move_to_end(key)
    return web.Response(
        text=page, content_type="text/html",
        headers={"Content-Security-Policy": POLICY, "Cache-Control": "no-cache"},
    )


def add_routes(app: web.Application) -> None:
    app[PAGE_CACHE] = OrderedDict()
    app.router.add_get("/exhibitions/{exhibition}/labels", labels_page, name="labels")
