"""ASCII STL parsed with numpy: the whole keyword structure is checked, coordinates kept in float64.

An ASCII STL is a stream of whitespace-separated tokens: `solid name…` lines around blocks of
facets, each exactly 21 tokens (`facet normal n n n outer loop`, three `vertex x y z`, `endloop
endfacet`). The text is cut into chunks at whitespace; in each chunk numpy finds the tokens,
classifies them from their first 8 bytes and compares the kinds with the facet template, so no
Python object is made per token. Only the vertex numbers are gathered into a compact text that
`np.fromstring` converts in C with the same correctly rounded strtod as Python's `float`
(georeferenced coordinates such as 674032.123456 come out bit-identical).

Anything off the template, a vertex that is not a finite number, or a file that ends inside a
facet is a ConversionError naming the file and the line (found only on that error path).
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path

import numpy as np

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.readers.common import ReadLimits, check_counts

CHUNK_BYTES = 2 << 20  # bounds the per-chunk numpy temporaries (up to ~40 bytes per input byte)
MAX_NAME_BYTES = 4096  # a solid's name; longer is not a name
MAX_SOLIDS = 10_000  # more `solid` blocks than this is not a scan, it is an attack on the loop

# Token kinds; a facet is FACET_TEMPLATE, and normals may be NaN (some exporters write that for
# degenerate facets; the reader ignores normals anyway).
_NUMBER, _NONFINITE, _OTHER = 0, 1, 2
_KEYWORDS = ("facet", "normal", "outer", "loop", "vertex", "endloop", "endfacet")
_KIND_OF_WORD = {word: 3 + i for i, word in enumerate(_KEYWORDS)}
_FACET, _NORMAL, _OUTER, _LOOP, _VERTEX, _ENDLOOP, _ENDFACET = (_KIND_OF_WORD[w] for w in _KEYWORDS)
# Spellings strtod reads as NaN/inf that fit the 8-byte key ("-infinity" is caught after
# conversion by the finiteness check).
_NONFINITE_WORDS = ("nan", "-nan", "+nan", "inf", "-inf", "+inf", "infinity")
FACET_TEMPLATE = np.array(
    [_FACET, _NORMAL, _NUMBER, _NUMBER, _NUMBER, _OUTER, _LOOP]
    + [_VERTEX, _NUMBER, _NUMBER, _NUMBER] * 3
    + [_ENDLOOP, _ENDFACET],
    dtype=np.int8,
)
TOKENS_PER_FACET = FACET_TEMPLATE.size
_VERTEX_SLOTS = (7, 11, 15)
_NORMAL_SLOTS = np.zeros(TOKENS_PER_FACET, dtype=bool)
_NORMAL_SLOTS[2:5] = True
_COORDINATE_SLOTS = (FACET_TEMPLATE == _NUMBER) & ~_NORMAL_SLOTS
_EXPECTED_TEXT = {_NUMBER: "a number", **{kind: repr(word) for word, kind in _KIND_OF_WORD.items()}}

_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[list(b" \t\r\n\f\v")] = True
_NUMBER_START = np.zeros(256, dtype=bool)
_NUMBER_START[list(b"0123456789+-.")] = True


def _word_key(word: str) -> int:
    raw = word.encode().ljust(8, b"\0")
    return int(np.frombuffer(raw, dtype="<u8")[0])


_KEYWORD_KEYS = np.array([_word_key(w) for w in _KEYWORDS], dtype=np.uint64)
_KEYWORD_KINDS = np.array([_KIND_OF_WORD[w] for w in _KEYWORDS], dtype=np.int8)
_LENGTH_MASKS = np.array([(1 << (8 * n)) - 1 for n in range(9)], dtype=np.uint64)
_NONFINITE_KEYS = np.array([_word_key(w) for w in _NONFINITE_WORDS], dtype=np.uint64)


def ascii_stl_corners(source: Path, data: bytes, limits: ReadLimits) -> np.ndarray:
    """Triangle corners of an ASCII STL as float64, shape (3 * facets, 3)."""
    body = bytearray(data)  # lower-cased in place: keywords, exponents and nan/inf in one case
    for at in range(0, len(body), CHUNK_BYTES):  # by chunks: one copy of the file, not two
        body[at : at + CHUNK_BYTES] = body[at : at + CHUNK_BYTES].lower()
    block_ends, closed = _blank_block_lines(source, data, body)
    chunks: list[np.ndarray] = []
    tokens_seen = 0
    tokens_before_end = np.zeros(len(block_ends), dtype=np.int64)
    ends_at = np.array(block_ends, dtype=np.int64)
    start = 0
    while start < len(body):
        stop = _chunk_end(source, data, body, start)
        coordinates, token_starts = _chunk_coordinates(source, data, body, start, stop, tokens_seen)
        tokens_seen += token_starts.size
        tokens_before_end += np.searchsorted(start + token_starts, ends_at)
        check_counts(source, limits, tokens_seen // 7, tokens_seen // TOKENS_PER_FACET)
        if coordinates.size:
            chunks.append(coordinates)
        start = stop
    if tokens_seen % TOKENS_PER_FACET:
        remainder = tokens_seen % TOKENS_PER_FACET
        vertex_lines = tokens_seen // TOKENS_PER_FACET * 3 + sum(
            1 for slot in _VERTEX_SLOTS if slot < remainder
        )
        raise ConversionError(
            source,
            f"ASCII STL ends inside a facet at line {_line(data, len(data))}: {vertex_lines} "
            "vertex lines, not a multiple of 3 (truncated?)",
        )
    for end, count in zip(block_ends, tokens_before_end.tolist(), strict=True):
        if count % TOKENS_PER_FACET:
            raise ConversionError(
                source, f"ASCII STL line {_line(data, end)}: 'endsolid' inside a facet"
            )
    if not closed:
        raise ConversionError(
            source,
            f"ASCII STL ends at line {_line(data, len(data))} without 'endsolid' (truncated?)",
        )
    if not chunks:
        return np.zeros((0, 3), dtype=np.float64)
    return np.concatenate(chunks).reshape(-1, 3)


def _blank_block_lines(source: Path, data: bytes, body: bytearray) -> tuple[list[int], bool]:
    """Blank every `solid`/`endsolid` line in `body` (lower-cased data); where each block ends,
    and whether the last block was closed.

    The lines must alternate solid, endsolid, solid…, with nothing outside the blocks; names are
    free text and ignored. Any other "solid" is an error, so this loop runs once per block."""
    block_ends: list[int] = []  # where each `endsolid` keyword starts
    block_start = 0
    open_block = False
    position = 0
    while (found := body.find(b"solid", position)) >= 0:
        is_end = found >= 3 and body[found - 3 : found] == b"end"
        keyword = found - 3 if is_end else found
        after = found + 5
        if not _first_on_its_line(body, keyword) or (
            after < len(body) and not body[after : after + 1].isspace()
        ):
            raise ConversionError(
                source, f"ASCII STL line {_line(data, keyword)}: 'solid' where a facet belongs"
            )
        if is_end != open_block:
            if (
                is_end
                and block_ends
                and _token_count(body, block_start, block_ends[-1]) % TOKENS_PER_FACET
            ):
                # A second endsolid: the first one closed its block inside a facet.
                raise ConversionError(
                    source,
                    f"ASCII STL line {_line(data, block_ends[-1])}: 'endsolid' inside a facet",
                )
            wanted = "'endsolid' to close the block" if open_block else "'solid' to open a block"
            raise ConversionError(
                source,
                f"ASCII STL line {_line(data, keyword)}: found "
                f"{'endsolid' if is_end else 'solid'!r}, expected {wanted}",
            )
        outside_from = block_ends[-1] if block_ends else 0
        if not is_end and body[outside_from:keyword].strip():
            raise ConversionError(
                source, f"ASCII STL line {_line(data, outside_from)}: text outside a solid block"
            )
        line_end = _end_of_name(source, data, body, after)
        body[keyword:line_end] = b" " * (line_end - keyword)
        if is_end:
            block_ends.append(keyword)
            if len(block_ends) > MAX_SOLIDS:
                raise ConversionError(source, f"ASCII STL has more than {MAX_SOLIDS} solid blocks")
        else:
            block_start = line_end
        open_block = not is_end
        position = line_end
    if block_ends and not open_block and body[block_ends[-1] :].strip():
        raise ConversionError(
            source, f"ASCII STL line {_line(data, block_ends[-1])}: text after the last 'endsolid'"
        )
    return block_ends, bool(block_ends) and not open_block


def _first_on_its_line(body: bytearray, keyword: int) -> bool:
    """Only blanks between the line start (\n, or \r in old Mac files) and `keyword`; looks back
    window by window, so a hostile file cannot make this scan the whole file per match."""
    at = keyword
    while at > 0:
        window = max(0, at - 4096)
        before = body[window:at].rstrip(b" \t\f\v")
        if before:
            return before[-1] in b"\n\r"
        at = window
    return True


def _end_of_name(source: Path, data: bytes, body: bytearray, after: int) -> int:
    """Where a solid/endsolid line ends: its name is free text up to \n or \r, bounded."""
    window = body[after : after + MAX_NAME_BYTES + 1]
    ends = [at for at in (window.find(b"\n"), window.find(b"\r")) if at >= 0]
    if ends:
        return after + min(ends)
    if len(window) <= MAX_NAME_BYTES:
        return len(body)
    raise ConversionError(
        source,
        f"ASCII STL line {_line(data, after)}: solid name longer than {MAX_NAME_BYTES} bytes",
    )


def _token_count(body: bytearray, start: int, stop: int) -> int:
    """Error path only: how many tokens lie between two positions."""
    blank = _WHITESPACE[np.frombuffer(memoryview(body)[start:stop], dtype=np.uint8)]
    return int(np.count_nonzero(np.diff(np.concatenate(([True], blank)).view(np.int8)) == -1))


def _chunk_end(source: Path, data: bytes, body: bytearray, start: int) -> int:
    """Where the chunk from `start` ends: just after a whitespace byte, so no token is cut."""
    stop = start + CHUNK_BYTES
    if stop >= len(body):
        return len(body)
    cut = max(body.rfind(space, start, stop) for space in (b" ", b"\n", b"\t", b"\r"))
    if cut < 0:
        raise ConversionError(
            source, f"ASCII STL line {_line(data, start)}: a token longer than {CHUNK_BYTES} bytes"
        )
    return cut + 1


def _chunk_coordinates(
    source: Path, data: bytes, body: bytearray, start: int, stop: int, tokens_before: int
) -> tuple[np.ndarray, np.ndarray]:
    raw = np.frombuffer(memoryview(body)[start:stop], dtype=np.uint8)
    blank = np.concatenate(([True], _WHITESPACE[raw], [True]))
    edges = np.diff(blank.view(np.int8))
    starts = np.flatnonzero(edges == -1)
    ends = np.flatnonzero(edges == 1)
    if starts.size == 0:
        return np.zeros(0, dtype=np.float64), starts
    kinds = _token_kinds(raw, starts, ends)
    slots = (tokens_before + np.arange(starts.size)) % TOKENS_PER_FACET
    expected = FACET_TEMPLATE[slots]
    ok = (kinds == expected) | ((kinds == _NONFINITE) & _NORMAL_SLOTS[slots])
    if not ok.all():
        bad = int(np.argmin(ok))
        found = bytes(raw[starts[bad] : ends[bad]])[:40].decode("ascii", "replace")
        position, problem = start + int(starts[bad]), f"found {found!r}"
        slot, wanted = int(slots[bad]), int(expected[bad])
        vertex_slot = max((v for v in _VERTEX_SLOTS if v <= slot), default=-1)
        if kinds[bad] == _NONFINITE:
            problem = f"vertex coordinate {found!r} is not finite"
        elif wanted == _NUMBER and vertex_slot >= 0 and bad - (slot - vertex_slot) >= 0:
            # A short vertex line: name the line of its `vertex`, not of whatever came next.
            position = start + int(starts[bad - (slot - vertex_slot)])
            problem = f"vertex holds {slot - vertex_slot - 1} numbers, not 3 ({problem})"
        elif wanted in (_VERTEX, _ENDLOOP) and kinds[bad] in (_VERTEX, _ENDLOOP):
            vertices = sum(1 for v in _VERTEX_SLOTS if v < slot) + (kinds[bad] == _VERTEX)
            problem = f"facet has {'more than 3' if vertices > 3 else vertices} vertices, not 3"
        else:
            problem += f", expected {_EXPECTED_TEXT[wanted]}"
        raise ConversionError(source, f"ASCII STL line {_line(data, position)}: {problem}")
    chosen = _COORDINATE_SLOTS[slots]
    numbers = _convert(source, data, raw, starts[chosen], ends[chosen], start)
    return numbers, starts


def _token_kinds(raw: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    lengths = ends - starts
    # Each token's first 8 bytes as one little-endian integer: an unaligned uint64 view at
    # every byte offset, read once per token, then cut to the token's length.
    padded = np.concatenate((raw, np.zeros(8, dtype=np.uint8)))
    at_every_byte = np.ndarray(shape=(raw.size,), dtype="<u8", buffer=padded.data, strides=(1,))
    keys = at_every_byte[starts] & _LENGTH_MASKS[np.minimum(lengths, 8)]
    kinds = np.full(starts.size, _OTHER, dtype=np.int8)
    kinds[_NUMBER_START[raw[starts]]] = _NUMBER
    short = lengths <= 8
    kinds[short & np.isin(keys, _NONFINITE_KEYS)] = _NONFINITE
    for key, kind in zip(_KEYWORD_KEYS, _KEYWORD_KINDS, strict=True):
        kinds[short & (keys == key)] = kind
    return kinds


def _convert(
    source: Path,
    data: bytes,
    raw: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    chunk_start: int,
) -> np.ndarray:
    """The chosen tokens, copied into one compact space-separated text, to float64 in C."""
    marks = np.zeros(raw.size + 1, dtype=np.int8)
    marks[starts] = 1
    marks[ends] -= 1
    inside = np.cumsum(marks[:-1], dtype=np.int8).view(bool)
    separator = np.zeros(raw.size, dtype=bool)
    at_end = ends[ends < raw.size]
    separator[at_end] = True  # the whitespace byte after each token
    text = np.where(separator, np.uint8(32), raw)[inside | separator].tobytes()
    numbers = np.zeros(0, dtype=np.float64)
    with warnings.catch_warnings():
        # numpy only *warns* when it stops at a bad token; here that is an error.
        warnings.simplefilter("error", DeprecationWarning)
        with contextlib.suppress(ValueError, DeprecationWarning):  # located below
            numbers = np.fromstring(text, dtype=np.float64, sep=" ")
    if numbers.size == starts.size and np.isfinite(numbers).all():
        return numbers
    bad = _first_bad_number(raw, starts, ends, numbers)
    found = bytes(raw[starts[bad] : ends[bad]])[:40].decode("ascii", "replace")
    line = _line(data, chunk_start + int(starts[bad]))
    raise ConversionError(
        source, f"ASCII STL line {line}: vertex coordinate {found!r} is not a finite number"
    )


def _first_bad_number(
    raw: np.ndarray, starts: np.ndarray, ends: np.ndarray, numbers: np.ndarray
) -> int:
    """Error path only: the first token that is not a finite number as Python reads it."""
    if numbers.size == starts.size:
        return int(np.argmin(np.isfinite(numbers)))
    for index, (begin, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        token = bytes(raw[begin:end])
        try:
            value = float(token)
        except ValueError:
            return index
        if not np.isfinite(value) or b"_" in token:  # float() takes 1_0; strtod does not
            return index
    return 0


def _line(data: bytes, position: int) -> int:
    return data.count(b"\n", 0, position) + 1
