"""`vrculture serve BUNDLE_DIR [BUNDLE_DIR ...] [--data DIR]`: the museum's server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
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
    parser.add_argument("--trusted-proxy", dest="trusted_proxies", action="append",
                        metavar="ADDRESS", help="a reverse proxy (address or network) whose "
                        "X-Forwarded-For/-Proto give the client's address (repeatable)")
    parser.add_argument("--tls-cert", type=Path, help="certificate chain (PEM)")
    parser.add_argument("--tls-key", type=Path, help="private key (PEM)")
    parser.add_argument("--self-signed", action="store_true", default=None,
                        help="HTTPS with a certificate made for this machine's LAN addresses")
    parser.add_argument("--redis-url", help="share rooms and feeds between processes via Redis")
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes sharing the port (needs --redis-url so that "
                        "rooms and live readings span them; default 1)")
    parser.add_argument("--log-level", default="info",
                        choices=["debug", "info", "warning", "error"])


def run(args: argparse.Namespace) -> int:
    from vrculture.server.app import create_app
    from vrculture.server.settings import ConfigError, load_config
    from vrculture.server.tls import TLSError, context_from_files, self_signed

    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Request lines carry no secrets (tokens travel in headers), but keep them quiet by default.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.server").addFilter(_client_errors_in_one_line)
    try:
        config = load_config(args.config, overrides={
            "bundles": [str(b) for b in args.bundles] or None,
            "host": args.host, "port": args.port, "data_dir": args.data_dir,
            "public_url": args.public_url, "allowed_origins": args.allowed_origins,
            "tls_cert": args.tls_cert, "tls_key": args.tls_key,
            "self_signed": args.self_signed, "redis_url": args.redis_url,
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

    try:
        app = create_app(config)
    except Exception as error:  # e.g. an unreadable data folder: a message, not a traceback
        print(f"vrculture serve: cannot start: {error}", file=sys.stderr)
        return EXIT_FAILED
    registry = app_registry(app)
    for problem in registry.errors.values():
        print(f"vrculture serve: not serving {problem}", file=sys.stderr)
    if config.bundles and not registry.all():
        return EXIT_FAILED
    scheme = "https" if ssl_context else "http"
    shown = config.public_url or f"{scheme}://{config.host}:{config.port}"
    print(f"vrculture serve: {len(registry.all())} exhibition(s) on {shown}/"
          + (f" ({args.workers} processes)" if args.workers > 1 else ""), file=sys.stderr)
    if args.workers > 1:
        del app  # each worker builds its own after the fork
        return _run_workers(config, ssl_context, args.workers)
    return _serve(app, config, ssl_context, reuse_port=False)


def _serve(app, config, ssl_context, *, reuse_port: bool) -> int:
    from aiohttp import web

    # The plain asyncio loop on purpose: its loop.sendfile uses the kernel's sendfile; uvloop
    # has none and aiohttp would copy every file through Python.
    asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())
    try:
        web.run_app(app, host=config.host, port=config.port, ssl_context=ssl_context,
                    print=None, access_log=None, handle_signals=True,
                    reuse_port=reuse_port or None)
    except OSError as error:
        print(f"vrculture serve: cannot listen on {config.host}:{config.port}: "
              f"{error.strerror}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _run_workers(config, ssl_context, workers: int) -> int:
    """Fork `workers` processes that each bind the port with SO_REUSEPORT (the kernel spreads
    connections over them) and supervise them: a signal is passed on; if one dies, all stop,
    so that the service manager restarts a whole, consistent server."""
    from vrculture.server.app import create_app

    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # the worker: its own app, loop, database connection, Redis connection
            code = EXIT_FAILED
            try:
                code = _serve(create_app(config), config, ssl_context, reuse_port=True)
            finally:
                os._exit(code)
        children.append(pid)

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
        record.msg, record.args = "malformed request refused: %s", (error.message.strip()[:200],)
        record.exc_info, record.exc_text = None, None
    return True


def app_registry(app):
    from vrculture.server import appkeys

    return app[appkeys.EXHIBITIONS]
