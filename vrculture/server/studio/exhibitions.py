"""Studio exhibitions as collection folders: DATA/studio/exhibitions/<id>/collection.toml and
sources/, the same format `vrculture build` reads (a hand-written folder copied there opens).

Edits go through tomlkit, which keeps the curator's comments, order and layout around what it
changes. Each file version is named by the hash of its bytes (the ETag); writes are atomic
(a temporary file in the same folder, fsync, rename) and follow the umask. Blocking: the
routes call these functions in a thread.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, InlineTable, Table

from vrculture.server.studio.fields import EXHIBITION_ID

TOML_NAME = "collection.toml"
SOURCES = "sources"
MAX_TOML_BYTES = 1 << 20  # a collection file of a few thousand objects; more is not ours


class StudioError(Exception):
    """A refusal with its HTTP status, for the routes to pass on."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Snapshot:
    raw: bytes
    doc: tomlkit.TOMLDocument

    @property
    def version(self) -> str:
        return version_of(self.raw)


def version_of(raw: bytes) -> str:
    """The ETag of a collection file's bytes (strong, quoted)."""
    return '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'


def studio_root(data_dir: Path) -> Path:
    return data_dir / "studio" / "exhibitions"


def folder(root: Path, exhibition_id: str) -> Path | None:
    """The exhibition's folder, or None when the id is not one or names no studio exhibition.
    Symlinks are refused: a link could lead a write anywhere on the disk."""
    if EXHIBITION_ID.fullmatch(exhibition_id) is None:
        return None
    path = root / exhibition_id
    toml = path / TOML_NAME
    if path.is_symlink() or not path.is_dir() or toml.is_symlink() or not toml.is_file():
        return None
    return path


def list_ids(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if folder(root, p.name) is not None)


def read(path: Path) -> Snapshot:
    toml = path / TOML_NAME
    with open(toml, "rb") as f:
        raw = f.read(MAX_TOML_BYTES + 1)
    if len(raw) > MAX_TOML_BYTES:
        raise StudioError(422, "too_large", f"{TOML_NAME} is over {MAX_TOML_BYTES} bytes")
    try:
        doc = tomlkit.parse(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise StudioError(422, "invalid_collection", f"{TOML_NAME} is not UTF-8 text") from None
    except TOMLKitError as error:
        raise StudioError(422, "invalid_collection", f"{TOML_NAME}: {error}") from None
    return Snapshot(raw, doc)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one rename; mode 0666 less the umask, like any file."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)


def _text_table(texts: dict[str, str]) -> InlineTable:
    table = tomlkit.inline_table()
    table.update(texts)
    return table


def create(root: Path, exhibition_id: str, languages: list[str],
           texts: dict[str, dict[str, str]]) -> Snapshot:
    """A new exhibition folder, made beside its final place and renamed into it whole."""
    root.mkdir(parents=True, exist_ok=True)
    final = root / exhibition_id
    if final.exists() or final.is_symlink():
        raise StudioError(409, "exists", f"a studio exhibition {exhibition_id!r} already exists")
    doc = tomlkit.document()
    doc.add(tomlkit.comment("Written by the vrculture studio; `vrculture build` reads it like "
                            "any collection.toml."))
    exhibition = tomlkit.table()
    exhibition["id"] = exhibition_id
    exhibition["default_language"] = languages[0]
    exhibition["languages"] = languages
    for field in ("title", "description", "credit"):
        if texts.get(field):
            exhibition[field] = _text_table(texts[field])
    doc["exhibition"] = exhibition
    data = tomlkit.dumps(doc).encode("utf-8")
    work = root / f".new-{exhibition_id}-{secrets.token_hex(6)}"
    work.mkdir()
    try:
        (work / SOURCES).mkdir()
        write_atomic(work / TOML_NAME, data)
        os.rename(work, final)  # refuses (ENOTEMPTY/EEXIST) if another request won the race
    except OSError:
        for leftover in (work / TOML_NAME, work / SOURCES, work):
            if leftover.is_dir():
                leftover.rmdir()
            else:
                leftover.unlink(missing_ok=True)
        if final.exists():
            raise StudioError(409, "exists", f"a studio exhibition {exhibition_id!r} already "
                              "exists") from None
        raise
    return Snapshot(data, tomlkit.parse(data.decode("utf-8")))


# reading the document ----------------------------------------------------------------------
def _table(doc: tomlkit.TOMLDocument, key: str) -> Any:
    value = doc.get(key)
    return value if isinstance(value, Table | InlineTable) else None


def languages_of(doc: tomlkit.TOMLDocument) -> tuple[str, list[str]]:
    """(default language, every language) as the builder reads them."""
    exhibition = _table(doc, "exhibition") or {}
    langs = exhibition.get("languages")
    languages = [str(t) for t in langs if isinstance(t, str)] if isinstance(langs, list) else []
    default = exhibition.get("default_language")
    default = str(default) if isinstance(default, str) else (languages[0] if languages else "en")
    if default not in languages:
        languages.insert(0, default)
    return default, languages


def _texts(value: object, default: str) -> dict[str, str]:
    if isinstance(value, str):
        return {default: str(value)}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}
    return {}


