"""Benchmark: our converter against gltfpack -cc, measured in the same run.

    .venv/bin/python tools/bench_convert.py [--corpus DIR] [--repeat 3] [--json F] [--big-only]
        [--files NAME ...] [--no-chain]

--big-only runs only the big-mesh chain comparison (the slow per-file table is skipped);
--files limits the per-file table to these corpus files (and "x16" for the generated mesh);
--no-chain skips the big-mesh chain comparison.

--corpus defaults to $VRCULTURE_CORPUS, else ../shared/corpus beside the checkout.

Per corpus file: our full level's bytes (geometry only: images subtracted on both sides,
normals kept), its ratio and whether it meets the goal (<= 1.0, per file), the full level's
measured error (distance from the source's surface, from our summary) and whole-process
CPU seconds (interpreter start-up included) against
`gltfpack -cc` making the same level. gltfpack reads no PLY, STL or Draco, so it gets the
same geometry as a plain GLB with smooth normals: our `--no-compress` full level (welded,
normalised, at our full level's triangle count).

Big meshes (> 250k triangles): igea (STL) and nefertiti subdivided twice (1.6M triangles,
generated here as a binary PLY without normals): our whole level chain (full, high, medium,
low: read, weld, normals, simplify x3, optimise, quantise, compress, write) as one process
against gltfpack making one level from the full-resolution mesh (a plain GLB with smooth
normals written by trimesh), twice: `-cc` as is (no simplification: its cheapest level), and
`-cc -si R` simplified to our full level's 500k budget (the same level we make first).
CPU and peak memory (max RSS) per process come from /usr/bin/time. Our converter runs as
installed: its bytecode compiled once before measuring (pip compiles an installed package;
with PYTHONDONTWRITEBYTECODE, as in the dev sessions, every run recompiled vrculture's modules,
~0.05 s of igea's chain). gltfpack's run is its own as installed (node, its wasm).

Where the bytes go: per file, the JSON chunk and each compressed stream (POSITION, NORMAL,
TEXCOORD_0, COLOR_0, indices) of both files, and the size ratio over the streams both write
(both drop UVs that no texture uses, e.g. beast.obj's). gltfpack re-welds and re-orders our
plain output (its strip order, run once more), which moves each stream by +-0.3 %: ratios
within that of 1.0 are a tie.

Targets: full-level size ratio <= 1.0; chain CPU ratio <= 2.0 on the big meshes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # where the corpus is: the tests' own lookup
from corpus_location import corpus_dir  # noqa: E402

GLTFPACK = ROOT / "node_modules" / "gltfpack" / "cli.js"
FILES = [
    "nefertiti.obj", "stanford-bunny.obj", "beast.obj", "ogre.obj", "spot/spot.obj",
    "igea.ply", "horse.ply", "laurana.ply", "gargoyle.ply", "mask_gltf/mask.gltf",
    "USNM_1145291_draco.glb", "DamagedHelmet.glb", "BoxTextured.glb",
    "derived/igea_from_tristrips.stl",
]
BIG_STL = "derived/igea_from_tristrips.stl"


# The converter's bytecode is cached like an installed package's (see the docstring).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def compile_converter() -> None:
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "vrculture")],
                   env=ENV, check=True, stdout=subprocess.DEVNULL)


def run(command: list[str]) -> tuple[float, int]:
    """Run to completion; (user + system CPU seconds, peak RSS in MB) of that process.

    Measured by /usr/bin/time: a child forked from this (large) Python process would report
    our own resident size as its peak.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        result = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", report.name,
                                 *command], cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): "
                               f"{result.stderr[-500:]}")
        user, system, peak_kb = report.read().split()[-3:]
    return float(user) + float(system), int(peak_kb) // 1024


