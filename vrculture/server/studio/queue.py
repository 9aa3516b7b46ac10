"""The studio's conversion queue: each new object converted by `vrculture build`'s converter
into `vrculture build`'s cache, in a few low-priority worker processes.

The workers are at most one fewer than the machine's cores (at least one) and run at a lower
CPU priority (os.nice), so visitors' requests stay fast while a curator's scans convert. A job
is the build's own (`ObjectJob` from the collection record, or default settings for an object
not yet in collection.toml), so the build that follows finds it in the cache. Progress is
published on the `ProgressHub`: queued, converting, then done (with figures and the converter's
warnings) or failed (naming the file and the problem). A file that kills its worker process
(out of memory, a crash in a native library) is retried alone, so only the culprit fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from vrculture.exhibition.cache import Cache, Entry, object_key
from vrculture.exhibition.collection import CollectionError, load_collection
from vrculture.exhibition.rights import DEFAULT_MAX_LEVEL_RESTRICTED
from vrculture.exhibition.run import DEFAULT_TEXTURES, BuildOptions, object_job
from vrculture.exhibition.sources import referenced_files
from vrculture.exhibition.worker import JobAnswer, ObjectJob, run_object_job
from vrculture.pipeline.convert import LEVELS, ConvertSettings
from vrculture.server.studio.plain import in_plain_words
from vrculture.server.studio.progress import ProgressHub
from vrculture.server.supervision import start_supervised

log = logging.getLogger(__name__)

T = TypeVar("T")
WORKER_NICENESS = 10  # added to the workers' nice value: the server's own requests come first


def default_workers() -> int:
    return max(1, (os.cpu_count() or 1) - 1)


@dataclass(frozen=True)
class ConversionTask:
    exhibition_id: str
    object_id: str
    collection_root: Path
    source: str  # relative to collection_root, e.g. "sources/spot/spot.obj"

    @property
    def file_name(self) -> str:
        return Path(self.source).name


def job_for(task: ConversionTask, cache: Cache) -> ObjectJob:
    """The job `vrculture build` would run for this object (same settings, same cache key).
    Blocking: it hashes the source."""
    root = task.collection_root
    with contextlib.suppress(CollectionError):
        collection, _ = load_collection(root)
        for record in collection.objects:
            if record.id == task.object_id:
                options = BuildOptions(collection=root, bundle=root, cache_dir=cache.root)
                max_level = collection.max_level_restricted or DEFAULT_MAX_LEVEL_RESTRICTED
                return object_job(record, options, collection, cache, max_level)
    source = (root / task.source).resolve()
    settings = ConvertSettings(levels=tuple(LEVELS), textures=DEFAULT_TEXTURES,
                               metadata={"title": source.stem, "identifier": task.object_id,
                                         "source": source.name})
    files = [source, *referenced_files(source, root)]
    key = object_key(task.object_id, settings, files, root)
    return ObjectJob(id=task.object_id, source=str(source), key=key, cache_root=str(cache.root),
                     settings=settings)


@dataclass(frozen=True)
class Prepared:
    """A task's job, and its cache entry when it was converted before."""

    job: ObjectJob
    found: Entry | None


def prepare(task: ConversionTask, cache_root: str) -> Prepared:
    """Runs in a worker: hashing a scan of several hundred MB for its key takes seconds of
    CPU, which belong at the workers' low priority, not in the server's threads."""
    cache = Cache(Path(cache_root))
    job = job_for(task, cache)
    return Prepared(job, cache.lookup(job.key))


def _lower_priority() -> None:
    """Runs in each worker process as it starts."""
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)


def _new_pool(workers: int) -> ProcessPoolExecutor:
    # forkserver: never fork the server itself (its threads may hold locks mid-fork).
    return ProcessPoolExecutor(max_workers=workers, initializer=_lower_priority,
                               mp_context=multiprocessing.get_context("forkserver"))


def _run_alone(job: ObjectJob) -> JobAnswer:
    """One job in a process of its own: after a worker died, only the culprit fails."""
    with _new_pool(1) as pool:
        try:
            return pool.submit(run_object_job, job).result()
        except BrokenProcessPool:
            return JobAnswer(error="the conversion stopped while reading this file (it needs "
                                   "more memory than the server has, or the file is damaged)")