def objects(doc: tomlkit.TOMLDocument) -> list[Any]:
    value = doc.get("objects")
    if not isinstance(value, AoT | list):
        return []
    return [o for o in value if isinstance(o, Table | InlineTable | dict)]


def find_object(doc: tomlkit.TOMLDocument, object_id: str) -> Any:
    for candidate in objects(doc):
        if candidate.get("id") == object_id:
            return candidate
    raise StudioError(404, "unknown_object", f"no object {object_id!r} in collection.toml")


def _missing(where: str, table: Any, text_fields: tuple[str, ...], default: str,
             languages: list[str]) -> list[dict[str, Any]]:
    flags = []
    for field in text_fields:
        present = _texts(table.get(field), default)
        if not present and field != "title":
            continue  # an optional text nobody wrote is not a missing translation
        lacking = [lang for lang in languages if not present.get(lang)]
        if lacking:
            flags.append({"where": where, "field": field, "languages": lacking})
    return flags


def describe(exhibition_id: str, snapshot: Snapshot) -> dict[str, Any]:
    """What the studio shows of a collection: its texts per language, its objects' metadata
    and every missing translation."""
    doc = snapshot.doc
    default, languages = languages_of(doc)
    exhibition = _table(doc, "exhibition") or {}
    fields = ("title", "description", "credit")
    missing = _missing("exhibition", exhibition, fields, default, languages)
    items = []
    for obj in objects(doc):
        object_id = str(obj.get("id", ""))
        entry: dict[str, Any] = {"id": object_id}
        for field in fields:
            entry[field] = _texts(obj.get(field), default)
        for field in ("creator", "date", "rights", "source"):
            value = obj.get(field)
            entry[field] = str(value) if isinstance(value, str) else None
        items.append(entry)
        missing += _missing(f"objects/{object_id}", obj, fields, default, languages)
    return {
        "id": exhibition_id,
        "version": snapshot.version,
        "default_language": default,
        "languages": languages,
        **{field: _texts(exhibition.get(field), default) for field in fields},
        "objects": items,
        "missing_translations": missing,
    }


# editing the document ----------------------------------------------------------------------
def set_texts(table: Any, field: str, changes: dict[str, str | None], default: str,
              *, required: bool) -> None:
    """Set (or with None remove) a text's languages, keeping its other languages, its style
    and the comment after it: a `[...title]` table is changed in place; a plain string (the
    default language) stays one while it has no other language, else becomes an inline
    table."""
    current = table.get(field)
    if isinstance(current, Table):
        for lang, text in changes.items():
            if text is None:
                current.pop(lang, None)
            else:
                current[lang] = text
        if len(current) == 0:
            if required:
                raise StudioError(422, "missing_field", f"{field}: required in at least one "
                                  "language")
            del table[field]
        return
    merged = _texts(current, default)
    for lang, text in changes.items():
        if text is None:
            merged.pop(lang, None)
        else:
            merged[lang] = text
    if not merged:
        if required:
            raise StudioError(422, "missing_field", f"{field}: required in at least one "
                              "language")
        if field in table:
            del table[field]
        return
    replacement: Any
    if isinstance(current, str) and list(merged) == [default]:
        replacement = tomlkit.string(merged[default])
    else:
        replacement = _text_table(merged)
    trivia = getattr(current, "trivia", None)
    if trivia is not None:  # the curator's comment after the value stays
        replacement.trivia.comment_ws = trivia.comment_ws
        replacement.trivia.comment = trivia.comment
    table[field] = replacement


def set_plain(table: Any, changes: dict[str, str | None]) -> None:
    for field, value in changes.items():
        if value is None:
            if field in table:
                del table[field]
        else:
            table[field] = value


def exhibition_table(doc: tomlkit.TOMLDocument) -> Any:
    table = _table(doc, "exhibition")
    if table is None:
        if "exhibition" in doc:
            raise StudioError(422, "invalid_collection", "[exhibition] is not a table")
        table = tomlkit.table()
        doc["exhibition"] = table
    return table


def serialise(doc: tomlkit.TOMLDocument) -> bytes:
    data = tomlkit.dumps(doc).encode("utf-8")
    if len(data) > MAX_TOML_BYTES:
        raise StudioError(413, "too_large", f"{TOML_NAME} would be over {MAX_TOML_BYTES} bytes")
    return data
