"""`vrculture guides add|list|revoke`: codes that let a visitor lead tours."""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import time
from pathlib import Path

from vrculture.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from vrculture.cli.data_store import StoreUnavailable, add_data_options, open_store
from vrculture.server.store_interface import StoreError

EXHIBITION_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "guides", help="manage guide codes for tours",
        description="A guide code lets a visitor start and lead tours in one exhibition. Codes "
        "are printed once and stored only as hashes; a running server accepts a new code "
        "within a few seconds.",
    )
    common = add_data_options(parser)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", parents=[common], help="create a code and print it"
    )
    add.add_argument("exhibition", metavar="EXHIBITION")
    add.add_argument("--label", default="", help="who the code is for (shown by `list`)")
    add.add_argument("--bundle", dest="bundle_dirs", type=Path, action="append", default=[],
                     metavar="BUNDLE_DIR", help="a bundle folder given to `vrculture serve` "
                     "(repeatable): EXHIBITION must be published in the data folder, listed in "
                     "the settings' bundles, or one of these")
    actions.add_parser(
        "list", parents=[common], help="codes by exhibition and label (never the codes)"
    )
    revoke = actions.add_parser(
        "revoke", parents=[common], help="revoke an exhibition's codes"
    )
    revoke.add_argument("exhibition", metavar="EXHIBITION")
    revoke.add_argument("--label", help="only the codes with this label")


def run(args: argparse.Namespace) -> int:
    exhibition = getattr(args, "exhibition", None)
    if exhibition is not None and not EXHIBITION_ID.fullmatch(exhibition):
        print(f"vrculture guides: {exhibition!r} is not an exhibition id", file=sys.stderr)
        return EXIT_USAGE
    if args.action == "add":
        known = _known_exhibitions(args)
        if exhibition not in known:
            print(f"vrculture guides: no exhibition {exhibition!r} (published in the data "
                  "folder, in the settings' bundles or given with --bundle); known: "
                  f"{', '.join(sorted(known)) or 'none'}", file=sys.stderr)
            return EXIT_FAILED
    try:
        store = open_store(args)
    except StoreUnavailable as error:
        print(f"vrculture guides: {error}", file=sys.stderr)
        return error.exit_code
    try:
        if args.action == "add":
            print(store.add_guide_code(args.exhibition, args.label))
            print(f"guide code for {exhibition} above; it is shown only this once",
                  file=sys.stderr)
        elif args.action == "list":
            for exhibition_id, label, created in store.guide_codes():
                when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(created))
                print(f"{exhibition_id}\t{label or '-'}\tcreated {when} UTC")
        elif args.action == "revoke":
            count = store.remove_guide_codes(args.exhibition, args.label)
            print(f"{count} code(s) revoked", file=sys.stderr)
    except (sqlite3.Error, StoreError) as error:
        print(f"vrculture guides: database error: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        store.close()
    return EXIT_OK


def _known_exhibitions(args: argparse.Namespace) -> set[str]:
    """Ids of the exhibitions a server on this data folder could serve: those published
    there and the bundle folders of the settings or --bundle (a code for any other id would
    be issued for nothing)."""
    from vrculture.server.settings import ConfigError, load_config

    try:
        config = load_config(getattr(args, "config", None),
                             overrides={"data_dir": getattr(args, "data", None)})
    except ConfigError:
        return set()  # open_store reports the bad settings
    known: set[str] = set()
    published = config.data_dir / "exhibitions"
    if published.is_dir():
        known |= {entry.name for entry in published.iterdir()
                  if (entry / "current" / "exhibition.json").is_file()}
    for folder in [*config.bundles, *args.bundle_dirs]:
        try:
            manifest = json.loads((folder / "exhibition.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(manifest, dict) and isinstance(manifest.get("id"), str):
            known.add(manifest["id"])
    return known
