"""Building a ServerConfig: defaults < TOML file < VRCULTURE_* environment < command-line flags.

The TOML file (`--config FILE` or VRCULTURE_CONFIG) uses the ServerConfig field names:

    host = "0.0.0.0"
    port = 8443
    data_dir = "/var/lib/vrculture"
    public_url = "https://museum.example/vr"
    allowed_origins = ["https://museum.example"]
    trusted_proxies = ["127.0.0.1"]
    bundles = ["/srv/exhibitions/demo"]
    self_signed = true
    database = "postgresql://vrculture@db.city.example/vrculture"  # default: SQLite in data_dir
    [rooms]
    capacity = 40

plus `[mqtt]` (mqtt_settings.py) and `[ngsi_ld]` (ngsi_ld_settings.py) for sensor platforms,
and `[figures]` (figure_settings.py) for the assumptions behind the goal figures.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vrculture.server.basepath import BasePathError, base_path_of
from vrculture.server.config import RoomSettings, ServerConfig
from vrculture.server.figure_settings import parse_figures
from vrculture.server.forwarded import parse_networks
from vrculture.server.mqtt_settings import parse_mqtt
from vrculture.server.ngsi_ld_settings import parse_ngsi_ld

ENV_PREFIX = "VRCULTURE_"
DATABASE_SCHEMES = ("postgresql://", "postgres://")
_HOST_NAME = re.compile(r"[a-z0-9.-]{1,253}|[0-9a-f:.]{2,45}")  # a DNS name, IPv4 or IPv6
# environment variable (after the prefix) -> ServerConfig field
ENV_FIELDS = {
    "HOST": "host",
    "PORT": "port",
    "DATA": "data_dir",
    "PUBLIC_URL": "public_url",
    "ALLOWED_ORIGINS": "allowed_origins",
    "TLS_CERT": "tls_cert",
    "TLS_KEY": "tls_key",
    "SELF_SIGNED": "self_signed",
    "REDIS_URL": "redis_url",
    "DATABASE": "database",
    "HEADER_TIMEOUT": "header_timeout",
    "ALLOWED_HOSTS": "allowed_hosts",
    "MAX_CONNECTIONS": "max_connections",
    "MAX_CONNECTIONS_PER_CLIENT": "max_connections_per_client",
    "TRUSTED_PROXIES": "trusted_proxies",
}


class ConfigError(Exception):
    """A bad setting; the message names where it came from."""


def _convert(name: str, value: Any, where: str) -> Any:
    """Coerce a TOML or environment value to the type of ServerConfig.<name>."""
    try:
        if name == "port":
            port = int(value)
            if not 0 <= port <= 65535:
                raise ValueError("port out of range")
            return port
        if name == "self_signed":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError("expected true or false")
            return text in ("1", "true", "yes", "on")
        if name in ("data_dir", "tls_cert", "tls_key"):
            return Path(str(value)).expanduser() if value else None
        if name == "bundles":
            if not isinstance(value, list):
                raise ValueError("expected a list of folders")
            return [Path(str(v)).expanduser() for v in value]
        if name == "allowed_origins":
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list):
                raise ValueError("expected a list of origins")
            origins = [str(v).strip().rstrip("/") for v in items if str(v).strip()]
            for origin in origins:
                if origin != "*" and not origin.startswith(("http://", "https://")):
                    raise ValueError(f"origin {origin!r} must start with http:// or https://")
            return origins
        if name == "trusted_proxies":
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list):
                raise ValueError("expected a list of addresses or networks")
            networks = parse_networks(str(v) for v in items if str(v).strip())
            return [str(network) for network in networks]
        if name in ("host", "public_url", "redis_url"):
            return str(value) if value else None
        if name == "database":
            if not value:
                return None
            if not isinstance(value, str) or not value.startswith(DATABASE_SCHEMES):
                # never echo the value: it may hold a password
                raise ValueError("expected a postgresql:// URL (or none for SQLite)")
            return value
        if name == "allowed_hosts":
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list):
                raise ValueError("expected a list of host names")
            hosts = [str(v).strip().lower().rstrip(".") for v in items if str(v).strip()]
            for host in hosts:
                if host != "*" and not _HOST_NAME.fullmatch(host.strip("[]")):
                    raise ValueError(f"{host!r} is not a host name or address (no port)")
            return hosts
        if name == "header_timeout":
            seconds = float(value)
            if isinstance(value, bool) or not 0 < seconds <= 300:
                raise ValueError("expected seconds between 0 and 300")
            return seconds
        if name in ("max_connections", "max_connections_per_client"):
            if isinstance(value, bool) or int(value) != float(value) or int(value) < 1:
                raise ValueError("expected a whole number of at least 1")
            return int(value)
    except (TypeError, ValueError, OverflowError) as error:  # OverflowError: int(inf) in TOML
        raise ConfigError(f"{where}: {name}: {error}") from error
    raise ConfigError(f"{where}: unknown setting {name!r}")


def _apply(config: ServerConfig, values: Mapping[str, Any], where: str) -> None:
    for name, value in values.items():
        if name == "rooms":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [rooms] must be a table")
            _apply_rooms(config.rooms, value, where)
            continue
        if name == "ngsi_ld":
            try:
                config.ngsi_ld = parse_ngsi_ld(value)
            except ValueError as error:
                raise ConfigError(f"{where}: {error}") from None
            continue
        if name == "figures":
            try:
                config.figures = parse_figures(value)
            except ValueError as error:
                raise ConfigError(f"{where}: {error}") from None
            continue
        if name == "mqtt":
            try:
                config.mqtt = parse_mqtt(value)
            except ValueError as error:
                raise ConfigError(f"{where}: {error}") from None
            continue
        setattr(config, name, _convert(name, value, where))
    if config.data_dir is None:
        raise ConfigError(f"{where}: data_dir must not be empty")


# The largest sensible value of each [rooms] setting: beyond it a room would burn the CPU (a
# tick rate of thousands), hold unbounded messages, or pass the protocol's 2000 visitors a room.
_ROOMS_MAXIMUM: dict[str, float] = {
    "capacity": 2000, "tick_hz": 120, "nearest_full_rate": 2000, "far_rate_hz": 120,
    "max_message_bytes": 1 << 20, "max_messages_per_second": 10_000, "max_name_chars": 256,
}


def _apply_rooms(rooms: RoomSettings, values: dict[str, Any], where: str) -> None:
    known = {f.name: f for f in dataclasses.fields(RoomSettings)}
    for name, value in values.items():
        if name not in known:
            raise ConfigError(f"{where}: [rooms]: unknown setting {name!r}")
        kind = type(getattr(rooms, name))
        top = _ROOMS_MAXIMUM[name]
        if not _in_range(value, top, whole=kind is int):
            expected = (f"a whole number from 1 to {top:.0f}" if kind is int
                        else f"a number above 0 and at most {top:g}")
            raise ConfigError(f"{where}: [rooms] {name}: expected {expected}, not {value!r}")
        setattr(rooms, name, kind(value))


def _in_range(value: Any, top: float, *, whole: bool) -> bool:
    """A finite number in (0, top]; a whole one where `whole` (1.5 visitors is not a capacity)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if not (math.isfinite(value) and 0 < value <= top):  # NaN and inf fail here
        return False
    return not whole or value == int(value)


