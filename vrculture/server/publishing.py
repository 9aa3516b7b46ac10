"""Installing bundles into a server's data folder, atomically, with one step of rollback.

    DATA/exhibitions/<id>/versions/<hash>/   a complete copy of one bundle
    DATA/exhibitions/<id>/current  -> versions/<hash>   what the server serves
    DATA/exhibitions/<id>/previous -> versions/<hash>   what a plain --rollback returns to
    DATA/exhibitions/<id>/history.json                 who switched to which version, when

A copy is written under a temporary name and renamed into place when complete; `current` is
switched by renaming a new symlink over it (rename is atomic), so the server, which polls the
link, sees either the old or the new bundle and never a half-copied one.

The last KEEP_VERSIONS versions stay on disk, so a curator can roll back to any of them; a
file a new version shares with the one it replaces is hard-linked, not copied (object files are
named by their content), so keeping versions costs little more than what changed.

Old versions are pruned, but never one that a running server still serves: it sees a new
version only at its next poll, so two publishes inside one poll would otherwise delete what it
is serving. Servers name what they serve in leases (see `leases`).
"""

from __future__ import annotations

import contextlib
import fcntl
import filecmp
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from vrculture.server.leases import versions_in_use
from vrculture.server.publish_history import (
    VERSION,
    HistoryEntry,
    append_history,
    check_by,
    read_history,
)
from vrculture.server.registry import BundleError, load_bundle

KEEP_VERSIONS = 10


class PublishError(Exception):
    pass


@dataclass(frozen=True)
class Published:
    exhibition: str
    version: str
    path: Path
    previous: str | None


def _exhibition_dir(data_dir: Path, exhibition_id: str) -> Path:
    return data_dir / "exhibitions" / exhibition_id


def _link_target(link: Path) -> str | None:
    try:
        return os.readlink(link)
    except OSError:
        return None


