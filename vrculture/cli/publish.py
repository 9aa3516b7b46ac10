"""`vrculture publish BUNDLE_DIR --data DIR`: install a bundle for a running server."""

from __future__ import annotations

import argparse
import sys
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
                        help="switch EXHIBITION back to its previous version")


def run(args: argparse.Namespace) -> int:
    from vrculture.server.publishing import PublishError, publish, rollback
    from vrculture.server.settings import ConfigError, load_config

    if (args.bundle is None) == (args.rollback is None):
        print("vrculture publish: give either BUNDLE_DIR or --rollback EXHIBITION",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        data_dir = load_config(args.config, overrides={"data_dir": args.data}).data_dir
    except ConfigError as error:
        print(f"vrculture publish: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.rollback:
            done = rollback(data_dir, args.rollback)
            print(f"{done.exhibition}: rolled back to version {done.version}")
        else:
            done = publish(args.bundle, data_dir)
            was = f" (previous {done.previous} kept for --rollback)" if done.previous else ""
            print(f"{done.exhibition}: published version {done.version}{was}")
    except (PublishError, OSError) as error:
        print(f"vrculture publish: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
