"""The programme (`[[projects]]` and projects.csv): valid projects reach exhibition.json; every
bad field is an issue naming file, line (or CSV row) and field, and only that project is left
out."""

from __future__ import annotations

import textwrap
from pathlib import Path

import jsonschema
from build_helpers import SCHEMA, load_json

from vrculture.exhibition import manifest as mf
from vrculture.exhibition.collection import load_collection
from vrculture.exhibition.records import GOALS

HEAD = textwrap.dedent("""\
    [exhibition]
    id = "prog"
    languages = ["sv", "en"]

    [[smart_exhibits]]
    id = "lampor"
    kind = "street-lighting"
    title = { sv = "Lampor", en = "Lamps" }
    goal = "climate"
    feeds = ["lamps-1"]
    """)

PROJECTS_TOML = textwrap.dedent("""\

    [[projects]]
    id = "good"
    title = { sv = "Bra", en = "Good" }
    description = { sv = "Beskrivning", en = "Description" }
    goals = ["climate", "social"]
    status = "ongoing"
    district = "Centrum"
    start_year = 2024
    link = "https://example.org/good"
    feed = "lamps-1"

    [[projects]]
    id = "bad-goal"
    title = { sv = "Mål", en = "Goal" }
    goals = ["climate", "happiness"]
    status = "ongoing"

    [[projects]]
    id = "bad-link"
    title = { sv = "Länk", en = "Link" }
    goals = ["economic"]
    status = "planned"
    link = "javascript:alert(1)"

    [[projects]]
    id = "bad-feed"
    title = { sv = "Flöde", en = "Feed" }
    goals = ["democratic"]
    status = "completed"
    feed = "no-such-feed"

    [[projects]]
    id = "good"
    title = { sv = "Igen", en = "Again" }
    goals = ["social"]
    status = "paused"
    """)


def _write(root: Path, toml: str, csv: str | None = None) -> Path:
    root.mkdir(exist_ok=True)
    (root / "collection.toml").write_text(toml, encoding="utf-8")
    if csv is not None:
        (root / "projects.csv").write_bytes(csv.encode("utf-8"))
    return root


def _errors(issues) -> list[tuple[str, int | None, str, str]]:
    return [(Path(i.file).name, i.line, i.field, i.message) for i in issues.errors]


def test_toml_projects_good_and_bad(tmp_path: Path) -> None:
    collection, issues = load_collection(_write(tmp_path / "c", HEAD + PROJECTS_TOML))
    assert [p.id for p in collection.projects] == ["good"]
    good = collection.projects[0]
    assert good.goals == ["climate", "social"] and good.feed == "lamps-1"
    assert good.start_year == 2024 and good.district == "Centrum"
    errors = _errors(issues)
    lines = (HEAD + PROJECTS_TOML).splitlines()

    def line_of(text: str) -> int:
        return next(n for n, line in enumerate(lines, 1) if line.startswith(text))

    assert ("collection.toml", line_of('goals = ["climate", "happiness"]'), "projects[1].goals",
            "'happiness' is not one of climate, economic, social, democratic") in errors
    assert any(e[1] == line_of('link = "javascript') and e[2] == "projects[2].link"
               for e in errors)
    assert any(e[2] == "projects[3].feed" and "no smart exhibit has the feed 'no-such-feed'"
               in e[3] for e in errors)
    assert any(e[2] == "projects[4].id" and "duplicate project id 'good'" in e[3]
               for e in errors)
    assert len(errors) == 4


def test_csv_projects_semicolons_and_per_row_errors(tmp_path: Path) -> None:
    csv = ("\ufeffid;title_sv;title_en;goals;status;start_year;link;feed\n"
           "a;Ett;One;climate|economic;ongoing;2023;https://example.org/a;lamps-1\n"
           "b;Två;Two;social democratic;planned;;;\n"
           "c;Tre;Three;;ongoing;;;\n"
           "d;Fyra;Four;social;maybe;;;\n"
           "e;Fem;Five;social;ongoing;20x4;;\n"
           "F!;Sex;Six;social;ongoing;;;\n"
           "g;Sju;Seven;social;ongoing;;https://example.org/a b;\n"
           "h;;;social;ongoing;;;\n")
    collection, issues = load_collection(_write(tmp_path / "c", HEAD, csv))
    assert [(p.id, p.goals) for p in collection.projects] == [
        ("a", ["climate", "economic"]), ("b", ["social", "democratic"])]
    rows = {(e[0], e[1], e[2]) for e in _errors(issues)}
    assert rows == {("projects.csv", 4, "goals"), ("projects.csv", 5, "status"),
                    ("projects.csv", 6, "start_year"), ("projects.csv", 7, "id"),
                    ("projects.csv", 8, "link"), ("projects.csv", 9, "title")}


def test_csv_unknown_column_and_bad_header(tmp_path: Path) -> None:
    root = _write(tmp_path / "c", HEAD, "id,title,goals,status,budget\nx,X,climate,ongoing,12\n")
    collection, issues = load_collection(root)
    assert collection.projects == []
    assert [(e[1], e[2]) for e in _errors(issues)] == [(2, "budget")]
    root = _write(tmp_path / "d", HEAD, "name,title\nx,X\n")
    collection, issues = load_collection(root)
    assert collection.projects == []
    assert [(e[1], e[2]) for e in _errors(issues)] == [(1, "(header)")]


def test_project_entries_validate_against_the_schema(tmp_path: Path) -> None:
    collection, _ = load_collection(_write(tmp_path / "c", HEAD + PROJECTS_TOML))
    schema = load_json(SCHEMA)
    entry = mf.project_entry(collection.projects[0], ["sv", "en"])
    validator = jsonschema.Draft202012Validator(
        {"$defs": schema["$defs"], "$ref": "#/$defs/project"})
    validator.validate(entry)
    assert not validator.is_valid({**entry, "goals": ["climate", "happiness"]})
    assert entry["link"] == "https://example.org/good"


def test_demo_manifest_has_the_programme(demo_bundle: Path) -> None:
    manifest = load_json(demo_bundle / "exhibition.json")
    jsonschema.Draft202012Validator(load_json(SCHEMA)).validate(manifest)
    projects = manifest["projects"]
    assert len(projects) >= 20
    assert {g for p in projects for g in p["goals"]} == set(GOALS)
    assert all(set(p["title"]) == {"sv", "en"} for p in projects)
    with_feed = [p for p in projects if "feed" in p]
    assert with_feed and all(p["feed"] in manifest["feeds"] for p in with_feed)
