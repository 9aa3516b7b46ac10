"""`vrculture serve BUNDLE_DIR [BUNDLE_DIR ...] [--data DIR]`: the museum's server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib.util
import logging
import os
import re
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from vrculture.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve exhibition bundles, rooms and sensor feeds over HTTP(S)",
        description="Serve exhibition bundles (folders given here plus those published into "
        "DATA/exhibitions with `vrculture publish`), the viewer, the JSON API, rooms and "
        "sensor feeds. Settings: --config TOML file < VRCULTURE_* environment < flags.",
    )
    parser.add_argument("bundles", nargs="*", type=Path, metavar="BUNDLE_DIR",
                        help="bundle folders (each holds an exhibition.json)")
    parser.add_argument("--config", type=Path, help="TOML settings file (or VRCULTURE_CONFIG)")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1; 0.0.0.0 for "
                        "the gallery's network)")
    parser.add_argument("--port", type=int, help="port (default 8080)")
    parser.add_argument("--data", dest="data_dir", type=Path,
                        help="data folder: database, published bundles, TLS (default ./data)")
    parser.add_argument("--public-url", help="the URL visitors use, when behind a reverse proxy")
    parser.add_argument("--allow-origin", dest="allowed_origins", action="append",
                        metavar="ORIGIN", help="an origin allowed to embed the viewer and use "
                        "the API and rooms from a browser (repeatable; '*' for any)")
    parser.add_argument("--allowed-host", dest="allowed_hosts", action="append",
                        metavar="HOST", help="a host name visitors use to reach this server "
                        "(repeatable; default: localhost, 127.0.0.1, ::1, the public URL's host "
                        "and the bind host; '*' for any). Others are refused (421)")
    parser.add_argument("--trusted-proxy", dest="trusted_proxies", action="append",
                        metavar="ADDRESS", help="a reverse proxy (address or network) whose "
                        "X-Forwarded-For/-Proto give the client's address (repeatable)")
    parser.add_argument("--tls-cert", type=Path, help="certificate chain (PEM)")
    parser.add_argument("--tls-key", type=Path, help="private key (PEM)")
    parser.add_argument("--self-signed", action="store_true", default=None,
                        help="HTTPS with a certificate made for this machine's LAN addresses")
    parser.add_argument("--redis-url", help="share rooms and feeds between processes via Redis")
    parser.add_argument("--database", metavar="URL", help="postgresql://… : keep feeds, "
                        "readings, guide codes and the curator token in PostgreSQL (default: "
                        "SQLite in the data folder)")
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes sharing the port (needs --redis-url so that "
                        "rooms and live readings span them; default 1)")
    parser.add_argument("--log-level", default="info",
                        choices=["debug", "info", "warning", "error"])


def run(args: argparse.Namespace, *, clock: Callable[[], float] = time.time) -> int:
    """Serve as `args` say; `clock` is the app's (readings, sessions, figures): the wall clock,
    or a test's fixed one (tests/serve_at.py starts the real server with it)."""
    from vrculture.server.app import create_app
    from vrculture.server.settings import ConfigError, load_config
    from vrculture.server.tls import TLSError, context_from_files, self_signed
    from vrculture.server.webfiles import missing_viewer_files

    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Request lines carry no secrets (tokens travel in headers), but keep them quiet by default.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.server").addFilter(_client_errors_in_one_line)
    from vrculture.server.connections import install_repeat_filter

    install_repeat_filter()  # under attack, one line per repeated message per 10 s
    try:
        config = load_config(args.config, overrides={
            "bundles": [str(b) for b in args.bundles] or None,
            "host": args.host, "port": args.port, "data_dir": args.data_dir,
            "public_url": args.public_url, "allowed_origins": args.allowed_origins,
            "allowed_hosts": args.allowed_hosts,
            "tls_cert": args.tls_cert, "tls_key": args.tls_key,
            "self_signed": args.self_signed, "redis_url": args.redis_url,
            "database": args.database,
            "trusted_proxies": args.trusted_proxies,
        })
    except ConfigError as error:
        print(f"vrculture serve: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.workers < 1 or args.workers > 64:
        print("vrculture serve: --workers must be between 1 and 64", file=sys.stderr)
        return EXIT_USAGE
    if args.workers > 1 and not config.redis_url:
        print("vrculture serve: --workers above 1 needs --redis-url: visitors in one room may "
              "land on different processes", file=sys.stderr)
        return EXIT_USAGE
    if config.database and importlib.util.find_spec("asyncpg") is None:
        print("vrculture serve: a postgresql:// database needs asyncpg: "
              "pip install 'vrculture[postgresql]'", file=sys.stderr)
        return EXIT_USAGE
    if config.redis_url and importlib.util.find_spec("redis") is None:
        print("vrculture serve: --redis-url needs redis: pip install 'vrculture[redis]'",
              file=sys.stderr)
        return EXIT_USAGE
    if config.mqtt is not None and importlib.util.find_spec("paho") is None:
        print("vrculture serve: [mqtt] needs paho-mqtt: pip install 'vrculture[mqtt]'",
              file=sys.stderr)
        return EXIT_USAGE
    if missing := missing_viewer_files(config.web_dir):
        print(f"vrculture serve: this installation lacks the viewer's files ({', '.join(missing)} "
              f"in {config.web_dir}): reinstall vrculture from a complete wheel", file=sys.stderr)
        return EXIT_FAILED
    for bundle in config.bundles:
        if not (bundle / "exhibition.json").is_file():
            print(f"vrculture serve: {bundle}: no exhibition.json (build it with "
                  "`vrculture build`)", file=sys.stderr)
            return EXIT_USAGE

    ssl_context = None
    try:
        if config.self_signed:
            public_host = urlsplit(config.public_url).hostname if config.public_url else None
            cert, key = self_signed(config.data_dir / "tls", [public_host] if public_host else [])
            ssl_context = context_from_files(cert, key)
            print(f"vrculture serve: self-signed certificate {cert} (accept it once per "
                  "headset)", file=sys.stderr)
        elif config.tls_cert and config.tls_key:
            ssl_context = context_from_files(config.tls_cert, config.tls_key)
    except TLSError as error:
        print(f"vrculture serve: {error}", file=sys.stderr)
        return EXIT_FAILED

    if (problem := _sqlite_problem(config)) is not None:  # before announcing anything
        print(f"vrculture serve: cannot start: {problem}", file=sys.stderr)
        return EXIT_FAILED
    try:
        app = create_app(config, clock=clock)
    except Exception as error:  # e.g. an unreadable data folder: a message, not a traceback
        print(f"vrculture serve: cannot start: {error}", file=sys.stderr)
        return EXIT_FAILED
    registry = app_registry(app)
    for problem in registry.errors.values():
        print(f"vrculture serve: not serving {problem}", file=sys.stderr)
    if config.bundles and not registry.all():
        return EXIT_FAILED
    # Bind before announcing: a port taken by another program is an error, not a false "on".
    sockets: list[list[socket.socket]] = []
    try:
        sockets.append(_listen(config.host, config.port, reuse_port=args.workers > 1))
        port = sockets[0][0].getsockname()[1]  # the real one when --port 0
        for _ in range(args.workers - 1):
            sockets.append(_listen(config.host, port, reuse_port=True))
    except OSError as error:
        for group in sockets:
            _close(group)
        print(f"vrculture serve: cannot listen on {config.host}:{config.port}: "
              f"{error.strerror or error}", file=sys.stderr)
        return EXIT_FAILED
    scheme = "https" if ssl_context else "http"
    shown = config.public_url or f"{scheme}://{_url_host(config.host)}:{port}"
    print(f"vrculture serve: {len(registry.all())} exhibition(s) on {shown}/"
          + (f" ({args.workers} processes)" if args.workers > 1 else ""), file=sys.stderr)
    if args.workers > 1:
        del app  # each worker builds its own after the fork
        return _run_workers(config, ssl_context, sockets, clock)
    return _serve(app, config, sockets[0], ssl_context)


def _sqlite_problem(config) -> str | None:
    """Why the data folder's SQLite database cannot be opened (damaged, the folder a file, no
    permission), or None; PostgreSQL is checked when the server starts."""
    import sqlite3

    from vrculture.server.storage import DB_NAME, connect

    if config.database:
        return None
    path = config.data_dir / DB_NAME
    try:
        connect(path).close()
    except (sqlite3.Error, OSError) as error:
        return f"cannot open the database {path} ({error})"
    return None


def _listen(host: str, port: int, *, reuse_port: bool) -> list[socket.socket]:
    """Listening sockets on every address `host` resolves to (as aiohttp would bind them);
    OSError when one is taken or `host` is unknown."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                               flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            if port:  # one port on every address (after --port 0: the kernel's pick for the first)
                address = (address[0], port, *address[2:])
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart past TIME_WAIT
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(128)
            sock.setblocking(False)
            port = sock.getsockname()[1]
    except OSError:
        _close(sockets)
        raise
    return sockets


def _close(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.close()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _serve(app, config, sockets: list[socket.socket], ssl_context) -> int:
    from vrculture.server import connections

    # The plain asyncio loop on purpose: its loop.sendfile uses the kernel's sendfile; uvloop
    # has none and aiohttp would copy every file through Python.
    asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())
    connections.raise_open_file_limit()
    limits = connections.default_limits(config.max_connections,
                                        config.max_connections_per_client)
    from vrculture.server.store_interface import StoreError

    try:
        connections.run_app(app, limits=limits, sock=sockets, ssl_context=ssl_context,
                            access_log=None)
    except StoreError as error:  # e.g. PostgreSQL unreachable at start-up: no traceback
        print(f"vrculture serve: cannot start: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _run_workers(config, ssl_context, sockets: list[list[socket.socket]],
                 clock: Callable[[], float]) -> int:
    """Fork one process per group of sockets, each bound with SO_REUSEPORT before the fork (the
    kernel spreads connections over them), and supervise them: a signal is passed on; if one
    dies, all stop, so that the service manager restarts a whole, consistent server."""
    from vrculture.server.app import create_app

    children: list[int] = []
    for index, own in enumerate(sockets):
        pid = os.fork()
        if pid == 0:  # the worker: its own app, loop, database connection, Redis connection
            code = EXIT_FAILED
            try:
                for other in sockets[:index] + sockets[index + 1:]:
                    _close(other)
                # One MQTT session per server: the first worker bridges, Redis carries the
                # readings to the rooms of the others.
                own_config = config if index == 0 else dataclasses.replace(config, mqtt=None)
                code = _serve(create_app(own_config, clock=clock), config, own, ssl_context)
            finally:
                os._exit(code)
        children.append(pid)
    for group in sockets:  # the workers hold them now; a socket here would take connections
        _close(group)

    def forward(signum, _frame) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    status = EXIT_OK
    remaining = set(children)
    while remaining:
        try:
            pid, wait_status = os.wait()
        except ChildProcessError:
            break
        remaining.discard(pid)
        if os.waitstatus_to_exitcode(wait_status) not in (0, -signal.SIGTERM):
            status = EXIT_FAILED
            forward(signal.SIGTERM, None)
    return status


def _client_errors_in_one_line(record: logging.LogRecord) -> bool:
    """A malformed request is the client's problem: one warning line, not a traceback."""
    from aiohttp.http_exceptions import HttpProcessingError

    error = record.exc_info[1] if record.exc_info else None
    if isinstance(error, HttpProcessingError):
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg, record.args = "malformed request refused: %s", (_without_quoted_bytes(error),)
        record.exc_info, record.exc_text = None, None
    return True


def _without_quoted_bytes(error: Exception) -> str:
    """aiohttp's message quotes the offending line, which may be an Authorization or Cookie
    header: keep the description and at most the header's name, never its value."""
    message = str(getattr(error, "message", "")).strip()
    # "Got more than 8190 bytes when reading: b'Bearer vrf_…'" quotes on its first line
    reason = re.split(r"(?:bytearray\()?b['\"]", message.split("\n", 1)[0])[0]
    reason = reason.rstrip(": ")[:120]
    quoted = re.search(r"b['\"]([!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}):", message)
    return f"{reason} (in header {quoted.group(1)})" if quoted else reason


def app_registry(app):
    from vrculture.server import appkeys

    return app[appkeys.EXHIBITIONS]
