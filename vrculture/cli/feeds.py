"""`vrculture feeds add|rotate|list|remove`: sensor feeds and their tokens."""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys
import time
from collections.abc import Callable

from vrculture.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from vrculture.cli.data_store import StoreUnavailable, add_data_options, open_store
from vrculture.server.store_interface import StoreError

FEED_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
KINDS = ("street-lighting", "smart-bin", "eye-tracking-screening", "gauge")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "feeds", help="manage sensor feeds and their tokens",
        description="Tokens are printed once and stored only as hashes; rotate a lost one.",
    )
    common = add_data_options(parser)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", parents=[common], help="register a feed and print its token"
    )
    add.add_argument("feed_id", metavar="FEED_ID")
    add.add_argument("--kind", choices=KINDS, help="the exhibit kind; default: taken from the "
                     "exhibition whose `feeds` map lists FEED_ID")
    add.add_argument("--exhibition", help="the exhibition the feed belongs to (informative)")
    add.add_argument("--unit", help="gauge unit")
    add.add_argument("--min", type=float, help="gauge minimum")
    add.add_argument("--max", type=float, help="gauge maximum")
    rotate = actions.add_parser(
        "rotate", parents=[common], help="replace a feed's token (the old one stops working)"
    )
    rotate.add_argument("feed_id", metavar="FEED_ID")
    actions.add_parser(
        "list", parents=[common], help="feeds with their reading counts (never tokens)"
    )
    remove = actions.add_parser(
        "remove", parents=[common], help="delete a feed and its token"
    )
    remove.add_argument("feed_id", metavar="FEED_ID")
    remove.add_argument("--delete-readings", action="store_true")
    prune = actions.add_parser(
        "prune", parents=[common], help="delete readings older than some days"
    )
    prune.add_argument("--older-than", type=float, required=True, metavar="DAYS")
    prune.add_argument("feed_id", nargs="?", metavar="FEED_ID", help="default: every feed")


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"vrculture feeds: {message}", file=sys.stderr)
    return code


def run(args: argparse.Namespace, *, clock: Callable[[], float] = time.time) -> int:
    """The action `args` name; `prune` counts its days back from `clock()` (tests set it)."""
    feed_id = getattr(args, "feed_id", None)
    if feed_id is not None and not FEED_ID.fullmatch(feed_id):
        return _fail(f"{feed_id!r}: feed ids are 1-64 of a-z, 0-9, '_' and '-'", EXIT_USAGE)
    try:
        store = open_store(args)
    except StoreUnavailable as error:
        return _fail(str(error), error.exit_code)
    try:
        if args.action == "add":
            if args.kind != "gauge" and any(v is not None for v in (args.unit, args.min,
                                                                      args.max)):
                return _fail("--unit/--min/--max are for --kind gauge", EXIT_USAGE)
            if args.min is not None and args.max is not None and args.min >= args.max:
                return _fail("--min must be below --max", EXIT_USAGE)
            try:
                token = store.add_feed(args.feed_id, kind=args.kind, exhibition=args.exhibition,
                                       unit=args.unit, minimum=args.min, maximum=args.max)
            except KeyError:
                return _fail(f"{feed_id}: already exists (use `feeds rotate` for a new token)")
            print(token)
            print(f"feed {feed_id} added; the token above is shown only this once",
                  file=sys.stderr)
        elif args.action == "rotate":
            try:
                token = store.rotate_feed_token(args.feed_id)
            except KeyError:
                return _fail(f"{feed_id}: no such feed")
            print(token)
            print(f"feed {feed_id}: new token above; the old one no longer works",
                  file=sys.stderr)
        elif args.action == "list":
            for feed, count, newest in store.feeds():
                when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(newest)) if newest else "-"
                print(f"{feed.id}\t{feed.kind or '(from exhibition)'}\t"
                      f"{feed.exhibition or '-'}\t{count} readings\tnewest {when}")
        elif args.action == "remove":
            if not store.remove_feed(args.feed_id, keep_readings=not args.delete_readings):
                return _fail(f"{feed_id}: no such feed")
            print(f"feed {feed_id} removed", file=sys.stderr)
        elif args.action == "prune":
            if args.older_than <= 0:
                return _fail("--older-than must be a positive number of days", EXIT_USAGE)
            count = store.prune_readings(clock() - args.older_than * 86400, feed_id)
            print(f"{count} readings deleted", file=sys.stderr)
    except (sqlite3.Error, StoreError) as error:
        return _fail(f"database error: {error}")
    finally:
        store.close()
    return EXIT_OK
