"""`vrculture curators add|list|remove|reset`: the studio's curator accounts.

`add` and `reset` print a one-time password once (stdout, so a script can capture it); the
curator replaces it at the first sign-in: until then it signs in, but to nothing except the
form that replaces it (docs/studio.md). Only its argon2id hash is stored.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from vrculture.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from vrculture.cli.data_store import StoreUnavailable, add_data_options, server_config

if TYPE_CHECKING:
    from vrculture.server.config import ServerConfig


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

    name: str = getattr(args, "name", "")
    if args.action != "list" and not accounts.valid_name(name):
        return _fail(f"{name!r}: a name is 1-32 of a-z, 0-9, '.', '_' and '-', starting with "
                     "a letter or digit", EXIT_USAGE)
    try:
        config = server_config(args)
    except StoreUnavailable as error:
        return _fail(str(error), error.exit_code)
    # The accounts live where the server keeps its data: the data folder's SQLite, or the
    # PostgreSQL of --database (asyncio.run: the records are async, as on the server).
    return asyncio.run(_run(args, name, config))


async def _run(args: argparse.Namespace, name: str, config: ServerConfig) -> int:
    from vrculture.server.store_interface import StoreError
    from vrculture.server.studio import accounts
    from vrculture.server.studio.records import open_records

    try:
        records = await open_records(config)
    except StoreError as error:  # its message names the database without its password
        return _fail(str(error))
    except (sqlite3.Error, OSError) as error:
        return _fail(f"cannot open the data folder's database ({error})")
    try:
        now = time.time()
        if args.action == "list":
            for curator in await records.curators():
                created = datetime.fromtimestamp(curator.created_at, UTC).strftime("%Y-%m-%d")
                state = "one-time password not yet replaced" if curator.must_change else "active"
                print(f"{curator.name}\tcreated {created}\t{state}")
            return EXIT_OK
        if args.action == "remove":
            if not await records.remove_curator(name):
                return _fail(f"no curator is called {name!r}")
            print(f"curator {name} removed", file=sys.stderr)
            return EXIT_OK
        password = accounts.new_password()
        password_hash = accounts.hash_password(password)
        try:
            if args.action == "add":
                await records.add_curator(name, password_hash, now)
            else:
                await records.set_password(name, password_hash, now, one_time=True)
        except KeyError:
            return _fail(f"a curator called {name!r} already exists (`reset` gives a new "
                         "password)" if args.action == "add" else f"no curator is called "
                         f"{name!r}")
    except (sqlite3.Error, StoreError) as error:
        return _fail(f"database error: {error}")
    finally:
        await records.close()
    print(password)
    print(f"one-time password for {name}; it is shown only this once and opens only the form "
          "that replaces it. Sign in at /studio/ and choose your own password.",
          file=sys.stderr)
    return EXIT_OK
