"""What the commands that manage a server's data folder share (`feeds`, `guides`, `curator`):
the `--data`/`--config` options and opening the store they name."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from vrculture.cli import EXIT_FAILED, EXIT_USAGE

if TYPE_CHECKING:
    from vrculture.server.storage import Store


class StoreUnavailable(Exception):
    """The settings are wrong (a usage error) or the database cannot be opened."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def add_data_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Adds --data/--config to `parser` and returns a parent parser that gives every action the
    same options, so that both `feeds --data D add X` and `feeds add X --data D` work."""
    parser.add_argument("--data", type=Path, help="the server's data folder")
    parser.add_argument("--config", type=Path, help="TOML settings file")
    # SUPPRESS keeps a value given before the action from being overwritten by the
    # sub-parser's default.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", type=Path, default=argparse.SUPPRESS)
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS)
    return common


def open_store(args: argparse.Namespace) -> Store:
    """The store of the data folder the options and settings name."""
    from vrculture.server.settings import ConfigError, load_config
    from vrculture.server.storage import Store

    try:
        data_dir = load_config(args.config, overrides={"data_dir": args.data}).data_dir
    except ConfigError as error:
        raise StoreUnavailable(str(error), EXIT_USAGE) from error
    try:
        return Store.open(data_dir)
    except (sqlite3.Error, OSError) as error:
        raise StoreUnavailable(f"{data_dir}: cannot open the database ({error})",
                               EXIT_FAILED) from error
