"""ASCII STL parsed with numpy: bad facets are dropped with a warning, the rest kept in float64.

The reader follows the project's rule for real exports: a facet that is not three `vertex x y z`
lines of finite numbers is dropped with a warning naming the file and the line of the first one;
everything else is kept. Text outside facets (after `endsolid`, between blocks), a missing
`endsolid`, several `solid` blocks, CRLF or lone-CR lines, tabs, any letter case, a UTF-8 BOM and
whatever an exporter writes as the facet normal (NaN, garbage, nothing) are all accepted (main's
regex reader accepted most of these; it refused lone CR and BOM files, and a whole file for one
bad facet). A file with no valid facet at all is an error naming the file.

How: the text is cut into windows that end where a `facet` or `solid` keyword starts or just after
an `endfacet`, so no facet is split. In each window numpy finds the tokens, classifies them from
their first 8 bytes, and finds each facet's span (from `facet` to its `endfacet`, or to the next
`facet`/`solid`/`endsolid` when that line is missing) and its first `vertex`; a facet is kept when
that vertex starts exactly `vertex n n n` three times, followed by nothing but
`endloop`/`endfacet`. Only the kept coordinate tokens are gathered into a compact text that
`np.fromstring` converts in C with the same correctly rounded strtod as Python's `float`
(georeferenced coordinates such as 6580119.000001 come out bit-identical). No Python object is made
per token (except, token by token, in a window holding a coordinate strtod cannot read); memory is
the input plus the float64 coordinates plus a fixed number of window-sized temporaries.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.readers.common import ReadLimits, check_counts

CHUNK_BYTES = 256 << 10  # a window's size; its numpy temporaries are up to ~40 bytes per byte
MAX_WINDOW_CHUNKS = 4  # a window grows to this many chunks looking for the next facet
MAX_HEAD_TOKENS = 16  # before the first vertex: `facet normal x y z outer loop` is 6 tokens
MAX_TAIL_TOKENS = 3  # after the third vertex: `endloop endfacet`
BOM = b"\xef\xbb\xbf"

_NUMBER, _OTHER, _NAME = 0, 1, 2  # _NAME: the free text after `solid`/`endsolid` on its line
_KEYWORDS = ("facet", "vertex", "endloop", "endfacet", "solid", "endsolid")
_FACET, _VERTEX, _ENDLOOP, _ENDFACET, _SOLID, _ENDSOLID = range(3, 3 + len(_KEYWORDS))
# strtod's spellings of NaN and inf that start with a letter (signed ones start like a number).
_NONFINITE_WORDS = ("nan", "inf", "infinity")
_VERTEX_PATTERN = np.array([_VERTEX, _NUMBER, _NUMBER, _NUMBER] * 3, dtype=np.int8)
_COORDINATE_OFFSETS = np.flatnonzero(_VERTEX_PATTERN == _NUMBER)

_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[list(b" \t\r\n\f\v")] = True
_NUMBER_START = np.zeros(256, dtype=bool)
_NUMBER_START[list(b"0123456789+-.")] = True
_SPACE = re.compile(rb"[ \t\r\n\f\v]")


def _word_key(word: str) -> int:
    return int(np.frombuffer(word.encode().ljust(8, b"\0"), dtype="<u8")[0])


_KEYWORD_KEYS = [(np.uint64(_word_key(w)), np.int8(kind)) for kind, w in enumerate(_KEYWORDS, 3)]
_NONFINITE_KEYS = np.array([_word_key(w) for w in _NONFINITE_WORDS], dtype=np.uint64)
_LENGTH_MASKS = np.array([(1 << (8 * n)) - 1 for n in range(9)], dtype=np.uint64)
# OR-ing 0x20 into each byte lower-cases ASCII letters and leaves every byte a keyword could
# be confused with alone, so keywords match in any case without copying the file.
_LOWER_BITS = np.uint64(0x2020202020202020)


@dataclass
class _Problems:
    """What was dropped or ignored: per kind a count and the byte where the first one is."""

    count: dict[str, int] = field(default_factory=dict)
    first: dict[str, int] = field(default_factory=dict)
    first_reason: str = ""

    def add(self, kind: str, count: int, position: int) -> None:
        if count:
            self.count[kind] = self.count.get(kind, 0) + count
            self.first.setdefault(kind, position)


@dataclass
class _Window:
    """One window's tokens: byte offsets inside the window, and each token's kind."""

    raw: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    kinds: np.ndarray


def ascii_stl_corners(
    source: Path, data: bytes, limits: ReadLimits, warnings_out: list[str]
) -> np.ndarray:
    """Triangle corners of an ASCII STL as float64, shape (3 * facets, 3). Dropped facets and
    ignored text are reported in `warnings_out`, naming the file and the first line of each."""
    problems = _Problems()
    kept: list[np.ndarray] = []
    kept_facets = 0
    last_facet = last_endsolid = -1
    start = len(BOM) if data.startswith(BOM) else 0
    while start < len(data):
        window, count, stop = _next_window(data, start)
        if window is None:  # one token longer than the largest window: skip it
            problems.add("stray", 1, start)
            start = stop
            continue
        coordinates = _window_facets(data, window, count, start, stop, problems)
        kinds = window.kinds[:count]
        facets = np.flatnonzero(kinds == _FACET)
        if facets.size:
            last_facet = start + int(window.starts[facets[-1]])
        endsolids = np.flatnonzero(kinds == _ENDSOLID)
        if endsolids.size:
            last_endsolid = start + int(window.starts[endsolids[-1]])
        if coordinates.size:
            kept.append(coordinates)
            kept_facets += coordinates.size // 9
            check_counts(source, limits, kept_facets * 3, kept_facets)
        start = start + int(window.starts[count]) if count < window.starts.size else stop
    if last_facet >= 0 and last_endsolid < last_facet:
        problems.add("unclosed", 1, last_facet)
    messages = _messages(data, problems)
    if not kept:
        what = "; ".join(messages) if messages else "it holds no 'facet'"
        raise ConversionError(source, f"ASCII STL has no valid facet: {what}")
    warnings_out.extend(f"{source.name}: ASCII STL {message}" for message in messages)
    return np.concatenate(kept).reshape(-1, 3)


def _next_window(data: bytes, start: int) -> tuple[_Window | None, int, int]:
    """The tokens of a window from `start`, how many of them to use now (so that no facet is
    cut), and where the window ends. The window grows when no cut is found in it; a facet longer
    than the largest window (1 MB) is dropped. Returns no window for a token that is longer."""
    size = CHUNK_BYTES
    while True:
        stop = min(start + size, len(data))
        window = _tokens(data, start, stop)
        if stop == len(data):
            return window, window.starts.size, stop
        kinds = window.kinds
        # A cut where a facet, solid or endsolid starts, or just after a whole `endfacet` (one
        # the window end did not cut: "endfacet" may be the start of "endfacets"), leaves every
        # facet before it whole.
        whole = kinds.size - int(bool(kinds.size) and window.ends[-1] == window.raw.size)
        starts_block = np.flatnonzero((kinds == _FACET) | (kinds == _SOLID) | (kinds == _ENDSOLID))
        after_facet = np.flatnonzero(kinds[:whole] == _ENDFACET) + 1
        cut = max(
            int(starts_block[-1]) if starts_block.size else 0,
            int(after_facet[-1]) if after_facet.size else 0,
        )
        if cut > 0:
            return window, cut, stop
        if size < CHUNK_BYTES * MAX_WINDOW_CHUNKS:
            size *= 2
            continue
        # No cut in the largest window: use it, without a token the window end may have cut.
        if whole == 0 and kinds.size:
            found = _SPACE.search(data, stop)
            return None, 0, found.start() if found else len(data)
        return window, whole, stop


def _tokens(data: bytes, start: int, stop: int) -> _Window:
    raw = np.frombuffer(data, dtype=np.uint8, count=stop - start, offset=start)
    blank = np.ones(raw.size + 2, dtype=bool)
    blank[1:-1] = _WHITESPACE[raw]
    # Edges alternate: a token starts (blank -> not), then ends (not -> blank).
    edges = np.flatnonzero(np.diff(blank.view(np.int8)))
    del blank
    starts, ends = edges[0::2], edges[1::2]
    keys = _token_keys(data, start, raw.size, starts, np.minimum(ends - starts, 8))
    kinds = np.full(starts.size, _OTHER, dtype=np.int8)
    kinds[_NUMBER_START[raw[starts]]] = _NUMBER
    short = ends - starts <= 8
    kinds[short & np.isin(keys, _NONFINITE_KEYS)] = _NUMBER
    for key, kind in _KEYWORD_KEYS:
        kinds[short & (keys == key)] = kind
    solid_like = (kinds == _SOLID) | (kinds == _ENDSOLID)
    if solid_like.any():
        # A solid's name runs to the end of its line and may hold any word ("solid facet 3").
        breaks = np.flatnonzero((raw == 10) | (raw == 13))
        line = np.searchsorted(breaks, starts)
        marker = np.where(solid_like, np.arange(starts.size), -1)
        previous = np.empty(starts.size, dtype=np.int64)
        previous[0] = -1
        previous[1:] = np.maximum.accumulate(marker)[:-1]
        named = (previous >= 0) & (line[np.maximum(previous, 0)] == line)
        kinds[named] = _NAME
    return _Window(raw, starts, ends, kinds)


def _token_keys(
    data: bytes, start: int, size: int, starts: np.ndarray, lengths: np.ndarray
) -> np.ndarray:
    """Each token's first 8 bytes (at most its length), lower-cased, as one little-endian integer:
    an unaligned uint64 view of the data at every byte offset, read once per token."""
    keys = np.zeros(starts.size, dtype=np.uint64)
    if size >= 8:
        at_every_byte = np.ndarray(
            shape=(size - 7,), dtype="<u8", buffer=data, offset=start, strides=(1,)
        )
        inside = starts <= size - 8
        keys[inside] = at_every_byte[starts[inside]]
    near_end = np.flatnonzero(starts > size - 8)  # the last few tokens: read from a padded copy
    if near_end.size:
        tail_from = max(size - 8, 0)
        tail = np.zeros(16, dtype=np.uint8)
        tail[: size - tail_from] = np.frombuffer(
            data, dtype=np.uint8, count=size - tail_from, offset=start + tail_from
        )
        for index in near_end.tolist():
            at = int(starts[index]) - tail_from
            keys[index] = np.frombuffer(tail[at : at + 8].tobytes(), dtype="<u8")[0]
    keys |= _LOWER_BITS
    keys &= _LENGTH_MASKS[lengths]
    return keys


def _window_facets(
    data: bytes,
    window: _Window,
    count: int,
    start: int,
    stop: int,
    problems: _Problems,
) -> np.ndarray:
    """Float64 coordinates (9 per kept facet) of the facets among the window's first `count`
    tokens; dropped facets and stray tokens go to `problems`."""
    kinds = window.kinds[:count]
    far = count + 1  # "not found": past every token
    facets = np.flatnonzero(kinds == _FACET)
    boundaries = np.flatnonzero((kinds == _FACET) | (kinds == _SOLID) | (kinds == _ENDSOLID))
    next_boundary = np.append(boundaries, count)[np.searchsorted(boundaries, facets) + 1]
    endfacets = np.flatnonzero(kinds == _ENDFACET)
    endfacet = np.append(endfacets, far)[np.searchsorted(endfacets, facets)]
    closed = endfacet < next_boundary
    end = np.where(closed, endfacet + 1, next_boundary)
    vertices = np.flatnonzero(kinds == _VERTEX)
    first_vertex = np.append(vertices, far)[np.searchsorted(vertices, facets)]
    after = first_vertex + _VERTEX_PATTERN.size
    fits = (first_vertex - facets <= MAX_HEAD_TOKENS) & (after <= end)
    fits &= end - after <= MAX_TAIL_TOKENS
    if count:
        spots = np.minimum(first_vertex[:, None] + np.arange(_VERTEX_PATTERN.size), count - 1)
        fits &= (kinds[spots] == _VERTEX_PATTERN).all(axis=1)
        del spots
        not_tail = np.concatenate(([0], np.cumsum((kinds != _ENDLOOP) & (kinds != _ENDFACET))))
        fits &= not_tail[np.minimum(end, count)] == not_tail[np.minimum(after, count)]
    token_at = window.starts
    chosen = (first_vertex[fits][:, None] + _COORDINATE_OFFSETS).ravel()
    numbers, token_readable = _convert(window.raw, token_at[chosen], window.ends[chosen])
    token_finite = np.isfinite(numbers)
    readable = token_readable.reshape(-1, 9).all(axis=1)
    finite = token_finite.reshape(-1, 9).all(axis=1)
    good = np.zeros(facets.size, dtype=bool)
    good[np.flatnonzero(fits)[readable & finite]] = True
    unreadable = np.zeros(facets.size, dtype=bool)
    unreadable[np.flatnonzero(fits)[~readable]] = True
    nonfinite = fits & ~good & ~unreadable

    malformed = ~fits | unreadable
    if malformed.any():
        bad = int(np.argmax(malformed))
        if "malformed" not in problems.count:
            problems.first_reason = _why(
                data, window, kinds, int(facets[bad]), int(end[bad]), bool(closed[bad]),
                unreadable=bool(unreadable[bad]), at_file_end=stop == len(data),
                start=start,
            )  # fmt: skip
        problems.add("malformed", int(malformed.sum()), start + int(token_at[facets[bad]]))
    if nonfinite.any():  # named by the first non-finite coordinate's line
        at = start + int(token_at[chosen[int(np.argmax(token_readable & ~token_finite))]])
        problems.add("nonfinite", int(nonfinite.sum()), at)
    unterminated = good & ~closed
    if unterminated.any():
        at = start + int(token_at[facets[int(np.argmax(unterminated))]])
        problems.add("unterminated", int(unterminated.sum()), at)

    # Tokens outside every facet (text after endsolid, lines of a facet whose `facet` is lost).
    cover = np.cumsum(
        np.bincount(facets, minlength=count + 1) - np.bincount(end, minlength=count + 1)
    )[:count]
    stray = (cover == 0) & (kinds != _NAME) & (kinds != _SOLID) & (kinds != _ENDSOLID)
    if stray.any():
        problems.add("stray", int(stray.sum()), start + int(token_at[int(np.argmax(stray))]))
    if not good.any():
        return np.zeros(0, dtype=np.float64)
    kept: np.ndarray = numbers.reshape(-1, 9)[readable & finite]
    return kept.ravel()


def _convert(
    raw: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The chosen tokens to float64 in C, and which of them are numbers at all (NaN where not)."""
    numbers = _from_text(raw, starts, ends)
    if numbers is not None:
        return numbers, np.ones(starts.size, dtype=bool)
    # A token strtod cannot read. Only tokens that are not plain decimals ([sign]digits[.digits])
    # are tried one by one, so a hostile file full of bad numbers costs one float() per bad one.
    readable = np.ones(starts.size, dtype=bool)
    for index in np.flatnonzero(~_plain_decimals(raw, starts, ends)).tolist():
        token = raw[starts[index] : ends[index]].tobytes()
        try:
            float(token)
        except ValueError:
            readable[index] = False
        if b"_" in token:  # float() takes 1_0; strtod does not
            readable[index] = False
    numbers = np.full(starts.size, np.nan)
    good = np.flatnonzero(readable)
    parsed = _from_text(raw, starts[good], ends[good])
    if parsed is None:  # float() read a token strtod does not: take float()'s word for all
        return _convert_each(raw, starts, ends)
    numbers[good] = parsed
    return numbers, readable


