"""`vrculture convert`: source files -> OUT_DIR/<stem>/<stem>.<level>.glb + <stem>.json.

Progress on stderr (exhibition/progress.py: files done of the total, the percentage and the
time left; one live line on a terminal, plain lines otherwise), one clear error line per bad
file; the good files still convert. Exit codes: 0 all converted, 1 none (or fatal), 2 usage,
3 some failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from vrculture.cli import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE

DUBLIN_CORE_FLAGS = ("title", "creator", "date", "rights", "source")
MAX_META_BYTES = 64 * 1024


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "convert",
        help="convert scan and image files into optimized GLBs with levels of detail",
        description="Convert scans (OBJ, PLY, STL, glTF/GLB) and images of paintings into "
                    "validated, optimized GLB files, one per level of detail.",
    )
    parser.add_argument("sources", nargs="+", metavar="SOURCE", type=Path)
    parser.add_argument("-o", "--out", required=True, type=Path, metavar="OUT_DIR")
    parser.add_argument("--levels", default="full,high,medium,low",
                        help="comma-separated subset of full,high,medium,low")
    parser.add_argument("--textures", default="jpeg", choices=("jpeg", "webp", "ktx2", "auto"))
    parser.add_argument("--units", choices=("mm", "cm", "m"),
                        help="the source's units (default: guessed from its size)")
    parser.add_argument("--height-m", type=float, metavar="H",
                        help="real height of the object (or painting) in metres")
    parser.add_argument("--up", help="the source's up axis: +Y, -Y, +Z, -Z, +X, -X "
                                     "(default: +Y for glTF; for OBJ/PLY/STL/OFF estimated "
                                     "from the geometry, the summary says how sure)")
    parser.add_argument("--meta", type=Path, metavar="FILE.json",
                        help="JSON object of Dublin Core fields (title, creator, date, ...)")
    for name in DUBLIN_CORE_FLAGS:
        parser.add_argument(f"--{name}", help=f"Dublin Core {name} (overrides --meta)")
    parser.add_argument("--max-level-restricted", choices=("low", "medium", "high", "full"),
                        help="highest level written when --rights does not allow free reuse "
                             "(default medium, as in `vrculture build`)")
    parser.add_argument("--no-compress", action="store_true",
                        help="plain GLB without KHR_mesh_quantization/EXT_meshopt_compression")
    parser.add_argument("--quiet", "-q", action="store_true",
                        help="no progress output (results, warnings and errors still)")
    return parser


def _keep_freed_memory() -> None:
    """Let glibc reuse freed numpy buffers instead of unmapping and re-faulting them.

    Large arrays are mmap-ed by default and every new one costs page faults: on the
    1.6M-triangle chain 0.8-1.1 s of system time, 0.3-0.5 s with this (same peak memory).
    Only this CLI process does it; the build's workers call the library as they see fit.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 1 << 30)
        libc.mallopt(m_trim_threshold, (1 << 31) - 1)
    except (OSError, AttributeError):
        pass  # not glibc: the default allocator is fine, just a little slower