def done_figures(entry: Entry, cached: bool) -> dict[str, Any]:
    summary = entry.summary
    return {"kind": summary.kind, "format": summary.format,
            "triangles": summary.source_triangles,
            "levels": [level.name for level in summary.written],
            "bytes": sum(item.bytes for item in entry.files),
            "seconds": round(entry.seconds, 2), "up": summary.up_axis, "cached": cached,
            "warnings": list(entry.warnings)}


class ConversionQueue:
    """Objects waiting to convert, and the workers converting them."""

    def __init__(self, hub: ProgressHub, cache: Cache, *, workers: int | None = None) -> None:
        self.hub = hub
        self.cache = cache
        self.workers = max(1, workers or default_workers())
        self._waiting: asyncio.Queue[ConversionTask] = asyncio.Queue()
        self._pool: ProcessPoolExecutor | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def submit(self, task: ConversionTask) -> None:
        self.hub.publish(task.exhibition_id, "queued",
                         {"object": task.object_id, "file": task.file_name,
                          "source": task.source, "ahead": self._waiting.qsize()})
        self._waiting.put_nowait(task)

    def start(self) -> None:
        self._pool = _new_pool(self.workers)
        self._tasks = [start_supervised(f"studio-convert-{n}", self._consume)
                       for n in range(self.workers)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._pool is not None:
            _end_now(self._pool)

    async def _consume(self) -> None:
        while True:
            task = await self._waiting.get()
            try:
                await self._convert(task)
            finally:
                self._waiting.task_done()

    async def _in_pool(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` in the pool; a pool broken by a dying worker is replaced (and
        BrokenProcessPool raised for this call)."""
        pool = self._pool
        assert pool is not None, "start() the queue first"
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, function, *args)
        except BrokenProcessPool:
            if self._pool is pool:  # the first to notice replaces it
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = _new_pool(self.workers)
            raise

    async def _run(self, job: ObjectJob) -> JobAnswer:
        try:
            return await self._in_pool(run_object_job, job)
        except BrokenProcessPool:
            return await asyncio.to_thread(_run_alone, job)

    async def _convert(self, task: ConversionTask) -> None:
        publish = self.hub.publish
        about = {"object": task.object_id, "file": task.file_name, "source": task.source}
        publish(task.exhibition_id, "converting", {**about, "stage": "reading"})
        try:
            prepared = await self._in_pool(prepare, task, str(self.cache.root))
        except (OSError, BrokenProcessPool) as error:
            reason = error.strerror if isinstance(error, OSError) else None
            publish(task.exhibition_id, "failed", {**about, "message": f"{task.file_name}: "
                    f"the file cannot be read ({reason or error}); upload it again"})
            return
        job, found = prepared.job, prepared.found
        if found is not None:
            publish(task.exhibition_id, "done", {**about, **done_figures(found, True)})
            return
        publish(task.exhibition_id, "converting", {**about, "stage": "converting"})
        answer = await self._run(job)
        if answer.entry is not None:
            publish(task.exhibition_id, "done", {**about, **done_figures(answer.entry, False)})
            return
        detail = answer.error or "no reason given"
        if answer.trace:  # a converter bug, not the curator's file: details go to the log
            log.error("converting %s failed:\n%s", job.source, answer.trace)
            message = (f"{task.file_name} could not be converted: the converter failed "
                       "unexpectedly on this file (the server's log has the details). "
                       "Exporting it again from the scanning software may help.")
        else:
            message = in_plain_words(task.file_name, detail)
        publish(task.exhibition_id, "failed", {**about, "message": message, "detail": detail})


def _end_now(pool: ProcessPoolExecutor) -> None:
    """Stop the workers mid-conversion: shutdown must not wait minutes for a large scan, and
    an unfinished object converts again at the next start (see uploads). Python 3.14 has
    `terminate_workers()`; before it, the pool's processes are reached directly."""
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        with contextlib.suppress(OSError, ValueError):
            worker.terminate()
