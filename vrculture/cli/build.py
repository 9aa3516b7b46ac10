"""`vrculture build COLLECTION_DIR -o BUNDLE_DIR`: a collection becomes an exhibition bundle."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from vrculture.cli import EXIT_FAILED, EXIT_USAGE

LEVELS = ("full", "high", "medium", "low")


def _levels(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in LEVELS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown level(s) {', '.join(unknown) or '(none)'}; "
                                         f"choose from {','.join(LEVELS)}")
    return names


def _languages(text: str) -> list[str]:
    from vrculture.exhibition.fields import LANG

    tags = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in tags if not LANG.fullmatch(t)]
    if bad or not tags:
        raise argparse.ArgumentTypeError(f"not BCP 47 language tags: {', '.join(bad) or '(none)'}")
    return list(dict.fromkeys(tags))


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError("must be between 1 and 256")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than zero")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "build", help="build an exhibition bundle from a collection folder",
        description="Build an exhibition bundle (exhibition.json, GLB levels of detail, "
                    "thumbnails, gallery architecture) from a folder holding "
                    "collection.toml and/or collection.csv, and BUNDLE_DIR.build-report.json "
                    "beside it. A rebuild that changes nothing leaves the bundle as it was; "
                    "SOURCE_DATE_EPOCH sets built_at. Exit 0 ok, 1 failed, 2 usage, "
                    "3 partial (some records or objects failed; the rest was built).")
    p.add_argument("collection", type=Path, metavar="COLLECTION_DIR")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="BUNDLE_DIR")
    p.add_argument("--jobs", "-j", type=_jobs, default=max(1, os.cpu_count() or 1),
                   help="conversion processes (default: number of CPUs)")
    p.add_argument("--languages", type=_languages, default=None,
                   help="languages that must be complete, e.g. sv,en (default: the "
                        "collection's); a missing text falls back to the default language")
    p.add_argument("--levels", type=_levels, default=LEVELS,
                   help="levels of detail to publish (default: full,high,medium,low)")
    p.add_argument("--textures", choices=("jpeg", "webp", "ktx2", "auto"), default=None,
                   help="texture format (default: auto = ktx2 on the high, medium and low "
                        "levels a headset loads, jpeg/png on full; ktx2 needs 1/8 of the GPU "
                        "memory but encodes ~0.8 s per 1024 px texture)")
    p.add_argument("--no-compress", action="store_true",
                   help="no EXT_meshopt_compression / KHR_mesh_quantization")
    p.add_argument("--max-level-restricted", choices=LEVELS, default=None,
                   help="highest level published for works whose rights forbid free reuse "
                        "(default: the collection's, else medium)")
    p.add_argument("--budget-triangles", type=_positive_int, default=300_000, metavar="N",
                   help="triangles the whole exhibition may have at its low level "
                        "(default 300000, a Quest-class headset)")
    p.add_argument("--budget-texture-mb", type=_positive_int, default=128, metavar="MB",
                   help="GPU texture memory at the low level, mipmaps included (default 128)")
    p.add_argument("--cache", type=Path, default=None, metavar="DIR",
                   help="conversion cache (default: BUNDLE_DIR/../.vrculture-cache)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")


def run(args: argparse.Namespace) -> int:
    from vrculture.exhibition.bundle import BundleError
    from vrculture.exhibition.collection import CollectionError
    from vrculture.exhibition.report import now_utc
    from vrculture.exhibition.run import DEFAULT_TEXTURES, BuildOptions, build
    from vrculture.exhibition.totals import Budget

    options = BuildOptions(
        collection=args.collection, bundle=args.output, jobs=args.jobs,
        languages=args.languages, levels=args.levels,
        textures=args.textures or DEFAULT_TEXTURES, compress=not args.no_compress,
        max_level_restricted=args.max_level_restricted, cache_dir=args.cache, quiet=args.quiet,
        budget=Budget(args.budget_triangles, args.budget_texture_mb * 2**20))
    try:
        now_utc()  # a malformed SOURCE_DATE_EPOCH is a usage error before any work
    except ValueError as err:
        print(f"vrculture build: {err}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = build(options)
    except CollectionError as err:
        print(f"vrculture build: {err}", file=sys.stderr)
        return EXIT_FAILED
    except BundleError as err:
        print(f"vrculture build: {err}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:
        print(f"vrculture build: cannot write the bundle: {err}", file=sys.stderr)
        return EXIT_FAILED
    report = result.report
    for issue in report["issues"]:
        where = f"{issue['file']}:{issue['line']}" if issue["line"] else issue["file"]
        print(f"{where}: {issue['severity']}: {issue['field']}: {issue['message']}",
              file=sys.stderr)
    for warning in report["warnings"]:
        if warning.startswith("the exhibition at its low level"):
            print(f"vrculture build: warning: {warning}", file=sys.stderr)
    counts = report["counts"]
    if not args.quiet:
        status = "built" if result.manifest is not None else "NOT built (nothing to publish)"
        print(f"vrculture build: {status} {args.output}: {counts['built']} objects "
              f"({counts['reconverted']} converted, {counts['cached']} from cache), "
              f"{counts['failed']} failed, {counts['invalid']} invalid, "
              f"{counts['warnings']} warnings in {report['seconds']:.1f} s", file=sys.stderr)
    return result.exit_code
