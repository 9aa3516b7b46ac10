"""`build()`: collection folder -> exhibition bundle. The one place that orders the steps."""

from __future__ import annotations

import math
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from vrculture.exhibition import manifest as mf
from vrculture.exhibition.architecture import build_architecture
from vrculture.exhibition.bundle import BundleWriter, check_target
from vrculture.exhibition.cache import Cache, Entry, generated_key, object_key
from vrculture.exhibition.collection import load_collection
from vrculture.exhibition.issues import Issue, IssueList
from vrculture.exhibition.layout import Fixed, Item, Layout, Problem, RoomSize, plan
from vrculture.exhibition.presentation import resolve
from vrculture.exhibition.progress import Progress
from vrculture.exhibition.records import Collection, ObjectRecord
from vrculture.exhibition.report import GENERATOR, build_report, now_utc
from vrculture.exhibition.rights import (
    DEFAULT_MAX_LEVEL_RESTRICTED,
    LEVEL_ORDER,
    published_levels,
)
from vrculture.exhibition.smart_models import model_for
from vrculture.exhibition.sources import referenced_files
from vrculture.exhibition.totals import Budget, totals_per_level
from vrculture.exhibition.worker import (
    JobAnswer,
    ObjectJob,
    convert_generated,
    generated_settings,
    run_object_job,
)
from vrculture.pipeline.convert import ConvertSettings
from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.summary import Bounds

# KTX2 (Basis ETC1S) on the levels a headset loads, which then need 1/8 of the GPU memory of
# decoded JPEG; JPEG/PNG on "full" (up to 4096 px, the encoder's dearest, desktop only). The
# demo's cold build costs 1.5-1.6x the all-JPEG one (tools/bench_build.py --formats). README.
DEFAULT_TEXTURES = "auto"
MIN_SIZE_M = 0.01  # the layout's smallest footprint side: a flat object still takes room


def turned_size(size: tuple[float, float, float], turn_deg: float) -> tuple[float, float, float]:
    """The x, y, z extents of the box around an object turned `turn_deg` about +Y: the room
    it takes once the curator's turn is applied."""
    if not turn_deg:
        return size
    c, s = abs(math.cos(math.radians(turn_deg))), abs(math.sin(math.radians(turn_deg)))
    return (c * size[0] + s * size[2], size[1], s * size[0] + c * size[2])


@dataclass
class BuildOptions:
    collection: Path
    bundle: Path
    jobs: int = max(1, os.cpu_count() or 1)
    languages: list[str] | None = None
    levels: tuple[str, ...] = ("full", "high", "medium", "low")
    textures: str = DEFAULT_TEXTURES
    compress: bool = True
    max_level_restricted: str | None = None
    cache_dir: Path | None = None
    quiet: bool = False
    budget: Budget = field(default_factory=Budget)


@dataclass
class BuildResult:
    exit_code: int
    report: dict
    manifest: dict | None = None


@dataclass
class Outcome:
    record: ObjectRecord
    result: Entry | None = None
    error: str | None = None
    reconverted: bool = False


def _dublin_core(record: ObjectRecord, language: str) -> dict[str, str]:
    credit = record.credit.get(language) or next(iter(record.credit.values()), "")
    rights = f"{record.rights.label} ({record.rights.uri})"
    meta = {"title": record.title.get(language) or next(iter(record.title.values())),
            "rights": f"{credit}. {rights}" if credit else rights,
            "identifier": record.id, "source": record.source.name}
    if record.creator:
        meta["creator"] = record.creator
    if record.date:
        meta["date"] = record.date
    if record.description:
        meta["description"] = (record.description.get(language)
                               or next(iter(record.description.values())))
    return meta


def object_job(record: ObjectRecord, options: BuildOptions, collection: Collection,
             cache: Cache, max_level: str) -> ObjectJob:
    settings = ConvertSettings(
        levels=published_levels(options.levels, record.rights, max_level),
        textures=options.textures, units=record.units, height_m=record.height_m, up=record.up,
        metadata=_dublin_core(record, collection.default_language), compress=options.compress)
    files = [record.source, *referenced_files(record.source, collection.root)]
    key = object_key(record.id, settings, files, collection.root)
    return ObjectJob(id=record.id, source=str(record.source), key=key,
                     cache_root=str(cache.root), settings=settings)


