#!/usr/bin/env python3
"""Benchmark `vrculture build`: cold and warm builds of the demo, of a collection made from
the shared corpus ($VRCULTURE_CORPUS, else ../shared/corpus), and a warm build of 20 objects;
bytes per level and the Quest budget totals.

Times are wall-clock seconds (time.perf_counter), each build in a fresh folder with its own
cache for "cold". Anchors measured in the same run, so the ratios hold across machines:
  convert  = the converter alone, one process, every source of the collection (convert_file),
  hash     = reading and sha256-hashing every source byte (the least a cache check must do).
Texture formats (`--formats`, or alone with `--formats-only`): cold builds of the demo with
each texture format, alternated and repeated (median), wall and CPU seconds (this process and
its workers, resource.getrusage), the ratio to the JPEG build against the goal of 2x, and the
quality every texture reached (PSNR against the source at that size, from the build report).
Run: .venv/bin/python tools/bench_build.py [--jobs 2] [--no-corpus] [--json out.json]
     .venv/bin/python tools/bench_build.py --formats-only [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "exhibition"))  # the corpus collection the tests build
sys.path.insert(0, str(ROOT / "tests"))  # where the corpus is: the tests' own lookup

from build_helpers import make_corpus_collection, write_shape  # noqa: E402
from corpus_location import corpus_dir  # noqa: E402

from vrculture.exhibition.collection import load_collection  # noqa: E402
from vrculture.exhibition.run import BuildOptions, build  # noqa: E402
from vrculture.pipeline.convert import ConvertSettings, convert_file  # noqa: E402

CORPUS = corpus_dir()


def timed_build(collection: Path, bundle: Path, jobs: int) -> tuple[float, dict]:
    started = time.perf_counter()
    result = build(BuildOptions(collection, bundle, jobs=jobs, quiet=True))
    seconds = time.perf_counter() - started
    if result.exit_code != 0:
        raise SystemExit(f"build of {collection} failed: exit {result.exit_code}: "
                         f"{result.report['issues'][:3]}")
    return seconds, result.report


def anchors(collection: Path, scratch: Path) -> dict[str, float]:
    parsed, _ = load_collection(collection)
    started = time.perf_counter()
    for record in parsed.objects:
        digest = hashlib.sha256()
        for path in [record.source, *record.source.parent.glob(record.source.stem + ".*")]:
            digest.update(path.read_bytes())
    hashed = time.perf_counter() - started
    started = time.perf_counter()
    for record in parsed.objects:
        convert_file(record.source, scratch / record.id,
                     ConvertSettings(units=record.units, height_m=record.height_m, up=record.up),
                     stem=record.id)
    return {"hash": hashed, "convert": time.perf_counter() - started}


def measure(name: str, collection: Path, work: Path, jobs: int) -> dict:
    bundle = work / name / "bundle"
    cold, report = timed_build(collection, bundle, jobs)
    warm, warm_report = timed_build(collection, bundle, jobs)
    assert warm_report["counts"]["reconverted"] == 0
    anchor = anchors(collection, work / name / "anchor")
    return {"name": name, "objects": report["counts"]["built"], "cold_s": cold, "warm_s": warm,
            "anchor_convert_s": anchor["convert"], "anchor_hash_s": anchor["hash"],
            "totals": report["totals"], "budget": report["budget"]}


def twenty_objects(folder: Path) -> Path:
    lines = ['[exhibition]', 'id = "twenty"', 'title = "Twenty"', '']
    kinds = ["sphere", "torus", "cone", "box"]
    for index in range(20):
        write_shape(folder / "src" / f"o{index}.ply", kinds[index % 4], 3, seed=index)
        lines += ["[[objects]]", f'id = "o{index}"', f'source = "src/o{index}.ply"',
                  f'title = "Objekt {index}"', 'rights = "CC0-1.0"', "height_m = 0.4", ""]
    (folder / "collection.toml").write_text("\n".join(lines))
    return folder


FORMATS_COMPARED = ("jpeg", "ktx2", "auto")
FORMAT_GOAL = 2.0  # a KTX2 build within 2x of the JPEG one (issue 11)


def cpu_seconds() -> float:
    """User + system CPU of this process and its reaped children (the build's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def texture_formats(collection: Path, work: Path, jobs: int, repeat: int) -> dict:
    """Cold builds per texture format, alternated so load on the machine hits each alike."""
    runs: dict[str, list[tuple[float, float]]] = {fmt: [] for fmt in FORMATS_COMPARED}
    reports: dict[str, dict] = {}
    for round_ in range(repeat):
        for fmt in FORMATS_COMPARED:
            bundle = work / f"formats-{fmt}-{round_}" / "bundle"
            cpu = cpu_seconds()
            started = time.perf_counter()
            result = build(BuildOptions(collection, bundle, jobs=jobs, textures=fmt, quiet=True))
            wall = time.perf_counter() - started
            if result.exit_code != 0:
                raise SystemExit(f"{fmt} build failed: {result.report['issues'][:3]}")
            runs[fmt].append((wall, cpu_seconds() - cpu))
            reports[fmt] = result.report
    medians = {fmt: {"wall_s": statistics.median(w for w, _ in times),
                     "cpu_s": statistics.median(c for _, c in times)}
               for fmt, times in runs.items()}
    textures = {fmt: [{"object": item["id"], "level": level["name"], **texture}
                      for item in report["objects"] for level in item.get("levels", [])
                      if level["written"] for texture in level["textures"]]
                for fmt, report in reports.items()}
    return {"repeat": repeat, "jobs": jobs, "medians": medians, "textures": textures,
            "totals": {fmt: report["totals"] for fmt, report in reports.items()}}


def print_formats(row: dict) -> None:
    medians = row["medians"]
    anchor = medians["jpeg"]
    print(f"\n== demo cold build per texture format (median of {row['repeat']}, "
          f"--jobs {row['jobs']}; goal: KTX2 within {FORMAT_GOAL:.0f}x of JPEG)")
    for fmt, m in medians.items():
        wall_ratio = m["wall_s"] / anchor["wall_s"]
        cpu_ratio = m["cpu_s"] / anchor["cpu_s"]
        verdict = "" if fmt == "jpeg" else (
            "  meets the goal" if wall_ratio <= FORMAT_GOAL else "  OVER the goal")
        gpu = sum(t["gpu_texture_bytes"] for t in row["totals"][fmt].values())
        print(f"  {fmt:5} wall {m['wall_s']:6.2f} s = {wall_ratio:4.2f}x   cpu {m['cpu_s']:6.2f} s"
              f" = {cpu_ratio:4.2f}x   GPU textures, all levels {gpu / 2**20:5.1f} MB{verdict}")
    for fmt, textures in row["textures"].items():
        print(f"  {fmt} textures (PSNR against the source at that size):")
        for t in textures:
            quality = "lossless" if t["psnr"] is None else f"{t['psnr']:.1f} dB"
            print(f"    {t['object']:22} {t['level']:6} {t['format']:4} {t['width']:>5}x"
                  f"{t['height']:<5} {t['bytes'] / 1024:7.0f} KB  {quality}")


def print_row(row: dict) -> None:
    print(f"\n== {row['name']} ({row['objects']} objects)")
    print(f"  cold build {row['cold_s']:7.2f} s   = {row['cold_s'] / row['anchor_convert_s']:.2f}"
          f" x the converter alone, serial ({row['anchor_convert_s']:.2f} s)")
    print(f"  warm build {row['warm_s']:7.3f} s   = {row['warm_s'] / row['anchor_hash_s']:.1f}"
          f" x hashing the sources ({row['anchor_hash_s']:.3f} s); "
          f"{row['warm_s'] / row['cold_s'] * 100:.1f} % of cold")
    for level, sums in row["totals"].items():
        print(f"  {level:6} {sums['triangles']:>9,} triangles {sums['bytes'] / 2**20:8.2f} MB files"
              f" {sums['texture_bytes'] / 2**20:7.2f} MB textures "
              f"{sums['gpu_texture_bytes'] / 2**20:8.1f} MB GPU")
    b = row["budget"]
    print(f"  Quest budget at low (with architecture + smart exhibits): {b['triangles']:,} / "
          f"{b['budget_triangles']:,} triangles, {b['gpu_texture_bytes'] / 2**20:.1f} / "
          f"{b['budget_gpu_texture_bytes'] / 2**20:.0f} MB GPU textures -> "
          f"{'fits' if b['fits'] else 'OVER'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-corpus", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--formats", action="store_true",
                        help="also compare cold demo builds per texture format")
    parser.add_argument("--formats-only", action="store_true",
                        help="only compare cold demo builds per texture format")
    parser.add_argument("--repeat", type=int, default=3, help="builds per format (median)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        work = Path(tmp)
        if args.formats or args.formats_only:
            formats = texture_formats(ROOT / "assets" / "demo", work, args.jobs, args.repeat)
            print_formats(formats)
            if args.formats_only:
                if args.json:
                    args.json.write_text(json.dumps(formats, indent=1))
                return
        rows.append(measure("demo", ROOT / "assets" / "demo", work, args.jobs))
        rows.append(measure("twenty objects", twenty_objects(work / "twenty-src"), work,
                            args.jobs))
        if not args.no_corpus and CORPUS.is_dir():
            collection = make_corpus_collection(CORPUS, work / "corpus-src")
            rows.append(measure("corpus", collection, work, args.jobs))
        elif not args.no_corpus:
            print(f"(corpus not found at {CORPUS}: skipped)")
        for row in rows:
            print_row(row)
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
