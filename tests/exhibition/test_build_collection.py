"""Collection validation: every problem names file, line (or CSV row) and field; the valid
records still build and the exit code is 3."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from build_helpers import load_json, run_build, write_painting, write_shape

from vrculture.exhibition.bundle import report_path
from vrculture.exhibition.collection import CollectionError, load_collection
from vrculture.exhibition.toml_locate import TomlLocator

BAD_TOML = textwrap.dedent("""\
    [exhibition]
    id = "bad"
    languages = ["sv", "en"]
    title = { sv = "Trasig", en = "Broken" }

    [[objects]]
    id = "good"
    source = "src/good.obj"
    title = { sv = "Bra", en = "Good" }
    rights = "CC-BY-4.0"

    [[objects]]
    id = "typo"
    source = "src/good.obj"
    titel = { sv = "Stavfel" }
    title = { sv = "Stavfel", en = "Typo" }
    rights = "CC0-1.0"

    [[objects]]
    id = "missing"
    source = "src/nowhere.obj"
    title = { sv = "Borta", en = "Gone" }
    rights = "CC0-1.0"

    [[objects]]
    id = "good"
    source = "src/good.obj"
    title = { sv = "Dubblett", en = "Duplicate" }
    rights = "CC0-1.0"

    [[objects]]
    id = "rights"
    source = "src/good.obj"
    title = { sv = "Rättigheter", en = "Rights" }
    rights = "All rights reserved"

    [[objects]]
    id = "escape"
    source = "../outside.obj"
    title = { sv = "Utanför", en = "Outside" }
    rights = "CC0-1.0"

    [[objects]]
    id = "absolute"
    source = "/etc/passwd"
    title = { sv = "Absolut", en = "Absolute" }
    rights = "CC0-1.0"

    [[objects]]
    id = "half"
    source = "src/good.obj"
    title = { sv = "Bara svenska" }
    rights = "http://rightsstatements.org/vocab/InC-EDU/1.0/"
    """)


def _collection(tmp_path: Path, toml: str) -> Path:
    folder = tmp_path / "collection"
    write_shape(folder / "src" / "good.obj", "sphere", 2)
    write_shape(tmp_path / "outside.obj", "box")
    (folder / "collection.toml").write_text(toml, "utf-8")
    return folder


def test_problems_are_located_and_the_rest_builds(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    folder = _collection(tmp_path, BAD_TOML)
    out = tmp_path / "bundle"
    code = run_build(folder, "-o", out, "--levels", "low", "--quiet", "--jobs", "1")
    assert code == 3
    err = capsys.readouterr().err
    toml = str(folder.resolve() / "collection.toml")
    expected = [
        (15, "objects[1].titel", "unknown key"),
        (21, "source", "file not found"),
        (26, "objects[3].id", "duplicate id 'good'"),
        (35, "objects[4].rights", "not a known rights id"),
        (39, "objects[5].source", "outside the collection folder"),
        (45, "objects[6].source", "outside the collection folder"),
    ]
    for line, field, words in expected:
        assert any(f"{toml}:{line}: error: " in row and field in row and words in row
                   for row in err.splitlines()), (line, field, err)
    # A missing translation is a warning with its line, and the object still builds.
    assert f"{toml}:52: warning: objects[7].title: no 'en' translation" in err
    manifest = load_json(out / "exhibition.json")
    built = {o["id"]: o for o in manifest["objects"]}
    assert set(built) == {"good", "half"}
    assert built["half"]["title"]["en"] == built["half"]["title"]["sv"]
    assert built["half"]["rights"]["id"] == "InC-EDU"
    report = load_json(report_path(out))
    assert report["counts"]["built"] == 2
    assert set(report["invalid"]) >= {"typo", "missing", "rights", "escape", "absolute"}
    # Each level says how far it lies from the source and which simplifier made it.
    for obj in (o for o in report["objects"] if o["status"] == "built"):
        for level in obj["levels"]:
            assert level["error"] >= 0
            assert level["method"] in {"source", "attributes", "across-seams", "sloppy"}


def test_nothing_valid_fails_and_keeps_the_previous_bundle(tmp_path: Path,
                                                            small_collection: Path) -> None:
    out = tmp_path / "bundle"
    assert run_build(small_collection, "-o", out, "--levels", "low", "--quiet") == 0
    before = (out / "exhibition.json").read_bytes()
    (small_collection / "collection.toml").write_text(
        '[[objects]]\nid = "x"\nsource = "nope.obj"\ntitle = "X"\nrights = "CC0-1.0"\n')
    assert run_build(small_collection, "-o", out, "--levels", "low", "--quiet") == 1
    assert (out / "exhibition.json").read_bytes() == before


def test_unreadable_collection_is_one_clear_error(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "collection.toml").write_text("[exhibition\nid = 1\n")
    assert run_build(folder, "-o", tmp_path / "b") == 1
    err = capsys.readouterr().err
    assert "collection.toml" in err and "Traceback" not in err
    with pytest.raises(CollectionError):
        load_collection(tmp_path / "empty-does-not-exist")


def test_refuses_to_replace_a_folder_that_is_not_a_bundle(tmp_path: Path,
                                                          small_collection: Path) -> None:
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "thesis.txt").write_text("do not delete")
    assert run_build(small_collection, "-o", precious, "--quiet") == 2
    assert (precious / "thesis.txt").read_text() == "do not delete"
    assert run_build(small_collection, "-o", small_collection / "out", "--quiet") == 2


def test_symlink_out_of_the_collection_is_refused(tmp_path: Path) -> None:
    folder = _collection(tmp_path, BAD_TOML.split("[[objects]]")[0] + textwrap.dedent("""\
        [[objects]]
        id = "link"
        source = "src/link.obj"
        title = "Länk"
        rights = "CC0-1.0"
        """))
    (folder / "src" / "link.obj").symlink_to(tmp_path / "outside.obj")
    collection, issues = load_collection(folder)
    assert not collection.objects
    assert any(i.field == "objects[0].source" and "outside" in i.message for i in issues.errors)


def test_csv_export_with_semicolons_bom_and_extra_columns(tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    write_shape(folder / "scans" / "a.stl", "cone")
    write_painting(folder / "img" / "b.jpg")
    rows = [
        "id;source;title_sv;title_en;creator;date;rights;height_m;inventarienummer;Material",
        "kon;scans/a.stl;Kon;Cone;okänd;1900;CC0-1.0;0,4;SM 1;trä",
        "bild;img/b.jpg;Bild;;Anna;1950;InC;0.3;SM 2;olja",
        "trasig;scans/x.stl;Trasig;Broken;;;CC0-1.0;;SM 3;",
        "dum;scans/a.stl;Dum;Dumb;;;Copyleft;;SM 4;",
    ]
    (folder / "collection.csv").write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode())
    collection, issues = load_collection(folder, languages=["sv", "en"])
    assert [o.id for o in collection.objects] == ["kon", "bild"]
    kon, bild = collection.objects
    assert kon.metadata == {"inventarienummer": "SM 1", "Material": "trä"}
    assert kon.height_m == pytest.approx(0.4)
    assert bild.title["en"] == "Bild"  # fell back to the default language, with a warning
    assert not bild.rights.free_reuse
    csv_name = str(folder.resolve() / "collection.csv")
    errors = {(i.file, i.line, i.field) for i in issues.errors}
    assert (csv_name, 4, "source") in errors
    assert (csv_name, 5, "rights") in errors
    assert any(i.line == 3 and i.field == "title" for i in issues.warnings)
    out = tmp_path / "bundle"
    assert run_build(folder, "-o", out, "--levels", "low", "--quiet", "--jobs", "1") == 3
    manifest = load_json(out / "exhibition.json")
    assert {o["id"] for o in manifest["objects"]} == {"kon", "bild"}
    kon_entry = next(o for o in manifest["objects"] if o["id"] == "kon")
    assert kon_entry["metadata"]["inventarienummer"] == "SM 1"


def test_any_bcp47_language_and_required_languages(tmp_path: Path) -> None:
    folder = tmp_path / "lang"
    write_shape(folder / "a.obj")
    (folder / "collection.toml").write_text(textwrap.dedent("""\
        [exhibition]
        default_language = "sv"
        title = { sv = "Språk", se = "Giella", "sr-Latn" = "Jezik" }
        [[objects]]
        id = "a"
        source = "a.obj"
        title = { sv = "Klot", fi = "Pallo", se = "Čierru" }
        rights = "CC0-1.0"
        """), "utf-8")
    collection, issues = load_collection(folder, languages=["sv", "fi", "en"])
    assert collection.languages == ["sv", "fi", "en"]
    title = collection.objects[0].title
    assert title["fi"] == "Pallo" and title["en"] == "Klot" and title["se"] == "Čierru"
    assert [i.field for i in issues.warnings].count("objects[0].title") == 1


def test_locator_finds_keys_in_nested_arrays_of_tables() -> None:
    text = textwrap.dedent("""\
        [exhibition]
        title = "x"

        [[objects]]
        id = "a"

        [[objects.annotations]]
        id = "n1"

        [[objects]]
        id = "b"
        rights = "?"

        [[objects.annotations]]
        id = "n2"

        [[objects.annotations]]
        id = "n3"
        position = [1, 2]
        """)
    locate = TomlLocator(text).line_of
    assert locate(("exhibition", "title")) == 2
    assert locate(("objects", 1, "rights")) == 12
    assert locate(("objects", 1, "annotations", 1, "position")) == 19
    assert locate(("objects", 0, "annotations", 0, "id")) == 8
    assert locate(("objects", 1, "missing")) == 10  # falls back to the table's header


def test_a_corrupt_source_fails_alone(tmp_path: Path, small_collection: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    (small_collection / "src" / "ring.ply").write_bytes(b"ply\nformat binary_little_endian 1.0\n"
                                                        b"element vertex 99999999\nend_header\n")
    out = tmp_path / "bundle"
    assert run_build(small_collection, "-o", out, "--levels", "low", "--quiet") == 3
    err = capsys.readouterr().err
    toml = str(small_collection.resolve() / "collection.toml")
    line = (small_collection / "collection.toml").read_text().splitlines().index('id = "ring"') + 1
    assert any(row.startswith(f"{toml}:{line}: error: objects[1].source: ring.ply: ")
               for row in err.splitlines()), err
    assert "Traceback" not in err
    report = load_json(report_path(out))
    failed = [o for o in report["objects"] if o["status"] == "failed"]
    assert [o["id"] for o in failed] == ["ring"] and failed[0]["error"]
    assert {o["id"] for o in load_json(out / "exhibition.json")["objects"]} == {"klot", "tavla"}