def _point(link: Path, target: str) -> None:
    """Make `link` point at `target` in one rename."""
    tmp = link.with_name(f".{link.name}.{secrets.token_hex(4)}.tmp")
    os.symlink(target, tmp)
    try:
        os.replace(tmp, link)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[None]:
    """One switch of the links at a time per exhibition, across processes (the CLI and a
    server's admin API may publish at once): the history must follow the links' order."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".publish.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _link_or_copy(path: Path, target: Path, same_in: Path | None, relative: Path) -> None:
    """Hard-link the file the version being replaced already has byte for byte; else copy."""
    if same_in is not None:
        earlier = same_in / relative
        try:
            if (earlier.is_file() and not earlier.is_symlink()
                    and filecmp.cmp(earlier, path, shallow=False)):
                os.link(earlier, target)
                return
        except OSError:
            pass  # another file system or no hard links here: copy
    shutil.copyfile(path, target)


def _copy_bundle(source: Path, destination: Path, same_in: Path | None = None) -> None:
    """Copy regular files only; anything that is not inside the bundle is refused."""
    root = source.resolve()
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        for name in [*dirs, *files]:
            path = here / name
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                raise PublishError(f"{path}: a symlink pointing outside the bundle")
        for name in files:
            path = here / name
            if name.startswith(".") or not path.resolve().is_file():
                continue
            relative = path.relative_to(root)
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(path.resolve(), target, same_in, relative)


def publish(bundle: Path, data_dir: Path, keep: int = KEEP_VERSIONS, *, by: str | None = None,
            clock: Callable[[], float] = time.time) -> Published:
    """Install `bundle` and make it current; `by` names who published it in the history."""
    try:
        by = check_by(by)
    except ValueError as error:
        raise PublishError(str(error)) from error
    try:
        loaded = load_bundle(bundle)  # the server would refuse it: refuse it here, loudly
    except BundleError as error:
        raise PublishError(str(error)) from error
    version = loaded.version[:16]
    home = _exhibition_dir(data_dir, loaded.id)
    versions = home / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    with _locked(home):
        final = versions / version
        current_link, previous_link = home / "current", home / "previous"
        before = _link_target(current_link)
        if not final.is_dir():
            staging = versions / f".{version}.{secrets.token_hex(4)}.tmp"
            try:
                _copy_bundle(loaded.root, staging, home / before if before else None)
                os.rename(staging, final)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        target = f"versions/{version}"
        if before != target:
            if before is not None:
                _point(previous_link, before)
            _point(current_link, target)
            append_history(home, HistoryEntry(version, "publish", clock(), by))
        _prune(home, keep)
    return Published(loaded.id, version, final, before.split("/")[-1] if before else None)


def rollback(data_dir: Path, exhibition_id: str, to: str | None = None, *,
             by: str | None = None, clock: Callable[[], float] = time.time) -> Published:
    """Make version `to` current again (by default the one before the current one)."""
    try:
        by = check_by(by)
    except ValueError as error:
        raise PublishError(str(error)) from error
    if to is not None and not VERSION.fullmatch(to):
        raise PublishError(f"{to[:40]!r} is not a version (16 hexadecimal digits)")
    home = _exhibition_dir(data_dir, exhibition_id)
    if not home.is_dir():
        raise PublishError(f"{exhibition_id}: no published exhibition of that name")
    with _locked(home):
        current = _link_target(home / "current")
        wanted = _link_target(home / "previous") if to is None else f"versions/{to}"
        if wanted is None or not (home / wanted).is_dir():
            if to is None:
                raise PublishError(f"{exhibition_id}: no previous version to roll back to")
            raise PublishError(f"{exhibition_id}: version {to} is no longer kept")
        if wanted == current:
            raise PublishError(f"{exhibition_id}: version {wanted.split('/')[-1]} is already "
                               "current")
        _point(home / "current", wanted)
        if current is not None:
            _point(home / "previous", current)
        append_history(home, HistoryEntry(wanted.split("/")[-1], "rollback", clock(), by))
    return Published(exhibition_id, wanted.split("/")[-1], home / wanted,
                     current.split("/")[-1] if current else None)


@dataclass(frozen=True)
class KeptVersion:
    version: str
    current: bool
    kept: bool  # still on disk: it can be rolled back to
    history: list[HistoryEntry]  # each time it became current, oldest first


def versions(data_dir: Path, exhibition_id: str) -> list[KeptVersion]:
    """Every version the history or the disk knows, most recently current first."""
    home = _exhibition_dir(data_dir, exhibition_id)
    if not home.is_dir():
        raise PublishError(f"{exhibition_id}: no published exhibition of that name")
    current = (_link_target(home / "current") or "").split("/")[-1]
    on_disk = {p.name for p in (home / "versions").iterdir()
               if p.is_dir() and VERSION.fullmatch(p.name)} if (home / "versions").is_dir() \
        else set()
    by_version: dict[str, list[HistoryEntry]] = {}
    for entry in read_history(home):
        by_version.setdefault(entry.version, []).append(entry)
    # versions published before there was a history still count, newest file first
    untracked = sorted(on_disk - set(by_version),
                       key=lambda v: (home / "versions" / v).stat().st_mtime, reverse=True)
    tracked = sorted(by_version, key=lambda v: by_version[v][-1].at, reverse=True)
    return [KeptVersion(v, v == current, v in on_disk, by_version.get(v, []))
            for v in [*tracked, *untracked]]


def _prune(home: Path, keep: int) -> None:
    """Remove versions that neither link points at, beyond the `keep` newest, except those a
    running server still serves."""
    linked = {_link_target(home / "current"), _link_target(home / "previous")}
    in_use = versions_in_use(home)
    candidates = sorted(
        (p for p in (home / "versions").iterdir()
         if p.is_dir() and not p.name.startswith(".")
         and f"versions/{p.name}" not in linked | in_use),
        key=lambda p: p.stat().st_mtime, reverse=True,
    )
    for old in candidates[max(0, keep - len(linked - {None})):]:
        shutil.rmtree(old, ignore_errors=True)
