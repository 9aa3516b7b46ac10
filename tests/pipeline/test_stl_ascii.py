"""ASCII STL: a malformed facet is dropped with a warning naming the file and the line, the rest
kept; the text forms scanners write (CRLF, tabs, several solid blocks, named endsolid) parse to the
exact float64 Python reads; hostile text ends in a result or a ConversionError, never anything
else, whatever the window size. Main's reader beside this one: test_stl_ascii_quirks.py."""

from __future__ import annotations

import contextlib
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from readers_fixtures import TRIANGLE, stl_ascii, stl_binary, write

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.readers import ReadLimits, read_source
from vrculture.pipeline.readers.common import DEFAULT_LIMITS
from vrculture.pipeline.readers.stl_ascii import ascii_stl_corners

TWO = np.stack([TRIANGLE, TRIANGLE + 1])
# stl_ascii(TWO), line by line: 1 solid, 2 facet normal, 3 outer loop, 4-6 vertex, 7 endloop,
# 8 endfacet, 9 facet normal, 10 outer loop, 11-13 vertex, 14 endloop, 15 endfacet, 16 endsolid.


def _lines() -> list[str]:
    return stl_ascii(TWO).decode().splitlines()


def _text(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _corners(source: Path, data: bytes, limits: ReadLimits) -> np.ndarray:
    """Corners of a clean file: no warning expected."""
    warnings: list[str] = []
    corners = ascii_stl_corners(source, data, limits, warnings)
    assert warnings == []
    return corners


def _read(path: Path) -> tuple[np.ndarray, list[str]]:
    model = read_source(path).model
    prim = model.primitives()[0]
    return prim.positions[prim.indices], model.warnings


def _replace(line: int, text: str) -> bytes:
    lines = _lines()
    lines[line - 1] = text
    return _text(lines)


def _delete(line: int) -> bytes:
    lines = _lines()
    del lines[line - 1]
    return _text(lines)


# A bad second facet (lines 9-15): the first facet is kept and one warning names the file, the
# facet's line and what is wrong.
MALFORMED = {
    "truncated": (stl_ascii(TWO)[: stl_ascii(TWO).rindex(b"vertex")], ("line 9", "truncated")),
    "vertex with 2 numbers": (_replace(12, "vertex 1.0 0.0"), ("line 9", "2 numbers")),
    "vertex with 4 numbers": (_replace(11, "vertex 1 2 3 4"), ("line 9", "4 numbers")),
    "non-numeric token": (_replace(12, "vertex 1.0 abc 0.0"), ("line 9", "with 1 numbers")),
    "number with junk": (_replace(12, "vertex 1.0 2.5x 0.0"), ("line 9", "not a number")),
    "underscore number": (_replace(12, "vertex 1.0 2_5 0.0"), ("line 9", "not a number")),
    "facet with 2 vertices": (_delete(13), ("line 9", "2 vertices")),
    "facet with 4 vertices": (_replace(14, "vertex 0 0 0"), ("line 9", "4 vertices")),
    "nan": (_replace(11, "vertex nan 0 0"), ("line 11", "NaN/infinite")),
    "minus inf": (_replace(13, "vertex 0 -inf 0"), ("line 13", "NaN/infinite")),
    "overflow to inf": (_replace(11, "vertex 1e999 0 0"), ("line 11", "NaN/infinite")),
    "unknown word after the vertices": (_replace(14, "endlop"), ("line 9", "'endlop'")),
    "vertex keyword misspelt": (_replace(12, "vertx 1 1 1"), ("line 9", "2 vertices")),
    "endsolid inside a facet": (_replace(12, "endsolid"), ("line 9", "1 vertices")),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_facet_is_dropped_naming_file_and_line(tmp_path: Path, case: str) -> None:
    data, words = MALFORMED[case]
    triangles, warnings = _read(write(tmp_path / "bad.stl", data))
    assert np.array_equal(triangles, TWO[:1])
    dropped = [w for w in warnings if "dropped" in w]
    assert len(dropped) == 1, warnings
    assert dropped[0].startswith("bad.stl: ASCII STL dropped 1 ")
    for word in words:
        assert word.lower() in dropped[0].lower(), dropped[0]


@pytest.mark.parametrize("case", MALFORMED)
def test_a_file_of_only_malformed_facets_is_refused(tmp_path: Path, case: str) -> None:
    data, words = MALFORMED[case]
    lines = data.decode().splitlines()
    only_bad = _text([lines[0], *lines[8:]])  # without the good first facet (lines 2-8)
    path = write(tmp_path / "bad.stl", only_bad)
    with pytest.raises(ConversionError) as err:
        read_source(path)
    message = str(err.value)
    assert str(path) in message and "no valid facet" in message, message
    assert "\n" not in message


def test_crlf_tabs_and_mixed_whitespace(tmp_path: Path) -> None:
    plain = _corners(tmp_path, stl_ascii(TWO), DEFAULT_LIMITS)
    messy = stl_ascii(TWO).replace(b"\n", b" \t\r\n").replace(b"vertex ", b"\tVERTEX\t  ")
    messy = messy.replace(b"outer loop", b"outer\r\n\tloop")
    assert np.array_equal(_corners(tmp_path, messy, DEFAULT_LIMITS), plain)


def test_several_named_solid_blocks_and_endsolid_names(tmp_path: Path) -> None:
    first = stl_ascii(TWO[:1]).replace(b"endsolid test", b"endsolid part one")
    second = stl_ascii(TWO[1:]).replace(b"solid test", b"solid part two (scanner 3)")
    corners = _corners(tmp_path, first + b"\n" + second, DEFAULT_LIMITS)
    assert np.array_equal(corners, TWO.reshape(-1, 3).astype(np.float64))


def test_a_facet_split_between_blocks_is_dropped_and_its_rest_ignored(tmp_path: Path) -> None:
    lines = _lines()
    data = _text([*lines[:5], "endsolid test", "solid test", *lines[5:]])
    triangles, warnings = _read(write(tmp_path / "split.stl", data))
    assert np.array_equal(triangles, TWO[1:])
    assert any("dropped 1 malformed" in w and "line 2: 2 vertices" in w for w in warnings)
    assert any("ignored 6 word(s)" in w and "line 8" in w for w in warnings), warnings


def test_nan_normals_are_ignored_like_all_normals(tmp_path: Path) -> None:
    data = stl_ascii(TWO).replace(b"facet normal 0 0 1", b"facet normal -nan nan NaN")
    assert np.array_equal(
        _corners(tmp_path, data, DEFAULT_LIMITS), TWO.reshape(-1, 3).astype(np.float64)
    )


def test_georeferenced_coordinates_parse_exactly_as_python_float(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    texts = [f"{x:.6f}" for x in rng.uniform(600_000, 7_000_000, 9 * 50)]
    texts[:3] = ["674032.123456", "6580119.000001", "-1.7976931348623157e308"]
    lines = ["solid geo"]
    for facet in range(50):
        lines += ["facet normal 0 0 1", "outer loop"]
        for corner in range(3):
            at = facet * 9 + corner * 3
            lines.append("vertex " + " ".join(texts[at : at + 3]))
        lines += ["endloop", "endfacet"]
    lines.append("endsolid geo")
    corners = _corners(tmp_path, _text(lines), DEFAULT_LIMITS)
    assert corners.dtype == np.float64
    assert corners.ravel().tolist() == [float(text) for text in texts]


def test_ascii_and_binary_stl_of_one_mesh_give_identical_float64_geometry(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    triangles = rng.normal(size=(200, 3, 3)).astype(np.float32)
    lines = ["solid mesh"]
    for tri in triangles.astype(np.float64).tolist():  # repr of each float32 value, exactly
        lines += ["facet normal 0 0 0", "outer loop"]
        lines += [f"vertex {x!r} {y!r} {z!r}" for x, y, z in tri]
        lines += ["endloop", "endfacet"]
    lines.append("endsolid mesh")
    ascii_model = read_source(write(tmp_path / "a.stl", _text(lines))).model.primitives()[0]
    binary_model = read_source(write(tmp_path / "b.stl", stl_binary(triangles))).model
    binary = binary_model.primitives()[0]
    assert ascii_model.positions.dtype == np.float64
    assert np.array_equal(
        ascii_model.positions[ascii_model.indices],
        binary.positions[binary.indices].astype(np.float64),
    )


def test_size_and_count_limits_refuse_before_parsing(tmp_path: Path) -> None:
    path = write(tmp_path / "big.stl", stl_ascii(np.stack([TRIANGLE] * 100)))
    with pytest.raises(ConversionError, match="over the limit"):
        read_source(path, limits=ReadLimits(max_file_bytes=1000))
    with pytest.raises(ConversionError, match="exceed the limit"):
        read_source(path, limits=ReadLimits(max_triangles=10))


@pytest.mark.parametrize("spacing", ["spaces and newlines", "tabs and carriage returns"])
def test_chunk_boundaries_do_not_change_the_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spacing: str
) -> None:
    import vrculture.pipeline.readers.stl_ascii as module

    triangles = np.random.default_rng(5).normal(size=(300, 3, 3))
    data = stl_ascii(triangles)
    if spacing.startswith("tabs"):  # the chunk cut must find whitespace other than " " and \n
        data = data.replace(b" ", b"\t").replace(b"\n", b"\r")
    whole = _corners(tmp_path, data, DEFAULT_LIMITS)
    monkeypatch.setattr(module, "CHUNK_BYTES", 97)  # cuts facets at every possible token
    assert np.array_equal(_corners(tmp_path, data, DEFAULT_LIMITS), whole)
    assert np.array_equal(whole, triangles.reshape(-1, 3))


def _outcome(data: bytes) -> tuple[list[float] | str, list[str]]:
    warnings: list[str] = []
    try:
        corners = ascii_stl_corners(Path("fuzz.stl"), data, DEFAULT_LIMITS, warnings)
    except ConversionError as err:  # anything else escaping is a reader bug
        return str(err), warnings
    return corners.ravel().tolist(), warnings


def test_fuzzed_files_read_alike_whatever_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mutated files give triangles or a ConversionError, and the same ones (same warnings,
    same lines) with windows of 256 bytes as with the default: no facet is cut at a window."""
    import vrculture.pipeline.readers.stl_ascii as module

    rng = np.random.default_rng(17)
    base = stl_ascii(rng.normal(size=(12, 3, 3))).decode().split(" ")
    pieces = [
        "facet",
        "vertex",
        "endloop",
        "endfacet",
        "solid x",
        "endsolid",
        "nan",
        "1e999",
        "\r",
        "\r\n",
        "\t",
        "",
        "-",
        "1",
        "0.5",
        "outer loop",
        "\ufeff",
        "x" * 300,
        "\x00",
    ]
    for _ in range(300):
        words = list(base)
        for _ in range(int(rng.integers(1, 6))):
            at = int(rng.integers(len(words)))
            change = int(rng.integers(3))
            if change == 0:
                del words[at]
            elif change == 1:
                words.insert(at, pieces[int(rng.integers(len(pieces)))])
            else:
                words[at] = pieces[int(rng.integers(len(pieces)))]
        data = " ".join(words).encode()
        monkeypatch.setattr(module, "CHUNK_BYTES", 1 << 18)
        whole = _outcome(data)
        monkeypatch.setattr(module, "CHUNK_BYTES", 256)
        assert _outcome(data) == whole, data


def test_a_token_longer_than_the_largest_window_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vrculture.pipeline.readers.stl_ascii as module

    monkeypatch.setattr(module, "CHUNK_BYTES", 64)
    lines = _lines()
    long_vertex = "vertex 1 " + "1" * 5000 + " 1"
    data = _text([*lines[:8], "x" * 5000, *lines[8:12], long_vertex, *lines[13:]])
    warnings: list[str] = []
    corners = ascii_stl_corners(tmp_path / "long.stl", data, DEFAULT_LIMITS, warnings)
    assert np.array_equal(corners, TWO[0])
    assert any("ignored" in w and "line 9" in w for w in warnings), warnings
    assert any("dropped 1 malformed" in w and "line 10" in w for w in warnings), warnings


def test_thousands_of_solid_blocks_are_read_block_by_block(tmp_path: Path) -> None:
    triangles = np.random.default_rng(2).normal(size=(3000, 3, 3))
    blocks = [
        stl_ascii(tri[None]).replace(b"solid test", b"solid  part 7 facet") for tri in triangles
    ]
    corners = _corners(tmp_path, b"".join(blocks), DEFAULT_LIMITS)
    assert np.array_equal(corners, triangles.reshape(-1, 3))


def _peak(data: bytes) -> int:
    tracemalloc.start()
    try:
        with contextlib.suppress(ConversionError):
            ascii_stl_corners(Path("big.stl"), data, DEFAULT_LIMITS, [])
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_is_the_coordinates_plus_a_window_not_copies_of_the_file() -> None:
    triangles = np.random.default_rng(4).normal(size=(20_000, 3, 3))
    data = stl_ascii(triangles)
    # float64 coordinates (kept, then joined: twice) and window-sized temporaries; no copy of
    # the 5 MB text itself.
    assert _peak(data) < 2 * triangles.nbytes + 0.5 * len(data)


def test_memory_does_not_grow_with_hostile_text() -> None:
    """One-byte tokens are the most expensive per byte; the peak is one window's worth."""
    small, large = (b"solid x\n" + b"1 " * count for count in (1 << 20, 1 << 22))
    assert _peak(large) < 1.2 * _peak(small) + (1 << 20)


def test_numbers_beside_a_bad_one_keep_their_exact_values(tmp_path: Path) -> None:
    """A window with an unreadable number is converted again without it; exponents, signs and
    bare dots around it must come out as Python reads them."""
    texts = ["1.5E+00", "-2e-3", "+.5", "7.", "-0", "1e308", "0.1", "674032.123456", "3"]
    lines = _lines()
    for row, at in zip(range(3), range(4, 7), strict=True):
        lines[at - 1] = "vertex " + " ".join(texts[3 * row : 3 * row + 3])
    lines[11] = "vertex 1-2 0 0"
    warnings: list[str] = []
    corners = ascii_stl_corners(tmp_path / "mix.stl", _text(lines), DEFAULT_LIMITS, warnings)
    assert corners.ravel().tolist() == [float(text) for text in texts]
    assert len(warnings) == 1 and "line 9: a vertex coordinate that is not a number" in warnings[0]