def _from_text(raw: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray | None:
    """The tokens, gathered into one compact text, to float64 by strtod; None if one is not a
    number."""
    if starts.size == 0:
        return np.zeros(0, dtype=np.float64)
    # Each token with the whitespace byte after it, as runs of True in a byte mask made in one
    # pass: gap, token, gap, token, ..., gap.
    covered_to = np.minimum(ends + 1, raw.size)
    runs = np.empty(2 * starts.size + 1, dtype=np.int64)
    runs[0:-1:2] = starts - np.concatenate(([0], covered_to[:-1]))
    runs[1::2] = covered_to - starts
    runs[-1] = raw.size - covered_to[-1]
    is_token = np.zeros(runs.size, dtype=bool)
    is_token[1::2] = True
    chosen = np.repeat(is_token, runs)
    text = raw[chosen].tobytes()
    del chosen
    with warnings.catch_warnings():
        # numpy only *warns* when it stops at a bad token; here that means "look closer".
        warnings.simplefilter("error", DeprecationWarning)
        with contextlib.suppress(ValueError, DeprecationWarning):
            numbers = np.fromstring(text, dtype=np.float64, sep=" ")
            if numbers.size == starts.size:
                return numbers
    return None


def _plain_decimals(raw: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Error path only: which tokens are an optional sign, digits and at most one '.' (strtod
    reads all of those); counted per token from running sums over the window's bytes."""
    digit = (raw >= ord("0")) & (raw <= ord("9"))
    dot = raw == ord(".")

    def running(flags: np.ndarray) -> np.ndarray:
        sums: np.ndarray = np.concatenate(([0], np.cumsum(flags, dtype=np.int32)))
        return sums

    other, dots, digits = running(~(digit | dot)), running(dot), running(digit)
    first = raw[starts]
    body = starts + ((first == ord("+")) | (first == ord("-")))
    plain = other[ends] == other[body]
    plain &= dots[ends] - dots[body] <= 1
    plain &= digits[ends] > digits[body]
    return np.asarray(plain, dtype=bool)


def _convert_each(
    raw: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Last resort: every token through float()."""
    numbers = np.full(starts.size, np.nan)
    readable = np.zeros(starts.size, dtype=bool)
    for index, (begin, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        token = raw[begin:end].tobytes()
        if b"_" in token:  # float() takes 1_0; strtod does not
            continue
        with contextlib.suppress(ValueError):
            numbers[index] = float(token)
            readable[index] = True
    return numbers, readable


def _why(
    data: bytes,
    window: _Window,
    kinds: np.ndarray,
    facet: int,
    end: int,
    closed: bool,
    *,
    unreadable: bool,
    at_file_end: bool,
    start: int,
) -> str:
    """Error path only, for the first dropped facet: what is wrong with it, in words."""
    if unreadable:
        return "a vertex coordinate that is not a number"
    span = kinds[facet:end]
    vertex_count = int(np.count_nonzero(span == _VERTEX))
    if not closed and at_file_end and end == kinds.size:
        return "the file ends inside it (truncated?)"
    if vertex_count != 3:
        return f"{vertex_count} vertices, not 3"
    first = int(np.flatnonzero(span == _VERTEX)[0])
    if first > MAX_HEAD_TOKENS:
        return f"{first - 1} words before its first vertex"
    for vertex in np.flatnonzero(span == _VERTEX).tolist():
        numbers = 0
        while vertex + 1 + numbers < span.size and span[vertex + 1 + numbers] == _NUMBER:
            numbers += 1
        if numbers != 3:
            return f"a vertex with {numbers} numbers, not 3"
    at = min(facet + first + _VERTEX_PATTERN.size, end - 1)
    for position in range(facet + first, end):
        if kinds[position] not in (_VERTEX, _NUMBER, _ENDLOOP, _ENDFACET):
            at = position
            break
    word = data[start + int(window.starts[at]) : start + int(window.ends[at])][:40]
    return f"unexpected {word.decode('ascii', 'replace')!r}"


def _messages(data: bytes, problems: _Problems) -> list[str]:
    texts = {
        "malformed": "dropped {n} malformed facet(s), the first at line {line}: {reason}",
        "nonfinite": "dropped {n} facet(s) with NaN/infinite coordinates, the first at line {line}",
        "unterminated": "kept {n} facet(s) that lack 'endfacet', the first at line {line}",
        "stray": "ignored {n} word(s) outside any facet, the first at line {line}",
        "unclosed": "has no 'endsolid' after its last facet (line {line}): cut short?",
    }
    return [
        texts[kind].format(
            n=problems.count[kind],
            line=_line(data, problems.first[kind]),
            reason=problems.first_reason,
        )  # fmt: skip
        for kind in texts
        if kind in problems.count
    ]


def _line(data: bytes, position: int) -> int:
    """1-based line of a byte: lines end in \\n, \\r\\n or a lone \\r (old Mac exports)."""
    newlines = data.count(b"\n", 0, position)
    returns = data.count(b"\r", 0, position)
    return newlines + returns - data.count(b"\r\n", 0, position) + 1
