"""ASCII STL quirks of real exports, read by main's regex reader and by the numpy reader alike.

Each row is one quirk file and what each reader must do with it: keep some triangles (with which
warning words) or refuse the file (with which words). Where both keep triangles they must be the
same float64 triangles. The rule both follow: bad facets are dropped with a warning naming the file
and line, the rest kept; a file with no valid facet is an error naming the file. Rows where main
refused a whole file for one bad facet (or could not read a lone-CR or BOM file at all) say so:
the numpy reader applies the rule there instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import stl_reader_main
from readers_fixtures import TRIANGLE, stl_ascii, stl_binary, write

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.readers import read_source
from vrculture.pipeline.readers.common import DEFAULT_LIMITS
from vrculture.pipeline.readers.stl import read_stl

TWO = np.stack([TRIANGLE, TRIANGLE + 1])
PLAIN = stl_ascii(TWO)
# PLAIN line by line: 1 solid, 2 facet normal, 3 outer loop, 4-6 vertex, 7 endloop, 8 endfacet,
# 9 facet normal, 10 outer loop, 11-13 vertex, 14 endloop, 15 endfacet, 16 endsolid.


@dataclass(frozen=True)
class Kept:
    triangles: int
    words: tuple[str, ...] = ()  # each must appear in one warning, or no warning at all if empty


@dataclass(frozen=True)
class Refused:
    words: tuple[str, ...]


def _line(number: int, text: str, data: bytes = PLAIN) -> bytes:
    lines = data.decode().split("\n")
    lines[number - 1] = text
    return "\n".join(lines).encode()


def _drop_line(number: int, data: bytes = PLAIN) -> bytes:
    lines = data.decode().split("\n")
    del lines[number - 1]
    return "\n".join(lines).encode()


NAN_ONLY = stl_ascii(TRIANGLE[None]).replace(b"vertex 0.0 0.0 0.0", b"vertex nan nan nan")
KEEP_FIRST = TWO[:1]

# name: (file bytes, main's reader, numpy reader, the triangles kept if not all of TWO)
QUIRKS: dict[str, tuple[bytes, Kept | Refused, Kept | Refused, np.ndarray | None]] = {
    "plain": (PLAIN, Kept(2), Kept(2), None),
    "NaN coordinate": (
        _line(11, "vertex nan 1 1"),
        Kept(1, ("NaN", "dropped the 1 triangles")),
        Kept(1, ("bad.stl", "NaN", "line 11")),
        KEEP_FIRST,
    ),
    "minus inf coordinate": (
        _line(13, "vertex 1 -inf 1"), Kept(1, ("NaN",)), Kept(1, ("line 13", "infinite")),
        KEEP_FIRST,
    ),
    "coordinate overflowing to inf": (
        _line(12, "vertex 1e999 1 1"), Kept(1, ("NaN",)), Kept(1, ("line 12", "infinite")),
        KEEP_FIRST,
    ),
    "missing endsolid": (_drop_line(16), Kept(2), Kept(2, ("line 9", "no 'endsolid'")), None),
    "text after endsolid": (
        PLAIN + b"exported by ScanStudio 2.1\n\x1a",
        Kept(2),
        Kept(2, ("bad.stl", "ignored 5 word(s) outside any facet", "line 17")),
        None,
    ),
    "CRLF": (PLAIN.replace(b"\n", b"\r\n"), Kept(2), Kept(2), None),
    "lone CR (old Mac)": (
        PLAIN.replace(b"\n", b"\r"), Refused(("zero triangles",)), Kept(2), None,
    ),
    "blank lines": (PLAIN.replace(b"\n", b"\n\n \t\n"), Kept(2), Kept(2), None),
    "mixed case keywords": (
        PLAIN.replace(b"vertex", b"VeRtEx").replace(b"facet", b"Facet")
        .replace(b"solid", b"SOLID").replace(b"outer loop", b"OUTER Loop"),
        Kept(2), Kept(2), None,
    ),
    "garbage normal": (
        _line(9, "facet normal -1.#IND00 nan(ind) x", _line(2, "facet normal")),
        Kept(2), Kept(2), None,
    ),
    "no normal at all, no outer loop": (
        _line(3, "", _line(2, "facet")), Kept(2), Kept(2), None,
    ),
    "extra whitespace and tabs": (
        PLAIN.replace(b" ", b" \t  ").replace(b"\n", b" \t\n\t"), Kept(2), Kept(2), None,
    ),
    "two solid blocks with names": (
        stl_ascii(TWO[:1]).replace(b"endsolid test", b"endsolid part one facet")
        + b"\n"
        + stl_ascii(TWO[1:]).replace(b"solid test", b"solid part two vertex 1 2 3"),
        Kept(2), Kept(2), None,
    ),
    "truncated last facet": (
        PLAIN[: PLAIN.rindex(b"vertex")],
        Refused(("not a multiple of 3",)),
        Kept(1, ("line 9", "truncated", "no 'endsolid'")),
        KEEP_FIRST,
    ),
    "UTF-8 BOM": (b"\xef\xbb\xbf" + PLAIN, Refused(("binary STL",)), Kept(2), None),
    "binary STL whose header says solid": (
        stl_binary(TWO, header=b"solid facet vertex endsolid"), Kept(2), Kept(2), None,
    ),
    "vertex with 2 numbers": (
        _line(12, "vertex 1 2"),
        Refused(("exactly 3 numbers",)),
        Kept(1, ("line 9", "a vertex with 2 numbers")),
        KEEP_FIRST,
    ),
    "facet with 4 vertices": (
        _line(14, "vertex 0 0 0"),
        Refused(("not a multiple of 3",)),
        Kept(1, ("line 9", "4 vertices")),
        KEEP_FIRST,
    ),
    "coordinate that is not a number": (
        _line(11, "vertex 1.0 2.5x 0"),
        Refused(("not a number",)),
        Kept(1, ("line 9", "not a number")),
        KEEP_FIRST,
    ),
    "every facet NaN": (
        NAN_ONLY, Refused(("zero drawable",)), Refused(("no valid facet", "NaN", "line 4")), None,
    ),
    "no facet at all": (
        b"solid empty\nendsolid empty\n", Refused(("zero triangles",)),
        Refused(("no valid facet", "no 'facet'")), None,
    ),
}  # fmt: skip


def _outcome(reader: object, path: Path, data: bytes) -> tuple[np.ndarray | None, list[str], str]:
    try:
        model = reader(path, data, DEFAULT_LIMITS)  # type: ignore[operator]
    except ConversionError as err:
        return None, [], str(err)
    prim = model.primitives()[0]
    return prim.positions[prim.indices].astype(np.float64), model.warnings, ""


def _check(expected: Kept | Refused, outcome: tuple, path: Path, kept: np.ndarray) -> None:
    triangles, warnings, error = outcome
    if isinstance(expected, Refused):
        assert triangles is None, f"read {len(triangles)} triangles, expected a refusal"
        assert str(path) in error
        for word in expected.words:
            assert word.lower() in error.lower(), error
        return
    assert triangles is not None, error
    assert np.array_equal(triangles, kept.astype(np.float64))
    if not expected.words:
        assert warnings == []
    for word in expected.words:
        assert any(word.lower() in w.lower() for w in warnings), (word, warnings)


@pytest.mark.parametrize("quirk", QUIRKS)
def test_main_and_numpy_reader_on_the_same_quirk_file(tmp_path: Path, quirk: str) -> None:
    data, main_expected, numpy_expected, kept = QUIRKS[quirk]
    kept = TWO if kept is None else kept
    path = write(tmp_path / "bad.stl", data)
    main_outcome = _outcome(stl_reader_main.read_stl, path, data)
    numpy_outcome = _outcome(read_stl, path, data)
    _check(main_expected, main_outcome, path, kept)
    _check(numpy_expected, numpy_outcome, path, kept)


@pytest.mark.parametrize(
    "quirk", [name for name, row in QUIRKS.items() if isinstance(row[2], Kept)]
)
def test_quirk_files_convert_through_read_source(tmp_path: Path, quirk: str) -> None:
    """The sniffer must hand every accepted quirk file to the STL reader, BOM and lone CR too."""
    data, _, expected, _ = QUIRKS[quirk]
    assert isinstance(expected, Kept)
    source = read_source(write(tmp_path / "scan.stl", data))
    assert source.format == "stl"
    assert source.model.triangle_count == expected.triangles
