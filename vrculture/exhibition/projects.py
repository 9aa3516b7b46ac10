"""The programme: `[[projects]]` in collection.toml and/or rows of `projects.csv`.

Each project names the goals it serves, its status, district, start year, a link and optionally
the sensor feed that shows it live. Problems are issues naming file, line (or CSV row) and field;
a project with an error is left out and the rest are shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from vrculture.exhibition import csv_import
from vrculture.exhibition.fields import TextRules, Where, check_keys, read_id, read_str, read_text
from vrculture.exhibition.issues import Issue, IssueList
from vrculture.exhibition.records import GOALS, PROJECT_STATUSES, Origin, ProjectRecord

CSV_NAME = "projects.csv"
PROJECT_KEYS = {"id", "title", "description", "goals", "status", "district", "start_year",
                "link", "feed"}
CSV_PLAIN_COLUMNS = PROJECT_KEYS - {"title", "description"}
YEAR = re.compile(r"(19|20)[0-9]{2}")
# An absolute http(s) link without spaces, quotes or angle brackets (it becomes an <a href>).
LINK = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s\"'<>\\`]*)?")
GOAL_SEPARATORS = re.compile(r"[\s|,;]+")
MAX_PROJECTS = 5000


def read_goals(data: Mapping[str, object], where: Where) -> list[str] | None:
    value = data.get("goals")
    if isinstance(value, str):  # a CSV cell: "climate social" or "climate|social"
        value = [g for g in GOAL_SEPARATORS.split(value.strip()) if g]
    if not isinstance(value, list) or not value:
        where.report("goals", f"is required: a non-empty list of {', '.join(GOALS)}")
        return None
    goals: list[str] = []
    for goal in value:
        if not isinstance(goal, str) or goal not in GOALS:
            where.report("goals", f"{goal!r} is not one of {', '.join(GOALS)}")
            return None
        if goal not in goals:
            goals.append(goal)
    return goals


def read_year(data: Mapping[str, object], where: Where) -> int | None:
    value = data.get("start_year")
    if value is None:
        return None
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(
        value, bool) else None
    if text is None or not YEAR.fullmatch(text):
        where.report("start_year", f"{value!r} is not a year (1900-2099)")
        return None
    return int(text)


def read_project(data: Mapping[str, object], where: Where,
                 rules: TextRules) -> ProjectRecord | None:
    errors_before = len(where.issues.errors)
    pid = read_id(data, "id", where)
    where.record = pid
    check_keys(data, PROJECT_KEYS, where)
    title = read_text(data, "title", where, rules, required=True)
    description = read_text(data, "description", where, rules)
    goals = read_goals(data, where)
    status = read_str(data, "status", where, required=True)
    if status is not None and status not in PROJECT_STATUSES:
        where.report("status", f"{status!r} is not one of {', '.join(PROJECT_STATUSES)}")
    district = read_str(data, "district", where, max_len=200) or None
    start_year = read_year(data, where)
    link = read_str(data, "link", where, max_len=2000) or None
    if link is not None and not LINK.fullmatch(link):
        where.report("link", f"{link!r} is not an http:// or https:// address")
    feed = read_id(data, "feed", where, required=False)
    if len(where.issues.errors) > errors_before:
        return None
    assert pid and title is not None and goals and status
    return ProjectRecord(
        id=pid, title=title, goals=goals, status=status,
        origin=Origin(where.file, where.locate(where.path + ("id",)), where.label()),
        description=description or {}, district=district, start_year=start_year, link=link,
        feed=feed)


def read_csv_projects(path: Path, rules: TextRules, issues: IssueList) -> list[ProjectRecord]:
    return csv_import.read_csv_rows(
        path, rules, issues, required=("id", "goals", "status"),
        plain=CSV_PLAIN_COLUMNS, texts=("title", "description"), metadata=False,
        read=lambda record, where: read_project(record, where, rules))


def accept_projects(candidates: list[ProjectRecord], feeds: set[str],
                    issues: IssueList) -> list[ProjectRecord]:
    """Unique ids, feeds that some smart exhibit declares; at most MAX_PROJECTS."""
    out: list[ProjectRecord] = []
    seen: dict[str, Origin] = {}
    for record in candidates:
        origin = record.origin
        if record.id in seen:
            first = seen[record.id]
            issues.add(Issue(origin.file, origin.line, origin.field("id"),
                             f"duplicate project id {record.id!r} (first used at line "
                             f"{first.line} of {Path(first.file).name})", record=record.id))
            continue
        if record.feed is not None and record.feed not in feeds:
            issues.add(Issue(origin.file, origin.line, origin.field("feed"),
                             f"no smart exhibit has the feed {record.feed!r} (known: "
                             f"{', '.join(sorted(feeds)) or 'none'})", record=record.id))
            continue
        if len(out) >= MAX_PROJECTS:
            issues.add(Issue(origin.file, origin.line, "(file)",
                             f"more than {MAX_PROJECTS} projects; the rest are left out"))
            break
        seen[record.id] = origin
        out.append(record)
    return out
