"""What a curator may write into a studio exhibition's metadata: every value checked in full
before anything is written (the hostile-input rules: full matches, bounded lengths, text that
UTF-8 can store, no control characters)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from vrculture.exhibition.rights import parse_rights

EXHIBITION_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}")
MAX_LANGUAGES = 12

# Texts written per language, and their longest value in characters.
EXHIBITION_TEXTS = {"title": 200, "description": 8000, "credit": 500}
OBJECT_TEXTS = {"title": 200, "description": 8000, "credit": 500}
# Plain strings (the collection format has one value for every language).
OBJECT_PLAIN = {"creator": 200, "date": 100, "rights": 200}
REQUIRED = frozenset({"title"})  # the builder refuses an object or exhibition without it


class FieldError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def check_text(field: str, value: object, max_chars: int, *, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise FieldError(field, "must be text")
    if len(value) > max_chars:
        raise FieldError(field, f"at most {max_chars} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError(field, "holds characters that cannot be stored (lone surrogates)"
                         ) from None
    allowed = "\n\t" if multiline else ""
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in value):
        raise FieldError(field, "holds control characters" + ("" if multiline else
                                                              " (line breaks included)"))
    return value


def check_language(field: str, value: object) -> str:
    if not isinstance(value, str) or LANGUAGE.fullmatch(value) is None:
        raise FieldError(field, "a language tag such as 'sv', 'en' or 'sr-Latn'")
    return value


def check_languages(value: object) -> list[str]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_LANGUAGES:
        raise FieldError("languages", f"a list of 1 to {MAX_LANGUAGES} language tags")
    tags = [check_language("languages", tag) for tag in value]
    if len({t.lower() for t in tags}) != len(tags):
        raise FieldError("languages", "each language only once")
    return tags


def check_texts(body: dict[str, Any], limits: dict[str, int], languages: list[str],
                *, nullable: bool) -> dict[str, dict[str, str | None]]:
    """{field: {language: text or None (remove)}} for the text fields present in `body`."""
    out: dict[str, dict[str, str | None]] = {}
    for field, max_chars in limits.items():
        if field not in body:
            continue
        value = body[field]
        if not isinstance(value, dict) or len(value) > MAX_LANGUAGES:
            raise FieldError(field, "an object of language tag to text, e.g. "
                             '{"sv": "…", "en": "…"}')
        texts: dict[str, str | None] = {}
        for lang, text in value.items():
            check_language(f"{field}.{lang[:16]}", lang)
            if lang not in languages:
                raise FieldError(f"{field}.{lang}", "not one of the exhibition's languages ("
                                 + ", ".join(languages) + ")")
            if text is None and nullable:
                texts[lang] = None
            else:
                texts[lang] = check_text(f"{field}.{lang}", text, max_chars,
                                         multiline=field == "description") or None
        out[field] = texts
    return out


def check_plain(body: dict[str, Any]) -> dict[str, str | None]:
    """The object's plain fields present in `body` (None or "": remove)."""
    out: dict[str, str | None] = {}
    for field, max_chars in OBJECT_PLAIN.items():
        if field not in body:
            continue
        value = body[field]
        if value is None or value == "":
            if field == "rights":
                raise FieldError(field, "required: the builder publishes nothing without it")
            out[field] = None
            continue
        text = check_text(field, value, max_chars)
        if field == "rights" and parse_rights(text) is None:
            raise FieldError(field, "not a known rights statement (e.g. CC0-1.0, PDM-1.0, "
                             "CC-BY-4.0, InC; see docs/collection-format.md)")
        out[field] = text
    return out


def check_keys(body: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        raise FieldError(extra[0][:64], "unknown field")
