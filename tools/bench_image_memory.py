#!/usr/bin/env python3
"""Peak memory and CPU time of converting images: a bomb, and real large photographs.

Cases, each `vrculture convert FILE` (all four levels) in its own child process, measured with
os.wait4's rusage (peak RSS, user + system CPU):
- bomb: the 545-byte PNG whose header claims 16000 x 16000 pixels (ten zero rows), refused
  by the decode budget;
- 100mp / 200mp: JPEGs of 12 288 x 8192 and 16 384 x 12 288 pixels, the corpus's 4096 px
  photogrammetry texture tiled (a real photograph's detail at its own scale), converted as
  paintings.
Anchor, in the same run: a child that only decodes the same JPEG with Pillow (Image.open +
load), the least any converter must pay; results are given as ratios to it. With
`--baseline REV` the same cases also run on the vrculture of git revision REV (exported to a
temporary folder), so before and after come from one run on one machine.

Public means only: os.wait4, resource, time. Usage:
  .venv/bin/python tools/bench_image_memory.py [--baseline REV] [--cases bomb,100mp,200mp]
"""

from __future__ import annotations

import argparse
import io
import os
import struct
import subprocess
import sys
import tarfile
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # where the corpus is: the tests' own lookup
from corpus_location import corpus_dir  # noqa: E402

CORPUS = corpus_dir()
SIZES = {"100mp": (12288, 8192), "200mp": (16384, 12288)}


def zero_rows_png(width: int, height: int, rows: int = 10) -> bytes:
    """The bomb found in the wild: a header claiming width x height, then a few zero rows.
    Pillow decodes it "successfully" (the missing rows black) after allocating all of it."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    pixels = zlib.compress(b"\0" * ((width * 3 + 1) * rows), 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


def bomb_png() -> bytes:
    return zero_rows_png(16000, 16000)  # 545 bytes


def photo_jpeg(size: tuple[int, int], *, corpus: Path = CORPUS, dpi: int | None = None) -> bytes:
    """A large JPEG with a real photograph's detail at its own scale: the corpus's 4096 px
    photogrammetry texture tiled (mirrored alternately, so no seam) to `size`."""
    from PIL import Image

    with Image.open(corpus / "parthenon_frieze_texture.jpg") as tile:
        tile = tile.convert("RGB")
    mirrored = tile.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    canvas = Image.new("RGB", size)
    for x in range(0, size[0], tile.width):
        for y in range(0, size[1], tile.height):
            canvas.paste(mirrored if (x // tile.width + y // tile.height) % 2 else tile, (x, y))
    buf = io.BytesIO()
    canvas.save(buf, "JPEG", quality=90, **({"dpi": (dpi, dpi)} if dpi else {}))
    return buf.getvalue()


def measure(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, float, float]:
    """(exit code, peak RSS in MB, CPU seconds) of one child process. Run from `cwd`, not the
    checkout (`python -m` puts the working folder first on the path)."""
    process = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def export(rev: str, folder: Path) -> Path:
    """The vrculture package of git revision `rev`, unpacked into `folder`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "vrculture"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", metavar="REV", help="also run git revision REV")
    parser.add_argument("--cases", default="bomb,100mp,200mp")
    parser.add_argument("--make", nargs=2, metavar=("CASE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        case, path = args.make
        Path(path).write_bytes(bomb_png() if case == "bomb" else photo_jpeg(SIZES[case]))
        return 0
    cases = args.cases.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-image-") as tmp:
        work = Path(tmp)
        files = {}
        for case in cases:
            files[case] = work / (f"{case}.png" if case == "bomb" else f"{case}.jpg")
            # Made in a child: Linux counts a parent's peak RSS into a forked child's ru_maxrss,
            # so this process must stay small.
            subprocess.run([sys.executable, __file__, "--make", case, str(files[case])],
                           check=True, cwd=work)
        trees = {"this tree": str(ROOT)}
        if args.baseline:
            trees[args.baseline] = str(export(args.baseline, work / "baseline"))
        print(f"{'case':8} {'code':10} {'exit':>4} {'peak MB':>8} {'CPU s':>6} "
              f"{'RSS/anchor':>10} {'CPU/anchor':>10}")
        for case in cases:
            path = files[case]
            base_env = {**os.environ, "PYTHONPATH": str(ROOT)}
            decode = ("from PIL import Image; Image.MAX_IMAGE_PIXELS = None; "
                      f"Image.open({str(path)!r}).load()")
            _, anchor_mb, anchor_cpu = measure([sys.executable, "-c", decode], base_env, work)
            print(f"{case:8} {'anchor':10} {'':>4} {anchor_mb:8.0f} {anchor_cpu:6.2f} "
                  f"{'1.00':>10} {'1.00':>10}   ({path.stat().st_size} bytes, Pillow decode)")
            for label, tree in trees.items():
                env = {**os.environ, "PYTHONPATH": tree}
                out = work / f"out-{case}-{len(label)}"
                code, mb, cpu = measure([sys.executable, "-m", "vrculture", "convert",
                                         str(path), "-o", str(out), "-q"], env, work)
                print(f"{case:8} {label[:10]:10} {code:4} {mb:8.0f} {cpu:6.2f} "
                      f"{mb / anchor_mb:10.2f} {cpu / anchor_cpu:10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
