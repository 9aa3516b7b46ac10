"""Typed readers for one record's fields; every problem becomes an `Issue` with file/line/field.

A record (a TOML table or a CSV row) is read through a `Where`, which knows how to name a field
("objects[2].title") and find its line. Readers return None after recording an error, so the
caller can leave out the record and go on with the next one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from vrculture.exhibition.issues import Issue, IssueList
from vrculture.exhibition.records import Text

LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_TEXT = 20_000  # characters in one text field: a label, not a book


@dataclass
class Where:
    file: str
    locate: Callable[[tuple[str | int, ...]], int | None]
    path: tuple[str | int, ...]
    issues: IssueList
    record: str | None = None

    def sub(self, *keys: str | int) -> Where:
        return Where(self.file, self.locate, self.path + keys, self.issues, self.record)

    def label(self, *keys: str | int) -> str:
        out = ""
        for part in self.path + keys:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out

    def report(self, key: str | int | None, message: str, severity: str = "error") -> None:
        keys = () if key is None else (key,)
        self.issues.add(Issue(self.file, self.locate(self.path + keys), self.label(*keys),
                              message, severity, self.record))


@dataclass
class TextRules:
    default_language: str
    required: list[str]  # languages that must be complete: a gap is a warning + fallback


def check_keys(data: Mapping[str, object], allowed: set[str], where: Where) -> bool:
    ok = True
    for key in data:
        if key not in allowed:
            near = ", ".join(sorted(allowed))
            where.report(key, f"unknown key {key!r} (known keys: {near})")
            ok = False
    return ok


def read_str(data: Mapping[str, object], key: str, where: Where, *, required: bool = False,
             max_len: int = 2000) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            where.report(key, "is required")
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # a year written as a number is still a date
    if not isinstance(value, str):
        where.report(key, f"must be text, not {type(value).__name__}")
        return None
    value = value.strip()
    if len(value) > max_len:
        where.report(key, f"is longer than {max_len} characters")
        return None
    if required and not value:
        where.report(key, "must not be empty")
        return None
    return value


def read_id(data: Mapping[str, object], key: str, where: Where, *,
            required: bool = True) -> str | None:
    value = read_str(data, key, where, required=required, max_len=64)
    if value is None:
        return None
    if not ID.fullmatch(value):
        where.report(key, f"{value!r} is not a valid id (a-z, 0-9, '-', '_'; up to 64, "
                          "starting with a letter or digit)")
        return None
    return value


def read_number(data: Mapping[str, object], key: str, where: Where, *, positive: bool = False,
                required: bool = False) -> float | None:
    value = data.get(key)
    if value is None:
        if required:
            where.report(key, "is required")
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "."))
        except ValueError:
            where.report(key, f"{value!r} is not a number")
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        where.report(key, "must be a finite number")
        return None
    if positive and value <= 0:
        where.report(key, "must be greater than zero")
        return None
    return float(value)


def read_vec3(data: Mapping[str, object], key: str, where: Where, *,
              required: bool = True, unit: bool = False) -> tuple[float, float, float] | None:
    value = data.get(key)
    if value is None:
        if required:
            where.report(key, "is required ([x, y, z])")
        return None
    if (not isinstance(value, list) or len(value) != 3 or any(
            isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
            for v in value)):
        where.report(key, "must be three finite numbers [x, y, z]")
        return None
    vec = (float(value[0]), float(value[1]), float(value[2]))
    if unit:
        length = math.sqrt(sum(v * v for v in vec))
        if length < 1e-9:
            where.report(key, "must not be the zero vector")
            return None
        vec = (vec[0] / length, vec[1] / length, vec[2] / length)
    return vec


def read_text(data: Mapping[str, object], key: str, where: Where, rules: TextRules, *,
              required: bool = False) -> Text | None:
    """A text by language: a plain string (the default language) or a table of BCP 47 tags.

    Missing required languages fall back to the default language with a warning.
    """
    value = data.get(key)
    if value is None:
        if required:
            where.report(key, "is required")
        return None if required else {}
    if isinstance(value, str):
        text: Text = {rules.default_language: value.strip()}
    elif isinstance(value, Mapping):
        text = {}
        for lang, item in value.items():
            if not LANG.fullmatch(str(lang)):
                where.report(key, f"{lang!r} is not a BCP 47 language tag (e.g. sv, en, sv-FI)")
                return None
            if not isinstance(item, str):
                where.report(key, f"the {lang} text must be a string")
                return None
            if len(item) > MAX_TEXT:
                where.report(key, f"the {lang} text is longer than {MAX_TEXT} characters")
                return None
            if item.strip():
                text[str(lang)] = item.strip()
    else:
        where.report(key, "must be a text or a table of texts by language ({ sv = ..., en = ... })")
        return None
    if not text:
        if required:
            where.report(key, "must not be empty")
            return None
        return {}
    fill_missing_languages(text, key, where, rules)
    return text


def fill_missing_languages(text: Text, key: str, where: Where, rules: TextRules) -> None:
    source_lang = rules.default_language if rules.default_language in text else next(iter(text))
    for lang in rules.required:
        if lang not in text:
            where.report(key, f"no {lang!r} translation; showing the {source_lang!r} text",
                         severity="warning")
            text[lang] = text[source_lang]
