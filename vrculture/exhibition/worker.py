"""Conversion jobs: what a worker process does for one object (or one generated model).

Jobs and results are plain data so they cross the process boundary cheaply. A job writes into
a staging folder of the cache and commits it; the main process only reads the result.
"""

from __future__ import annotations

import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from vrculture.exhibition.cache import Cache
from vrculture.exhibition.thumbnail import render, webp_bytes
from vrculture.pipeline.convert import ConvertSettings, convert_model
from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.model import Model

THUMB_NAME = "thumb.webp"


@dataclass(frozen=True)
class ObjectJob:
    id: str
    source: str
    key: str
    cache_root: str
    levels: tuple[str, ...]
    textures: str
    compress: bool
    units: str | None = None
    height_m: float | None = None
    up: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    def settings(self) -> ConvertSettings:
        return ConvertSettings(levels=self.levels, textures=self.textures, units=self.units,
                               height_m=self.height_m, up=self.up, metadata=self.metadata,
                               compress=self.compress)


def _files_from_summary(summary: dict) -> list[dict[str, str]]:
    files = [{"role": f"level:{lv['name']}", "file": lv["file"]}
             for lv in summary["levels"] if lv.get("written")]
    return files + [{"role": "summary", "file": f"{summary['stem']}.json"}]


def run_object_job(job: ObjectJob) -> dict:
    """Convert one object and render its thumbnail; never raises (errors are results)."""
    from vrculture.pipeline.readers import read_source

    started = time.perf_counter()
    cache = Cache(Path(job.cache_root))
    staged = cache.staging(job.key)
    try:
        source_model = read_source(Path(job.source), painting_height_m=job.height_m)
        warnings: list[str] = []
        thumb: dict[str, str] | None = None
        try:
            image = render(source_model.model, up=job.up or source_model.default_up,
                           painting=source_model.kind == "painting")
            (staged / THUMB_NAME).write_bytes(webp_bytes(image))
            thumb = {"role": "thumbnail", "file": THUMB_NAME}
        except (ValueError, MemoryError) as err:
            warnings.append(f"no thumbnail: {err}")
        summary = convert_model(source_model, staged, job.id, job.settings(),
                                source_label=job.source)
        files = _files_from_summary(summary) + ([thumb] if thumb else [])
        result = {"key": job.key, "id": job.id, "summary": summary, "files": files,
                  "warnings": warnings + list(summary.get("warnings", [])),
                  "seconds": round(time.perf_counter() - started, 3)}
        return {"ok": True, "result": cache.commit(job.key, staged, result)}
    except ConversionError as err:
        return {"ok": False, "error": err.problem}
    except Exception as err:  # a converter bug must not sink the other objects
        return {"ok": False, "error": f"internal error {type(err).__name__}: {err}",
                "trace": traceback.format_exc(limit=8)}
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def convert_generated(model: Model, stem: str, key: str, cache: Cache, *,
                      compress: bool) -> dict:
    """Write a model the build made (architecture, smart exhibits) as one full-level GLB."""
    from vrculture.pipeline.readers import SourceModel

    found = cache.lookup(key)
    if found is not None:
        return {**found, "cached": True}
    staged = cache.staging(key)
    try:
        source = SourceModel(model=model, kind="model", default_up="+Y", format="generated",
                             already_metric=True)
        settings = ConvertSettings(levels=("full",), textures="jpeg", compress=compress,
                                   metadata=dict(model.metadata))
        summary = convert_model(source, staged, stem, settings, source_label=f"<{stem}>")
        result = {"key": key, "id": stem, "summary": summary,
                  "files": _files_from_summary(summary), "warnings": summary["warnings"]}
        return {**cache.commit(key, staged, result), "cached": False}
    finally:
        shutil.rmtree(staged, ignore_errors=True)
