"""vrculture as a package: the sdist built from a copy of the checkout without node_modules, the
wheel built from that sdist, installed into a fresh virtualenv away from the checkout; the demo
built, served and rendered in Chromium from that installation alone.

The virtualenv gets vrculture only from the wheel; its dependencies come from this interpreter's
site-packages through a .pth file (fast, offline), where vrculture is at most an editable
finder that such a path does not activate: the test checks where vrculture was imported from.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import setuptools

import vrculture

from .conftest import ROOT, state, wait_ready

# Top-level entries of the checkout that a package is not built from.
NOT_COPIED = {".git", ".venv", "node_modules", "build", "data", "out", ".pytest_cache",
              ".ruff_cache"}
VENDORED = ROOT / "vrculture" / "vendor" / "three"
DIST_INFO = f"vrculture-{vrculture.__version__}.dist-info"


def _run(command: list[str | Path], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=_clean_env(), **kwargs)
    assert done.returncode == 0, f"{command}: {done.stderr[-3000:]}"
    return done


def _clean_env() -> dict[str, str]:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


def _copy_checkout(target: Path) -> None:
    def ignore(folder: str, names: list[str]) -> list[str]:
        top = Path(folder) == ROOT
        return [n for n in names if (top and n in NOT_COPIED) or n == "__pycache__"
                or n.endswith(".egg-info")]

    shutil.copytree(ROOT, target, ignore=ignore, symlinks=True)


def _backend(hook: str, source: Path, out: Path) -> Path:
    """A PEP 517 hook of the installed setuptools (no download, as `python -m build
    --no-isolation` would call it)."""
    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    assert (major, minor) >= (77, 0), "setuptools >= 77 (the dev extra) builds wheels alone"
    out.mkdir(parents=True, exist_ok=True)
    done = _run([sys.executable, "-c", "import sys, setuptools.build_meta as backend; "
                 f"print(backend.{hook}(sys.argv[1]))", out], cwd=source)
    return out / done.stdout.strip().splitlines()[-1]


def _dependency_dirs() -> list[str]:
    return [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))
            and Path(p).is_dir()]


@dataclass
class Installed:
    env: Path
    wheel: Path
    sdist: Path
    work: Path

    @property
    def vrculture(self) -> Path:
        return self.env / "bin" / "vrculture"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("package")
    source = work / "source"
    _copy_checkout(source)
    sdist = _backend("build_sdist", source, work / "sdists")
    with tarfile.open(sdist) as archive:
        archive.extractall(work / "unpacked", filter="data")
    unpacked = next((work / "unpacked").iterdir())
    wheel = _backend("build_wheel", unpacked, work / "wheels")

    env = work / "env"
    _run([sys.executable, "-m", "venv", "--without-pip", env], cwd=work)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(env), "platbase": str(env)}))
    (purelib / "vrculture_test_dependencies.pth").write_text("\n".join(_dependency_dirs()) + "\n")
    _run([sys.executable, "-m", "pip", "--python", env / "bin" / "python", "install",
          "--no-deps", "--no-index", "--disable-pip-version-check", "--quiet", wheel], cwd=work)
    return Installed(env, wheel, sdist, work)


def test_the_sdist_and_the_wheel_carry_the_viewer_and_three(installed: Installed):
    with tarfile.open(installed.sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    with zipfile.ZipFile(installed.wheel) as archive:
        in_wheel = set(archive.namelist())
    vendored = {p.relative_to(ROOT).as_posix() for p in VENDORED.rglob("*") if p.is_file()}
    pages = {"web/index.html", "web/exhibition.html", "web/embed.html", "web/js/main.js",
             "web/css/viewer.css", "web/vrculture-embed.js",
             "web/studio/sign-in.html", "web/studio/index.html", "web/studio/exhibition.html",
             "web/studio/studio.css", "web/studio/api.js"}
    assert vendored <= in_sdist and pages <= in_sdist
    assert vendored <= in_wheel
    assert {f"vrculture/{page}" for page in pages} <= in_wheel
    assert "vrculture/vendor/LICENSES/Apache-2.0.txt" in in_wheel  # the Basis transcoder's
    assert "vrculture/vendor/basis_worker.js" in in_wheel  # and its worker, served as a file
    # The up-axis estimate's neighbour table, read on every conversion (up_axis.SPHERE_TABLE).
    assert "vrculture/pipeline/transforms/sphere_neighbours.u16" in in_wheel
    assert "web/js/meshopt-worker.js" in in_sdist
    # The project's own licence, as PEP 639 metadata.
    assert "LICENSE" in in_sdist
    assert f"{DIST_INFO}/licenses/LICENSE" in in_wheel
    with zipfile.ZipFile(installed.wheel) as archive:
        metadata = archive.read(f"{DIST_INFO}/METADATA").decode()
    assert "License-Expression: MIT" in metadata.splitlines()
    assert not any("node_modules" in name for name in in_wheel | in_sdist)


def test_the_installed_command_is_the_wheels(installed: Installed):
    version = installed.wheel.name.split("-")[1]
    done = _run([installed.vrculture, "--version"], cwd=installed.work)
    assert done.stdout.strip() == f"vrculture {version}"
    where = _run([installed.env / "bin" / "python", "-c",
                  "import vrculture; print(vrculture.__file__)"], cwd=installed.work)
    assert Path(where.stdout.strip()).is_relative_to(installed.env)


@dataclass
class Served:
    base: str
    manifest: dict


@pytest.fixture(scope="module")
def served(installed: Installed) -> Iterator[Served]:
    bundle = installed.work / "demo"
    _run([installed.vrculture, "build", ROOT / "assets" / "demo", "-o", bundle, "--quiet"],
         cwd=installed.work)
    process = subprocess.Popen(
        [str(installed.vrculture), "serve", str(bundle), "--port", "0",
         "--data", str(installed.work / "data")],
        cwd=installed.work, env=_clean_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = ""
        while "exhibition(s) on" not in line:
            line = process.stderr.readline()
            assert line, f"the installed server exited: {process.stderr.read()}"
        found = re.search(r"on (http://127\.0\.0\.1:\d+)/", line)
        assert found, line
        manifest = json.loads((bundle / "exhibition.json").read_text("utf-8"))
        yield Served(found.group(1), manifest)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def test_the_installed_server_serves_every_viewer_and_three_file(served: Served):
    exhibition = served.manifest["id"]
    assert b"importmap" in _get(f"{served.base}/exhibitions/{exhibition}")
    web = ROOT / "web"
    for path in sorted([*(web / "js").rglob("*.js"), *(web / "studio").glob("*.js")]):
        relative = path.relative_to(ROOT / "web").as_posix()
        assert _get(f"{served.base}/static/{relative}") == path.read_bytes(), relative
    assert b"sign-in.js" in _get(f"{served.base}/studio/sign-in")  # the studio's own page
    for path in sorted(p for p in (VENDORED / "build").parent.rglob("*") if p.is_file()):
        relative = path.relative_to(VENDORED).as_posix()
        if relative.startswith(("build/", "examples/jsm/")):
            assert _get(f"{served.base}/vendor/three/{relative}") == path.read_bytes(), relative
    with pytest.raises(urllib.error.HTTPError) as missing:  # three outside the vendored subset
        _get(f"{served.base}/vendor/three/examples/jsm/controls/TrackballControls.js")
    assert missing.value.code == 404


def test_the_installed_demo_renders_in_chromium(served: Served, new_page):
    failed: list[str] = []
    page = new_page()
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    page.goto(f"{served.base}/exhibitions/{served.manifest['id']}?room=0")
    wait_ready(page)
    assert state(page, "viewerState.errors") == []
    assert state(page, "viewerState.levelFailures") == []
    assert page.errors == []
    assert failed == []
