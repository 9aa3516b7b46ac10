"""build-report.json: per object status, messages, sizes and seconds; counts; the budget."""

from __future__ import annotations

import os
import re
import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from vrculture.exhibition.cache import Entry
from vrculture.exhibition.issues import IssueList
from vrculture.exhibition.records import Collection
from vrculture.exhibition.totals import budget_check
from vrculture.exhibition.version import VERSION
from vrculture.pipeline.summary import LevelSummary

if TYPE_CHECKING:
    from vrculture.exhibition.run import BuildOptions, Outcome

GENERATOR = f"vrculture {VERSION}"
LEVEL_FIELDS = ("name", "written", "same_as", "bytes", "triangles", "texture_px",
                "texture_bytes", "gpu_texture_bytes", "error", "method")


def _level_json(level: LevelSummary) -> dict[str, object]:
    values: dict[str, object] = {key: getattr(level, key) for key in LEVEL_FIELDS}
    values["textures"] = [asdict(texture) for texture in level.textures]  # with their PSNR
    return values


def now_utc() -> str:
    """The build's time: SOURCE_DATE_EPOCH when set (reproducible builds, see
    https://reproducible-builds.org/specs/source-date-epoch/), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:
        if not re.fullmatch(r"[0-9]{1,12}", epoch):
            raise ValueError(f"SOURCE_DATE_EPOCH={epoch!r} is not a count of seconds")
        moment = datetime.fromtimestamp(int(epoch), UTC)
    else:
        moment = datetime.now(UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def scenery_totals(arch_result: Entry | None,
                   smart_models: dict[str, tuple[Entry, dict[str, str]]]) -> dict[str, int]:
    """The generated models: each has one level, its full one."""
    results = ([arch_result] if arch_result else []) + [r for r, _ in smart_models.values()]
    levels = [r.summary.highest for r in results]
    return {"triangles": sum(lv.triangles for lv in levels),
            "bytes": sum(lv.bytes for lv in levels),
            "gpu_texture_bytes": sum(lv.gpu_texture_bytes for lv in levels)}


def build_report(collection: Collection, options: BuildOptions, outcomes: list[Outcome],
                 issues: IssueList, manifest: dict | None, arch_result: Entry | None,
                 started: float, generated_reconverted: list[str], max_level: str,
                 smart_models: dict[str, tuple[Entry, dict[str, str]]] | None = None) -> dict:
    per_object = []
    for outcome in outcomes:
        item: dict[str, object] = {"id": outcome.record.id,
                                   "source": str(outcome.record.source),
                                   "status": "built" if outcome.result else "failed",
                                   "reconverted": outcome.reconverted}
        if outcome.error:
            item["error"] = outcome.error
        if outcome.result:
            summary = outcome.result.summary
            item["seconds"] = outcome.result.seconds
            item["source_triangles"] = summary.source_triangles
            item["warnings"] = list(outcome.result.warnings)
            if summary.orientation is not None:  # the up axis, where it came from, how sure
                item["orientation"] = summary.as_json()["orientation"]
            item["levels"] = [_level_json(lv) for lv in summary.levels]
        per_object.append(item)
    invalid = sorted({i.record or "" for i in issues.errors} - {o.record.id for o in outcomes})
    warnings = [str(i) for i in issues.warnings]
    budget = None
    if manifest is not None:
        budget = budget_check(manifest["totals"]["low"],
                              scenery_totals(arch_result, smart_models or {}),
                              options.budget)
        if not budget["fits"]:
            warnings.append(
                f"the exhibition at its low level needs {budget['triangles']} triangles and "
                f"{budget['gpu_texture_bytes'] / 2**20:.1f} MB of texture memory: over the "
                f"Quest-class budget ({options.budget.triangles} triangles, "
                f"{options.budget.gpu_texture_bytes / 2**20:.0f} MB)")
    reconverted = [o.record.id for o in outcomes if o.reconverted]
    return {
        "generator": GENERATOR, "collection": str(collection.root),
        "bundle": str(options.bundle.resolve()),
        "built_at": now_utc(),
        "seconds": round(time.perf_counter() - started, 3),
        "settings": {"levels": list(options.levels), "textures": options.textures,
                     "compress": options.compress, "jobs": options.jobs,
                     "languages": collection.languages,
                     "max_level_restricted": max_level},
        "counts": {"objects": len(outcomes) + len(invalid),
                   "built": sum(1 for o in outcomes if o.result),
                   "failed": sum(1 for o in outcomes if o.error), "invalid": len(invalid),
                   "reconverted": len(reconverted),
                   "cached": sum(1 for o in outcomes if o.result and not o.reconverted),
                   "generated_reconverted": len(generated_reconverted),
                   "errors": len(issues.errors), "warnings": len(warnings)},
        "reconverted": reconverted, "generated_reconverted": generated_reconverted,
        "invalid": invalid,
        "issues": [i.as_json() for i in issues.items],
        "warnings": warnings,
        "totals": manifest["totals"] if manifest else {},
        "budget": budget,
        "objects": per_object,
    }