def _convert_all(jobs: list[tuple[ObjectRecord, ObjectJob]], cache: Cache, options: BuildOptions,
                 progress: Progress) -> list[Outcome]:
    outcomes: dict[str, Outcome] = {}
    pending: list[tuple[ObjectRecord, ObjectJob]] = []
    for record, job in jobs:
        found = cache.lookup(job.key)
        if found is not None:
            outcomes[record.id] = Outcome(record, found)
            progress.step(f"{record.id} ({record.source.name})", "cached", cached=True)
        else:
            pending.append((record, job))

    def finish(record: ObjectRecord, answer: JobAnswer) -> None:
        outcome = Outcome(record, answer.entry, answer.error, reconverted=True)
        outcomes[record.id] = outcome
        label = f"{record.id} ({record.source.name})"
        if answer.entry is None:
            progress.step(label, f"FAILED: {outcome.error}")
        else:
            progress.step(label, f"converted in {answer.entry.seconds:.1f} s")

    if len(pending) <= 1 or options.jobs <= 1:
        for record, job in pending:  # no pool start-up cost for one object
            finish(record, run_object_job(job))
    else:
        orphans: list[tuple[ObjectRecord, ObjectJob]] = []
        with ProcessPoolExecutor(max_workers=min(options.jobs, len(pending))) as pool:
            futures: dict[Future, tuple[ObjectRecord, ObjectJob]] = {
                pool.submit(run_object_job, job): (record, job) for record, job in pending}
            waiting = set(futures)
            while waiting:
                done, waiting = wait(waiting, return_when=FIRST_COMPLETED)
                for future in done:
                    try:
                        finish(futures[future][0], future.result())
                    except BrokenProcessPool:
                        orphans.append(futures[future])
        # A worker died (out of memory, a crash in a native library) and took the pool with
        # it: retry the unfinished objects one process each, so only the culprit fails.
        for record, job in orphans:
            finish(record, _run_isolated(job))
    return [outcomes[record.id] for record, _ in jobs]


def _run_isolated(job: ObjectJob) -> JobAnswer:
    with ProcessPoolExecutor(max_workers=1) as pool:
        try:
            return pool.submit(run_object_job, job).result()
        except BrokenProcessPool:
            return JobAnswer(error="the conversion process died (out of memory, or a crash in "
                                   "a native library) while reading this file")


def _room_order(collection: Collection, built: list[ObjectRecord]) -> list[tuple[str, str]]:
    used = {r.room or "gallery" for r in built}
    order = [r.id for r in collection.rooms if r.id in used]
    order += sorted(used - set(order))
    rooms = [(rid, "gallery") for rid in order]
    if collection.smart_exhibits:
        rooms.append(("smart-city", "smart-city"))
    return rooms


def _place_files(writer: BundleWriter, cache: Cache, result: Entry, folder: str,
                 stem: str, *, generated: bool = False) -> dict[str, dict]:
    """Hard-link a cache entry's files into the bundle under content-hashed names."""
    placed: dict[str, dict] = {}
    entry = cache.entry(result.key)
    for item in result.files:
        role = item.role
        if role == "summary":
            continue
        suffix = Path(item.file).suffix
        if role.startswith("level:") and not generated:
            name = f"{stem}.{role.split(':', 1)[1]}.{item.sha256[:12]}{suffix}"
        elif role == "thumbnail":
            name = f"{stem}.thumb.{item.sha256[:12]}{suffix}"
        else:
            name = f"{stem}.{item.sha256[:12]}{suffix}"
        url = writer.place(entry / item.file, folder, name)
        placed[role] = {"url": url, "bytes": item.bytes, "sha256": item.sha256}
    return placed


