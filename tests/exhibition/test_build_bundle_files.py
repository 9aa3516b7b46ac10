"""The bundle's files as written: modes that follow the umask, nothing rewritten without a
change, reproducible with SOURCE_DATE_EPOCH, and the build report kept out of the bundle."""

from __future__ import annotations

from pathlib import Path

from build_helpers import load_json, run_build
from file_modes import assert_modes_follow_umask

from vrculture.exhibition.bundle import report_path


def test_bundle_files_follow_the_umask(tmp_path: Path, small_collection: Path,
                                       umask_022: int) -> None:
    out = tmp_path / "out"
    assert run_build(small_collection, "-o", out, "--quiet") == 0
    assert list(out.rglob("*.glb")) and list(out.rglob("*.webp"))
    assert_modes_follow_umask(out, umask_022)
    assert_modes_follow_umask(tmp_path / ".vrculture-cache", umask_022)


def test_cache_entries_of_earlier_versions_are_published_readable(
        tmp_path: Path, small_collection: Path, umask_022: int) -> None:
    out = tmp_path / "out"
    assert run_build(small_collection, "-o", out, "--quiet") == 0
    for glb in (tmp_path / ".vrculture-cache").rglob("*.glb"):  # as earlier versions wrote them
        glb.chmod(0o600)
    assert run_build(small_collection, "-o", out, "--quiet") == 0
    assert_modes_follow_umask(out, umask_022)


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file's bytes, mode and mtime, and the folders' mtimes."""
    return {p.relative_to(folder).as_posix(): (b"" if p.is_dir() else p.read_bytes(),
                                               p.stat().st_mode, p.stat().st_mtime_ns)
            for p in [folder, *folder.rglob("*")]}


def test_a_rebuild_without_a_change_leaves_the_bundle_as_it_was(tmp_path: Path,
                                                                small_collection: Path) -> None:
    out = tmp_path / "out"
    assert run_build(small_collection, "-o", out, "--quiet") == 0
    before = _snapshot(out)
    report_path(out).unlink()
    assert run_build(small_collection, "-o", out, "--quiet") == 0
    assert _snapshot(out) == before  # built_at included: exhibition.json is not rewritten
    assert load_json(report_path(out))["counts"]["cached"] == 3  # the report is this run's


def test_source_date_epoch_sets_built_at_and_makes_builds_reproducible(
        tmp_path: Path, small_collection: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first, second = tmp_path / "a" / "out", tmp_path / "b" / "out"
    assert run_build(small_collection, "-o", first, "--quiet") == 0
    assert run_build(small_collection, "-o", second, "--quiet") == 0  # its own cache: b/
    assert load_json(first / "exhibition.json")["built_at"] == "2023-11-14T22:13:20Z"
    files = {p.relative_to(first) for p in first.rglob("*")}
    assert files == {p.relative_to(second) for p in second.rglob("*")}
    assert all((first / f).read_bytes() == (second / f).read_bytes()
               for f in files if (first / f).is_file())

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")  # a later release of the same
    assert run_build(small_collection, "-o", first, "--quiet") == 0
    assert load_json(first / "exhibition.json")["built_at"] == "2027-01-15T08:00:00Z"


def test_a_malformed_source_date_epoch_is_a_usage_error(tmp_path: Path, small_collection: Path,
                                                         monkeypatch, capsys) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    assert run_build(small_collection, "-o", tmp_path / "out", "--quiet") == 2
    assert "SOURCE_DATE_EPOCH" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_build_report_is_beside_the_bundle_never_in_it(tmp_path: Path,
                                                          small_collection: Path) -> None:
    out = tmp_path / "out"
    assert run_build(small_collection, "-o", out, "--quiet") == 0
    assert report_path(out) == tmp_path / "out.build-report.json"
    assert load_json(report_path(out))["bundle"] == str(out.resolve())
    assert not (out / "build-report.json").exists()
    assert str(tmp_path) not in (out / "exhibition.json").read_text("utf-8")
    # A bundle of an earlier build, with its report inside: the rebuild drops it.
    (out / "build-report.json").write_text('{"collection": "/home/curator/samlingen"}')
    assert run_build(small_collection, "-o", out, "--quiet") == 0
    assert not (out / "build-report.json").exists()
