"""A collection-management system's CSV export: one row per object.

Columns (docs/collection-format.md): id, source, title, title_<lang>, description_<lang>,
credit_<lang>, creator, date, rights, units, height_m, up, room. Any other column is kept as
the object's metadata. Delimiter `,` or `;` (Swedish spreadsheets export `;`), UTF-8 with or
without BOM. Rows are numbered as a spreadsheet shows them (the header is row 1).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TypeVar

from vrculture.exhibition.fields import LANG, TextRules, Where
from vrculture.exhibition.issues import Issue, IssueList
from vrculture.exhibition.records import ObjectRecord

PLAIN_COLUMNS = {"id", "source", "creator", "date", "rights", "units", "height_m", "up", "room"}
TEXT_COLUMNS = ("title", "description", "credit")
MAX_CSV_BYTES = 32 * 1024 * 1024
MAX_ROWS = 100_000

ReadObject = Callable[[Mapping[str, object], Where, TextRules, Path], ObjectRecord | None]
R = TypeVar("R")


def _text_column(name: str, texts: tuple[str, ...] = TEXT_COLUMNS) -> tuple[str, str | None] | None:
    """('title', 'sv') for title_sv, ('title', None) for title; None for other columns."""
    for base in texts:
        if name == base:
            return base, None
        if name.startswith(base + "_") and LANG.fullmatch(name[len(base) + 1:]):
            return base, name[len(base) + 1:]
    return None


def _at_row(row_number: int) -> Callable[[tuple[str | int, ...]], int | None]:
    """Locates every field of a CSV row: all of them are on the row's own line."""
    return lambda _path: row_number


def row_to_record(row: Mapping[str, str], rules: TextRules, *,
                  plain: Collection[str] = PLAIN_COLUMNS,
                  text_columns: tuple[str, ...] = TEXT_COLUMNS,
                  metadata_allowed: bool = True) -> dict[str, object]:
    """A CSV row in the same shape as a TOML table (empty cells are absent). Other columns go
    to `metadata`, or (when not allowed) stay as keys so that validation names them."""
    record: dict[str, object] = {}
    metadata: dict[str, str] = {}
    for column, cell in row.items():
        if column is None:  # more cells than header columns
            continue
        name = column.strip()
        value = (cell or "").strip()
        if not value:
            continue
        text = _text_column(name, text_columns)
        if text:
            base, lang = text
            texts = record.setdefault(base, {})
            assert isinstance(texts, dict)
            texts[lang or rules.default_language] = value
        elif name in plain or not metadata_allowed:
            record[name] = value
        else:
            metadata[name] = value
    if metadata:
        record["metadata"] = metadata
    return record


def read_csv_objects(path: Path, rules: TextRules, root: Path, issues: IssueList,
                     read_object: ReadObject) -> list[ObjectRecord]:
    return read_csv_rows(path, rules, issues, required=("id", "source"), plain=PLAIN_COLUMNS,
                         texts=TEXT_COLUMNS, metadata=True,
                         read=lambda record, where: read_object(record, where, rules, root))


def read_csv_rows(path: Path, rules: TextRules, issues: IssueList, *, required: tuple[str, ...],
                  plain: Collection[str], texts: tuple[str, ...], metadata: bool,
                  read: Callable[[Mapping[str, object], Where], R | None]) -> list[R]:
    """Every valid row of the CSV file `path`, read by `read`; problems name file and row."""
    if path.stat().st_size > MAX_CSV_BYTES:
        issues.add(Issue(str(path), None, "(file)", f"larger than {MAX_CSV_BYTES // 2**20} MB"))
        return []
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        issues.add(Issue(str(path), None, "(file)", f"not UTF-8 text ({err.reason}); export "
                                                    "the CSV as UTF-8"))
        return []
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = reader.fieldnames or []
    if any(column not in header for column in required):
        issues.add(Issue(str(path), 1, "(header)", f"needs at least the columns "
                                                   f"{', '.join(required)} "
                                                   f"(found: {', '.join(header) or 'none'})"))
        return []
    out: list[R] = []
    try:
        for index, row in enumerate(reader):
            row_number = index + 2
            if index >= MAX_ROWS:
                issues.add(Issue(str(path), row_number, "(file)", f"more than {MAX_ROWS} rows"))
                break
            if None in row:
                issues.add(Issue(str(path), row_number, "(row)",
                                 "more cells than header columns", record=row.get("id")))
                continue
            where = Where(str(path), _at_row(row_number), (), issues)
            record = read(row_to_record(row, rules, plain=plain, text_columns=texts,
                                        metadata_allowed=metadata), where)
            if record:
                out.append(record)
    except csv.Error as err:
        issues.add(Issue(str(path), reader.line_num, "(file)", f"unreadable CSV: {err}"))
    return out
