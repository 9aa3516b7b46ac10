"""A private PostgreSQL cluster for the tests and tools/bench_ingest.py: Debian's binaries
(`tools/bootstrap --postgresql` installs them), `initdb` into a fresh temporary folder, the
server on a free port of 127.0.0.1 with its unix socket in that folder, password
authentication over TCP (the DSN carries a password, as a city's would).

PostgreSQL refuses to run as root. When the tests run as root, the cluster's processes run as
the `postgres` user that Debian's package creates (else `nobody`): subprocess's `user`/`group`
switch before exec, and the folder is created in the system's temp dir (pytest's own tmp is
root-only) and handed to that user. Nothing else of the machine changes.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

MISSING = "needs Debian's postgresql (tools/bootstrap --postgresql installs it)"
USER = "vrculture"


def find_bindir() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name)
                   if Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _service_account() -> pwd.struct_passwd | None:
    """Whom to run the cluster as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists")


class PostgresCluster:
    """initdb + postgres; `dsn(database)` for clients; restartable (same folder and port)."""

    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        self.bindir = bindir
        self.durable = durable  # fsync on: for the benchmark; the tests' cluster is throwaway
        self.account = _service_account()
        self.folder = Path(tempfile.mkdtemp(prefix="vrculture-pg-"))
        self.data = self.folder / "data"
        self.socket_dir = self.folder / "socket"
        self.port = free_port()
        self.password = secrets.token_urlsafe(18)
        self.process: subprocess.Popen[bytes] | None = None
        self.log = self.folder / "postgres.log"

    def _as_owner(self) -> dict[str, Any]:
        if self.account is None:
            return {}
        return {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}

    def _run(self, *args: str) -> None:
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       **self._as_owner())

    def init(self) -> None:
        self.socket_dir.mkdir()
        password_file = self.folder / "password"
        password_file.write_text(self.password)
        if self.account is not None:
            for path in (self.folder, self.socket_dir, password_file):
                os.chown(path, self.account.pw_uid, self.account.pw_gid)
        self.folder.chmod(0o700)
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", USER,
                  f"--pwfile={password_file}", "--auth-local=trust",
                  "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
        password_file.unlink()

    def start(self) -> None:
        settings = ["-c", "listen_addresses=127.0.0.1", "-c", f"port={self.port}",
                    "-c", f"unix_socket_directories={self.socket_dir}",
                    "-c", "max_connections=100"]
        if not self.durable:
            settings += ["-c", "fsync=off", "-c", "full_page_writes=off"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(self.bindir / "postgres"), "-D", str(self.data), *settings],
                stdout=log, stderr=subprocess.STDOUT, **self._as_owner())
        self.wait_ready()

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Polls pg_isready until the server accepts connections."""
        deadline = time.monotonic() + timeout
        while True:
            ready = subprocess.run(
                [str(self.bindir / "pg_isready"), "-q", "-h", str(self.socket_dir),
                 "-p", str(self.port), "-U", USER, "-d", "postgres"], check=False)
            if ready.returncode == 0:
                return
            assert self.process is not None
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("postgres did not start:\n" + self.log.read_text()[-2000:])
            time.sleep(0.05)  # polling a state (pg_isready), not waiting a guessed time

    def stop(self) -> None:
        """A fast shutdown (SIGINT): open sessions are ended, as on a server restart."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(2)
            self.process.wait(timeout=60)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def psql(self, sql: str, database: str = "postgres") -> None:
        subprocess.run([str(self.bindir / "psql"), "-q", "-v", "ON_ERROR_STOP=1",
                        "-h", str(self.socket_dir), "-p", str(self.port), "-U", USER,
                        "-d", database, "-c", sql],
                       check=True, stdout=subprocess.DEVNULL, env={**os.environ, "PGTZ": "UTC"})

    def create_database(self) -> str:
        name = "vrculture_" + secrets.token_hex(6)
        self.psql(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def dsn(self, database: str) -> str:
        return f"postgresql://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
