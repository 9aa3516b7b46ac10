#!/usr/bin/env python3
"""Copy exactly the three.js files the viewer loads into vrculture/vendor/three.

The server answers /vendor/three/ from that folder, and the wheel and sdist carry it as package
data, so an installed vrculture needs no npm. Which files: the import map's `three`, every
`three/addons/...` module that web/ imports, what those import in turn, and the folders the
viewer's code names by URL (the Basis transcoder, JS and WASM). It also writes
vrculture/vendor/basis_worker.js, the transcoder's worker as KTX2Loader builds it
(tools/basis_worker.mjs), for the server to serve from its own URL. Run this after changing the
three version in package.json (`npm install`) or importing another addon;
tests/server/test_vendored_three.py fails until it has been run.

    .venv/bin/python tools/vendor_three.py
"""

from __future__ import annotations

import json
import posixpath
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
NODE_THREE = ROOT / "node_modules" / "three"
VENDORED = ROOT / "vrculture" / "vendor" / "three"
BASIS_WORKER = ROOT / "vrculture" / "vendor" / "basis_worker.js"
TRANSCODER_JS = "examples/jsm/libs/basis/basis_transcoder.js"
URL_PREFIX = "vendor/three/"  # under the server's root; web/ writes it relative to its base
IMPORT_MAP = {"three": f"./{URL_PREFIX}build/three.module.js",
              "three/addons/": f"./{URL_PREFIX}examples/jsm/"}
# Kept beside the code: three's licence and its package.json (the version, checked by a test).
PROVENANCE = ("LICENSE", "package.json")

_IMPORT_MAP_BLOCK = re.compile(r'<script type="importmap">(.*?)</script>', re.S)
# Static imports and re-exports at the start of a line (not the examples in doc comments),
# bare imports, and dynamic import('...').
_SPECIFIER = re.compile(r"""^\s*(?:(?:import|export)\b[^;'"]*?\bfrom\s*|import\s*)"""
                        r"""(['"])([^'"\n]+)\1|\bimport\(\s*(['"])([^'"\n]+)\3""", re.M)
# `vendor/three/…` as a page writes it (relative to its <base>), `../../vendor/three/…` as a
# module does (relative to import.meta.url), or root-relative.
_URL = re.compile(r"(?<![\w.-])(?:/|(?:\.\.?/)+)?" + re.escape(URL_PREFIX) + r"""[^'"`\s)]*""")


def _three_path(url: str) -> str:
    return url[url.index(URL_PREFIX) + len(URL_PREFIX):]


class VendorError(Exception):
    pass


def _specifiers(source: str) -> list[str]:
    return [m.group(2) or m.group(4) for m in _SPECIFIER.finditer(source)]


def _resolve(specifier: str, importer: str | None) -> str | None:
    """A module specifier as a path inside the three package; None for a relative import in
    web/ (the viewer's own modules)."""
    if specifier == "three":
        return "build/three.module.js"
    if specifier.startswith("three/addons/"):
        return "examples/jsm/" + specifier.removeprefix("three/addons/")
    if specifier.startswith(("./", "../")):
        if importer is None:
            return None
        return posixpath.normpath(posixpath.join(posixpath.dirname(importer), specifier))
    raise VendorError(f"{specifier!r} (imported by {importer or 'web/'}): only 'three', "
                      "'three/addons/...' and relative imports can be vendored")


def _viewer_references(web: Path, three: Path) -> set[str]:
    """Paths in the three package that web/ imports or fetches directly."""
    wanted: set[str] = set()
    for page in sorted(web.glob("*.html")):
        text = page.read_text("utf-8")
        for block in _IMPORT_MAP_BLOCK.findall(text):
            imports = json.loads(block)["imports"]
            if {k: v for k, v in imports.items() if k.startswith("three")} != IMPORT_MAP:
                raise VendorError(f"{page.name}: the import map's three entries are not "
                                  f"{IMPORT_MAP}")
        wanted |= {_three_path(url)
                   for url in _URL.findall(_IMPORT_MAP_BLOCK.sub("", text))}
    for module in sorted(web.rglob("*.js")):
        text = module.read_text("utf-8")
        for specifier in _specifiers(text):
            # Only three's: web/ may also hold tooling (a lint config) importing other packages.
            if specifier == "three" or specifier.startswith("three/"):
                wanted.add(_resolve(specifier, None) or "")
        for url in _URL.findall(text):
            path = _three_path(url)
            if path.endswith("/"):  # a folder the code loads from (KTX2Loader's transcoder)
                folder = three / path
                if not folder.is_dir():
                    raise VendorError(f"{module.relative_to(web)}: {url} is not a folder of "
                                      f"three")
                wanted |= {f"{path}{f.name}" for f in folder.iterdir()
                           if f.is_file() and f.suffix in (".js", ".wasm")}
            else:
                wanted.add(path)
    return wanted


def needed_files(web: Path, three: Path) -> set[str]:
    """Every file of the three package (at `three`) the viewer in `web` loads, imports
    followed: paths relative to the package, '/'-separated."""
    needed: set[str] = set()
    pending = sorted(_viewer_references(web, three))
    while pending:
        path = pending.pop()
        if path in needed:
            continue
        if not (three / path).is_file():
            raise VendorError(f"three/{path} is loaded by the viewer but is not in {three}")
        needed.add(path)
        if path.endswith(".js"):
            text = (three / path).read_text("utf-8")
            for specifier in _specifiers(text):
                resolved = _resolve(specifier, path)
                if resolved is not None and resolved not in needed:
                    pending.append(resolved)
    return needed


def vendored_files(folder: Path = VENDORED) -> set[str]:
    """The vendored code (provenance files left out)."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and p.relative_to(folder).as_posix() not in PROVENANCE}


def vendor(source: Path = NODE_THREE, target: Path = VENDORED, web: Path = WEB) -> set[str]:
    if not (source / "package.json").is_file():
        raise VendorError(f"{source}: no three package (run `npm ci`)")
    wanted = needed_files(web, source)
    if target.exists():
        for stale in vendored_files(target) - wanted:
            (target / stale).unlink()
    for path in sorted(wanted | set(PROVENANCE)):
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / path, target / path)
    for folder in sorted((p for p in target.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    return wanted


def basis_worker(three: Path = NODE_THREE) -> bytes:
    """The Basis transcoder's worker script, built by three's own KTX2Loader code in node."""
    try:
        done = subprocess.run(["node", str(ROOT / "tools" / "basis_worker.mjs"),
                               str(three / TRANSCODER_JS)],
                              cwd=ROOT, capture_output=True, check=False, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise VendorError(f"node tools/basis_worker.mjs: {error}") from error
    if done.returncode != 0 or not done.stdout:
        raise VendorError("node tools/basis_worker.mjs failed: "
                          + done.stderr.decode("utf-8", "replace").strip())
    return done.stdout


def main() -> int:
    try:
        files = vendor()
        BASIS_WORKER.write_bytes(basis_worker())
    except VendorError as error:
        print(f"vendor_three: {error}", file=sys.stderr)
        return 1
    version = json.loads((VENDORED / "package.json").read_text("utf-8"))["version"]
    size = sum((VENDORED / f).stat().st_size for f in files)
    print(f"vendor_three: three {version}: {len(files)} files, {size / 2**20:.1f} MB in "
          f"{VENDORED.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
