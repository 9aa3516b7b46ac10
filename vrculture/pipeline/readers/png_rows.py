"""Does a PNG's compressed image data hold every row its header promises?

Pillow decodes a PNG whose zlib stream ends cleanly after a few rows "successfully": the rows
that never came are black, and nothing says so. Such a file is damaged (or made to look
small), so the converter counts the inflated bytes of the IDAT chunks against the header
before decoding, holding at most a window of the inflated data at a time.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by colour type: grey, RGB, palette, grey+A, RGBA
# Adam7 passes: first column, first row, column step, row step
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
          (0, 1, 1, 2))
_WINDOW = 1 << 20  # inflated bytes held at a time while counting


@dataclass(frozen=True)
class ShortData:
    """The image data ends early: `got` of the `expected` filtered bytes."""

    got: int
    expected: int
    rows: int  # whole rows present (non-interlaced), or -1 when interlaced
    height: int


def _row_bytes(width: int, bits_per_pixel: int) -> int:
    return 1 + (width * bits_per_pixel + 7) // 8  # a filter byte, then the packed pixels


def expected_bytes(width: int, height: int, bit_depth: int, colour_type: int,
                   interlaced: bool) -> int:
    """The filtered image data the header promises (PNG spec, 7.2 and 8.2)."""
    bits_per_pixel = _CHANNELS[colour_type] * bit_depth
    if not interlaced:
        return height * _row_bytes(width, bits_per_pixel)
    total = 0
    for x0, y0, dx, dy in _ADAM7:
        pass_width, pass_height = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
        if pass_width > 0 and pass_height > 0:
            total += pass_height * _row_bytes(pass_width, bits_per_pixel)
    return total


def short_data(data: bytes) -> ShortData | None:
    """ShortData when `data` is a PNG whose IDAT stream inflates to fewer bytes than its header
    promises; None when it holds them all, or when it is not a PNG this can read (Pillow then
    reports what is wrong). Counting stops once the promised bytes are there."""
    if not data.startswith(SIGNATURE) or len(data) < len(SIGNATURE) + 8 + 13:
        return None
    length, kind = struct.unpack_from(">I4s", data, len(SIGNATURE))
    if kind != b"IHDR" or length < 13:
        return None  # IHDR must come first: Pillow refuses the file
    width, height, bit_depth, colour_type, _, _, interlace = struct.unpack_from(
        ">IIBBBBB", data, len(SIGNATURE) + 8)
    if colour_type not in _CHANNELS:
        return None
    expected = expected_bytes(width, height, bit_depth, colour_type, interlace == 1)
    inflater = zlib.decompressobj()
    got = 0
    offset = len(SIGNATURE) + 12 + length
    try:
        while offset + 8 <= len(data) and got < expected and not inflater.eof:
            length, kind = struct.unpack_from(">I4s", data, offset)
            if kind == b"IDAT":
                got += _inflated_size(inflater, data[offset + 8:offset + 8 + length])
            elif kind == b"IEND":
                break
            offset += 12 + length
    except zlib.error:
        return None  # corrupt, not short: Pillow says so
    if got >= expected:
        return None
    bits_per_pixel = _CHANNELS[colour_type] * bit_depth
    rows = -1 if interlace == 1 else got // _row_bytes(width, bits_per_pixel)
    return ShortData(got, expected, rows, height)


def _inflated_size(inflater: zlib._Decompress, chunk: bytes) -> int:
    """The bytes `chunk` inflates to, produced a window at a time and dropped."""
    size = 0
    pending = chunk
    while not inflater.eof:
        out = inflater.decompress(pending, _WINDOW)
        size += len(out)
        pending = inflater.unconsumed_tail
        if not pending and len(out) < _WINDOW:  # input used up and nothing held back
            break
    return size
