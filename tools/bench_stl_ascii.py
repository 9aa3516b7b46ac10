"""Benchmark: reading an igea-sized ASCII STL, against reading the same mesh as binary STL.

    .venv/bin/python tools/bench_stl_ascii.py [--corpus DIR] [--repeat 3]

--corpus defaults to $VRCULTURE_CORPUS, else ../shared/corpus beside the checkout.

The corpus holds igea (269k triangles) as a binary STL; this writes it as ASCII STL the way
exporters do (`vertex x y z` with each float32 value's shortest float64 repr, 77 MB) and times
`read_stl` (parse, checks, orientation) on both, best of --repeat, in the same run. The binary
read is the anchor: the ratio ascii/binary is what a curator pays for text over binary. Also
timed: the corner parse alone (`ascii_stl_corners`) and its peak traced memory relative to the
file size, which must stay a small constant (chunked numpy, no Python object per token).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # where the corpus is: the tests' own lookup
from corpus_location import corpus_dir  # noqa: E402

from vrculture.pipeline.readers.common import DEFAULT_LIMITS  # noqa: E402
from vrculture.pipeline.readers.stl import read_stl  # noqa: E402
from vrculture.pipeline.readers.stl_ascii import ascii_stl_corners  # noqa: E402

BIG_STL = "derived/igea_from_tristrips.stl"
_RECORD = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attribute", "<u2")])


def ascii_from_binary(binary: bytes) -> bytes:
    count = int.from_bytes(binary[80:84], "little")
    records = np.frombuffer(binary, dtype=_RECORD, count=count, offset=84)
    lines = ["solid igea"]
    for triangle in records["corners"].astype(np.float64).tolist():
        lines += ["  facet normal 0 0 1", "    outer loop"]
        lines += [f"      vertex {x!r} {y!r} {z!r}" for x, y, z in triangle]
        lines += ["    endloop", "  endfacet"]
    lines.append("endsolid igea")
    return ("\n".join(lines) + "\n").encode()


def best_of(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    corpus = args.corpus or corpus_dir()
    binary = (corpus / BIG_STL).read_bytes()
    text = ascii_from_binary(binary)
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "igea_ascii.stl"
        path.write_bytes(text)
        ascii_model = read_stl(path, text, DEFAULT_LIMITS)
        binary_model = read_stl(path, binary, DEFAULT_LIMITS)
        assert ascii_model.triangle_count == binary_model.triangle_count
        binary_s = best_of(args.repeat, lambda: read_stl(path, binary, DEFAULT_LIMITS))
        ascii_s = best_of(args.repeat, lambda: read_stl(path, text, DEFAULT_LIMITS))
        parse_s = best_of(args.repeat, lambda: ascii_stl_corners(path, text, DEFAULT_LIMITS))
        tracemalloc.start()
        ascii_stl_corners(path, text, DEFAULT_LIMITS)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(f"igea: {ascii_model.triangle_count} triangles, ASCII {len(text) / 1e6:.1f} MB")
    print(f"read_stl binary (anchor): {binary_s:.3f} s")
    print(f"read_stl ASCII:           {ascii_s:.3f} s  ratio {ascii_s / binary_s:.1f}x the anchor")
    print(f"ascii_stl_corners alone:  {parse_s:.3f} s")
    print(f"parse peak traced memory: {peak / 1e6:.0f} MB = {peak / len(text):.2f}x the file")


if __name__ == "__main__":
    main()
