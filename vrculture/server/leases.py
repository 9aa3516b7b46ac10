"""Which published versions running servers serve, so that publishing never deletes one.

A server notices a new version only at its next poll of the data folder; until then it serves
the old one. Two publishes inside that window used to prune the version still being served, and
every file of the exhibition answered 404 until the poll. Each server process now writes a lease
per exhibition folder naming the versions it serves or is about to load:

    DATA/exhibitions/<id>/serving/<host>.<pid>.<token>   JSON list of "versions/<hash>"

and `publishing` keeps every version named by a live lease. A lease of a process that is gone
(same host, pid not running) is removed by the next publish; a lease from another host sharing
the data folder is trusted until it has not been renewed for LEASE_TTL_SECONDS.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import time
from pathlib import Path

LEASE_FOLDER = "serving"
LEASE_TTL_SECONDS = 24 * 3600  # a lease from another host not renewed for this long is stale
LEASE_RENEW_SECONDS = 3600  # how often a server rewrites its leases (well inside the TTL)
MAX_LEASE_BYTES = 64 * 1024


def _host() -> str:
    return socket.gethostname().replace(".", "_").replace("/", "_") or "host"


class Leases:
    """The leases of one registry (one server process): one file per exhibition folder."""

    def __init__(self) -> None:
        self._name = f"{_host()}.{os.getpid()}.{secrets.token_hex(4)}"
        self._held: dict[Path, tuple[frozenset[str], float]] = {}  # home -> (versions, written)

    def hold(self, home: Path, versions: set[str], now: float | None = None) -> None:
        """Declare that this process serves (or is about to load) `versions` of `home`."""
        now = time.time() if now is None else now
        wanted = frozenset(v for v in versions if v)
        held = self._held.get(home)
        if held is not None and held[0] == wanted and now - held[1] < LEASE_RENEW_SECONDS:
            return
        path = home / LEASE_FOLDER / self._name
        if not wanted:
            path.unlink(missing_ok=True)
            self._held.pop(home, None)
            return
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_name(f".{self._name}.tmp")
        tmp.write_text(json.dumps(sorted(wanted)), encoding="utf-8")
        os.replace(tmp, path)  # atomic: a publisher reads the old or the new list, never half
        self._held[home] = (wanted, now)

    def release_all(self) -> None:
        for home in list(self._held):
            with contextlib.suppress(OSError):
                (home / LEASE_FOLDER / self._name).unlink(missing_ok=True)
        self._held.clear()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def versions_in_use(home: Path, now: float | None = None) -> set[str]:
    """Every version ("versions/<hash>") that a live server's lease names; removes leases of
    processes on this host that are gone."""
    now = time.time() if now is None else now
    folder = home / LEASE_FOLDER
    in_use: set[str] = set()
    try:
        entries = list(folder.iterdir())
    except OSError:
        return in_use
    host = _host()
    for entry in entries:
        if entry.name.startswith("."):
            continue
        lease_host, _, rest = entry.name.partition(".")
        pid_text = rest.partition(".")[0]
        try:
            if lease_host == host and pid_text.isdigit() and not _alive(int(pid_text)):
                entry.unlink(missing_ok=True)
                continue
            stat = entry.stat()
            if lease_host != host and now - stat.st_mtime > LEASE_TTL_SECONDS:
                continue
            if stat.st_size > MAX_LEASE_BYTES:
                continue
            names = json.loads(entry.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(names, list):
            in_use.update(n for n in names if isinstance(n, str))
    return in_use
