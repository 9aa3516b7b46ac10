"""Running the shipped deployment (deploy/nginx/vrculture.conf, deploy/systemd/vrculture.service)
on this machine: the site file with its SET values substituted (port, data folder, upstream)
inside a minimal nginx main configuration whose pid, logs and temp files live in a work folder,
and `vrculture serve` started with the unit's own ExecStart arguments.

Used by the tests in this folder and by tools/bench_assets.py (`--recipe`).
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "vrculture.conf"
# The same under a path of the museum's own site (/vr/, prefix stripped by nginx).
SUBPATH_SITE = ROOT / "deploy" / "nginx" / "vrculture-subpath.conf"
SUBPATH = "/vr"
UNIT = ROOT / "deploy" / "systemd" / "vrculture.service"
NGINX_USER = "www-data"  # Debian's nginx runs its workers as this user

# What the shipped files say, replaced by what a test run uses. Each must be found: a site file
# that drifted from these would otherwise be tested with its production values.
SITE_PORT_LINES = ("    listen 80;  # SET\n", "    listen [::]:80;  # SET\n")
SITE_DATA = "/var/lib/vrculture/exhibitions/"
SITE_UPSTREAM = "server 127.0.0.1:8080;"
UNIT_DATA = "/var/lib/vrculture"
UNIT_BINARY = "/opt/vrculture/bin/vrculture"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                     else None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _replace_once(text: str, old: str, new: str, what: str) -> str:
    if old not in text:
        raise AssertionError(f"{what}: {old.strip()!r} not found; update tests/deploy")
    return text.replace(old, new)


def render_site(port: int, data_dir: Path, upstream: str, site: Path = SITE) -> str:
    """The shipped site with this run's port, data folder and upstream."""
    text = site.read_text(encoding="utf-8")
    text = _replace_once(text, SITE_PORT_LINES[0], f"    listen 127.0.0.1:{port};\n", "listen")
    text = _replace_once(text, SITE_PORT_LINES[1], "", "listen [::]")
    text = _replace_once(text, SITE_DATA, str(data_dir / "exhibitions") + "/", "root")
    return _replace_once(text, SITE_UPSTREAM, f"server {upstream};", "upstream")


def main_conf(work: Path, site: Path, *, workers: int | str = 1, user: str | None = None,
              access_log: bool = True) -> str:
    """An nginx.conf like Debian's (mime types, sendfile, gzip) that includes the site, with
    every path nginx writes inside `work`. `$upstream_addr` in the access log tells whether a
    request was passed to vrculture ("-": answered by nginx alone)."""
    log = (f"log_format vrculture_test '$request_uri $status upstream=$upstream_addr';\n"
           f"    access_log {work}/access.log vrculture_test;" if access_log
           else "access_log off;")
    return f"""
{f"user {user};" if user else ""}
worker_processes {workers};
pid {work}/nginx.pid;
error_log {work}/error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    gzip on;
    {log}
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    include {site};
}}
"""


def worker_user() -> str | None:
    """The `user` line: as root, nginx's workers run as NGINX_USER (not the publisher);
    otherwise nginx cannot switch users and the workers run as whoever starts it."""
    if os.geteuid() != 0:
        return None
    pwd.getpwnam(NGINX_USER)  # KeyError: no such user on this machine
    return NGINX_USER


def wait_for(url: str, process: subprocess.Popen, *, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def start_nginx(work: Path, *, port: int, data_dir: Path, upstream: str, workers: int | str = 1,
                access_log: bool = True, prefix: list[str] | None = None,
                site_file: Path = SITE) -> subprocess.Popen:
    """nginx with the rendered site, in the foreground (the caller stops it)."""
    nginx = nginx_binary()
    if nginx is None:
        raise FileNotFoundError("nginx is not installed (tools/bootstrap --nginx)")
    work.mkdir(parents=True, exist_ok=True)
    site = work / "vrculture-site.conf"
    site.write_text(render_site(port, data_dir, upstream, site_file), encoding="utf-8")
    conf = work / "nginx.conf"
    conf.write_text(main_conf(work, site, workers=workers, user=worker_user(),
                              access_log=access_log), encoding="utf-8")
    checked = subprocess.run([nginx, "-t", "-q", "-c", str(conf)], capture_output=True,
                             text=True, check=False)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx -t: {checked.stderr}")
    process = subprocess.Popen([*(prefix or []), nginx, "-c", str(conf)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for(f"http://127.0.0.1:{port}/bundles/", process)
    return process


def unit_values(key: str) -> list[str]:
    """Every value of `key=` in the shipped unit's [Service] section."""
    values, section = [], None
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif section == "Service" and line.startswith(f"{key}="):
            values.append(line.split("=", 1)[1])
    return values


def unit_umask() -> int:
    [umask] = unit_values("UMask")
    return int(umask, 8)


def unit_data_mode() -> int:
    [mode] = unit_values("StateDirectoryMode")
    return int(mode, 8)


def serve_command(data_dir: Path, port: int, public_url: str | None = None) -> list[str]:
    """The unit's ExecStart with this run's data folder and port (and public URL, if given),
    run by this checkout's Python through tests/serve_at.py: the same `serve` with the same
    arguments, its clock starting at the tests' fixed instant."""
    [exec_start] = unit_values("ExecStart")
    argv = shlex.split(exec_start)
    if argv[0] != UNIT_BINARY or argv[1] != "serve":
        raise AssertionError(f"ExecStart: expected {UNIT_BINARY} serve ..., got {exec_start}")
    args = argv[2:]
    replaced = [("--data", str(data_dir)), ("--port", str(port))]
    if public_url is not None:
        replaced.append(("--public-url", public_url))
    for flag, value in replaced:
        if flag not in args:
            raise AssertionError(f"ExecStart has no {flag}")
        args[args.index(flag) + 1] = value
    return [sys.executable, str(ROOT / "tests" / "serve_at.py"), *args]


def publish(bundle: Path, data_dir: Path) -> str:
    """`vrculture publish` as the service's user would run it: with the unit's umask."""
    done = subprocess.run([sys.executable, "-m", "vrculture", "publish", str(bundle), "--data",
                           str(data_dir)], cwd=ROOT, capture_output=True, text=True,
                          umask=unit_umask(), timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"vrculture publish: {done.stderr}")
    return done.stdout