def measure(command: list[str], repeat: int) -> tuple[float, int]:
    runs = [run(command) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def glb_geometry(path: Path) -> tuple[int, int]:
    """(bytes without embedded images, triangles) of a GLB."""
    data = path.read_bytes()
    json_length = struct.unpack_from("<I", data, 12)[0]
    gltf = json.loads(data[20:20 + json_length])
    images = sum(gltf["bufferViews"][image["bufferView"]]["byteLength"]
                 for image in gltf.get("images", []) if "bufferView" in image)
    triangles = sum(gltf["accessors"][p["indices"]]["count"] // 3
                    for mesh in gltf.get("meshes", []) for p in mesh["primitives"])
    return len(data) - images, triangles


STREAMS = ("json", "POSITION", "NORMAL", "TEXCOORD_0", "COLOR_0", "indices")


def glb_streams(path: Path) -> dict[str, int]:
    """Bytes of a GLB's JSON chunk and of each vertex/index stream as stored (compressed)."""
    data = path.read_bytes()
    json_length = struct.unpack_from("<I", data, 12)[0]
    gltf = json.loads(data[20:20 + json_length])
    sizes: dict[str, int] = {"json": json_length}
    seen: set[int] = set()
    for mesh in gltf.get("meshes", []):
        for primitive in mesh["primitives"]:
            named = [*primitive["attributes"].items(), ("indices", primitive.get("indices"))]
            for name, accessor in named:
                if accessor is None:
                    continue
                view_index = gltf["accessors"][accessor]["bufferView"]
                if view_index in seen:
                    continue
                seen.add(view_index)
                view = gltf["bufferViews"][view_index]
                stored = view.get("extensions", {}).get("EXT_meshopt_compression", view)
                sizes[name] = sizes.get(name, 0) + stored["byteLength"]
    return sizes


def ours(source: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "vrculture", "convert", str(source), "-o", str(out), *extra]


def gltfpack(source: Path, out: Path, ratio: float | None = None) -> list[str]:
    simplify = [] if ratio is None else ["-si", f"{ratio:.6f}"]
    return ["node", str(GLTFPACK), "-i", str(source), "-o", str(out), "-cc", *simplify]


def make_nefertiti_x16(corpus: Path, folder: Path) -> tuple[Path, Path]:
    """nefertiti subdivided twice: a binary PLY (our input) and a plain GLB (gltfpack's)."""
    import numpy as np
    import trimesh

    from vrculture.pipeline.model import Primitive
    from vrculture.pipeline.transforms.normals import NormalsOptions, smooth_normals

    mesh = trimesh.load(corpus / "nefertiti.obj", process=False, force="mesh")
    vertices, faces = trimesh.remesh.subdivide(mesh.vertices, mesh.faces)
    vertices, faces = trimesh.remesh.subdivide(vertices, faces)
    vertices = np.asarray(vertices, dtype="<f4")
    faces = np.asarray(faces, dtype="<u4")
    ply = folder / "nefertiti_x16.ply"
    header = (f"ply\nformat binary_little_endian 1.0\nelement vertex {len(vertices)}\n"
              "property float x\nproperty float y\nproperty float z\n"
              f"element face {len(faces)}\nproperty list uchar uint vertex_indices\n"
              "end_header\n").encode()
    rows = np.zeros(len(faces), dtype=[("n", "u1"), ("v", "<u4", 3)])
    rows["n"] = 3
    rows["v"] = faces
    ply.write_bytes(header + vertices.tobytes() + rows.tobytes())
    # trimesh's own vertex normals need scipy (absent); ours with no crease are the same sum.
    smooth = smooth_normals(Primitive(vertices, faces), NormalsOptions(crease_angle_deg=180))
    glb = folder / "nefertiti_x16.plain.glb"
    plain = trimesh.Trimesh(smooth.positions, smooth.indices, vertex_normals=smooth.normals,
                            process=False)
    glb.write_bytes(plain.export(file_type="glb", include_normals=True))
    return ply, glb


def plain_full_resolution(source: Path, folder: Path) -> Path:
    """A plain GLB with smooth normals of the whole source mesh, written by trimesh."""
    import numpy as np
    import trimesh

    from vrculture.pipeline.model import Primitive
    from vrculture.pipeline.transforms.normals import NormalsOptions, smooth_normals
    from vrculture.pipeline.transforms.weld import weld_primitive

    mesh = trimesh.load(source, process=False, force="mesh")
    prim = weld_primitive(Primitive(np.asarray(mesh.vertices, np.float32),
                                    np.asarray(mesh.faces, np.uint32)))
    smooth = smooth_normals(prim, NormalsOptions(crease_angle_deg=180))
    out = folder / (source.stem + ".plain.glb")
    plain = trimesh.Trimesh(smooth.positions, smooth.indices, vertex_normals=smooth.normals,
                            process=False)
    out.write_bytes(plain.export(file_type="glb", include_normals=True))
    return out


def full_level(source: Path, work: Path, name: str, repeat: int) -> dict:
    folder = work / name.replace("/", "_")
    ours_cpu, ours_rss = measure(ours(source, folder / "ours", "--levels", "full"), repeat)
    stem = source.stem
    ours_glb = folder / "ours" / stem / f"{stem}.full.glb"
    run(ours(source, folder / "plain", "--levels", "full", "--no-compress"))
    plain = folder / "plain" / stem / f"{stem}.full.glb"
    packed = folder / "gltfpack.glb"
    pack_cpu, _ = measure(gltfpack(plain, packed), repeat)
    summary = json.loads((folder / "ours" / stem / f"{stem}.json").read_text())
    error = next(lv["error"] for lv in summary["levels"] if lv["name"] == "full")
    ours_bytes, ours_tris = glb_geometry(ours_glb)
    pack_bytes, pack_tris = glb_geometry(packed)
    streams, pack_streams = glb_streams(ours_glb), glb_streams(packed)
    shared = [key for key in streams if key in pack_streams]
    return {"file": name, "triangles": ours_tris, "gltfpack_triangles": pack_tris,
            "streams": streams, "gltfpack_streams": pack_streams,
            "shared_ratio": sum(streams[k] for k in shared) / sum(pack_streams[k] for k in shared),
            "bytes": ours_bytes, "gltfpack_bytes": pack_bytes,
            "size_ratio": ours_bytes / pack_bytes, "error_m": error,
            "cpu": ours_cpu, "gltfpack_cpu": pack_cpu,
            "cpu_ratio": ours_cpu / pack_cpu, "peak_mb": ours_rss}


def chain(source: Path, plain: Path, work: Path, name: str, repeat: int) -> dict:
    """Our four levels vs gltfpack making one: as is (-cc), and simplified to our full
    level's budget (-cc -si) where the source is over it (the same level we make)."""
    folder = work / ("chain_" + name.replace("/", "_"))
    cpu, rss = measure(ours(source, folder / "ours"), repeat)
    pack_cpu, pack_rss = measure(gltfpack(plain, folder / "gltfpack.glb"), repeat)
    summary = json.loads((folder / "ours" / source.stem / f"{source.stem}.json").read_text())
    full_budget = 500_000
    ratio = full_budget / summary["source_triangles"]
    same_level_cpu = pack_cpu
    if ratio < 1.0:
        same_level_cpu, _ = measure(gltfpack(plain, folder / "gltfpack_si.glb", ratio), repeat)
    return {"file": name, "source_triangles": summary["source_triangles"],
            "levels": [lv["triangles"] for lv in summary["levels"]],
            "errors_m": [lv["error"] for lv in summary["levels"]],
            "cpu": cpu, "gltfpack_cpu": pack_cpu, "cpu_ratio": cpu / pack_cpu,
            "gltfpack_same_level_cpu": same_level_cpu,
            "same_level_ratio": cpu / same_level_cpu,
            "peak_mb": rss, "gltfpack_peak_mb": pack_rss}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=corpus_dir())
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--big-only", action="store_true",
                        help="only the big-mesh chain comparison (skip the per-file table)")
    parser.add_argument("--files", nargs="+", metavar="NAME",
                        help="only these corpus files in the per-file table (x16: the "
                             "generated 1.6M-triangle mesh)")
    parser.add_argument("--no-chain", action="store_true",
                        help="skip the big-mesh chain comparison")
    args = parser.parse_args()
    unknown = sorted(set(args.files or []) - {*FILES, "x16"})
    if unknown:
        parser.error(f"not in the benchmark's corpus list: {', '.join(unknown)}")
    wanted = FILES if args.files is None else [f for f in FILES if f in args.files]
    if not GLTFPACK.is_file():
        print(f"gltfpack not installed at {GLTFPACK} (run tools/bootstrap)", file=sys.stderr)
        return 1
    compile_converter()
    with tempfile.TemporaryDirectory(prefix="bench_convert_") as temp:
        work = Path(temp)
        rows = []
        for name in [] if args.big_only else wanted:
            source = args.corpus / name
            if source.is_file():
                rows.append(full_level(source, work, name, args.repeat))
                print(f"measured {name}", file=sys.stderr, flush=True)
        x16_row = not args.big_only and (args.files is None or "x16" in args.files)
        big_ply = big_glb = None
        if x16_row or not args.no_chain:
            big_ply, big_glb = make_nefertiti_x16(args.corpus, work)
        if x16_row:
            rows.append(full_level(big_ply, work, "nefertiti_x16.ply (generated)",
                                   args.repeat))
        chains = [] if args.no_chain else [
            chain(args.corpus / BIG_STL, plain_full_resolution(args.corpus / BIG_STL, work),
                  work, BIG_STL, args.repeat),
            chain(big_ply, big_glb, work, "nefertiti_x16.ply (generated)", args.repeat),
        ]
    print_tables(rows, chains)
    if args.json:
        args.json.write_text(json.dumps({"full_level": rows, "chain": chains}, indent=2))
    return 0


