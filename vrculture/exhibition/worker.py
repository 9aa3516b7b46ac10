"""Conversion jobs: what a worker process does for one object (or one generated model).

Jobs and answers are small frozen dataclasses so they cross the process boundary cheaply. A
job writes into a staging folder of the cache and commits it; the main process only reads the
entry.
"""

from __future__ import annotations

import shutil
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from vrculture.exhibition.cache import Cache, Entry, EntryFile
from vrculture.exhibition.thumbnail import render, webp_bytes
from vrculture.pipeline.convert import ConvertSettings, convert_model
from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.model import Model
from vrculture.pipeline.summary import ConversionSummary

THUMB_NAME = "thumb.webp"


@dataclass(frozen=True)
class ObjectJob:
    """Convert `source` as `id` with `settings`; `key` was derived from exactly these."""

    id: str
    source: str
    key: str
    cache_root: str
    settings: ConvertSettings


@dataclass(frozen=True)
class JobAnswer:
    """A job's outcome: the committed cache entry, or why there is none."""

    entry: Entry | None = None
    error: str | None = None
    trace: str | None = None  # for an internal error (a converter bug)


def generated_settings(model: Model, *, compress: bool) -> ConvertSettings:
    """How the build writes a model it made itself: one full level, its metadata as is."""
    return ConvertSettings(levels=("full",), textures="jpeg", compress=compress,
                           metadata=dict(model.metadata))


def _files_of(summary: ConversionSummary) -> tuple[EntryFile, ...]:
    files = [EntryFile(f"level:{level.name}", level.file) for level in summary.written]
    return (*files, EntryFile("summary", f"{summary.stem}.json"))


def run_object_job(job: ObjectJob) -> JobAnswer:
    """Convert one object and render its thumbnail; never raises (errors are answers)."""
    from vrculture.pipeline.readers import read_source

    started = time.perf_counter()
    cache = Cache(Path(job.cache_root))
    staged = cache.staging(job.key)
    settings = job.settings
    try:
        source_model = read_source(Path(job.source), painting_height_m=settings.height_m)
        warnings: list[str] = []
        thumb: tuple[EntryFile, ...] = ()
        summary = convert_model(source_model, staged, job.id, settings, source_label=job.source)
        try:
            # The converter's chosen (maybe estimated) up axis, so the thumbnail stands the
            # way the GLB does.
            image = render(source_model.model, up=summary.up_axis,
                           painting=source_model.kind == "painting")
            (staged / THUMB_NAME).write_bytes(webp_bytes(image))
            thumb = (EntryFile("thumbnail", THUMB_NAME),)
        except (ValueError, MemoryError) as err:
            warnings.append(f"no thumbnail: {err}")
        entry = Entry(key=job.key, id=job.id, summary=summary, files=_files_of(summary) + thumb,
                      warnings=(*warnings, *summary.warnings),
                      seconds=round(time.perf_counter() - started, 3))
        return JobAnswer(entry=cache.commit(job.key, staged, entry))
    except ConversionError as err:
        return JobAnswer(error=err.problem)
    except Exception as err:  # a converter bug must not sink the other objects
        return JobAnswer(error=f"internal error {type(err).__name__}: {err}",
                         trace=traceback.format_exc(limit=8))
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def convert_generated(model: Model, stem: str, key: str, cache: Cache,
                      settings: ConvertSettings) -> tuple[Entry, bool]:
    """Write a model the build made (architecture, smart exhibits) as one full-level GLB.
    Returns the entry and whether it came from the cache."""
    from vrculture.pipeline.readers import SourceModel

    found = cache.lookup(key)
    if found is not None:
        return found, True
    staged = cache.staging(key)
    try:
        source = SourceModel(model=model, kind="model", default_up="+Y", format="generated",
                             already_metric=True)
        summary = convert_model(source, staged, stem, settings, source_label=f"<{stem}>")
        entry = Entry(key=key, id=stem, summary=summary, files=_files_of(summary),
                      warnings=summary.warnings)
        return cache.commit(key, staged, entry), False
    finally:
        shutil.rmtree(staged, ignore_errors=True)
