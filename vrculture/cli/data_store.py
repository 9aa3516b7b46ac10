"""What the commands that manage a server's data folder share (`feeds`, `guides`, `curator`):
the `--data`/`--config`/`--database` options and opening the store they name."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from vrculture.cli import EXIT_FAILED, EXIT_USAGE

if TYPE_CHECKING:
    from vrculture.server.config import ServerConfig
    from vrculture.server.store_interface import BlockingDataStore


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
    parser.add_argument("--database", metavar="URL", help="postgresql://… when the server "
                        "keeps its data in PostgreSQL (default: SQLite in the data folder)")
    # SUPPRESS keeps a value given before the action from being overwritten by the
    # sub-parser's default.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", type=Path, default=argparse.SUPPRESS)
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS)
    common.add_argument("--database", metavar="URL", default=argparse.SUPPRESS)
    return common


def data_folder(args: argparse.Namespace) -> Path:
    """The data folder the options and settings name."""
    from vrculture.server.settings import ConfigError, load_config

    try:
        config = load_config(args.config, overrides={"data_dir": args.data})
    except ConfigError as error:
        raise StoreUnavailable(str(error), EXIT_USAGE) from error
    config.data_dir.mkdir(parents=True, exist_ok=True)
    return config.data_dir


def server_config(args: argparse.Namespace) -> ServerConfig:
    """The settings the options name (data folder created; --database kept)."""
    from vrculture.server.settings import ConfigError, load_config

    try:
        config = load_config(args.config, overrides={"data_dir": args.data,
                                                     "database": args.database})
    except ConfigError as error:
        raise StoreUnavailable(str(error), EXIT_USAGE) from error
    if not config.database:
        config.data_dir.mkdir(parents=True, exist_ok=True)
    return config


def open_store(args: argparse.Namespace) -> BlockingDataStore:
    """The store the options and settings name: the data folder's, or their PostgreSQL."""
    from vrculture.server.settings import ConfigError, load_config
    from vrculture.server.store_choice import open_blocking_store
    from vrculture.server.store_interface import StoreError

    try:
        config = load_config(args.config, overrides={"data_dir": args.data,
                                                     "database": args.database})
    except ConfigError as error:
        raise StoreUnavailable(str(error), EXIT_USAGE) from error
    try:
        return open_blocking_store(config)
    except StoreError as error:  # its message names the database without its password
        raise StoreUnavailable(str(error), EXIT_FAILED) from error
    except (sqlite3.Error, OSError) as error:
        raise StoreUnavailable(f"{config.data_dir}: cannot open the database ({error})",
                               EXIT_FAILED) from error
