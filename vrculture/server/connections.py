"""Connection limits against slow and greedy clients (slowloris), and quiet logs under attack.

Without them, one client holding ~20,000 half-sent requests reached the open-file limit: normal
requests timed out and asyncio logged a traceback per failed accept (120 MB in 20 s). Now:

- a request's head must arrive within `header_timeout` of the connection opening (or of the
  previous response): aiohttp's keep-alive timer closes a connection that has not delivered a
  complete request head by then (set through the app's handler_args in `app.create_app`);
- each client address may hold at most `max_per_client` connections and the process at most
  `max_total`, below the open-file limit so that files, the database and the listening socket
  always get descriptors. Connections over a limit are answered 503 and closed at once;
- a log line repeated many times is written once per interval with a count (RepeatFilter).

Behind a reverse proxy every connection comes from the proxy's address: raise
`max_connections_per_client` there (the proxy should do its own per-client limiting).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

FD_SHARE_FOR_CONNECTIONS = 0.8  # the rest: bundle files being sent, SQLite, Redis, logs
FD_RESERVE_MIN = 64
REFUSAL = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
           b"Retry-After: 5\r\nConnection: close\r\nContent-Length: 24\r\n\r\n"
           b"too many connections...\n")


@dataclass(frozen=True)
class ConnectionLimits:
    max_total: int
    max_per_client: int


def open_file_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def raise_open_file_limit(cap: int = 1 << 20) -> int:
    """Raise the soft open-file limit to the hard one (what servers usually do); returns the
    soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(cap, hard if hard != resource.RLIM_INFINITY else cap)
    if wanted > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def default_limits(max_total: int | None = None, max_per_client: int | None = None,
                   fd_limit: int | None = None) -> ConnectionLimits:
    """Limits derived from the open-file limit unless given: 80 % of it in total (never closer
    than FD_RESERVE_MIN to it) and 1/16 of that per client address (at least 32: a school
    class behind one NAT address opens a few connections per browser)."""
    fds = open_file_limit() if fd_limit is None else fd_limit
    ceiling = max(1, fds - FD_RESERVE_MIN)
    total = max_total or max(1, min(int(fds * FD_SHARE_FOR_CONNECTIONS), ceiling))
    total = min(total, ceiling)
    per_client = max_per_client or max(32, total // 16)
    return ConnectionLimits(max_total=total, max_per_client=min(per_client, total))


class ConnectionGuard:
    """Counts open connections per client address and in total."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.total = 0
        self.per_client: dict[str, int] = {}
        self.refused = 0
        self._last_warning = float("-inf")

    def admit(self, client: str) -> bool:
        held = self.per_client.get(client, 0)
        if held >= self.limits.max_per_client or self.total >= self.limits.max_total:
            self.refused += 1
            now = time.monotonic()
            if now - self._last_warning >= 10.0:  # one line per 10 s, however many refusals
                self._last_warning = now
                log.warning("refusing connections (%d so far): %s holds %d, %d open in total "
                            "(limits %d per client, %d in total)", self.refused, client, held,
                            self.total, self.limits.max_per_client, self.limits.max_total)
            return False
        self.per_client[client] = held + 1
        self.total += 1
        return True

    def release(self, client: str) -> None:
        held = self.per_client.get(client, 0) - 1
        if held > 0:
            self.per_client[client] = held
        else:
            self.per_client.pop(client, None)
        self.total -= 1


def _client_of(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return "unix" if peer is not None else "unknown"


class _GuardedProtocol(asyncio.Protocol):
    """Admits a connection (then hands everything to aiohttp's protocol) or refuses it."""

    __slots__ = ("_inner", "_guard", "_client")

    def __init__(self, inner: asyncio.Protocol, guard: ConnectionGuard) -> None:
        self._inner = inner
        self._guard = guard
        self._client: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        client = _client_of(transport)
        if not self._guard.admit(client):
            with contextlib.suppress(Exception):
                transport.write(REFUSAL)  # type: ignore[attr-defined]
            transport.close()
            return
        self._client = client
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._client is None:
            return
        self._guard.release(self._client)
        self._client = None
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._client is not None:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._client is not None else None

    def pause_writing(self) -> None:
        if self._client is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._client is not None:
            self._inner.resume_writing()


class _GuardedServer:
    """aiohttp's low-level Server (the protocol factory) with every protocol guarded."""

    def __init__(self, server: web.Server, guard: ConnectionGuard) -> None:
        self._server = server
        self.guard = guard

    def __call__(self) -> asyncio.Protocol:
        return _GuardedProtocol(self._server(), self.guard)

    def __getattr__(self, name: str) -> Any:  # pre_shutdown, shutdown, connections, ...
        return getattr(self._server, name)


class GuardedAppRunner(web.AppRunner):
    """An AppRunner whose sites enforce ConnectionLimits."""

    def __init__(self, app: web.Application, limits: ConnectionLimits, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.guard = ConnectionGuard(limits)

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return _GuardedServer(server, self.guard)  # type: ignore[return-value]


class RepeatFilter(logging.Filter):
    """Lets a log line (by logger and first line of its message) through at most `burst` times
    per `interval` seconds; the next one let through says how many were dropped. Under attack
    the same warning or traceback otherwise repeats thousands of times a second."""

    def __init__(self, interval: float = 10.0, burst: int = 5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval, self.burst, self.clock = interval, burst, clock
        self._seen: dict[tuple[str, str], list[float]] = {}  # key -> [window start, count, dropped]

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            first_line = str(record.getMessage()).split("\n", 1)[0][:160]
        except Exception:  # a record whose arguments do not format: let logging report it
            return True
        key = (record.name, first_line)
        now = self.clock()
        state = self._seen.get(key)
        if state is None or now - state[0] >= self.interval:
            dropped = int(state[2]) if state is not None else 0
            if len(self._seen) > 10_000:  # bounded: forget old keys under a flood of new ones
                self._seen.clear()
            self._seen[key] = [now, 1, 0]
            if dropped:
                record.msg = f"{record.msg} [{dropped} similar lines suppressed]"
            return True
        state[1] += 1
        if state[1] <= self.burst:
            return True
        state[2] += 1
        return False


def install_repeat_filter(interval: float = 10.0, burst: int = 5) -> RepeatFilter:
    """Put one RepeatFilter on every handler of the root logger (where all lines end up)."""
    repeat = RepeatFilter(interval, burst)
    for handler in logging.getLogger().handlers:
        handler.addFilter(repeat)
    return repeat


def run_app(app: web.Application, *, limits: ConnectionLimits, host: str | None = None,
            port: int | None = None,
            sock: socket.socket | list[socket.socket] | None = None,
            ssl_context: Any = None, reuse_port: bool | None = None,
            **runner_kwargs: Any) -> None:
    """`web.run_app` with ConnectionLimits: serve until SIGINT or SIGTERM.

    The signals set an event instead of raising GracefulExit out of the loop (aiohttp's way):
    asyncio.run would then cancel every task at once, and the rooms' WebSocket handlers would
    close with 1000 before the app's shutdown could tell visitors 1001 (going away)."""

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        runner = GuardedAppRunner(app, limits, handle_signals=False, **runner_kwargs)
        await runner.setup()
        try:
            sites: list[web.BaseSite]
            if sock is not None:  # already bound (serve binds before it announces)
                sites = [web.SockSite(runner, s, ssl_context=ssl_context)
                         for s in (sock if isinstance(sock, list) else [sock])]
            else:
                sites = [web.TCPSite(runner, host, port, ssl_context=ssl_context,
                                     reuse_port=reuse_port)]
            for site in sites:
                await site.start()
            await stop.wait()
        finally:
            await runner.cleanup()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
