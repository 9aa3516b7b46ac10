"""A PNG whose compressed data ends cleanly before its last row is refused, not filled with
black: counted from the IDAT stream against the header (vrculture/pipeline/readers/png_rows.py)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from readers_fixtures import write

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.readers import ReadLimits, read_source
from vrculture.pipeline.readers.common import SourceBudget
from vrculture.pipeline.readers.images import decode_image
from vrculture.pipeline.readers.png_rows import expected_bytes, short_data


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(width: int, height: int, filtered: bytes, *, colour_type: int = 2,
         interlaced: bool = False, idat_parts: int = 1) -> bytes:
    """A PNG (8-bit) whose IDAT stream is exactly `filtered`, compressed and cut into parts."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, int(interlaced))
    packed = zlib.compress(filtered, 9)
    step = -(-len(packed) // idat_parts)
    idats = b"".join(_chunk(b"IDAT", packed[i:i + step]) for i in range(0, len(packed), step))
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + idats + _chunk(b"IEND", b""))


def _rgb_rows(width: int, rows: int, value: int = 200) -> bytes:
    return (b"\x00" + bytes([value]) * (width * 3)) * rows


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGB", "RGBA", "I;16"])
def test_complete_pngs_as_pillow_writes_them_are_whole(mode: str) -> None:
    rng = np.random.default_rng(7)
    image = Image.fromarray(rng.integers(0, 255, (37, 53, 3), dtype=np.uint8)).convert(
        "RGBA" if mode in ("LA", "RGBA") else "RGB")
    image = image.convert("L").convert(mode) if mode in ("1", "I;16") else image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    assert short_data(buffer.getvalue()) is None


def test_a_stream_that_ends_after_ten_of_300_rows_is_short() -> None:
    data = _png(400, 300, _rgb_rows(400, 10))
    Image.open(io.BytesIO(data)).load()  # Pillow takes it: the other 290 rows come out black
    short = short_data(data)
    assert short is not None
    assert (short.rows, short.height, short.got, short.expected) == (
        10, 300, 10 * 1201, 300 * 1201)


def test_the_count_spans_idat_chunks_and_windows_and_stops_at_the_promise() -> None:
    whole = _rgb_rows(2000, 600)  # 3.6 MB inflated: several 1 MiB windows
    assert short_data(_png(2000, 600, whole, idat_parts=7)) is None
    assert short_data(_png(2000, 600, whole + b"\x00" * 5000)) is None  # extra is harmless
    short = short_data(_png(2000, 600, whole[:-1], idat_parts=7))
    assert short is not None and short.rows == 599


def test_interlaced_sizes_follow_the_seven_passes() -> None:
    width, height = 13, 11
    expected = expected_bytes(width, height, 8, 2, interlaced=True)
    filtered = b""
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
                           (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
        pass_width, pass_height = -(-(width - x0) // dx), -(-(height - y0) // dy)
        filtered += (b"\x00" + b"\x80" * (pass_width * 3)) * pass_height
    assert len(filtered) == expected
    whole = _png(width, height, filtered, interlaced=True)
    assert np.asarray(Image.open(io.BytesIO(whole)).convert("RGB")).min() == 0x80  # all there
    assert short_data(whole) is None
    short = short_data(_png(width, height, filtered[:-4], interlaced=True))
    assert short is not None and short.rows == -1 and short.got == expected - 4


def test_other_files_are_left_to_pillow() -> None:
    assert short_data(b"\xff\xd8\xff\xe0 not a png") is None
    damaged = bytearray(_png(40, 30, _rgb_rows(40, 30)))
    damaged[60:64] = b"\xff\xff\xff\xff"  # inside the zlib stream: corrupt, not short
    assert short_data(bytes(damaged)) is None


def test_decoding_refuses_it_naming_the_file_and_the_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "scan.png", _png(400, 300, _rgb_rows(400, 10)))
    with pytest.raises(ConversionError) as err:
        decode_image(path, path.read_bytes(), path.name, SourceBudget(path, ReadLimits()))
    message = str(err.value)
    assert "scan.png" in message and "truncated" in message and "10 of 300 rows" in message


def test_a_painting_from_a_short_png_is_an_error_not_a_black_picture(tmp_path: Path) -> None:
    path = write(tmp_path / "painting.png", _png(400, 300, _rgb_rows(400, 10)))
    with pytest.raises(ConversionError, match="painting.png.*truncated"):
        read_source(path)
