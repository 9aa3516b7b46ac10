"""Validation of the clients' control messages and the small texts the server derives from them."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from vrculture.server.safejson import JSONInputError, loads

PROTOCOL_VERSION = 1
REACTIONS = ("👍", "❤️", "👏", "😮", "😂", "❓")
DEFAULT_NAME = "Visitor"
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# Bidi embeddings/overrides/isolates and zero-width characters: they let a name reorder or hide
# the text around it in other visitors' UIs.
_INVISIBLE = set("\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                 "\u2066\u2067\u2068\u2069\u2060\ufeff\u061c")


_DROPPED = {"Cc", "Cf", "Cs", "Co", "Cn"}  # controls, formats, surrogates, private, unassigned


class ProtocolError(Exception):
    """A message that breaks the protocol; the connection is closed after the error is sent."""

    def __init__(self, code: str, message: str, close_code: int = 1008) -> None:
        super().__init__(message)
        self.code = code
        self.close_code = close_code


class RequestError(Exception):
    """A well-formed request that cannot be done now; the connection stays open."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_message(text: str) -> dict[str, Any]:
    try:
        message = loads(text)  # refuses lone surrogates: they would break every send of them
    except JSONInputError as exc:
        raise ProtocolError("bad_message", f"malformed JSON: {exc.message}") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError("bad_message", "a message must be a JSON object with a string 'type'")
    return message


def clean_name(raw: Any, max_chars: int) -> str:
    if not isinstance(raw, str):
        raise ProtocolError("bad_message", "hello.name must be a string")
    kept = []
    for ch in raw[: max_chars * 8]:  # bound the work on absurd input before cleaning
        if ch.isspace():
            kept.append(" ")
        elif ch not in _INVISIBLE and unicodedata.category(ch) not in _DROPPED:
            kept.append(ch)
    name = " ".join("".join(kept).split())[:max_chars].strip()
    return name or DEFAULT_NAME


def check_color(raw: Any) -> str:
    if not isinstance(raw, str) or not _COLOR.fullmatch(raw):
        raise ProtocolError("bad_message", "hello.color must be '#rrggbb'")
    return raw.lower()


def check_lang(raw: Any) -> str:
    if not isinstance(raw, str) or not _LANG.fullmatch(raw):
        raise ProtocolError("bad_message", "hello.lang must be a BCP 47 tag such as 'sv' or 'en'")
    return raw


def check_id(raw: Any, field: str) -> str:
    if not isinstance(raw, str) or not _ID.fullmatch(raw):
        raise ProtocolError("bad_message", f"{field} must be an id (a-z, 0-9, '_', '-')")
    return raw


def check_int(raw: Any, field: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ProtocolError("bad_message", f"{field} must be an integer")
    return raw


def localise(text: Any, lang: str, default: str) -> dict[str, str]:
    """Only the visitor's language (or its primary subtag) and the exhibition's default."""
    if not isinstance(text, dict):
        return {}
    out: dict[str, str] = {}
    primary = lang.split("-")[0].lower()
    for key, value in text.items():
        if key == lang or key.split("-")[0].lower() == primary:
            out[key] = value
            break
    if default in text:
        out[default] = text[default]
    return out


def error(code: str, message: str) -> str:
    return json.dumps({"type": "error", "code": code, "message": message})
