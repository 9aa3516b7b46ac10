"""Installing bundles into a server's data folder, atomically, with one step of rollback.

    DATA/exhibitions/<id>/versions/<hash>/   a complete copy of one bundle
    DATA/exhibitions/<id>/current  -> versions/<hash>   what the server serves
    DATA/exhibitions/<id>/previous -> versions/<hash>   what --rollback returns to

A copy is written under a temporary name and renamed into place when complete; `current` is
switched by renaming a new symlink over it (rename is atomic), so the server, which polls the
link, sees either the old or the new bundle and never a half-copied one.

Old versions are pruned, but never one that a running server still serves: it sees a new
version only at its next poll, so two publishes inside one poll would otherwise delete what it
is serving. Servers name what they serve in leases (see `leases`).
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from vrculture.server.leases import versions_in_use
from vrculture.server.registry import BundleError, load_bundle


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


def _copy_bundle(source: Path, destination: Path) -> None:
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
            target = destination / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path.resolve(), target)


def publish(bundle: Path, data_dir: Path, keep: int = 2) -> Published:
    try:
        loaded = load_bundle(bundle)  # the server would refuse it: refuse it here, loudly
    except BundleError as error:
        raise PublishError(str(error)) from error
    version = loaded.version[:16]
    home = _exhibition_dir(data_dir, loaded.id)
    versions = home / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    final = versions / version
    if not final.is_dir():
        staging = versions / f".{version}.{secrets.token_hex(4)}.tmp"
        try:
            _copy_bundle(loaded.root, staging)
            os.rename(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    current_link, previous_link = home / "current", home / "previous"
    before = _link_target(current_link)
    target = f"versions/{version}"
    if before != target:
        if before is not None:
            _point(previous_link, before)
        _point(current_link, target)
    _prune(home, keep)
    return Published(loaded.id, version, final, before.split("/")[-1] if before else None)


def rollback(data_dir: Path, exhibition_id: str) -> Published:
    home = _exhibition_dir(data_dir, exhibition_id)
    current, previous = _link_target(home / "current"), _link_target(home / "previous")
    if previous is None or not (home / previous).is_dir():
        raise PublishError(f"{exhibition_id}: no previous version to roll back to")
    _point(home / "current", previous)
    if current is not None:
        _point(home / "previous", current)
    return Published(exhibition_id, previous.split("/")[-1], home / previous,
                     current.split("/")[-1] if current else None)


def restore(data_dir: Path, exhibition_id: str, version: str) -> Published:
    """Serve an earlier version that is still kept (`versions/<version>`): the studio's roll
    back to any version, not only the previous one. The version served until now becomes
    `previous`."""
    home = _exhibition_dir(data_dir, exhibition_id)
    target = f"versions/{version}"
    if "/" in version or version.startswith(".") or not (home / target).is_dir():
        raise PublishError(f"{exhibition_id}: version {version!r} is not kept any more")
    current = _link_target(home / "current")
    if current != target:
        _point(home / "current", target)
        if current is not None:
            _point(home / "previous", current)
    return Published(exhibition_id, version, home / target,
                     current.split("/")[-1] if current else None)


def kept_versions(data_dir: Path, exhibition_id: str) -> tuple[str | None, list[str]]:
    """(the version served, every version kept) of a published exhibition."""
    home = _exhibition_dir(data_dir, exhibition_id)
    current = _link_target(home / "current")
    versions = home / "versions"
    kept = sorted(p.name for p in versions.iterdir()
                  if p.is_dir() and not p.name.startswith(".")) if versions.is_dir() else []
    return (current.split("/")[-1] if current else None), kept


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