def build(options: BuildOptions, stream: TextIO | None = None) -> BuildResult:
    """Build the bundle; never raises for bad input (CollectionError/BundleError excepted:
    the CLI turns those into one-line messages)."""
    stream = stream or sys.stderr
    started = time.perf_counter()
    collection, issues = load_collection(options.collection, languages=options.languages)
    check_target(options.bundle, collection.root)
    max_level = (options.max_level_restricted or collection.max_level_restricted
                 or DEFAULT_MAX_LEVEL_RESTRICTED)
    cache = Cache(options.cache_dir or options.bundle.resolve().parent / ".vrculture-cache")
    jobs = [(r, object_job(r, options, collection, cache, max_level)) for r in collection.objects]
    progress = Progress(len(jobs), stream, quiet=options.quiet)
    outcomes = _convert_all(jobs, cache, options, progress)
    progress.finish()
    built = [o for o in outcomes if o.result is not None]
    for outcome in outcomes:
        if outcome.error:
            origin = outcome.record.origin
            issues.add(Issue(origin.file, origin.line, origin.field("source"),
                             f"{outcome.record.source.name}: {outcome.error}",
                             record=outcome.record.id))

    if not built and not collection.smart_exhibits:
        report = build_report(collection, options, outcomes, issues, None, None, started, [],
                              max_level)
        return BuildResult(1, report)

    generated_reconverted: list[str] = []
    smart_models: dict[str, tuple[Entry, dict[str, str]]] = {}
    for exhibit in list(collection.smart_exhibits):
        model, nodes = model_for(exhibit.kind, exhibit.feeds)
        lang = collection.default_language
        model.metadata = {"title": exhibit.title.get(lang) or next(iter(exhibit.title.values())),
                          "creator": "vrculture (generated model)", "identifier": exhibit.id}
        settings = generated_settings(model, compress=options.compress)
        key = generated_key(model, exhibit.id, settings)
        try:
            result, cached = convert_generated(model, exhibit.id, key, cache, settings)
        except ConversionError as err:  # our own generator's fault, but never a traceback
            issues.add(Issue(str(collection.root), None, f"smart_exhibits.{exhibit.id}",
                             f"its model could not be written: {err.problem}", record=exhibit.id))
            collection.smart_exhibits.remove(exhibit)
            continue
        if not cached:
            generated_reconverted.append(exhibit.id)
        smart_models[exhibit.id] = (result, nodes)

    for outcome in built:
        _check_annotations(outcome, issues)
        _check_orientation(outcome, issues)
    presentation_problems: list[Problem] = []
    items = [_presented_item(o.record, o.result.summary.kind,
                             turned_size(o.result.summary.highest.bounds.size(MIN_SIZE_M),
                                         o.record.turn), presentation_problems)
             for o in built if o.result is not None]
    items += [Item(e.id, "smart", "smart-city",
                   smart_models[e.id][0].summary.highest.bounds.size(MIN_SIZE_M))
              for e in collection.smart_exhibits]
    layout = plan(items, _room_order(collection, [o.record for o in built]),
                  *_curator_arrangement(collection, [o.record for o in built]))
    _report_layout_problems(presentation_problems + layout.problems, collection, issues)
    architecture = build_architecture(layout)
    arch_settings = generated_settings(architecture, compress=options.compress)
    arch_key = generated_key(architecture, "architecture", arch_settings)
    arch_result: Entry | None = None
    try:
        arch_result, cached = convert_generated(architecture, "architecture", arch_key, cache,
                                                arch_settings)
    except ConversionError as err:  # the viewer falls back to a floor under `walkable`
        issues.add(Issue(str(collection.root), None, "architecture",
                         f"the gallery model could not be written: {err.problem}"))
    else:
        if not cached:
            generated_reconverted.append("architecture")

    writer = BundleWriter(options.bundle)
    try:
        manifest = _manifest(collection, options, built, smart_models, arch_result, layout,
                             writer, cache, max_level)
        report = build_report(collection, options, outcomes, issues, manifest, arch_result,
                              started, generated_reconverted, max_level, smart_models)
        writer.write_manifest(manifest)
        writer.write_report(report)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    cache.prune()
    return BuildResult(3 if issues.errors else 0, report, manifest)


def _curator_arrangement(collection: Collection, built: list[ObjectRecord]
                         ) -> tuple[dict[str, Fixed], dict[str, RoomSize]]:
    """The placements and room sizes the collection fixes (docs: "Placement")."""
    fixed = {r.id: Fixed(x=r.placement.x, z=r.placement.z, facing=r.placement.facing or 0.0,
                         wall=r.placement.wall, along=r.placement.along,
                         height=r.placement.height)
             for r in built if r.placement is not None}
    sizes = {r.id: RoomSize(r.width, r.depth, r.height) for r in collection.rooms
             if (r.width, r.depth, r.height) != (None, None, None)}
    return fixed, sizes


def _presented_item(record: ObjectRecord, kind: str, size: tuple[float, float, float],
                    problems: list[Problem]) -> Item:
    """The work for the layout, with its presentation resolved now its kind and size are
    known; a choice that does not fit the work is reported and the default used instead."""
    presented, misfits = resolve(kind, size, record.presentation)
    problems.extend(Problem(record.id, key, message) for key, message in misfits)
    return Item(record.id, kind, record.room or "gallery", size, presented)


def _report_layout_problems(problems: list[Problem], collection: Collection,
                            issues: IssueList) -> None:
    objects = {o.id: o.origin for o in collection.objects}
    rooms = {r.id: r.origin for r in collection.rooms}
    for problem in problems:
        origin = (rooms if problem.room else objects).get(problem.record)
        if origin is None:
            issues.add(Issue(str(collection.root), None, problem.key, problem.message,
                             problem.severity, problem.record))
            continue
        issues.add(Issue(origin.file, origin.line, origin.field(problem.key), problem.message,
                         problem.severity, problem.record))