def _usage(message: str) -> int:
    print(f"vrculture convert: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _read_meta(path: Path) -> dict[str, str]:
    """The sidecar's string fields; raises ValueError with a curator-readable reason."""
    try:
        if path.stat().st_size > MAX_META_BYTES:
            raise ValueError(f"{path}: larger than {MAX_META_BYTES // 1024} KiB")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ValueError(f"{path}: cannot read ({err.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object of fields")
    meta = {}
    for key, value in data.items():
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            meta[str(key).removeprefix("dc:")] = str(value)
        else:
            raise ValueError(f"{path}: field {key!r} must be a string")
    return meta


def _stems(sources: list[Path]) -> list[str]:
    """One output folder per source; a clash (a/x.obj, b/x.ply) gets a numbered suffix."""
    from vrculture.pipeline.convert import safe_stem

    seen: dict[str, int] = {}
    stems = []
    for source in sources:
        stem = safe_stem(source.stem)
        seen[stem] = seen.get(stem, 0) + 1
        stems.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return stems


def _levels_for_rights(levels: tuple[str, ...], rights_text: str | None,
                       max_level: str | None) -> tuple[str, ...]:
    """The levels `vrculture build` would publish for these rights: a work that is not free
    to reuse (or whose rights are not a known id) gets none above the restricted maximum."""
    from vrculture.exhibition.rights import (
        DEFAULT_MAX_LEVEL_RESTRICTED,
        Rights,
        parse_rights,
        published_levels,
    )

    if rights_text is None:
        return levels
    rights = parse_rights(rights_text)
    if rights is None:
        rights = Rights(rights_text, "", rights_text, free_reuse=False)
    if rights.free_reuse:
        return levels
    limit = max_level or DEFAULT_MAX_LEVEL_RESTRICTED
    capped = published_levels(levels, rights, limit)
    if set(capped) != set(levels):
        known = "" if rights.uri else " (not a known rights id)"
        print(f"vrculture convert: rights {rights_text!r}{known} do not allow free reuse: "
              f"writing {','.join(capped)} only (--max-level-restricted, default "
              f"{DEFAULT_MAX_LEVEL_RESTRICTED})", file=sys.stderr)
    return capped


def run(args: argparse.Namespace) -> int:
    from vrculture.pipeline.convert import LEVELS, ConvertSettings, check_settings
    from vrculture.pipeline.errors import ConversionError

    levels = tuple(level.strip() for level in args.levels.split(",") if level.strip())
    unknown = [level for level in levels if level not in LEVELS]
    if unknown or not levels:
        return _usage(f"--levels: unknown {unknown or 'empty'}; choose from {','.join(LEVELS)}")
    metadata: dict[str, str] = {}
    if args.meta is not None:
        try:
            metadata.update(_read_meta(args.meta))
        except ValueError as err:
            return _usage(f"--meta {err}")
    for name in DUBLIN_CORE_FLAGS:
        value = getattr(args, name)
        if value:
            metadata[name] = value
    levels = _levels_for_rights(levels, metadata.get("rights"), args.max_level_restricted)
    settings = ConvertSettings(
        levels=levels, textures=args.textures, units=args.units, height_m=args.height_m,
        up=args.up, metadata=metadata, compress=not args.no_compress,
    )
    try:
        check_settings(settings, "settings")
    except ConversionError as err:
        return _usage(err.problem)
    _keep_freed_memory()
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        print(f"vrculture convert: error: cannot create {args.out}: {err.strerror}",
              file=sys.stderr)
        return EXIT_FAILED
    return convert_all(args.sources, args.out, settings, quiet=args.quiet)


def convert_all(sources: list[Path], out: Path, settings, *, quiet: bool = False,
                stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic
                ) -> int:
    from vrculture.exhibition.progress import Progress
    from vrculture.pipeline.convert import convert_file
    from vrculture.pipeline.errors import ConversionError

    stream = stream or sys.stderr
    progress = Progress(len(sources), stream, quiet=quiet, clock=clock,
                        prefix="vrculture convert")
    ok = 0
    total = len(sources)
    for number, (source, stem) in enumerate(zip(sources, _stems(sources), strict=True), 1):
        prefix = f"[{number}/{total}] {source}"
        progress.begin(str(source))
        if not progress.live and not quiet:  # on a terminal the live line says it
            progress.note(f"{prefix}: converting...")
        started = clock()
        try:
            summary = convert_file(source, out / stem, settings, stem=stem)
        except ConversionError as err:
            failed = f"error: {err.problem}"
        except MemoryError:
            failed = "error: not enough memory"
        except OSError as err:
            failed = f"error: cannot write output ({err.strerror})"
        except Exception as err:  # a converter bug: one line for the curator, not a traceback
            failed = f"error: internal error ({type(err).__name__}: {err})"
        else:
            failed = ""
        if failed:
            progress.note(f"{prefix}: {failed}")
            progress.step(str(source), "failed")
            continue
        ok += 1
        parts = ", ".join(f"{lv.name} {lv.triangles} tris {lv.bytes / 1024:.0f} KB"
                          for lv in summary.written)
        progress.note(f"{prefix}: ok in {clock() - started:.1f} s: {parts}")
        if summary.orientation is not None and summary.orientation.source != "declared":
            progress.note(f"{prefix}: up {summary.orientation.axis} "
                          f"({summary.orientation.source}, confidence "
                          f"{summary.orientation.confidence:.2f}; --up to set it)")
        for warning in summary.warnings:
            progress.note(f"{prefix}: warning: {warning}")
        progress.step(str(source), "ok")
    progress.finish()
    if ok == total:
        return EXIT_OK
    return EXIT_PARTIAL if ok else EXIT_FAILED
