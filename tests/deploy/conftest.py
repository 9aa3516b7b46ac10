"""One deployment for the tests of this folder, as the recipe in deploy/ builds it: a data
folder with the unit's mode, a bundle published into it with the unit's umask by `vrculture
publish`, vrculture started with the unit's ExecStart arguments, and nginx (workers as www-data
when run as root) serving the shipped site on a free port in front of it."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from e2e.bundle_factory import EXHIBITION_ID, make_bundle
from fixed_clock import RunningClock

from . import nginx_recipe as recipe

# Files a bundle may carry besides GLBs, with the type nginx must give them.
EXTRA_FILES = {
    "extras/decoder.0123456789ab.wasm": b"\x00asm\x01\x00\x00\x00",
    "extras/poster.0123456789ab.webp": b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    "extras/texture.0123456789ab.ktx2": b"\xabKTX 20\xbb\r\n\x1a\n" + bytes(64),
}


@dataclass
class Deployment:
    work: Path
    data_dir: Path
    source: Path  # the bundle as built (before publishing)
    nginx: subprocess.Popen
    vrculture: subprocess.Popen
    nginx_port: int
    vrculture_port: int
    vrculture_log: Path
    path: str = ""  # where nginx maps vrculture: "" (the whole host) or recipe.SUBPATH
    # vrculture's clock (tests/serve_at.py's): the fixed instant, running since the start
    clock: RunningClock = field(default_factory=RunningClock)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.nginx_port}"

    @property
    def base(self) -> str:
        return self.origin + self.path

    def url(self, path: str) -> str:
        return self.base + path

    @property
    def published(self) -> Path:
        return self.data_dir / "exhibitions" / EXHIBITION_ID / "current"

    @property
    def access_log(self) -> Path:
        return self.work / "nginx" / "access.log"

    def upstream_of(self, request_uri: str) -> str:
        """Whom nginx's access log says it passed this request to ("-": nobody, nginx
        answered it from disk itself)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # nginx logs a request once it is finished
            for line in self.access_log.read_text().splitlines():
                if line.startswith(request_uri + " "):
                    return line.rsplit("upstream=", 1)[1]
            time.sleep(0.05)
        raise AssertionError(f"{request_uri} not in nginx's access log")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="package")
def deployment() -> Iterator[Deployment]:
    yield from _deploy(recipe.SITE, "")


@pytest.fixture(scope="package")
def subpath_deployment() -> Iterator[Deployment]:
    """vrculture under /vr/ of the museum's site (deploy/nginx/vrculture-subpath.conf), started
    with --public-url http://127.0.0.1:PORT/vr."""
    yield from _deploy(recipe.SUBPATH_SITE, recipe.SUBPATH)


def _deploy(site: Path, prefix: str) -> Iterator[Deployment]:
    if recipe.nginx_binary() is None:
        pytest.skip("needs Debian's nginx (tools/bootstrap --nginx installs it)")
    # Not pytest's tmp_path: its folders are private to this user, and nginx's workers (another
    # user) must reach the data folder the way they reach /var/lib/vrculture.
    work = Path(tempfile.mkdtemp(prefix="vrculture-deploy-"))
    work.chmod(0o755)
    data_dir = work / "data"
    data_dir.mkdir()
    data_dir.chmod(recipe.unit_data_mode())  # what systemd's StateDirectoryMode makes
    processes: list[subprocess.Popen] = []
    try:
        source = work / "bundle" / EXHIBITION_ID
        make_bundle(source)
        for name, data in EXTRA_FILES.items():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes(data)
        for path in source.rglob("*"):  # as `vrculture build` writes them (temp file + rename)
            if path.is_file():
                path.chmod(0o600)
        recipe.publish(source, data_dir)

        vrculture_port, nginx_port = recipe.free_port(), recipe.free_port()
        vrculture_log = work / "vrculture.log"
        public_url = f"http://127.0.0.1:{nginx_port}{prefix}" if prefix else None
        with vrculture_log.open("wb") as log:
            vrculture = subprocess.Popen(recipe.serve_command(data_dir, vrculture_port,
                                                              public_url),
                                         cwd=recipe.ROOT, stdout=log, stderr=log)
        processes.append(vrculture)
        recipe.wait_for(f"http://127.0.0.1:{vrculture_port}/healthz", vrculture)
        nginx = recipe.start_nginx(work / "nginx", port=nginx_port, data_dir=data_dir,
                                   upstream=f"127.0.0.1:{vrculture_port}", site_file=site)
        processes.append(nginx)
        yield Deployment(work, data_dir, source, nginx, vrculture, nginx_port, vrculture_port,
                         vrculture_log, prefix)
    finally:
        for process in reversed(processes):
            _stop(process)
        shutil.rmtree(work, ignore_errors=True)


def manifest_of(bundle: Path) -> dict:
    return json.loads((bundle / "exhibition.json").read_text(encoding="utf-8"))
