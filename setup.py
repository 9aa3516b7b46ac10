"""setuptools hook: the wheel carries the viewer (web/) as vrculture/web.

Everything else is in pyproject.toml. web/ stays at the top of the checkout, where the server
finds it in a checkout or an editable install; building a wheel copies the files the server
serves into the package (vrculture/server/webfiles.py looks there first). three.js is package
data already (vrculture/vendor/three). MANIFEST.in puts web/ into the sdist.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

WEB = Path(__file__).resolve().parent / "web"
SERVED_SUFFIXES = {".html", ".js", ".css", ".json", ".svg", ".png", ".jpg", ".webp", ".ico",
                   ".woff2", ".wasm"}
# Tooling that may sit in web/ but is no part of the viewer a browser loads.
NOT_SERVED = ("*.config.js", "*.config.mjs", "tsconfig*.json", "jsconfig*.json",
              "package*.json", ".*")


def viewer_files(web: Path = WEB) -> list[Path]:
    """web/'s files that the server serves, relative to web/."""
    return sorted(
        path.relative_to(web) for path in web.rglob("*")
        if path.is_file() and path.suffix in SERVED_SUFFIXES
        and not any(fnmatch.fnmatch(part, pattern) for part in path.relative_to(web).parts
                    for pattern in NOT_SERVED))


class BuildPyWithViewer(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # editable: served from the checkout's web/
            return
        if not (WEB / "exhibition.html").is_file():
            raise SystemExit(f"setup.py: {WEB} has no exhibition.html: the wheel would have no "
                             "viewer")
        target = Path(self.build_lib) / "vrculture" / "web"
        for relative in viewer_files():
            self.mkpath(str((target / relative).parent))
            self.copy_file(str(WEB / relative), str(target / relative))


setup(cmdclass={"build_py": BuildPyWithViewer})
