"""ASCII STL: every malformed input is refused naming the file and the line; the text forms scanners
write (CRLF, tabs, several solid blocks, named endsolid) parse to the exact float64 Python reads."""

from __future__ import annotations

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


def _refused(path: Path, *words: str) -> str:
    with pytest.raises(ConversionError) as err:
        read_source(path)
    message = str(err.value)
    assert str(path) in message, message
    for word in words:
        assert word.lower() in message.lower(), message
    assert "\n" not in message
    return message


def _replace(line: int, text: str) -> bytes:
    lines = _lines()
    lines[line - 1] = text
    return _text(lines)


def _delete(line: int) -> bytes:
    lines = _lines()
    del lines[line - 1]
    return _text(lines)


MALFORMED = {
    "truncated": (stl_ascii(TWO)[: stl_ascii(TWO).rindex(b"vertex")], ("line 13", "truncated")),
    "vertex with 2 numbers": (_replace(5, "vertex 1.0 0.0"), ("line 5", "2 numbers")),
    "vertex with 4 numbers": (_replace(11, "vertex 1 2 3 4"), ("line 11", "'4'")),
    "non-numeric token": (_replace(12, "vertex 1.0 abc 0.0"), ("line 12", "'abc'")),
    "number with junk": (_replace(12, "vertex 1.0 2.5x 0.0"), ("line 12", "'2.5x'")),
    "facet with 2 vertices": (_delete(6), ("line 6", "2 vertices")),
    "facet with 4 vertices": (_replace(7, "vertex 0 0 0"), ("line 7", "more than 3 vertices")),
    "nan": (_replace(4, "vertex nan 0 0"), ("line 4", "'nan'", "not finite")),
    "minus inf": (_replace(13, "vertex 0 -inf 0"), ("line 13", "not finite")),
    "overflow to inf": (_replace(11, "vertex 1e999 0 0"), ("line 11", "finite")),
    "missing endloop": (_delete(7), ("line 7", "'endfacet'", "'endloop'")),
    "unknown keyword": (_replace(3, "outer lop"), ("line 3", "'lop'")),
    "no endsolid": (_delete(16), ("line 16", "endsolid")),
    "endsolid inside a facet": (_replace(7, "endsolid"), ("line 7", "endsolid")),
    "solid name of 5000 bytes": (_replace(1, "solid " + "x" * 5000), ("line 1", "longer")),
    "text after endsolid": (_text([*_lines(), "vertex 1 2 3"]), ("line 16", "after")),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_ascii_stl_names_file_and_line(tmp_path: Path, case: str) -> None:
    data, words = MALFORMED[case]
    _refused(write(tmp_path / "bad.stl", data), "ASCII STL", *words)


def test_crlf_tabs_and_mixed_whitespace(tmp_path: Path) -> None:
    plain = ascii_stl_corners(tmp_path, stl_ascii(TWO), DEFAULT_LIMITS)
    messy = stl_ascii(TWO).replace(b"\n", b" \t\r\n").replace(b"vertex ", b"\tVERTEX\t  ")
    messy = messy.replace(b"outer loop", b"outer\r\n\tloop")
    assert np.array_equal(ascii_stl_corners(tmp_path, messy, DEFAULT_LIMITS), plain)


def test_several_named_solid_blocks_and_endsolid_names(tmp_path: Path) -> None:
    first = stl_ascii(TWO[:1]).replace(b"endsolid test", b"endsolid part one")
    second = stl_ascii(TWO[1:]).replace(b"solid test", b"solid part two (scanner 3)")
    corners = ascii_stl_corners(tmp_path, first + b"\n" + second, DEFAULT_LIMITS)
    assert np.array_equal(corners, TWO.reshape(-1, 3).astype(np.float64))


def test_a_facet_split_between_blocks_is_refused(tmp_path: Path) -> None:
    lines = _lines()
    data = _text([*lines[:5], "endsolid test", "solid test", *lines[5:]])
    _refused(write(tmp_path / "split.stl", data), "line 6", "inside a facet")


def test_nan_normals_are_ignored_like_all_normals(tmp_path: Path) -> None:
    data = stl_ascii(TWO).replace(b"facet normal 0 0 1", b"facet normal -nan nan NaN")
    assert np.array_equal(
        ascii_stl_corners(tmp_path, data, DEFAULT_LIMITS), TWO.reshape(-1, 3).astype(np.float64)
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
    corners = ascii_stl_corners(tmp_path, _text(lines), DEFAULT_LIMITS)
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
    whole = ascii_stl_corners(tmp_path, data, DEFAULT_LIMITS)
    monkeypatch.setattr(module, "CHUNK_BYTES", 97)  # cuts facets at every possible token
    assert np.array_equal(ascii_stl_corners(tmp_path, data, DEFAULT_LIMITS), whole)
    assert np.array_equal(whole, triangles.reshape(-1, 3))
