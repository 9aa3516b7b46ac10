"""The `vrculture` command: one sub-command per module in this package.

Each sub-command module exposes `add_parser(subparsers)` (registering its arguments) and
`run(args) -> int` (the exit code). Exit codes shared by convert and build: 0 all done,
1 nothing done or a fatal error, 2 usage error, 3 partial (some sources failed).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3

# name -> module under vrculture.cli; imported lazily so that `vrculture convert` does not pay
# for aiohttp and `vrculture serve` does not pay for the converter's libraries.
SUBCOMMANDS = {
    "convert": "convert scan and image files into optimized GLBs with levels of detail",
    "build": "build an exhibition bundle from a collection folder",
    "serve": "serve exhibition bundles, rooms and sensor feeds over HTTP(S)",
    "publish": "install a bundle into a server's data folder (keeps the previous for rollback)",
    "feeds": "manage sensor feeds and their tokens",
    "guides": "manage guide codes for tours",
    "curator": "manage the curator token for the admin API",
    "curators": "manage the curator accounts of the studio (/studio/)",
    "simulate": "play realistic sensor readings for the demo's smart-city exhibits",
}


def _load(name: str):
    return importlib.import_module(f"vrculture.cli.{name}")


def _version() -> str:
    from vrculture.exhibition.version import VERSION

    return VERSION


class _VersionAction(argparse.Action):
    """--version that reads the installed metadata only when asked: importlib.metadata is
    ~20 ms of every command's start-up (a whole conversion of a small scan is ~0.3 s)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="show program's version number and exit"):  # noqa: A002 (argparse's)
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"vrculture {_version()}")  # to stdout, as argparse's own version action
        parser.exit()


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vrculture",
        description="Convert museum scans, build exhibitions and serve them in WebXR.",
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        if name != only:
            # A placeholder so that --help lists every command without importing it.
            sub.add_parser(name, help=SUBCOMMANDS[name], add_help=False)
            continue
        _load(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Before numpy loads: the commands' numpy work is single-threaded, and OpenBLAS's worker
    # threads only spin-wait around the few small matrix products (the up-axis estimate),
    # ~0.07 s CPU of igea's ~1.2 s conversion on two cores. The caller's own setting wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(chosen if chosen in SUBCOMMANDS else None)
    args = parser.parse_args(argv)
    try:
        return int(_load(args.command).run(args))
    except KeyboardInterrupt:
        print("vrculture: interrupted", file=sys.stderr)
        return 130