def load_config(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> ServerConfig:
    """The effective configuration. `overrides` holds command-line values (None = not given)."""
    environ = os.environ if environ is None else environ
    config = ServerConfig()
    config_file = config_file or (
        Path(environ[ENV_PREFIX + "CONFIG"]) if environ.get(ENV_PREFIX + "CONFIG") else None
    )
    if config_file is not None:
        try:
            values = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"{config_file}: cannot read ({error.strerror})") from error
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ConfigError(f"{config_file}: not valid TOML ({error})") from error
        _apply(config, values, str(config_file))
    from_env = {
        field: environ[ENV_PREFIX + key]
        for key, field in ENV_FIELDS.items()
        if ENV_PREFIX + key in environ
    }
    _apply(config, from_env, "environment")
    _apply(config, {k: v for k, v in (overrides or {}).items() if v is not None}, "command line")
    if (config.tls_cert is None) != (config.tls_key is None):
        raise ConfigError("tls_cert and tls_key must be given together")
    if config.self_signed and config.tls_cert is not None:
        raise ConfigError("use either self_signed or tls_cert/tls_key, not both")
    if config.public_url and not config.public_url.startswith(("http://", "https://")):
        raise ConfigError(f"public_url {config.public_url!r} must start with http(s)://")
    try:
        base_path_of(config.public_url)
    except BasePathError as error:
        raise ConfigError(str(error)) from None
    return config
