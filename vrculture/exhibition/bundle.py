"""The bundle folder: assembled beside the old one, then swapped in with one rename.

A build writes everything into `.<name>.building-<pid>` next to BUNDLE_DIR; only when the
manifest is complete does it exchange the two folders (Linux `renameat2(RENAME_EXCHANGE)`,
atomic; elsewhere two renames). Until then the previous bundle is untouched and servable, and
an interrupted build leaves only the temporary folder, which the next build removes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import os
import shutil
from pathlib import Path

from vrculture.exhibition.stale import remove_orphans
from vrculture.pipeline.atomic import write_atomic

MARKERS = ("exhibition.json", "build-report.json")
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class BundleError(Exception):
    """BUNDLE_DIR cannot be used (for example: it is an unrelated folder)."""


def check_target(bundle: Path, collection: Path) -> None:
    bundle, collection = bundle.resolve(), collection.resolve()
    if bundle == collection or collection in bundle.parents or bundle in collection.parents:
        raise BundleError(f"{bundle}: the bundle folder must be outside the collection folder "
                          "and must not contain it")
    if bundle.exists():
        if not bundle.is_dir():
            raise BundleError(f"{bundle}: exists and is not a folder")
        if any(bundle.iterdir()) and not any((bundle / m).is_file() for m in MARKERS):
            raise BundleError(f"{bundle}: exists, is not empty and is not an exhibition bundle "
                              "(no exhibition.json); refusing to replace it")


class BundleWriter:
    def __init__(self, bundle: Path) -> None:
        self.bundle = bundle.resolve()
        self.bundle.parent.mkdir(parents=True, exist_ok=True)
        self._remove_stale()
        self.temp = self.bundle.parent / f".{self.bundle.name}.building-{os.getpid()}"
        if self.temp.exists():
            shutil.rmtree(self.temp)
        self.temp.mkdir()

    def _remove_stale(self) -> None:
        """Folders left by builds that were killed (their process is gone)."""
        for pattern in (f".{self.bundle.name}.building-*", f".{self.bundle.name}.old-*"):
            remove_orphans(self.bundle.parent.glob(pattern), "-")

    def place(self, cached: Path, folder: str, name: str) -> str:
        """Hard-link (or copy) a cache file into the new bundle; returns its bundle url."""
        target = self.temp / folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            try:
                os.link(cached, target)
            except OSError:
                shutil.copyfile(cached, target)
        return f"{folder}/{name}"

    def write_json(self, name: str, data: object) -> None:
        text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
        write_atomic(self.temp / name, text.encode("utf-8"))

    def commit(self) -> None:
        """Swap the new bundle in; the old one is removed afterwards."""
        _fsync_dir(self.temp)
        if self.bundle.exists():
            if _exchange(self.temp, self.bundle):
                shutil.rmtree(self.temp, ignore_errors=True)
                return
            old = self.bundle.parent / f".{self.bundle.name}.old-{os.getpid()}"
            os.rename(self.bundle, old)
            os.rename(self.temp, self.bundle)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(self.temp, self.bundle)
        _fsync_dir(self.bundle.parent)

    def abort(self) -> None:
        shutil.rmtree(self.temp, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux >= 3.15 with glibc >= 2.28); False when unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    if ctypes.get_errno() in (errno.ENOSYS, errno.EINVAL, errno.EXDEV, errno.ENOTSUP):
        return False
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(b))
