"""`vrculture publish BUNDLE_DIR --data DIR`: install a bundle for a running server."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path

from vrculture.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "publish",
        help="install a bundle into a server's data folder (keeps the previous for rollback)",
        description="Copy a built bundle into DATA/exhibitions/<id>/versions/ and switch the "
        "exhibition to it atomically; a running `vrculture serve --data DATA` picks it up "
        "within seconds without dropping visitors.",
    )
    parser.add_argument("bundle", nargs="?", type=Path, metavar="BUNDLE_DIR")
    parser.add_argument("--data", type=Path, help="the server's data folder (default ./data or "
                        "VRCULTURE_DATA)")
    parser.add_argument("--config", type=Path, help="TOML settings file")
    parser.add_argument("--rollback", metavar="EXHIBITION",
                        help="switch EXHIBITION back to its previous version (or --to VERSION)")
    parser.add_argument("--to", metavar="VERSION",
                        help="with --rollback: the kept version to switch to (see --history)")
    parser.add_argument("--history", metavar="EXHIBITION",
                        help="list EXHIBITION's versions: who published each and when")
    parser.add_argument("--by", metavar="NAME",
                        help="who publishes, for the history (default: your login name)")


def _login_name() -> str | None:
    try:
        return getpass.getuser()[:100] or None
    except (OSError, KeyError):  # no login name in a bare container
        return None


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _print_history(data_dir: Path, exhibition: str) -> None:
    from vrculture.server.publishing import versions

    for kept in versions(data_dir, exhibition):
        mark = "*" if kept.current else " "
        state = "kept" if kept.kept else "pruned"
        seen = "; ".join(f"{e.action} {_when(e.at)} by {e.by or 'unknown'}"
                         for e in kept.history) or "published before the history was kept"
        print(f"{mark} {kept.version}  {state:6}  {seen}")


def run(args: argparse.Namespace) -> int:
    from vrculture.server.publishing import PublishError, publish, rollback
    from vrculture.server.settings import ConfigError, load_config

    chosen = [x for x in (args.bundle, args.rollback, args.history) if x is not None]
    if len(chosen) != 1 or (args.to is not None and args.rollback is None):
        print("vrculture publish: give one of BUNDLE_DIR, --rollback EXHIBITION [--to VERSION] "
              "or --history EXHIBITION", file=sys.stderr)
        return EXIT_USAGE
    try:
        data_dir = load_config(args.config, overrides={"data_dir": args.data}).data_dir
    except ConfigError as error:
        print(f"vrculture publish: {error}", file=sys.stderr)
        return EXIT_USAGE
    by = args.by if args.by is not None else _login_name()
    try:
        if args.history:
            _print_history(data_dir, args.history)
        elif args.rollback:
            done = rollback(data_dir, args.rollback, args.to, by=by)
            print(f"{done.exhibition}: rolled back to version {done.version}")
        else:
            done = publish(args.bundle, data_dir, by=by)
            if done.previous == done.version:  # `previous` is what was current before this
                print(f"{done.exhibition}: version {done.version} is already current; "
                      "nothing changed")
            else:
                was = f" (previous {done.previous} kept for --rollback)" if done.previous else ""
                print(f"{done.exhibition}: published version {done.version}{was}")
    except (PublishError, OSError) as error:
        print(f"vrculture publish: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