def print_tables(rows: list[dict], chains: list[dict]) -> None:
    if rows:
        print_full_levels(rows)
    print_chains(chains)


def print_full_levels(rows: list[dict]) -> None:
    print("## Full level: ours vs gltfpack -cc (geometry bytes, images excluded; CPU s)\n")
    print("| file | triangles (ours/gltfpack) | bytes ours | bytes gltfpack | size ratio | "
          "goal <= 1.0 | measured error (mm) | CPU ours | CPU gltfpack | CPU ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['file']} | {r['triangles']}/{r['gltfpack_triangles']} | "
              f"{r['bytes']} | {r['gltfpack_bytes']} | "
              f"{r['size_ratio']:.4f} | {'met' if r['size_ratio'] <= 1.0 else 'MISSED'} | "
              f"{r['error_m'] * 1000:.3f} | {r['cpu']:.2f} | {r['gltfpack_cpu']:.2f} | "
              f"{r['cpu_ratio']:.2f} |")
    total = sum(r["bytes"] for r in rows)
    total_pack = sum(r["gltfpack_bytes"] for r in rows)
    cpu = sum(r["cpu"] for r in rows)
    cpu_pack = sum(r["gltfpack_cpu"] for r in rows)
    print(f"| **total** | | {total} | {total_pack} | **{total / total_pack:.4f}** | | | "
          f"{cpu:.2f} | {cpu_pack:.2f} | {cpu / cpu_pack:.2f} |")
    worst = max(r["size_ratio"] for r in rows)
    missed = [r["file"] for r in rows if r["size_ratio"] > 1.0]
    print(f"\nsize target (every file <= 1.0): {'met' if worst <= 1.0 else 'MISSED'} "
          f"(worst {worst:.4f}{'; over: ' + ', '.join(missed) if missed else ''})\n")
    print("## Where the bytes go: ours / gltfpack per stream (bytes as stored)\n")
    print("| file | " + " | ".join(STREAMS) + " | ratio on shared streams |")
    print("|---|" + "---|" * (len(STREAMS) + 1))
    for r in rows:
        cells = [f"{r['streams'][k]}/{r['gltfpack_streams'].get(k, 0)}"
                 if k in r["streams"] or k in r["gltfpack_streams"] else "" for k in STREAMS]
        print(f"| {r['file']} | " + " | ".join(cells) + f" | {r['shared_ratio']:.3f} |")
    print()


