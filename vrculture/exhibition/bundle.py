"""The bundle folder: assembled beside the old one, then swapped in with one rename.

A build writes everything into `.<name>.building-<pid>` next to BUNDLE_DIR; only when the
manifest is complete does it exchange the two folders (Linux `renameat2(RENAME_EXCHANGE)`,
atomic; elsewhere two renames). Until then the previous bundle is untouched and servable, and
an interrupted build leaves only the temporary folder, which the next build removes.
A rebuild whose result is the bundle already there, file for file, leaves that bundle as it
was: no swap, same mtimes, the previous `built_at`.

The build report goes beside the bundle (`BUNDLE_DIR.build-report.json`), never into it: it
names host paths, and a server publishes every file of a bundle.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import filecmp
import json
import os
import shutil
from pathlib import Path

from vrculture.exhibition.stale import remove_orphans
from vrculture.pipeline.atomic import current_umask, write_atomic

MANIFEST = "exhibition.json"
MARKERS = (MANIFEST, "build-report.json")  # the report: in bundles of earlier builds
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def report_path(bundle: Path) -> Path:
    """BUNDLE_DIR.build-report.json, beside the bundle."""
    bundle = Path(bundle).absolute()
    return bundle.parent / f"{bundle.name}.build-report.json"


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
        self._report: object | None = None

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
        # Cache entries written before writes followed the umask are 0600: published files
        # are readable by whoever may read what this user writes.
        mode = 0o666 & ~current_umask()
        if target.stat().st_mode & 0o777 != mode:
            os.chmod(target, mode)
        return f"{folder}/{name}"

    def write_json(self, name: str, data: object) -> None:
        write_atomic(self.temp / name, _json_bytes(data))

    def write_manifest(self, manifest: dict) -> None:
        """exhibition.json. Unless SOURCE_DATE_EPOCH fixes it, a manifest that differs from
        the bundle's only by `built_at` keeps the previous one: nothing was rebuilt."""
        previous = self.bundle / MANIFEST
        if "SOURCE_DATE_EPOCH" not in os.environ and previous.is_file():
            try:
                text = previous.read_bytes()
                again = {**manifest, "built_at": json.loads(text)["built_at"]}
                if _json_bytes(again) == text:
                    manifest = again
            except (OSError, ValueError, KeyError, TypeError):
                pass  # unreadable or hand-edited: a new built_at
        self.write_json(MANIFEST, manifest)

    def write_report(self, report: object) -> None:
        """Written beside the bundle once it is committed (see report_path)."""
        self._report = report

    def commit(self) -> None:
        """Swap the new bundle in (the old one is removed afterwards), unless it is the old
        one file for file; then write the report."""
        if self.bundle.is_dir() and _same_tree(self.temp, self.bundle):
            shutil.rmtree(self.temp, ignore_errors=True)
        else:
            self._swap()
        if self._report is not None:
            write_atomic(report_path(self.bundle), _json_bytes(self._report))

    def _swap(self) -> None:
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


def _json_bytes(data: object) -> bytes:
    return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def _same_tree(new: Path, old: Path) -> bool:
    """The same files (names, modes, bytes) in both folders."""
    def files(root: Path) -> dict[Path, Path]:
        return {p.relative_to(root): p for p in root.rglob("*")
                if p.is_symlink() or not p.is_dir()}

    ours, theirs = files(new), files(old)
    return ours.keys() == theirs.keys() and all(
        _same_file(ours[name], theirs[name]) for name in ours)


def _same_file(a: Path, b: Path) -> bool:
    if a.is_symlink() or b.is_symlink():
        return False
    if a.stat().st_mode != b.stat().st_mode:
        return False
    return os.path.samefile(a, b) or filecmp.cmp(a, b, shallow=False)


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
