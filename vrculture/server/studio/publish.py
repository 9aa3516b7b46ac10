"""Publishing a studio exhibition: build its collection folder with the same builder as
`vrculture build`, install the bundle with the same `publishing.publish` as `vrculture publish`
(validated; visitors switch at the next poll without downtime), and roll back to any version
still kept. The audit log says who published or restored each version and when.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from vrculture.exhibition.run import BuildOptions, build
from vrculture.server.publishing import PublishError, kept_versions, publish, restore
from vrculture.server.studio.exhibitions import StudioError

KEEP_VERSIONS = 10  # what a curator can roll back to (an admin upload keeps fewer)
BUILD_JOBS = 1  # the studio's builds share the machine with visitors
VERSION = re.compile(r"[0-9a-f]{16}")
MAX_ISSUES = 50


def builds_dir(data_dir: Path) -> Path:
    """Where studio builds are assembled (with the builder's cache beside each bundle)."""
    return data_dir / "studio" / "builds"


def build_and_publish(collection: Path, exhibition_id: str, data_dir: Path) -> dict[str, Any]:
    """Blocking (runs in a thread). StudioError 422 with the builder's issues when the
    collection does not build completely: a half-built exhibition is not published."""
    bundle = builds_dir(data_dir) / exhibition_id / "bundle"
    try:
        result = build(BuildOptions(collection=collection, bundle=bundle, jobs=BUILD_JOBS,
                                    quiet=True))
    except Exception as error:  # the builder's CollectionError, BundleError, OSError
        raise StudioError(422, "build_failed", f"the collection does not build: {error}"
                          .replace(str(data_dir), "DATA")) from None
    issues = [f"{i['field']}: {i['message']}" if i.get("field") else str(i["message"])
              for i in result.report.get("issues", []) if i.get("severity") == "error"]
    if result.report.get("counts", {}).get("objects") == 0:
        raise StudioError(422, "build_failed", "not published: the exhibition has no objects "
                          "yet; add one first")
    if result.exit_code != 0 or result.manifest is None:
        summary = "; ".join(issues[:MAX_ISSUES]) or "see the build report"
        raise StudioError(422, "build_failed", f"not published: the collection does not build "
                          f"completely ({summary})".replace(str(data_dir), "DATA"))
    if result.manifest.get("id") != exhibition_id:
        raise StudioError(422, "id_mismatch", f"collection.toml's [exhibition] id is "
                          f"{result.manifest.get('id')!r}; in the studio it must be "
                          f"{exhibition_id!r}")
    try:
        done = publish(bundle, data_dir, keep=KEEP_VERSIONS)
    except PublishError as error:
        raise StudioError(422, "invalid_bundle", str(error).replace(str(data_dir), "DATA")
                          ) from None
    return {"exhibition": done.exhibition, "version": done.version, "previous": done.previous}


def roll_back(data_dir: Path, exhibition_id: str, version: str) -> dict[str, Any]:
    if VERSION.fullmatch(version) is None:
        raise StudioError(422, "invalid_field", "version: 16 hex digits, as listed by "
                          "GET …/publications")
    try:
        done = restore(data_dir, exhibition_id, version)
    except PublishError as error:
        raise StudioError(404, "unknown_version", str(error)) from None
    return {"exhibition": done.exhibition, "version": done.version, "previous": done.previous}


def publications(data_dir: Path, exhibition_id: str, history: list[dict[str, Any]]
                 ) -> dict[str, Any]:
    """The version served, and each version kept with who published it and when (newest
    first), from the audit log's publish entries."""
    current, kept = kept_versions(data_dir, exhibition_id)
    published: dict[str, dict[str, Any]] = {}
    for entry in history:  # newest first: the latest publication of a version wins
        version = entry["detail"].get("version")
        if entry["action"] == "publish" and isinstance(version, str):
            published.setdefault(version, {"by": entry["curator"], "at": entry["at"]})
    versions = [{"version": v, "current": v == current, **published.get(v, {})} for v in kept]
    versions.sort(key=lambda v: v.get("at", 0.0), reverse=True)
    return {"exhibition": exhibition_id, "current": current, "versions": versions}