CHAIN_CPU_GOAL = 2.0  # issue 11: the whole chain within 2x gltfpack's one level, in CPU
PEAK_MEMORY_GOAL = 1.5  # and its peak memory within 1.5x gltfpack's


def _verdict(ratio: float, goal: float) -> str:
    return "met" if ratio <= goal else f"MISSED (by {ratio / goal:.2f}x)"


def print_chains(chains: list[dict]) -> None:
    if not chains:
        return
    print("## Big meshes: our whole level chain vs gltfpack -cc one level (CPU s, process)\n")
    print("| file | source tris | our levels | measured error per level (mm) | "
          f"CPU ours (4 levels) | gltfpack -cc | ratio | goal <= {CHAIN_CPU_GOAL} | "
          "gltfpack -cc -si (our full level) | ratio | "
          f"peak MB ours | peak MB gltfpack | memory ratio | goal <= {PEAK_MEMORY_GOAL} |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for c in chains:
        memory = c["peak_mb"] / c["gltfpack_peak_mb"]
        print(f"| {c['file']} | {c['source_triangles']} | "
              f"{'/'.join(map(str, c['levels']))} | "
              f"{'/'.join(f'{e * 1000:.3f}' for e in c['errors_m'])} | "
              f"{c['cpu']:.2f} | {c['gltfpack_cpu']:.2f} | "
              f"**{c['cpu_ratio']:.2f}** | {_verdict(c['cpu_ratio'], CHAIN_CPU_GOAL)} | "
              f"{c['gltfpack_same_level_cpu']:.2f} | **{c['same_level_ratio']:.2f}** | "
              f"{c['peak_mb']} | {c['gltfpack_peak_mb']} | {memory:.2f} | "
              f"{_verdict(memory, PEAK_MEMORY_GOAL)} |")
    worst_chain = max(c["cpu_ratio"] for c in chains)
    worst_same = max(c["same_level_ratio"] for c in chains)
    print(f"\nchain CPU target (<= 2.0) against gltfpack -cc as is: "
          f"{'met' if worst_chain <= 2.0 else 'MISSED'} (worst {worst_chain:.2f}); against "
          f"gltfpack making our full level: {'met' if worst_same <= 2.0 else 'MISSED'} "
          f"(worst {worst_same:.2f})")


if __name__ == "__main__":
    sys.exit(main())