def _check_orientation(outcome: Outcome, issues: IssueList) -> None:
    """An up axis guessed without confidence may have laid the object down: say so where the
    curator can fix it (the record's `up`)."""
    from vrculture.pipeline.transforms.up_axis import UNSURE_BELOW

    assert outcome.result is not None
    orientation = outcome.result.summary.orientation
    if orientation is None or orientation.source == "declared" \
            or orientation.confidence >= UNSURE_BELOW:
        return
    origin = outcome.record.origin
    issues.add(Issue(origin.file, origin.line, origin.field("up"),
                     f"not given; the geometry does not say which way is up, so it stands on "
                     f"{orientation.axis} (confidence {orientation.confidence:.2f}, "
                     f"{orientation.source}); check its thumbnail and set `up`", "warning",
                     outcome.record.id))


def _check_annotations(outcome: Outcome, issues: IssueList) -> None:
    """A point far outside the converted object is almost always a typo or the wrong frame."""
    assert outcome.result is not None
    bounds: Bounds = outcome.result.summary.highest.bounds
    lo, hi = bounds.min, bounds.max
    slack = 0.1 * max(h - low for low, h in zip(lo, hi, strict=True))
    origin = outcome.record.origin
    for index, note in enumerate(outcome.record.annotations):
        if any(not lo[k] - slack <= note.position[k] <= hi[k] + slack for k in range(3)):
            issues.add(Issue(origin.file, note.line or origin.line,
                             origin.field(f"annotations[{index}].position"),
                             f"{list(note.position)} is outside the object (its bounds are "
                             f"{[round(v, 3) for v in lo]} to {[round(v, 3) for v in hi]} m, +Y "
                             "up, base centred at the origin)", "warning", outcome.record.id))


def _manifest(collection: Collection, options: BuildOptions, built: list[Outcome],
              smart_models: dict[str, tuple[Entry, dict[str, str]]], arch_result: Entry | None,
              layout: Layout, writer: BundleWriter, cache: Cache, max_level: str) -> dict:
    languages = collection.languages
    objects = []
    for outcome in built:
        record, result = outcome.record, outcome.result
        assert result is not None
        summary = result.summary
        placed = _place_files(writer, cache, result, f"objects/{record.id}", record.id)
        levels = [mf.level_entry(lv, placed[f"level:{lv.name}"]["url"])
                  for lv in reversed(summary.written)]
        objects.append(mf.object_entry(record, summary, levels, placed.get("thumbnail"),
                                       max_level, layout))
    exhibits = []
    for exhibit in collection.smart_exhibits:
        result, nodes = smart_models[exhibit.id]
        placed = _place_files(writer, cache, result, f"smart/{exhibit.id}", exhibit.id,
                              generated=True)
        exhibits.append(mf.smart_entry(exhibit, placed["level:full"], nodes, layout))
    arch = (_place_files(writer, cache, arch_result, "rooms", "architecture",
                         generated=True)["level:full"] if arch_result else None)
    titles = {r.id: r.title for r in collection.rooms}
    rooms = []
    for room in layout.rooms:
        base, part = layout.continues.get(room.id, (room.id, 1))
        title = titles.get(base) or mf.DEFAULT_ROOM_TITLES.get(base) or {"en": base}
        if part > 1:
            title = {lang: f"{text} ({part})" for lang, text in title.items()}
        rooms.append({"id": room.id, "title": mf.text_in(languages, title), "kind": room.kind,
                      "bounds": list(room.bounds), "height": room.height})
    object_titles = {o["id"]: o["title"] for o in objects}
    object_titles.update({e.id: e.title for e in collection.smart_exhibits})
    manifest = {
        "schema_version": mf.SCHEMA_VERSION, "id": collection.id, "generator": GENERATOR,
        "built_at": now_utc(),
        "default_language": collection.default_language, "languages": languages,
        "title": collection.title,
        **({"description": collection.description} if collection.description else {}),
        **({"credit": collection.credit} if collection.credit else {}),
        "entrance": layout.entrance.as_json(), **({"architecture": arch} if arch else {}),
        "rooms": rooms, "walkable": [list(r) for r in layout.walkable],
        "objects": objects, "tours": mf.tours_of(collection, layout, object_titles),
        "smart_exhibits": exhibits, "feeds": mf.feeds_of(collection.smart_exhibits),
        **({"projects": [mf.project_entry(p, languages) for p in collection.projects]}
           if collection.projects else {}),
        "budget": {"triangles": options.budget.triangles,
                   "gpu_texture_bytes": options.budget.gpu_texture_bytes},
        "totals": totals_per_level(objects, LEVEL_ORDER),
    }
    return {key: mf.round_floats(value) for key, value in manifest.items()}
