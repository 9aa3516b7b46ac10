"""`vrculture curator token [--rotate]`: the curator token of the admin API (/api/admin/)."""

from __future__ import annotations

import argparse
import sqlite3
import sys

from vrculture.cli import EXIT_FAILED, EXIT_OK
from vrculture.cli.data_store import StoreUnavailable, add_data_options, open_store
from vrculture.server.store_interface import StoreError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "curator", help="manage the curator token for the admin API",
        description="The curator token lets a curator manage a running server remotely "
        "(feeds, guide codes, publishing and rolling back exhibitions) through /api/admin/. "
        "It is printed once and stored only as a hash.",
    )
    common = add_data_options(parser)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    token = actions.add_parser(
        "token", parents=[common], help="create the curator token and print it once"
    )
    token.add_argument("--rotate", action="store_true",
                       help="replace the existing token (the old one stops working at once)")


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"vrculture curator: {message}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    try:
        store = open_store(args)
    except StoreUnavailable as error:
        return _fail(str(error), error.exit_code)
    try:
        try:
            token = store.create_curator_token(rotate=args.rotate)
        except KeyError:
            return _fail("a curator token already exists; `vrculture curator token --rotate` "
                         "replaces it (the old one stops working)")
    except (sqlite3.Error, StoreError) as error:
        return _fail(f"database error: {error}")
    finally:
        store.close()
    print(token)
    done = "replaced; the old one no longer works" if args.rotate else "created"
    print(f"curator token {done}; it is shown only this once", file=sys.stderr)
    return EXIT_OK
