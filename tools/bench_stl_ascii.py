"""Benchmark: the numpy ASCII STL reader against main's regex reader, in the same run.

    .venv/bin/python tools/bench_stl_ascii.py [--corpus DIR] [--repeat 3] [--synthetic 1000000]

--corpus defaults to $VRCULTURE_CORPUS, else ../shared/corpus beside the checkout.

Two inputs: igea (269k triangles; the corpus holds it as binary STL) written as ASCII STL the way
exporters do (`vertex x y z` with each float32 value's shortest repr, 77 MB), and a synthetic scan
of --synthetic triangles at georeferenced coordinates (`%.6f`, SWEREF 99 TM magnitudes). For each,
`read_stl` (parse, checks, orientation) is timed with main's regex reader (the anchor,
tests/pipeline/stl_reader_main.py) and with the numpy reader, best of --repeat, in CPU time
(process_time: robust on a shared machine) and wall time; the ratio anchor/new is the speed-up.
Also reported: each reader's peak traced memory relative to the file (the file's own bytes are not
counted: both readers are handed the same bytes), and, as a second anchor, the binary read of igea.
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
sys.path.insert(0, str(ROOT / "tests" / "pipeline"))  # main's reader, kept as the reference
from corpus_location import corpus_dir  # noqa: E402
from stl_reader_main import read_stl as read_stl_main  # noqa: E402

from vrculture.pipeline.model import Model  # noqa: E402
from vrculture.pipeline.readers.common import DEFAULT_LIMITS  # noqa: E402
from vrculture.pipeline.readers.stl import read_stl  # noqa: E402

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


def synthetic_ascii(triangles: int) -> bytes:
    """A georeferenced-looking scan: small triangles around SWEREF 99 TM coordinates."""
    rng = np.random.default_rng(7)
    centres = rng.uniform(0, 50, (triangles, 1, 3)) + (674_000.0, 6_580_000.0, 40.0)
    corners = centres + rng.uniform(-0.01, 0.01, (triangles, 3, 3))
    text = np.char.mod("%.6f", corners.reshape(-1, 3))
    vertex = np.char.add(np.char.add("      vertex ", text[:, 0]), " ")
    vertex = np.char.add(np.char.add(vertex, text[:, 1]), " ")
    vertex = np.char.add(vertex, text[:, 2]).reshape(-1, 3)
    parts = ["solid synthetic\n"]
    for start in range(0, triangles, 100_000):
        for a, b, c in vertex[start : start + 100_000].tolist():
            parts.append(
                f"  facet normal 0 0 1\n    outer loop\n{a}\n{b}\n{c}\n    endloop\n  endfacet\n"
            )
    parts.append("endsolid synthetic\n")
    return "".join(parts).encode()


def best_of(repeat: int, work: Callable[[], object]) -> tuple[float, float]:
    """Best wall time and best CPU time of this process (the machine may be shared: CPU time
    is what the reader itself costs, wall time what a curator waits)."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def peak_memory(work: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def compare(label: str, path: Path, text: bytes, repeat: int) -> None:
    new_model: Model = read_stl(path, text, DEFAULT_LIMITS)
    main_model: Model = read_stl_main(path, text, DEFAULT_LIMITS)
    new, old = new_model.primitives()[0], main_model.primitives()[0]
    assert np.array_equal(new.positions[new.indices], old.positions[old.indices]), label
    main_s = best_of(repeat, lambda: read_stl_main(path, text, DEFAULT_LIMITS))
    new_s = best_of(repeat, lambda: read_stl(path, text, DEFAULT_LIMITS))
    main_peak = peak_memory(lambda: read_stl_main(path, text, DEFAULT_LIMITS))
    new_peak = peak_memory(lambda: read_stl(path, text, DEFAULT_LIMITS))
    size = len(text)
    print(f"{label}: {new_model.triangle_count} triangles, ASCII {size / 1e6:.1f} MB")
    for name, (wall, cpu), peak in (
        ("main's regex reader (anchor)", main_s, main_peak),
        ("numpy reader                ", new_s, new_peak),
    ):
        print(f"  {name}: {wall:.3f} s wall, {cpu:.3f} s CPU, peak {peak / size:.2f}x the file")
    print(f"  speed-up: {main_s[1] / new_s[1]:.2f}x in CPU time, {main_s[0] / new_s[0]:.2f}x wall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--synthetic", type=int, default=1_000_000, help="triangles")
    args = parser.parse_args()
    corpus = args.corpus or corpus_dir()
    binary = (corpus / BIG_STL).read_bytes()
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "scan.stl"
        text = ascii_from_binary(binary)
        compare("igea as ASCII STL", path, text, args.repeat)
        binary_wall, binary_cpu = best_of(
            args.repeat, lambda: read_stl(path, binary, DEFAULT_LIMITS)
        )
        print(f"  (binary STL of igea: {binary_wall:.3f} s wall, {binary_cpu:.3f} s CPU)")
        del text
        if args.synthetic:
            compare("synthetic georeferenced scan", path, synthetic_ascii(args.synthetic),
                    args.repeat)  # fmt: skip


if __name__ == "__main__":
    main()
