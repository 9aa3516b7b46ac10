"""`vrculture convert` as a curator runs it: outputs, progress, clean errors, exit codes."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import pytest
from gltf_validator import ROOT, assert_valid


def convert(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vrculture", "convert", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture
def good(corpus):
    return corpus / "spot" / "spot.obj"


@pytest.fixture
def bad(tmp_path):
    path = tmp_path / "broken.ply"
    path.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 999999\n"
                     b"property float x\nend_header\n\x00\x01")
    return path


def test_good_file_exit_0_with_outputs_and_metadata(tmp_path, good):
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"title": "Spot", "creator": "Keenan Crane", "date": "2013"}))
    result = convert(good, "-o", tmp_path / "out", "--meta", meta, "--rights", "CC0",
                     "--levels", "full,low")
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "out" / "spot"
    summary = json.loads((folder / "spot.json").read_text())
    assert [level["name"] for level in summary["levels"]] == ["full", "low"]
    assert "[1/1]" in result.stderr and "ok in" in result.stderr
    # No --up: the axis chosen for an OBJ is said, with where it came from.
    assert re.search(r"\[1/1\].*: up \+Y \((estimated|format-habit), confidence", result.stderr)
    assert summary["orientation"]["axis"] == "+Y"
    paths = [folder / "spot.full.glb", folder / "spot.low.glb"]
    assert_valid(paths)
    text = paths[0].read_bytes()
    assert b'"dc:rights"' in text and b"Keenan Crane" in text


def test_good_and_bad_exit_3_and_the_good_one_converts(tmp_path, good, bad):
    result = convert(good, bad, "-o", tmp_path, "--levels", "low")
    assert result.returncode == 3
    assert (tmp_path / "spot" / "spot.low.glb").is_file()
    error_lines = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(error_lines) == 1 and "broken.ply" in error_lines[0]
    assert "Traceback" not in result.stderr


def test_only_bad_exit_1(tmp_path, bad):
    missing = tmp_path / "nothing.obj"
    result = convert(bad, missing, "-o", tmp_path / "out")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "broken.ply" in result.stderr and "nothing.obj" in result.stderr
    assert not list((tmp_path / "out").rglob("*.glb"))


@pytest.mark.parametrize("args", [
    ["--textures", "gif"],
    ["--levels", "full,ultra"],
    ["--up", "sideways"],
    ["--height-m", "-2"],
    ["--units", "inch"],
    [],  # no -o
])
def test_usage_errors_exit_2(tmp_path, good, args):
    out = [] if not args else ["-o", tmp_path]
    result = convert(good, *out, *args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.rglob("*.glb"))


def test_bad_meta_file_is_a_usage_error(tmp_path, good):
    meta = tmp_path / "meta.json"
    meta.write_text("[1, 2")
    result = convert(good, "-o", tmp_path, "--meta", meta)
    assert result.returncode == 2 and "not valid JSON" in result.stderr


def test_same_stem_twice_gets_two_folders(tmp_path, corpus):
    copy = tmp_path / "other" / "spot.obj"
    copy.parent.mkdir()
    copy.write_bytes((corpus / "derived" / "igea_from_tristrips.stl").read_bytes())
    result = convert(corpus / "spot" / "spot.obj", copy, "-o", tmp_path / "out",
                     "--levels", "low")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "spot" / "spot.low.glb").is_file()
    assert (tmp_path / "out" / "spot-2" / "spot-2.low.glb").is_file()


@pytest.fixture
def small(tmp_path):
    import trimesh

    path = tmp_path / "vas.obj"
    trimesh.creation.icosphere(subdivisions=2, radius=0.2).export(path)
    return path


@pytest.mark.parametrize("rights, extra, expected", [
    ("CC-BY-NC-4.0", [], ["medium", "low"]),  # the build's default cap
    ("InC", ["--max-level-restricted", "high"], ["high", "medium", "low"]),
    ("All rights reserved, the museum", [], ["medium", "low"]),  # unknown: not free either
    ("CC-BY-4.0", [], ["full", "high", "medium", "low"]),
])
def test_rights_not_free_to_reuse_cap_the_levels_as_the_build_does(tmp_path, small, rights,
                                                                    extra, expected):
    result = convert(small, "-o", tmp_path / "out", "--rights", rights, *extra)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "out" / "vas" / "vas.json").read_text())
    assert [level["name"] for level in summary["levels"]] == expected
    written = {p.name.split(".")[1] for p in (tmp_path / "out" / "vas").glob("*.glb")}
    assert written <= set(expected)
    assert ("do not allow free reuse" in result.stderr) == (expected[0] != "full")


def test_rights_in_the_meta_file_cap_the_levels_too(tmp_path, small):
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"dc:rights": "CC-BY-ND-4.0"}))
    result = convert(small, "-o", tmp_path / "out", "--meta", meta, "--levels", "full,low")
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "out" / "vas" / "vas.json").read_text())
    assert [level["name"] for level in summary["levels"]] == ["low"]
    assert not (tmp_path / "out" / "vas" / "vas.full.glb").exists()


class TickingClock:
    """Ten seconds pass every time the conversion looks at the clock."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 10.0
        return self.now


def test_progress_counts_files_with_a_percentage_and_the_time_left(tmp_path, small, bad):
    from vrculture.cli.convert import convert_all
    from vrculture.pipeline.convert import ConvertSettings

    stream = io.StringIO()
    code = convert_all([small, bad, small], tmp_path / "out", ConvertSettings(levels=("low",)),
                       stream=stream, clock=TickingClock())
    assert code == 3
    progress = [line for line in stream.getvalue().splitlines()
                if line.startswith("vrculture convert: ")]
    # Read at 10 (start), 20 and 30 (the first file's time), 40: 30 s for one file, two left.
    assert progress[0] == f"vrculture convert: [1/3] 33% {small}: ok (about 1:00 left)"
    # 50 (the bad file's start), 60: 50 s for two, one left.
    assert progress[1] == f"vrculture convert: [2/3] 66% {bad}: failed (about 0:25 left)"
    assert progress[2] == f"vrculture convert: [3/3] 100% {small}: ok"
    assert f"[1/3] {small}: ok in 10.0 s" in stream.getvalue()
    assert sum("error:" in line for line in stream.getvalue().splitlines()) == 1

    quiet = io.StringIO()
    convert_all([small], tmp_path / "again", ConvertSettings(levels=("low",)), quiet=True,
                stream=quiet, clock=TickingClock())
    assert "converting" not in quiet.getvalue() and "vrculture convert:" not in quiet.getvalue()
    assert f"[1/1] {small}: ok in" in quiet.getvalue()  # the result is still said
