"""What estimating the up axis adds to a conversion, on the corpus's largest scans.

For each source: the time to read it (the anchor, measured in the same run) and the time of
the up-axis estimate, best of --repeat, and their ratio. Sources: igea.ply, its STL (a triangle
soup: the boundary cue welds corners first) and nefertiti subdivided twice (1.6M triangles,
made by tools/bench_convert.py's generator).

    .venv/bin/python tools/bench_up_axis.py --corpus /work/shared/corpus
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_convert import make_nefertiti_x16  # noqa: E402

from vrculture.pipeline.readers import SourceModel, read_source  # noqa: E402
from vrculture.pipeline.transforms.up_axis import estimate_up  # noqa: E402


def best_of(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def measure(path: Path, repeat: int) -> dict[str, object]:
    source: SourceModel = read_source(path)
    read_s = best_of(repeat, lambda: read_source(path))
    estimate_s = best_of(repeat, lambda: estimate_up(source.model, habit=source.default_up))
    choice = estimate_up(source.model, habit=source.default_up)
    return {"source": path.name, "triangles": source.model.triangle_count, "read_s": read_s,
            "estimate_s": estimate_s, "ratio": estimate_s / read_s, "axis": choice.axis,
            "confidence": choice.confidence}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        big, _ = make_nefertiti_x16(args.corpus, Path(folder))
        sources = [args.corpus / "igea.ply", args.corpus / "derived/igea_from_tristrips.stl",
                   big]
        print(f"{'source':34} {'triangles':>10} {'read s':>8} {'estimate s':>11} "
              f"{'estimate/read':>14}  axis (confidence)")
        for path in sources:
            row = measure(path, args.repeat)
            print(f"{row['source']:34} {row['triangles']:>10} {row['read_s']:>8.3f} "
                  f"{row['estimate_s']:>11.3f} {row['ratio']:>14.2f}  {row['axis']} "
                  f"({row['confidence']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
