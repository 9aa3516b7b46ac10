"""Publishing a studio exhibition: build its collection folder with the same builder as
`vrculture build`, install the bundle with the same `publishing.publish` as `vrculture publish`
(validated; visitors switch at the next poll without downtime), and roll back to any version
still kept. The publishing history (and the audit log) say who published or restored each
version and when.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vrculture.exhibition.run import BuildOptions, build
from vrculture.server.publish_history import VERSION
from vrculture.server.publishing import PublishError, publish, rollback, versions
from vrculture.server.studio.exhibitions import TOML_NAME, StudioError, version_of, write_atomic
from vrculture.server.studio.uploads import studio_cache_dir

BUILD_JOBS = 1  # the studio's builds share the machine with visitors
MAX_ISSUES = 50


def builds_dir(data_dir: Path) -> Path:
    """Where studio builds are assembled (with the builder's cache beside each bundle)."""
    return data_dir / "studio" / "builds"


def built_from_path(data_dir: Path, exhibition_id: str) -> Path:
    """Beside the bundle: the version (ETag) of the collection.toml it was built from."""
    return builds_dir(data_dir) / exhibition_id / "built-from"


def build_bundle(collection: Path, exhibition_id: str, data_dir: Path) -> Path:
    """Blocking (runs in a thread): build the collection into the studio's private bundle
    folder (the object editor and the preview read it; publishing installs it). StudioError
    422 with the builder's issues when the collection does not build completely."""
    bundle = builds_dir(data_dir) / exhibition_id / "bundle"
    try:
        source_version = version_of((collection / TOML_NAME).read_bytes())
    except OSError:
        source_version = ""
    try:
        result = build(BuildOptions(collection=collection, bundle=bundle, jobs=BUILD_JOBS,
                                    quiet=True, cache_dir=studio_cache_dir(data_dir)))
    except Exception as error:  # the builder's CollectionError, BundleError, OSError
        raise StudioError(422, "build_failed", f"the collection does not build: {error}"
                          .replace(str(data_dir), "DATA")) from None
    issues = [f"{i['field']}: {i['message']}" if i.get("field") else str(i["message"])
              for i in result.report.get("issues", []) if i.get("severity") == "error"]
    if result.report.get("counts", {}).get("objects") == 0:
        raise StudioError(422, "build_failed", "not built: the exhibition has no objects "
                          "yet; add one first")
    if result.exit_code != 0 or result.manifest is None:
        summary = "; ".join(issues[:MAX_ISSUES]) or "see the build report"
        raise StudioError(422, "build_failed", f"not built: the collection does not build "
                          f"completely ({summary})".replace(str(data_dir), "DATA"))
    if result.manifest.get("id") != exhibition_id:
        raise StudioError(422, "id_mismatch", f"collection.toml's [exhibition] id is "
                          f"{result.manifest.get('id')!r}; in the studio it must be "
                          f"{exhibition_id!r}")
    write_atomic(built_from_path(data_dir, exhibition_id), source_version.encode())
    return bundle


def build_and_publish(collection: Path, exhibition_id: str, data_dir: Path, *, by: str,
                      clock: Callable[[], float] = time.time) -> dict[str, Any]:
    """Blocking (runs in a thread). StudioError 422 with the builder's issues when the
    collection does not build completely: a half-built exhibition is not published."""
    bundle = build_bundle(collection, exhibition_id, data_dir)
    try:
        done = publish(bundle, data_dir, by=by, clock=clock)
    except PublishError as error:
        raise StudioError(422, "invalid_bundle", str(error).replace(str(data_dir), "DATA")
                          ) from None
    return {"exhibition": done.exhibition, "version": done.version, "previous": done.previous}


def roll_back(data_dir: Path, exhibition_id: str, version: str, *, by: str,
              clock: Callable[[], float] = time.time) -> dict[str, Any]:
    if VERSION.fullmatch(version) is None:
        raise StudioError(422, "invalid_field", "version: 16 hex digits, as listed by "
                          "GET …/publications")
    try:
        done = rollback(data_dir, exhibition_id, version, by=by, clock=clock)
    except PublishError as error:
        raise StudioError(404, "unknown_version", str(error).replace(str(data_dir), "DATA")
                          ) from None
    return {"exhibition": done.exhibition, "version": done.version, "previous": done.previous}


def publications(data_dir: Path, exhibition_id: str) -> dict[str, Any]:
    """The version served, and each version still kept with who last published it and when,
    and every time it was made current (publish or roll-back), newest first."""
    try:
        listed = versions(data_dir, exhibition_id)
    except PublishError:
        return {"exhibition": exhibition_id, "current": None, "versions": []}
    current = next((k.version for k in listed if k.current), None)
    out = []
    for kept in listed:
        if not kept.kept:
            continue
        published = [e for e in kept.history if e.action == "publish"]
        last = published[-1] if published else None
        out.append({"version": kept.version, "current": kept.current,
                    **({"by": last.by, "at": last.at} if last else {}),
                    "history": [{"action": e.action, "by": e.by, "at": e.at}
                                for e in reversed(kept.history)]})
    return {"exhibition": exhibition_id, "current": current, "versions": out}
