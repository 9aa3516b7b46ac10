"""`vrculture curators add|list|remove|reset`: the studio's curator accounts.

`add` and `reset` print a one-time password once (stdout, so a script can capture it); the
curator replaces it at the first sign-in. Only its argon2id hash is stored.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from datetime import UTC, datetime

from vrculture.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from vrculture.cli.data_store import StoreUnavailable, add_data_options, data_folder


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "curators", help="manage the curator accounts of the studio (/studio/)",
        description="Curators sign in to the studio at /studio/ with a name and a password. "
        "`add` and `reset` print a one-time password once; the curator chooses their own at "
        "the first sign-in.",
    )
    common = add_data_options(parser)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (("add", "create an account and print its one-time password"),
                         ("remove", "remove an account (its sessions end at once)"),
                         ("reset", "print a new one-time password (its sessions end)")):
        sub = actions.add_parser(action, parents=[common], help=text)
        sub.add_argument("name", help="1-32 of a-z, 0-9, '.', '_' and '-'")
    actions.add_parser("list", parents=[common], help="list the accounts")


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"vrculture curators: {message}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    from vrculture.server.studio import accounts
    from vrculture.server.studio.schema import create_tables

    name: str = getattr(args, "name", "")
    if args.action != "list" and not accounts.valid_name(name):
        return _fail(f"{name!r}: a name is 1-32 of a-z, 0-9, '.', '_' and '-', starting with "
                     "a letter or digit", EXIT_USAGE)
    from vrculture.server.storage import Store

    try:  # the accounts stay in the data folder's SQLite even with --database (see auth)
        store = Store.open(data_folder(args))
    except StoreUnavailable as error:
        return _fail(str(error), error.exit_code)
    except (sqlite3.Error, OSError) as error:
        return _fail(f"cannot open the data folder's database ({error})")
    try:
        create_tables(store.conn)
        now = time.time()
        if args.action == "list":
            for curator in accounts.curators(store):
                created = datetime.fromtimestamp(curator.created_at, UTC).strftime("%Y-%m-%d")
                state = "one-time password not yet replaced" if curator.must_change else "active"
                print(f"{curator.name}\tcreated {created}\t{state}")
            return EXIT_OK
        if args.action == "remove":
            if not accounts.remove_curator(store, name):
                return _fail(f"no curator is called {name!r}")
            print(f"curator {name} removed", file=sys.stderr)
            return EXIT_OK
        password = accounts.new_password()
        password_hash = accounts.hash_password(password)
        try:
            if args.action == "add":
                accounts.add_curator(store, name, password_hash, now)
            else:
                accounts.set_password(store, name, password_hash, now, one_time=True)
        except KeyError:
            return _fail(f"a curator called {name!r} already exists (`reset` gives a new "
                         "password)" if args.action == "add" else f"no curator is called "
                         f"{name!r}")
    except sqlite3.Error as error:
        return _fail(f"database error: {error}")
    finally:
        store.close()
    print(password)
    print(f"one-time password for {name}; it is shown only this once. Sign in at /studio/ "
          "and choose your own password.", file=sys.stderr)
    return EXIT_OK
