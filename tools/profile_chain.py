"""Where a conversion's CPU goes: process time per stage of one `vrculture convert` run.

    .venv/bin/python tools/profile_chain.py SOURCE [convert options...]

Each stage's function is wrapped with time.process_time (no profiler overhead to speak of);
"imports" is the interpreter's work before the command runs, "other" the rest (argument
parsing, lazy imports, glue). One process, one run: repeat it and take the median, the machine
is shared. Compare with tools/bench_convert.py, which measures whole processes against
gltfpack in the same run.

Measured on Dec 6, base 5ec96aa against this branch, runs alternated (medians of 3, two
cores shared with other work at load 11-16, bytecode cached; CPU s; +-10 % noise):

| stage          | igea STL 269k before | after | 1.6M bench mesh before | after |
|----------------|------|------|------|------|
| imports        | 0.12 | 0.10 | 0.12 | 0.11 |
| read           | 0.05-0.12 | 0.04-0.06 | 0.15 | 0.13 |
| up axis        | 0.24 | 0.15 | 0.34 | 0.27 |
| weld           | 0.04 | 0.03 | 0.09 | 0.09 |
| simplify (x3)  | 0.18 | 0.18 | 1.56 | 1.51 |
| measured error | 0.13 | 0.09-0.10 | 0.35 | 0.28-0.31 |
| normals        | 0.15 | 0.15 | 0.44 | 0.42 |
| optimise       | 0.16 | 0.16 | 0.34 | 0.34 |
| weld normals + GLB | 0.04 | 0.04 | 0.10 | 0.10 |
| total          | 1.25 | 0.92-1.04 | 3.57 | 3.3-3.4 |

The simplifier, normals and the vertex-cache order (optimise, two strip passes per level for
the index codec) are most of what is left: meshoptimizer's C code and already vectorised numpy.

Dec 6, branch chaincpu against 1e3204b (after the five-order strip search of branch `bytes`),
igea STL, medians of 5 alternated runs at load 6-8 (CPU s): optimise 0.51 -> 0.33 (the search
on the largest level only), normals 0.15 -> 0.11 (per-face deviations, np.take row gathers),
measured error 0.094 -> 0.088, weld 0.029 -> 0.024, up axis 0.146 -> 0.146 (the support
block's 0.02 s is within the noise here), total 1.34 -> 1.14. bench_convert.py --big-only,
two alternated runs each: igea chain 1.35/1.52 -> 1.02/1.05 s (ratio 3.65/5.07 -> 3.40/3.28),
1.6M mesh 3.77/3.78 -> 3.51/3.53 s (ratio 2.83/2.82 -> 2.53/2.49); peak memory unchanged.

Dec 6, branch chaincpu2 against 8bb9987, igea STL, medians of 5 alternated runs (range) at
load 15-21 (CPU s): imports 0.122 (0.109-0.123) -> 0.111 (0.109-0.113) (Pillow loads with
the first texture), up axis 0.147 (0.140-0.154) -> 0.119 (0.116-0.129) (the resting poses'
neighbour table stored, not worked out; the sample's centres and areas made once), every
other stage the same within its noise; total 1.131 (1.105-1.194) -> 1.098 (1.053-1.137).
Output unchanged to the byte (GLBs and summaries of igea, nefertiti, horse, spot).
bench_convert.py --big-only, two alternated runs each (repeat 3): igea chain 1.15/1.40 ->
1.09/1.14 s (ratio 3.59/4.24 -> 3.41/3.35), 1.6M mesh 3.44/3.69 -> 3.71/3.51 s (ratio
2.65/2.56 -> 2.36/2.62, gltfpack's own time moved 1.30-1.57 s); peak memory the same within
its run-to-run spread (1.6M mesh 227-235 MB either way: base 233, branch 233 in one more run).

Why the chain stays above 2.0x gltfpack on igea (its one level: 0.32 s, so ~0.64 s for us):
meshoptimizer's own C calls alone are 0.52-0.54 s of the chain (3 runs: strip order
0.256-0.263 s in 8 passes, 5 of them the full level's search; simplifier 0.155-0.166 s in 3
calls; index and vertex codecs 0.05 s; vertex remaps and the weld's row hash 0.04-0.05 s;
spatial sort 0.008 s), and the interpreter with its imports ~0.1 s: ~0.63 s before any numpy
work (up axis 0.12, normals 0.11, measured error 0.09, read 0.04, weld 0.03, glue ~0.1). With
one strip order on the full level, as gltfpack does (ORDERS_TRIED patched, 3 runs): process
0.84-0.86 s (~2.65x), but igea's full level grows by 744 bytes (964708 -> 965452), more
than the search's margin under gltfpack (556 bytes on igea.ply), and the search is what
holds bytes <= 1.0x on every corpus mesh (see optimize.py). Under 2.0x would
need, besides dropping the search, the numpy stages' ~0.5 s cut to ~0.2 s.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable

STAGES = [
    ("vrculture.pipeline.readers", "read_source", "read"),
    ("vrculture.pipeline.transforms.up_axis", "choose_up", "up axis"),
    ("vrculture.pipeline.transforms.normalise", "normalise", "normalise"),
    ("vrculture.pipeline.transforms.unused", "drop_untextured_uvs", "drop unused UVs"),
    ("vrculture.pipeline.transforms.weld", "weld", "weld"),
    ("vrculture.pipeline.transforms.weld", "weld_stored", "weld stored"),
    ("vrculture.pipeline.transforms.deviation", "source_sample", "measured error"),
    ("vrculture.pipeline.transforms.deviation", "sample_deviation", "measured error"),
    ("vrculture.pipeline.transforms.normals", "repair_normals", "normals"),
    ("vrculture.pipeline.transforms.optimize", "optimize", "optimise"),
    ("vrculture.pipeline.transforms.simplify", "simplify", "simplify"),
    ("vrculture.pipeline.writer.glb", "write_glb", "GLB"),
]


def _timed(real: Callable, label: str, spent: dict[str, float]) -> Callable:
    def timed(*args, **kwargs):
        started = time.process_time()
        try:
            return real(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - started
    return timed


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the CLI does, before numpy loads
    spent: dict[str, float] = defaultdict(float)
    # The converter looks its stages up in their modules when it runs: wrap them there.
    for module_name, function, label in STAGES:
        module = importlib.import_module(module_name)
        setattr(module, function, _timed(getattr(module, function), label, spent))
    imports = time.process_time()
    from vrculture.cli import main as vrculture

    started = time.process_time()
    code = vrculture(["convert", *sys.argv[1:]])
    total = time.process_time()
    print(f"{'imports':16} {imports:.3f}")
    for label, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"{label:16} {seconds:.3f}")
    print(f"{'other':16} {total - started - sum(spent.values()):.3f}")
    print(f"{'total':16} {total:.3f}")
    return code


if __name__ == "__main__":
    sys.exit(main())
