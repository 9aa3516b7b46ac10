"""A painting whose header claims more pixels than the decode budget holds fails alone in
`vrculture build`: one clear error naming it, exit 3, the rest of the collection built."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from build_helpers import load_json, run_build

from vrculture.exhibition.bundle import report_path


def _zero_rows_png(width: int, height: int) -> bytes:
    """545 bytes: a 16000 x 16000 RGB header and ten zero rows (Pillow would fill the rest)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * ((width * 3 + 1) * 10), 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


def test_an_image_bomb_fails_alone(tmp_path: Path, small_collection: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    (small_collection / "src" / "tavla.jpg").write_bytes(_zero_rows_png(16000, 16000))
    out = tmp_path / "bundle"
    assert run_build(small_collection, "-o", out, "--levels", "low", "--quiet", "--jobs", "1") == 3
    err = capsys.readouterr().err
    errors = [row for row in err.splitlines() if "error:" in row]
    assert len(errors) == 1, err
    assert "tavla.jpg" in errors[0] and "16000x16000" in errors[0] and "MiB" in errors[0]
    assert "Traceback" not in err
    report = load_json(report_path(out))
    status = {o["id"]: o["status"] for o in report["objects"]}
    assert status["tavla"] == "failed"
    assert [o for o, s in status.items() if s == "failed"] == ["tavla"]
    manifest = load_json(out / "exhibition.json")
    assert {o["id"] for o in manifest["objects"]} == {"klot", "ring"}
